#!/usr/bin/python3
"""Reference: what flows/production-api-user.toml does, written the way a
competent engineer writes it with Selenium (Debian's python3-selenium):
explicit waits with a short poll, send_keys, a new browser per GSTIN
(Selenium has no lighter isolated context). Answers come from the
replica's aids (the same ones `einvreg --auto-answer` reads).

    /usr/bin/python3 bench/reference/selenium_ref.py JOB.json
JOB as for playwright.js; prints one JSON line per row
({gstin, ok, session_ms, flow_ms}). `--webdriver URL` in JOB ("webdriver")
uses that endpoint instead of starting chromedriver (the bench counts
commands through a proxy that way).
"""
import json, sys, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

job = json.load(open(sys.argv[1]))
base = job["base"].rstrip("/")
out = threading.Lock()


def aid(path):
    with urllib.request.urlopen(base + path) as r:
        return json.load(r)


def options():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
        o.add_argument(a)
    o.set_capability("unhandledPromptBehavior", "ignore")
    return o


def new_driver():
    if job.get("webdriver"):
        return webdriver.Remote(job["webdriver"], options=options())
    # Selenium's usual shape: each driver with its own chromedriver (quit() stops it).
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options())


class Fresh:
    """An element found again when the page replaced it mid-use."""

    def __init__(self, find, css):
        self.find, self.css, self.e = find, css, find(css)

    def __getattr__(self, name):
        def call(*a):
            for i in range(3):
                try:
                    return getattr(self.e, name)(*a)
                except (StaleElementReferenceException, WebDriverException) as ex:
                    stale = isinstance(ex, StaleElementReferenceException) or "does not belong to the document" in str(ex)
                    if i == 2 or not stale:
                        raise
                    self.e = self.find(self.css)
        return call


def register(cookie_name, row):
    t0 = time.perf_counter()
    d = new_driver()
    t1 = time.perf_counter()
    try:
        # A page that re-renders as it is used leaves stale elements behind.
        w = WebDriverWait(d, 20, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException, WebDriverException))
        clickable = lambda css: w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)))

        def el(css):
            # A page that re-renders as it is used leaves stale elements:
            # look again, as any production Selenium script learns to.
            return Fresh(clickable, css)

        seen = lambda css: w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))
        session = lambda: d.get_cookie(cookie_name)["value"]

        def type_into(css, text):
            e = el(css)
            e.clear()
            e.send_keys(text)

        def accept_alert():
            a = w.until(EC.alert_is_present())
            text = a.text
            a.accept()
            return text

        def click_and_load(css):
            old = d.find_element(By.TAG_NAME, "html")
            el(css).click()
            w.until(EC.staleness_of(old))

        d.get(base + "/")
        el("button#btnLogin").click()
        type_into("#txtUserName", row["login"])
        type_into("#txt_password", row["password"])
        seen("#captcha_image")
        type_into("#CaptchaCode", aid(f"/__replica/captcha?session={session()}")["answer"])
        click_and_load("button.btnlogin")
        seen("#txtLoginOTP")
        type_into("#txtLoginOTP", aid(f"/__replica/otp?session={session()}")["otp"])
        click_and_load("#btnVerifyLoginOTP")

        d.get(base + "/Home/MainMenu")
        if d.find_elements(By.CSS_SELECTOR, "#techPersonModal"):
            el("#techPersonModal #btnExit").click()
        el("#menuApiRegistration").click()
        el("#menuUserCredentials").click()
        el("a[href$='/APIUserAccount/CreateAPIUser']").click()
        accept_alert()  # "OTP has been sent to your Registered mobile"
        seen("#txtOTP")
        type_into("#txtOTP", aid(f"/__replica/otp?session={session()}")["otp"])
        click_and_load("#btnVerifyOTP")

        gsp = el("#rbGSP")
        if not gsp.is_selected():
            gsp.click()
        Select(clickable("#ddlGSP")).select_by_visible_text(row["provider"])
        user = el("#txtUserName")
        if not (user.get_attribute("value") or "").startswith("API_"):
            user.clear()
        user.send_keys(row["api_username"])  # after the API_ the page keeps there
        type_into("#txtPassword", row["api_password"])
        type_into("#txtRePassword", row["api_password"])
        try:
            WebDriverWait(d, 2, poll_frequency=0.05).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#pwdStrength"), "Strong"))
        except Exception:
            pass
        el("#btnSubmit").click()
        final = accept_alert()
        ok = "has been created successfully" in final
        if not ok:
            print(repr(final), file=sys.stderr)
        click_and_load("#lnkLogout")
        return {"gstin": row["gstin"], "ok": ok, "session_ms": (t1 - t0) * 1000, "flow_ms": (time.perf_counter() - t1) * 1000}
    finally:
        d.quit()


def main():
    cookie_name = aid("/__replica/info")["session_cookie"]

    def one(row):
        try:
            r = register(cookie_name, row)
        except Exception as e:  # a failed row is reported, the others go on
            r = {"gstin": row["gstin"], "ok": False, "error": str(e)[:300]}
        with out:
            print(json.dumps(r), flush=True)

    with ThreadPoolExecutor(job.get("parallel", 1)) as pool:
        list(pool.map(one, job["rows"]))


main()
