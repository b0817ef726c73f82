// What Chromium's omnibox pop-up pages cost: one Chromium (as einvreg
// starts it, over CDP here), N user contexts in turn, each with a tab
// loading the replica's home and login pages twice, then removed. Prints
// {"wall_s", "cpu_s"}: the machine's CPU seconds (/proc/stat) over it.
//
//   node --experimental-websocket bench/popups.js BASE_URL N [extra Chromium flags...]
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [base, n, ...flags] = process.argv.slice(2);
const busy = () => {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / 100; // USER_HZ
};
const sleep = ms => new Promise(r => setTimeout(r, ms));

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'einvreg-popups-'));
  const chromium = spawn('/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-site-isolation-trials', '--renderer-process-limit=1', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, ...flags, 'about:blank'], { stdio: 'ignore' });
  let port;
  for (let i = 0; i < 1200 && !port; i++) { // up to 30 s on a busy machine
    try { port = fs.readFileSync(path.join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0]; } catch (_) { await sleep(25); }
  }
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
  const ws = new WebSocket(version.webSocketDebuggerUrl);
  await new Promise(r => { ws.onopen = r; });
  let id = 0;
  const pending = new Map(), loads = new Map();
  ws.onmessage = e => {
    const m = JSON.parse(e.data);
    if (m.id && pending.has(m.id)) { pending.get(m.id)(m.result); pending.delete(m.id); }
    if (m.method === 'Page.loadEventFired' && loads.has(m.sessionId)) loads.get(m.sessionId)();
  };
  const cmd = (method, params = {}, sessionId) => new Promise(r => {
    pending.set(++id, r);
    ws.send(JSON.stringify({ id, method, params, sessionId }));
  });
  await sleep(1500); // past the browser's own start
  const cpu0 = busy(), t0 = performance.now();
  for (let i = 0; i < Number(n); i++) {
    const { browserContextId } = await cmd('Target.createBrowserContext');
    const { targetId } = await cmd('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await cmd('Target.attachToTarget', { targetId, flatten: true });
    await cmd('Page.enable', {}, sessionId);
    for (const p of ['/', '/Home/Login', '/', '/Home/Login']) {
      const loaded = new Promise(r => loads.set(sessionId, r));
      await cmd('Page.navigate', { url: base + p }, sessionId);
      await loaded;
    }
    await cmd('Target.disposeBrowserContext', { browserContextId });
  }
  console.log(JSON.stringify({ wall_s: (performance.now() - t0) / 1000, cpu_s: busy() - cpu0 }));
  chromium.kill();
  await new Promise(r => chromium.on('exit', r));
  // Its helpers may still write there a moment after the browser exits.
  fs.rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  process.exit(0);
})();
