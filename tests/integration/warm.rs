//! Warm browsers: the next row's session starts while a row runs, yet
//! every GSTIN still gets a browser no other login has touched, and one
//! that died while it waited is replaced.

use crate::procs;
use crate::support::*;
use std::time::Duration;

fn api_users(r: &ReplicaProc) -> usize {
    let v = get_json(&format!("{}/__replica/users", r.production));
    v["api_users"].as_array().unwrap().len()
}

#[test]
fn each_gstin_gets_a_browser_no_other_login_touched() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "3"]);
    prod_rows(dir.path(), 3);
    let mut args = batch_on("production-api-user", &r.production);
    // Warm browsers serve session isolation (contexts make theirs ahead).
    args.extend([
        "--parallel",
        "1",
        "--isolation",
        "session",
        "--warm",
        "1",
        "-v",
    ]);
    let d = Test::new().cwd(dir.path()).args(&args).run();
    // Every row's browser was started ahead of it (the first at the batch's start)...
    let ahead = d.stderr.matches("using a browser started ahead").count();
    assert_eq!(ahead, 3, "{}", d.stderr);
    // ...and each logged in once: no cookie of one GSTIN's login reached another's.
    assert_eq!(logins_per_browser(&r), vec![1, 1, 1]);
    assert_eq!(api_users(&r), 3);
}

/// With contexts (the default), what is made ahead is the next row's
/// user context in the browser the batch keeps.
#[test]
fn each_gstin_gets_a_context_made_ahead_no_other_login_touched() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "3"]);
    prod_rows(dir.path(), 3);
    let mut args = batch_on("production-api-user", &r.production);
    args.extend(["--parallel", "1", "-vv"]);
    let d = Test::new().cwd(dir.path()).args(&args).run();
    let fresh = d
        .stderr
        .matches("a fresh user context for this GSTIN")
        .count();
    let ahead = d.stderr.matches("made_ahead=true").count();
    assert_eq!((fresh, ahead), (3, 2), "{}", d.stderr);
    // None is made for a row that will not come (the last row's next).
    let made = d.stderr.matches("making the next row's user context ahead");
    assert_eq!(made.count(), 2, "{}", d.stderr);
    assert_eq!(d.stderr.matches("using a browser started ahead").count(), 0);
    assert_eq!(logins_per_browser(&r), vec![1, 1, 1]);
    assert_eq!(api_users(&r), 3);
}

/// einvreg's chromedriver: its port and how many sessions it holds
/// (chromedriver still answers the legacy `GET /sessions`).
fn sessions_of(pid: u32) -> Option<(u16, usize)> {
    let driver = procs::descendants(pid)
        .into_iter()
        .find(|p| p.comm == "chromedriver")?;
    let cmd = std::fs::read(format!("/proc/{}/cmdline", driver.pid)).ok()?;
    let cmd = String::from_utf8_lossy(&cmd).to_string();
    let port: u16 = cmd
        .split('\0')
        .find_map(|a| a.strip_prefix("--port="))?
        .parse()
        .ok()?;
    // Not listening yet: no sessions.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}/sessions");
    let r = rt
        .block_on(einvreg::loopback::request("GET", &url, &[], None))
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&r.text()).ok()?;
    Some((port, v["value"].as_array()?.len()))
}

#[test]
fn a_browser_that_died_while_it_waited_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "3"]);
    prod_rows(dir.path(), 3);
    let mut args = batch_on("production-api-user", &r.production);
    // A slow operator: the first row takes seconds, the next browser waits ready.
    args.extend([
        "--parallel",
        "1",
        "--isolation",
        "session",
        "--warm",
        "1",
        "--auto-answer-mistakes",
        "delay=1500",
    ]);
    let child = spawn(dir.path(), &args, true);
    let ahead = poll("a browser started ahead").within(Duration::from_secs(30));
    let waiting = ahead.every(Duration::from_millis(50)).value(|| {
        // Two sessions: the first row's, and the next row's, started ahead and waiting.
        let up = sessions_of(child.id()).is_some_and(|(_, n)| n >= 2);
        let b = procs::browsers_under(child.id());
        // The later one is the browser started ahead for the next row.
        (up && b.len() >= 2).then(|| b.into_iter().max_by_key(|p| p.pid).unwrap())
    });
    procs::kill(waiting.pid);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("a browser started ahead died while it waited; starting a new one"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("starting a browser ahead failed"),
        "{stderr}"
    );
    assert_eq!(api_users(&r), 3);
    assert_eq!(logins_per_browser(&r), vec![1, 1, 1]);
}
