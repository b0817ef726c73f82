//! `batch --isolation context`: one browser kept for many GSTINs, each in
//! a fresh WebDriver BiDi user context.

use crate::fidelity::SECRETS;
use crate::procs;
use crate::support::*;
use std::time::Duration;

/// Three rows of one login (udaytrd01), one API user per provider.
const SAME_LOGIN: &str = "gstin,portal_username,through,provider,api_username
27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udaytera
27AAPFU0939F1ZV,udaytrd01,gsp,Masters India Private Limited,udaymasters
27AAPFU0939F1ZV,udaytrd01,erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),udayzen
";

fn same_login_batch(dir: &std::path::Path, r: &ReplicaProc, isolation: &str) -> Done {
    same_login_batch_on(dir, r, isolation, "chromium")
}

fn same_login_batch_on(
    dir: &std::path::Path,
    r: &ReplicaProc,
    isolation: &str,
    browser: &str,
) -> Done {
    std::fs::write(dir.join("batch.csv"), SAME_LOGIN).unwrap();
    write_secrets(dir, SECRETS);
    let mut args = batch_on("production-api-user", &r.production);
    args.extend([
        "--parallel",
        "1",
        "--isolation",
        isolation,
        "--browser",
        browser,
        "-v",
    ]);
    Test::new().cwd(dir).args(&args).run()
}

#[test]
fn rows_of_one_login_share_a_browser_and_nothing_else() {
    one_browser_nothing_shared_on("chromium");
}

/// The same on Firefox, through its geckodriver's BiDi socket.
#[test]
fn rows_of_one_login_share_a_firefox_and_nothing_else() {
    one_browser_nothing_shared_on("firefox");
}

/// The batch of `n` rows ended with every row registered.
fn assert_registered(d: &Done, n: usize) {
    assert!(
        d.stdout.contains(&format!("{n} rows: {n} registered")),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
}

fn one_browser_nothing_shared_on(browser: &str) {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let d = same_login_batch_on(dir.path(), &r, "context", browser);
    assert_registered(&d, 3);
    // One browser served the three rows, each in a user context of its own...
    let started = d
        .stderr
        .matches("started a browser for the batch's rows")
        .count();
    let contexts = d
        .stderr
        .matches("a fresh user context for this GSTIN")
        .count();
    assert_eq!((started, contexts), (1, 3), "{}", d.stderr);
    // The second and third contexts were made while the row before ran.
    assert_eq!(
        d.stderr.matches("made_ahead=true").count(),
        2,
        "{}",
        d.stderr
    );
    // ...where no cookie of the row before reached it (a new visitor each
    // time, each logging in afresh), nor any localStorage or sessionStorage.
    assert_eq!(logins_per_browser(&r), vec![1, 1, 1]);
    assert_eq!(storage_at_login(&r), (3, 0));
}

/// Logins that found no storage mark of an earlier page, and logins that
/// found one (the replica marks localStorage and sessionStorage).
fn storage_at_login(r: &ReplicaProc) -> (u64, u64) {
    (
        counter(&r.production, "logins.storage_fresh"),
        counter(&r.production, "logins.storage_seen"),
    )
}

/// The storage mark the test above relies on is seen when storage stays:
/// one row logging in twice in its own context (its first captcha wrong).
#[test]
fn a_login_in_the_same_context_finds_the_storage_mark() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let mut args = demo_run(&r.production);
    args.extend(["--auto-answer-mistakes".into(), "captcha=1".into()]);
    let d = Test::new()
        .cwd(dir.path())
        .args(&args)
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .run();
    assert!(
        d.stdout.starts_with("registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    assert_eq!(storage_at_login(&r), (1, 1));
}

#[test]
fn with_isolation_session_rows_get_a_browser_each() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let d = same_login_batch(dir.path(), &r, "session");
    assert_registered(&d, 3);
    assert_eq!(d.stderr.matches("a fresh user context").count(), 0);
    assert_eq!(logins_per_browser(&r), vec![1, 1, 1]);
}

/// The browser a row runs in is killed before the submit: the row starts
/// again in a new browser, and the batch goes on there.
#[test]
fn a_browser_killed_mid_row_takes_only_its_row_which_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    prod_rows(dir.path(), 2);
    let mut args = batch_on("production-api-user", &r.production);
    // A slow operator: the kill lands while the first row waits for its captcha.
    args.extend([
        "--parallel",
        "1",
        "--auto-answer-mistakes",
        "delay=1500",
        "-v",
    ]);
    let child = spawn(dir.path(), &args, true);
    // The first row is on the login page (its captcha drawn), its answer
    // a second and a half away.
    let captchas = format!("{}/__replica/captchas", r.production);
    let browser = poll("the first row at its captcha")
        .within(Duration::from_secs(60))
        .every(Duration::from_millis(50))
        .value(|| {
            let drawn = get_json(&captchas)
                .as_array()
                .is_some_and(|a| !a.is_empty());
            drawn
                .then(|| procs::browsers_under(child.id()).into_iter().next())
                .flatten()
        });
    procs::kill(browser.pid);
    let stderr = both_registered_one_restarted(child);
    assert_eq!(
        stderr
            .matches("started a browser for the batch's rows")
            .count(),
        2,
        "{stderr}"
    );
}

/// Chromium's browser-UI pages (the omnibox pop-ups a headless browser
/// still builds for every window: a renderer and ~0.5 s of CPU for each
/// user context) are turned off: none runs under einvreg at any moment
/// of a batch. Nor does a GPU process: with no GPU it only composites in
/// software, as a thread of the browser (`--in-process-gpu`).
#[test]
fn no_browser_ui_page_runs_beside_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    prod_rows(dir.path(), 2);
    let mut args = batch_on("production-api-user", &r.production);
    args.extend(["--parallel", "1"]);
    let mut child = spawn(dir.path(), &args, false);
    let mut browsers_seen = 0;
    loop {
        let under = procs::descendants(child.id());
        browsers_seen += under.iter().filter(|p| p.comm == "chromium").count();
        let ui: Vec<String> = under
            .iter()
            .map(|p| procs::cmdline(p.pid))
            .filter(|c| c.contains("--top-chrome-webui"))
            .collect();
        assert!(ui.is_empty(), "browser-UI renderers: {ui:?}");
        let gpu = under
            .iter()
            .filter(|p| procs::cmdline(p.pid).contains("--type=gpu-process"))
            .count();
        assert_eq!(gpu, 0, "a GPU process runs beside the browser");
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(browsers_seen > 0, "no Chromium was seen running");
    assert!(child.wait().unwrap().success());
}

/// The batch of two ended with both registered, the first row lost
/// before its submit and started again; its log.
fn both_registered_one_restarted(child: std::process::Child) -> String {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        stdout.contains("2 rows: 2 registered"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("the browser session was lost before the submit; starting the row again"),
        "{stderr}"
    );
    stderr
}

/// A batch of `rows` generated rows at `--parallel 1`, through our own
/// chromedriver behind a proxy that relays its BiDi socket.
struct Relayed {
    dir: tempfile::TempDir,
    replica: ReplicaProc,
    proxy: WdProxy,
    _driver: DriverProc,
}

impl Relayed {
    fn start(rows: usize) -> Relayed {
        let dir = tempfile::tempdir().unwrap();
        let replica = ReplicaProc::start(&["--taxpayers", &rows.to_string()]);
        prod_rows(dir.path(), rows);
        let driver = DriverProc::start();
        let proxy = WdProxy::start(driver.port(), Bidi::Relayed);
        Relayed {
            dir,
            replica,
            proxy,
            _driver: driver,
        }
    }

    /// The batch's arguments, then `more`.
    fn args(&self, more: &[&str]) -> Vec<String> {
        let endpoint = self.proxy.url();
        let mut args = batch_on("production-api-user", &self.replica.production);
        args.extend(["--parallel", "1", "--webdriver", &endpoint]);
        args.extend(["--chromium", "/usr/bin/chromium"]);
        args.extend(more);
        args.into_iter().map(String::from).collect()
    }
}

/// The row's user context is removed under it (by the browser, or another
/// client of it) while the row waits for its captcha: the row is lost and
/// starts again in a fresh context, as a lost session does.
#[test]
fn a_context_removed_mid_row_loses_only_that_row_which_starts_again() {
    let b = Relayed::start(2);
    // No context made ahead: the last one made is the row's.
    let more = ["--warm", "0", "--auto-answer-mistakes", "delay=1500", "-v"];
    let child = spawn(b.dir.path(), &b.args(&more), true);
    let (r, proxy) = (&b.replica, &b.proxy);
    let captchas = format!("{}/__replica/captchas", r.production);
    poll("the first row at its captcha")
        .within(Duration::from_secs(60))
        .every(Duration::from_millis(50))
        .until(|| {
            get_json(&captchas)
                .as_array()
                .is_some_and(|a| !a.is_empty())
        });
    let gone = proxy.remove_last_context();
    assert!(!gone.is_empty());
    let stderr = both_registered_one_restarted(child);
    // The first row's first try, its second, and the second row; none
    // made ahead (--warm 0).
    assert_eq!(
        stderr
            .matches("a fresh user context for this GSTIN")
            .count(),
        3,
        "{stderr}"
    );
    assert_eq!(stderr.matches("made_ahead=true").count(), 0, "{stderr}");
}

/// In a row's own tab the page scripts (looks, finds, checks) go over
/// BiDi's `script.callFunction`; classic Execute Script is left for what
/// BiDi cannot answer as it would: a page behind a dialog, or one that
/// moved on mid-script.
#[test]
fn a_rows_page_scripts_go_over_bidi() {
    let b = Relayed::start(1);
    let d = Test::new().cwd(b.dir.path()).args(b.args(&[])).run();
    assert_registered(&d, 1);
    let (classic, bidi) = b.proxy.scripts();
    assert!(bidi >= 30, "over BiDi: {bidi}, classic: {classic}");
    // Pages behind a dialog keep classic scripts: 11-14 of them in 8 runs,
    // against 40-45 over BiDi.
    assert!(classic * 2 < bidi, "over BiDi: {bidi}, classic: {classic}");
}

/// Each row's tab takes mouse moves at once (DevTools' overlay: see the
/// `input` tests): asked for as soon as the tab is current, before the
/// row opens its first page.
#[test]
fn each_rows_tab_takes_mouse_moves_at_once_from_its_first_page() {
    let b = Relayed::start(2);
    let d = Test::new().cwd(b.dir.path()).args(b.args(&[])).run();
    assert_registered(&d, 2);
    assert_unbuffered_before_each_first_page(&b.proxy.commands(), "POST /window", 2);
}

/// After each of `count` commands `at` (a row's tab made current, or a
/// session opened), the two DevTools methods come before its first page.
fn assert_unbuffered_before_each_first_page(cmds: &[String], at: &str, count: usize) {
    let starts: Vec<usize> = (0..cmds.len()).filter(|&i| cmds[i] == at).collect();
    assert_eq!(starts.len(), count, "{cmds:#?}");
    for &i in &starts {
        let first_page = (i..cmds.len()).find(|&j| cmds[j] == "POST /url");
        let first_page = first_page.unwrap_or_else(|| panic!("no page after {i}: {cmds:#?}"));
        let between = &cmds[i..first_page];
        for m in ["DOM.enable", "Overlay.enable"] {
            let sent = format!("POST /goog/cdp/execute {m}");
            assert!(between.contains(&sent), "{m} before the page: {between:#?}");
        }
    }
}

/// Every row's user context goes: einvreg removes each as the next row
/// starts (the last goes with the browser), and makes none ahead for a
/// row that will not come.
#[test]
fn each_rows_context_is_removed_and_none_is_made_for_no_row() {
    let b = Relayed::start(3);
    let d = Test::new().cwd(b.dir.path()).args(b.args(&[])).run();
    assert_registered(&d, 3);
    let c = b.proxy.contexts();
    assert_eq!(c.made.len(), 3, "{c:?}");
    assert_eq!(c.removed_by_client, c.made[..2].to_vec(), "{c:?}");
}

/// An endpoint without WebDriver BiDi: a chromedriver behind a loopback
/// proxy that takes `webSocketUrl` out of every new session's answer.
#[test]
fn an_endpoint_without_bidi_falls_back_to_a_browser_each_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let driver = DriverProc::start();
    let proxy = WdProxy::start(driver.port(), Bidi::Hidden);
    std::fs::write(dir.path().join("batch.csv"), SAME_LOGIN).unwrap();
    write_secrets(dir.path(), SECRETS);
    let endpoint = proxy.url();
    let mut args = batch_on("production-api-user", &r.production);
    args.extend([
        "--parallel",
        "1",
        "--webdriver",
        &endpoint,
        "--chromium",
        "/usr/bin/chromium",
    ]);
    let d = Test::new().cwd(dir.path()).args(&args).run();
    drop(driver);
    assert_registered(&d, 3);
    // A session each, each tab taking mouse moves at once all the same.
    assert_unbuffered_before_each_first_page(&proxy.commands(), "POST ", 3);
    let said = d
        .stderr
        .matches(
            "the endpoint offers no WebDriver BiDi socket: each GSTIN gets its own browser session",
        )
        .count();
    assert_eq!(said, 1, "{}", d.stderr);
    assert_eq!(
        d.stderr.matches("a fresh user context").count(),
        0,
        "{}",
        d.stderr
    );
    assert_eq!(logins_per_browser(&r), vec![1, 1, 1]);
}
