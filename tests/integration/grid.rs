//! Scale-out on Selenium Grid 4 (the real jar, on loopback): sessions
//! spread by room, an endpoint lost mid-batch, sessions kept alive while a
//! person is slow, and `se:name` labels.

use crate::support::*;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The Grid's basic-auth password: it must never show anywhere.
const GRID_PW: &str = "Gr1d-Secret-7731";

/// A file only its owner may read.
fn write_private(p: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Every file under `dir`, bytes and all (screenshots too).
fn every_file(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        match p.is_dir() {
            true => every_file(&p, out),
            false => out.push((p.display().to_string(), std::fs::read(&p).unwrap())),
        }
    }
}

fn assert_never_shown(secret: &str, dir: &Path, outputs: &[&Done]) {
    let mut files = vec![];
    every_file(dir, &mut files);
    assert!(files.len() > 3, "the batch wrote its files: {files:?}");
    for (name, bytes) in files {
        let hit = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!hit, "{name} holds the Grid's password");
    }
    for d in outputs {
        assert!(
            !d.stdout.contains(secret) && !d.stderr.contains(secret),
            "{}\n{}",
            d.stdout,
            d.stderr
        );
    }
}

/// The replica's API users per GSTIN: each must be there exactly once.
fn assert_each_registered_once(production: &str, gstins: &[String]) {
    let users = get_json(&format!("{production}/__replica/users"));
    let api = users["api_users"].as_array().unwrap();
    for g in gstins {
        let n = api.iter().filter(|u| u["gstin"] == g.as_str()).count();
        assert_eq!(n, 1, "{g} registered {n} times");
    }
}

/// Sets its flag when dropped.
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Grid's sessions, watched every 50 ms until `done`: the most at once,
/// and every `se:name` seen.
fn watch(grid: &GridProc, done: &AtomicBool) -> (usize, BTreeSet<String>) {
    let (mut most, mut names) = (0, BTreeSet::new());
    while !done.load(Ordering::SeqCst) {
        let now = grid.sessions();
        most = most.max(now.len());
        names.extend(now);
        std::thread::sleep(Duration::from_millis(50));
    }
    (most, names)
}

#[test]
fn twelve_gstins_run_three_at_a_time_through_a_grid_with_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 12);
    let r = ReplicaProc::start(&["--taxpayers", "12"]);
    let grid = GridProc::with(GridOpts {
        max_sessions: 3,
        auth: Some(("einvreg", GRID_PW)),
        ..GridOpts::default()
    });
    // The password travels in an owner-only endpoints file.
    write_private(
        &dir.path().join("webdrivers.toml"),
        &format!("webdriver = [\"{}\"]\n", grid.webdriver_url()),
    );
    let done = AtomicBool::new(false);
    let (d, (most, names)) = std::thread::scope(|s| {
        let watcher = s.spawn(|| watch(&grid, &done));
        // The watcher stops even if the batch's assertions panic.
        let _stop = Stop(&done);
        let d = Test::new()
            .cwd(dir.path())
            .args(batch_on("production-api-user", &r.production))
            .args(["--webdriver-file", "webdrivers.toml", "--parallel", "3"])
            .args(["--report", "report.csv"])
            .args(["-vv", "--log-file", "debug.log"])
            .timeout(Duration::from_secs(400))
            .run();
        done.store(true, Ordering::SeqCst);
        (d, watcher.join().unwrap())
    });
    assert!(
        d.stdout.contains("12 rows: 12 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    assert!(most > 1, "Grid ran {most} session(s) at once");
    assert!(most <= 3, "Grid ran {most} sessions, more than its 3");
    // Grid's own view names each session by its GSTIN, and nothing else
    // (a slot being reserved for a new session shows no name yet).
    let named: Vec<_> = names.iter().filter(|n| !n.is_empty()).collect();
    assert!(named.len() > 1, "se:name labels seen: {names:?}");
    for n in named {
        assert!(gstins.contains(n), "a Grid session named {n:?}");
    }
    assert_each_registered_once(&r.production, &gstins);
    std::fs::remove_file(dir.path().join("webdrivers.toml")).unwrap();
    assert_never_shown(GRID_PW, dir.path(), &[&d]);
    let log = std::fs::read_to_string(dir.path().join("debug.log")).unwrap();
    assert!(
        log.contains(&format!("endpoint={}", grid.url)),
        "the Grid is named, without its password"
    );
}

/// The last journal state of each GSTIN.
fn last_states(dir: &Path) -> HashMap<String, String> {
    let mut last = HashMap::new();
    for e in journal_states(dir) {
        last.insert(
            e["gstin"].as_str().unwrap().to_string(),
            e["state"].as_str().unwrap().to_string(),
        );
    }
    last
}

#[test]
fn two_endpoints_lose_the_grid_mid_batch_and_every_gstin_registers_once() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 8);
    let r = ReplicaProc::start(&["--taxpayers", "8"]);
    let mut grid = GridProc::with(GridOpts {
        max_sessions: 2,
        ..GridOpts::default()
    });
    let driver = DriverProc::start();
    std::fs::write(
        dir.path().join("webdrivers.toml"),
        format!(
            "webdriver = [\n  \"{}\",\n  \"{}\",\n]\n",
            grid.url, driver.url
        ),
    )
    .unwrap();
    let mut args = batch_on("production-api-user", &r.production);
    args.extend(["--webdriver-file", "webdrivers.toml", "--parallel", "4"]);
    let mut child = std::process::Command::new(bin())
        .args(&args)
        // Slow answers keep rows in their browsers long enough to lose one;
        // -v logs which GSTIN each kept browser serves.
        .args(["--auto-answer-mistakes", "delay=400", "-v"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = LiveLog::follow(child.stderr.take().unwrap());
    // Kill the Grid while one of its browsers runs a row that has been
    // walking a while, before its submit.
    let mut first_seen: HashMap<String, Instant> = HashMap::new();
    let ripe = poll("a row the Grid ran long enough to lose it");
    ripe.within(Duration::from_secs(240)).until(|| {
        let walking = last_states(dir.path());
        for g in rows_on(&log.text(), &grid.url) {
            let since = *first_seen.entry(g.clone()).or_insert_with(Instant::now);
            if walking.get(&g).is_some_and(|s| s == "started")
                && since.elapsed() > Duration::from_millis(600)
            {
                return true;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before the Grid could be killed:\n{}",
            log.text()
        );
        false
    });
    grid.kill();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = log.finish();
    assert!(stdout.contains("8 rows:"), "{stdout}\n{stderr}");
    // Rows the Grid held: started again elsewhere if before the submit, in doubt after.
    let restarted = stderr.contains("starting the row again");
    let in_doubt = stdout.contains("need verification") && !stdout.contains(" 0 need verification");
    eprintln!("GRID-KILL restarted={restarted} in_doubt={in_doubt}");
    assert!(
        restarted || in_doubt,
        "the Grid's rows were neither restarted nor in doubt:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains(" 1 failed") && stdout.contains(" 0 failed"),
        "{stdout}\n{stderr}"
    );
    // Resume settles whatever is in doubt, on the endpoint that is left.
    let d = Test::new()
        .cwd(dir.path())
        .args(&args)
        .arg("--resume")
        .timeout(Duration::from_secs(300))
        .run();
    assert!(
        d.stdout.contains("8 rows:") && d.stdout.contains(" 0 failed"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    assert_each_registered_once(&r.production, &gstins);
    let creds = vault_in(dir.path());
    for g in &gstins {
        let created = creds
            .iter()
            .filter(|c| &c.gstin == g && c.status == einvreg::vault::Status::Created)
            .count();
        assert_eq!(created, 1, "{g}: {created} created credentials");
    }
}

/// The GSTINs that kept browsers on `endpoint` serve now, read off the
/// batch's `-v` log: "started a browser … browser=N at=URL", then "a fresh
/// user context for this GSTIN browser=N … gstin=\"G\"" for each row.
fn rows_on(log: &str, endpoint: &str) -> Vec<String> {
    let field = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(|v| v.trim_matches('"').to_string())
    };
    let mut at: HashMap<String, String> = HashMap::new();
    let mut serving: HashMap<String, String> = HashMap::new();
    for line in log.lines() {
        let Some(n) = field(line, "browser=") else {
            continue;
        };
        if line.contains("started a browser") {
            at.insert(n.clone(), field(line, "at=").unwrap_or_default());
        } else if line.contains("a fresh user context") {
            serving.insert(n, field(line, "gstin=").unwrap_or_default());
        }
    }
    let on = |n: &String| {
        at.get(n)
            .is_some_and(|a| a.trim_end_matches('/') == endpoint.trim_end_matches('/'))
    };
    serving
        .into_iter()
        .filter(|(n, _)| on(n))
        .map(|(_, g)| g)
        .collect()
}

/// A child's stderr, read as it comes.
struct LiveLog {
    text: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl LiveLog {
    fn follow(stderr: std::process::ChildStderr) -> LiveLog {
        use std::io::BufRead;
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let into = text.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut t = into.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
            }
        });
        LiveLog { text, reader }
    }

    fn text(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything, once the child has ended.
    fn finish(self) -> String {
        let LiveLog { text, reader } = self;
        reader.join().unwrap();
        let t = text.lock().unwrap().clone();
        t
    }
}

/// The sandbox registration with an operator who takes 15 s per answer,
/// on a Grid that ends sessions idle for 10 s.
fn slow_operator(
    grid: &GridProc,
    keep_alive: &str,
    api_user: &str,
    status: i32,
) -> (Done, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "sandbox-register",
            "--portal",
            "replica",
            "--auto-answer",
        ])
        .args([
            "--auto-answer-mistakes",
            "delay=15000",
            "--keep-alive",
            keep_alive,
        ])
        .args(["--webdriver", &grid.url])
        .args([
            "--var",
            "gstin=33GSPTN9771G3ZP",
            "--var",
            "trade_name=TAMIL GSP SERVICES",
        ])
        .args([
            "--var",
            "mobile=8056012345",
            "--var",
            "email=gsp@tamilgsp.example",
        ])
        .args([
            "--var",
            "through=gsp",
            "--var",
            "provider=DEFMACRO SOFTWARE PRIVATE LIMITED",
        ])
        .args([
            "--var",
            "client_id=AACCT29GSPB5H8G",
            "--var",
            &format!("api_username={api_user}"),
        ])
        .status(status)
        .timeout(Duration::from_secs(180))
        .run();
    (d, dir)
}

#[test]
fn an_operator_slower_than_the_grids_session_timeout_still_registers() {
    let grid = GridProc::with(GridOpts {
        max_sessions: 2,
        session_timeout: Some(10),
        ..GridOpts::default()
    });
    let ((kept, _a), (lost, _b)) = std::thread::scope(|s| {
        let kept = s.spawn(|| slow_operator(&grid, "3s", "slowkept", 0));
        // The control: without keep-alive the same wait loses the session.
        let lost = s.spawn(|| slow_operator(&grid, "0", "slowlost", 1));
        (kept.join().unwrap(), lost.join().unwrap())
    });
    assert!(
        kept.stdout.contains("registered: acknowledged"),
        "{}\n{}",
        kept.stdout,
        kept.stderr
    );
    assert!(
        kept.stdout.contains("waiting for people"),
        "{}",
        kept.stdout
    );
    assert!(
        lost.stdout.contains("failed: lost the browser session"),
        "without keep-alive the Grid should have ended the session:\n{}\n{}",
        lost.stdout,
        lost.stderr
    );
}

#[test]
fn bad_endpoints_are_refused_before_any_browser_starts_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("webdrivers.toml");
    std::fs::write(
        &file,
        "webdriver = [\n  \"http://127.0.0.1:4444\",\n  \"ftp://ops:Hunter2x@grid:2121\",\n]\n",
    )
    .unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "sandbox-register",
            "--portal",
            "replica",
            "--auto-answer",
        ])
        .args(["--webdriver-file", "webdrivers.toml"])
        .status(2)
        .run();
    assert_eq!(
        d.stderr.trim(),
        "error: webdrivers.toml:3:3: webdriver: ftp://grid:2121: a WebDriver endpoint is http:// or https://"
    );
    // A password in a file others may read.
    std::fs::write(
        &file,
        "webdriver = [\"http://ops:Hunter2x@127.0.0.1:4444\"]\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "production-api-user",
            "none.csv",
            "--webdriver-file",
            "webdrivers.toml",
        ])
        .status(2)
        .run();
    assert!(!d.stderr.contains("Hunter2x"), "{}", d.stderr);
    assert!(d.stderr.contains("webdrivers.toml: a URL here holds a password but the file's permissions are 644. Fix: chmod 600 webdrivers.toml"), "{}", d.stderr);
    let d = Test::new()
        .cwd(dir.path())
        .args(["run", "sandbox-register", "--webdriver", "grid:4444"])
        .status(2)
        .run();
    assert!(d.stderr.contains("--webdriver: "), "{}", d.stderr);
    assert!(!dir.path().join("einvreg-runs").exists(), "nothing ran");
}
