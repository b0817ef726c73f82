// Reference: what flows/production-api-user.toml does, written the way a
// competent engineer writes it with Playwright: one browser, a fresh
// context per GSTIN, auto-waiting locators, `fill()`. Answers come from
// the replica's aids (the same ones `einvreg --auto-answer` reads).
//
//   node bench/reference/playwright.js JOB.json
// JOB: {"base": URL, "parallel": N, "rows": [{gstin, login, password,
//       provider, api_username, api_password}], "args": [more Chromium flags]}
// Prints one JSON line per row ({gstin, ok, context_ms, flow_ms}) after
// {"launch_ms": ...}.
const { chromium } = require('playwright-core');
const fs = require('fs');

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = job.base.replace(/\/$/, '');
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;

async function aid(path) {
  const r = await fetch(base + path);
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function register(browser, cookieName, row) {
  const t0 = now();
  const context = await browser.newContext();
  const page = await context.newPage();
  const t1 = now();
  const alerts = [];
  page.on('dialog', d => { alerts.push(d.message()); d.accept(); });
  const session = async () => (await context.cookies()).find(c => c.name === cookieName).value;
  page.setDefaultTimeout(20000);

  await page.goto(base + '/');
  await page.click('button#btnLogin');
  await page.fill('#txtUserName', row.login);
  await page.fill('#txt_password', row.password);
  await page.locator('#captcha_image').waitFor();
  const captcha = await aid(`/__replica/captcha?session=${await session()}`);
  await page.fill('#CaptchaCode', captcha.answer);
  await Promise.all([page.waitForNavigation(), page.click('button.btnlogin')]);
  await page.locator('#txtLoginOTP').waitFor();
  const otp1 = await aid(`/__replica/otp?session=${await session()}`);
  await page.fill('#txtLoginOTP', otp1.otp);
  await Promise.all([page.waitForNavigation(), page.click('#btnVerifyLoginOTP')]);

  await page.goto(base + '/Home/MainMenu');
  if (await page.locator('#techPersonModal').isVisible()) await page.click('#techPersonModal #btnExit');
  await page.click('#menuApiRegistration');
  await page.click('#menuUserCredentials');
  await Promise.all([page.waitForNavigation(), page.click("a[href$='/APIUserAccount/CreateAPIUser']")]);
  await page.locator('#txtOTP').waitFor();
  const otp2 = await aid(`/__replica/otp?session=${await session()}`);
  await page.fill('#txtOTP', otp2.otp);
  await Promise.all([page.waitForNavigation(), page.click('#btnVerifyOTP')]);

  await page.check('#rbGSP');
  await page.selectOption('#ddlGSP', { label: row.provider });
  const user = page.locator('#txtUserName');
  const held = await user.inputValue();
  await user.fill(held.startsWith('API_') ? 'API_' + row.api_username : row.api_username);
  await page.fill('#txtPassword', row.api_password);
  await page.fill('#txtRePassword', row.api_password);
  await page.locator('#pwdStrength', { hasText: 'Strong' }).waitFor({ timeout: 2000 }).catch(() => {});
  await Promise.all([page.waitForNavigation(), page.click('#btnSubmit')]);
  const done = () => alerts.some(a => /has been created successfully/.test(a));
  for (let i = 0; i < 200 && !done(); i++) await page.waitForTimeout(10);
  const ok = done();
  await Promise.all([page.waitForNavigation(), page.click('#lnkLogout')]);
  await context.close();
  return { gstin: row.gstin, ok, context_ms: t1 - t0, flow_ms: now() - t1 };
}

(async () => {
  const t = now();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage', ...(job.args || [])] });
  console.log(JSON.stringify({ launch_ms: now() - t }));
  const info = await aid('/__replica/info');
  const queue = [...job.rows];
  const worker = async () => {
    for (let row; (row = queue.shift());) {
      try { console.log(JSON.stringify(await register(browser, info.session_cookie, row))); }
      catch (e) { console.log(JSON.stringify({ gstin: row.gstin, ok: false, error: String(e).slice(0, 300) })); }
    }
  };
  await Promise.all(Array.from({ length: job.parallel || 1 }, worker));
  await browser.close();
})();
