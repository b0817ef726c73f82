//! `einvreg batch`: validation before any browser, skip-invalid, SIGKILL and
//! resume with exactly-once credentials, one prompt at a time, no leaks.

use crate::support::*;
use einvreg::replica::generated_taxpayers;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

fn sandbox_csv(dir: &Path, rows: usize) -> (std::path::PathBuf, Vec<String>) {
    let tps = generated_taxpayers(rows);
    let mut s =
        String::from("gstin,trade_name,mobile,email,through,provider,client_id,api_username\n");
    for (i, t) in tps.iter().enumerate() {
        s.push_str(&format!("{},{},{},{},erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),AAFCC29ERP82ZSO,sbx{i:05}\n", t.gstin, t.trade_name, t.mobile, t.email));
    }
    let p = dir.join("batch.csv");
    std::fs::write(&p, s).unwrap();
    (p, tps.into_iter().map(|t| t.gstin).collect())
}

/// Rewrites CSV line `line` (1-based, header = 1) with `f`.
fn edit_line(path: &Path, line: usize, f: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[line - 1] = f(&lines[line - 1]);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn invalid_rows_are_refused_before_any_browser_then_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, gstins) = sandbox_csv(dir.path(), 30);
    // 4 bad rows: a wrong check character, a bad mobile, an unknown provider, a duplicate.
    edit_line(&csv, 5, |l| {
        let g = &gstins[3];
        let wrong = if g.ends_with('A') { 'B' } else { 'A' };
        l.replacen(g.as_str(), &format!("{}{wrong}", &g[..14]), 1)
    });
    edit_line(&csv, 9, |l| l.replacen(",9", ",+919", 1));
    edit_line(&csv, 14, |l| {
        l.replace(
            "CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)",
            "CLOUDZEN SOFTWARE LABS(GSTZen)",
        )
    });
    let dup = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .nth(20)
        .unwrap()
        .to_string();
    edit_line(&csv, 31, |_| dup.replace("sbx", "dup"));
    let r = ReplicaProc::start(&["--taxpayers", "30"]);
    // A provider the bundled list lacks is a warning: the dropdown decides.
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "sandbox-register",
            "batch.csv",
            "--portal",
            &r.sandbox,
            "--auto-answer",
        ])
        .status(2)
        .timeout(Duration::from_secs(30))
        .run();
    assert!(
        d.stderr.contains("warning: batch.csv:14 column provider")
            && d.stderr.contains("3 problem(s) in 3 row(s)"),
        "{}",
        d.stderr
    );
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "sandbox-register",
            "batch.csv",
            "--portal",
            &r.sandbox,
            "--auto-answer",
            "--parallel",
            "4",
            "--strict-providers",
        ])
        .status(2)
        .timeout(Duration::from_secs(30))
        .run();
    for needle in [
        "batch.csv:5 column gstin",
        "it should be",
        "batch.csv:9 column mobile",
        "drop the +91",
        "batch.csv:14 column provider",
        "did you mean \"CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)\"",
        "batch.csv:31: `gstin` duplicates line 21",
        "4 problem(s) in 4 row(s)",
        "nothing was started",
    ] {
        assert!(
            d.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            d.stderr
        );
    }
    assert!(
        !dir.path().join("einvreg-runs").exists() && !vault_file(dir.path()).exists(),
        "nothing ran"
    );
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "sandbox-register",
            "batch.csv",
            "--portal",
            &r.sandbox,
            "--auto-answer",
            "--parallel",
            "4",
            "--skip-invalid",
            "--strict-providers",
            "--report",
            "report.json",
        ])
        .timeout(Duration::from_secs(600))
        .status(1) // the invalid rows were not registered
        .run();
    assert!(
        d.stdout.contains("30 rows: 26 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let users: serde_json::Value =
        serde_json::from_str(&http_get(&format!("{}/__replica/users", r.sandbox))).unwrap();
    assert_eq!(users["sandbox_users"].as_array().unwrap().len(), 26);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let rows = report.as_array().unwrap();
    assert_eq!(rows.len(), 30, "the invalid rows are reported too");
    let invalid: Vec<_> = rows
        .iter()
        .filter(|r| {
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid row, not run")
        })
        .collect();
    assert_eq!(invalid.len(), 4, "{invalid:?}");
    assert!(
        invalid
            .iter()
            .any(|r| r["line"] == 9 && r["message"].as_str().unwrap().contains("`mobile`")),
        "{invalid:?}"
    );
}

#[test]
fn no_valid_rows_starts_no_browser_and_all_invalid_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let head = "gstin,trade_name,mobile,email,through,provider,client_id,api_username\n";
    std::fs::write(dir.path().join("empty.csv"), head).unwrap();
    let bad = format!("{head}27AAPFU0939F1ZX,X,8056012345,a@b.example,gsp,DEFMACRO SOFTWARE PRIVATE LIMITED,AACCT29GSPB5H8G,xname\n");
    std::fs::write(dir.path().join("bad.csv"), bad).unwrap();
    let run = |csv: &str, code: i32| {
        Test::new()
            .cwd(dir.path())
            .args([
                "batch",
                "sandbox-register",
                csv,
                "--portal",
                "http://127.0.0.1:9",
            ])
            .args(["--auto-answer", "--skip-invalid", "--report", "r.csv"])
            .env("PATH", "/nonexistent") // no chromedriver to be found, were one needed
            .status(code)
            .run()
    };
    let d = run("empty.csv", 0);
    assert!(d.stderr.contains("nothing was started"), "{}", d.stderr);
    let d = run("bad.csv", 1);
    assert!(d.stderr.contains("nothing was started"), "{}", d.stderr);
    let report = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    assert!(report.contains("invalid row, not run: `gstin`"), "{report}");
    assert!(!dir.path().join("einvreg-runs").exists());
}

fn children_pgids(pid: u32) -> Vec<i32> {
    // chromedriver runs in its own process group; Chromium is in it too.
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) {
            let f: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
                if let Some(pg) = f.get(2).and_then(|p| p.parse::<i32>().ok()) {
                    out.push(pg);
                }
            }
        }
    }
    out
}

#[test]
fn sigkill_mid_batch_then_resume_registers_each_gstin_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _logins) = prod_rows(dir.path(), 8);
    let r = ReplicaProc::start(&["--taxpayers", "8"]);
    let args = [
        "batch",
        "production-api-user",
        "batch.csv",
        "--portal",
        &r.production,
        "--auto-answer",
        "--secrets",
        "secrets.toml",
        "--parallel",
        "2",
    ];
    let mut child = std::process::Command::new(bin())
        .args(args)
        .args(["--auto-answer-mistakes", "delay=150"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once some rows finished and another is between start and finish.
    let ripe = poll("some rows finished and another in flight");
    ripe.within(Duration::from_secs(180)).until(|| {
        let j = journal_states(dir.path());
        let finished = j.iter().filter(|e| e["state"] == "finished").count();
        let mut last: HashMap<String, String> = HashMap::new();
        for e in &j {
            last.insert(
                e["key"].as_str().unwrap().into(),
                e["state"].as_str().unwrap().into(),
            );
        }
        let in_flight = last
            .values()
            .filter(|s| *s == "submitting" || *s == "started")
            .count();
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before it could be killed"
        );
        finished >= 2 && in_flight >= 1
    });
    let groups = children_pgids(child.id());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for g in groups {
        unsafe { libc::kill(-g, libc::SIGKILL) };
    }
    let d = Test::new()
        .cwd(dir.path())
        .args(args)
        .arg("--resume")
        .timeout(Duration::from_secs(300))
        .run();
    assert!(d.stdout.contains("8 rows:"), "{}\n{}", d.stdout, d.stderr);
    // The replica's own records: one API user per GSTIN, no duplicates.
    let users: serde_json::Value =
        serde_json::from_str(&http_get(&format!("{}/__replica/users", r.production))).unwrap();
    let api = users["api_users"].as_array().unwrap();
    for g in &gstins {
        assert_eq!(
            api.iter().filter(|u| u["gstin"] == g.as_str()).count(),
            1,
            "{g} registered {} times",
            api.iter().filter(|u| u["gstin"] == g.as_str()).count()
        );
    }
    // The vault: exactly one `created` credential per GSTIN, and each logs in.
    let creds = vault_in(dir.path());
    for g in &gstins {
        let created: Vec<_> = creds
            .iter()
            .filter(|c| &c.gstin == g && c.status == einvreg::vault::Status::Created)
            .collect();
        assert_eq!(created.len(), 1, "{g}: {created:?}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let resp = rt
            .block_on(einvreg::loopback::request(
                "POST",
                &format!("{}/__replica/auth", r.production),
                &[],
                Some(&einvreg::loopback::form_encode(&[
                    ("username", &created[0].username),
                    ("password", &created[0].password),
                ])),
            ))
            .unwrap();
        assert_eq!(
            resp.status, 200,
            "{g}: the vault's credential does not log in"
        );
    }
    assert_eq!(
        std::fs::metadata(vault_file(dir.path()))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn one_prompt_at_a_time_with_four_sessions_and_a_slow_operator() {
    let dir = tempfile::tempdir().unwrap();
    let (_gstins, logins) = prod_rows(dir.path(), 4);
    let r = ReplicaProc::start(&["--taxpayers", "4"]);
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "production-api-user",
            "batch.csv",
            "--portal",
            &r.production,
            "--auto-answer",
            "--secrets",
            "secrets.toml",
            "--parallel",
            "4",
            "--report",
            "report.csv",
        ])
        .args([
            "--auto-answer-mistakes",
            "delay=2000",
            "--auto-answer-log",
            "answers.log",
        ])
        .timeout(Duration::from_secs(300))
        .run();
    assert!(
        d.stdout.contains("4 rows: 4 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let log = std::fs::read_to_string(dir.path().join("answers.log")).unwrap();
    let mut spans: Vec<(u128, u128)> = log
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap())
        })
        .collect();
    assert_eq!(spans.len(), 12, "3 prompts per GSTIN: {log}");
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "two prompts overlapped: {w:?}");
    }
    // No secret reaches the report, the journal or the terminal.
    let report = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    let journal = std::fs::read_to_string(journal_file(dir.path())).unwrap();
    let vault = std::fs::read_to_string(vault_file(dir.path())).unwrap();
    let api_passwords: Vec<String> = vault
        .lines()
        .filter_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["password"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(api_passwords.len(), 4);
    for s in logins.values().chain(api_passwords.iter()) {
        for (place, text) in [
            ("report", &report),
            ("journal", &journal),
            ("stdout", &d.stdout),
            ("stderr", &d.stderr),
        ] {
            assert!(!text.contains(s.as_str()), "a secret reached the {place}");
        }
    }
    assert!(report.starts_with("line,gstin,provider,status,api_username"));
}

#[test]
fn the_readme_main_job_runs_hands_free() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/demo-secrets.toml"),
        dir.path().join("s.toml"),
    )
    .unwrap();
    std::fs::set_permissions(
        dir.path().join("s.toml"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            root()
                .join("flows/production-api-user.toml")
                .to_str()
                .unwrap(),
            root().join("fixtures/demo-batch.csv").to_str().unwrap(),
            "--portal",
            "replica",
            "--auto-answer",
            "--secrets",
            "s.toml",
            "--verify=all",
        ])
        .timeout(Duration::from_secs(300))
        .run();
    assert!(
        d.stdout.contains("7 rows: 7 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    // Every credential was then tried through the auth API, as the main job does.
    assert_eq!(
        d.stdout
            .matches("confirmed by the e-Invoice auth API")
            .count(),
        7,
        "{}",
        d.stdout
    );
    let creds = vault_in(dir.path());
    assert!(creds.iter().all(|c| c.verified_at.is_some()), "{creds:?}");
    let main_job = std::fs::read_to_string(root().join("scripts/main-job")).unwrap();
    assert!(
        main_job.contains("--verify=all"),
        "the test mirrors the main job"
    );
    // A secrets file others can read is refused.
    std::fs::set_permissions(
        dir.path().join("s.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "production-api-user",
            root().join("fixtures/demo-batch.csv").to_str().unwrap(),
            "--portal",
            "replica",
            "--auto-answer",
            "--secrets",
            "s.toml",
        ])
        .status(2)
        .run();
    assert!(
        d.stderr
            .contains("must be readable by its owner only. Fix: chmod 600"),
        "{}",
        d.stderr
    );
}

#[test]
fn unknown_and_secret_columns_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.csv"),
        "gstin,portal_usrname,api_password\n27AAPFU0939F1ZV,x,y\n",
    )
    .unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args(["batch", "production-api-user", "b.csv"])
        .status(2)
        .run();
    assert!(
        d.stderr.contains(
            "b.csv:1: unknown column 2 `portal_usrname`: did you mean `portal_username`?"
        ),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr
            .contains("column 3 `api_password` is a secret; secrets never go in a CSV"),
        "{}",
        d.stderr
    );
}

fn spawn_batch(dir: &Path, r: &ReplicaProc, extra: &[&str]) -> std::process::Child {
    std::process::Command::new(bin())
        .args([
            "batch",
            "production-api-user",
            "batch.csv",
            "--portal",
            &r.production,
            "--auto-answer",
            "--secrets",
            "secrets.toml",
            "--parallel",
            "2",
        ])
        .args(extra)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_journal(dir: &Path, what: impl Fn(&[serde_json::Value]) -> bool) {
    poll("the journal's expected state").until(|| what(&journal_states(dir)));
}

#[test]
fn first_ctrl_c_finishes_in_flight_rows_and_starts_no_more() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 6);
    let r = ReplicaProc::start(&["--taxpayers", "6"]);
    let child = spawn_batch(dir.path(), &r, &["--auto-answer-mistakes", "delay=300"]);
    wait_for_journal(dir.path(), |j| j.iter().any(|e| e["state"] == "started"));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Ctrl-C: starting no new GSTINs"),
        "{stderr}"
    );
    assert!(stdout.contains("not_started"), "{stdout}");
    let j = journal_states(dir.path());
    let started: Vec<_> = j
        .iter()
        .filter(|e| e["state"] == "started")
        .map(|e| e["key"].clone())
        .collect();
    assert!(
        !started.is_empty() && started.len() < 6,
        "some, not all, started: {started:?}"
    );
    for k in &started {
        assert!(
            j.iter().any(|e| e["key"] == *k && e["state"] == "finished"),
            "{k} was left in flight"
        );
    }
}

#[test]
fn second_ctrl_c_aborts_and_records_rows_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 4);
    let r = ReplicaProc::start(&["--taxpayers", "4"]);
    let mut child = spawn_batch(dir.path(), &r, &["--auto-answer-mistakes", "delay=2000"]);
    wait_for_journal(dir.path(), |j| j.iter().any(|e| e["state"] == "started"));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    // Press again only once the first press was taken (two separate presses).
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("Ctrl-C: starting no new GSTINs") {
        let mut line = String::new();
        assert!(
            std::io::BufRead::read_line(&mut err, &mut line).unwrap() > 0,
            "batch ended before the first Ctrl-C was taken: {seen}"
        );
        seen.push_str(&line);
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let reader = std::thread::spawn(move || {
        std::io::Read::read_to_string(&mut err, &mut seen).map(|_| seen)
    });
    let out = child.wait_with_output().unwrap();
    let stderr = reader.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let j = journal_states(dir.path());
    assert!(j.iter().any(|e| e["state"] == "in_doubt"), "{j:?}");
    // A resume settles them.
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "production-api-user",
            "batch.csv",
            "--portal",
            &r.production,
            "--auto-answer",
            "--secrets",
            "secrets.toml",
            "--resume",
        ])
        .timeout(Duration::from_secs(300))
        .run();
    assert!(d.stdout.contains("4 rows: 4 registered"), "{}", d.stdout);
}

/// Two batches in one folder: each writes its rows' folders in a folder of
/// its own, so the second keeps the first one's captchas and traces.
#[test]
fn two_batches_in_one_folder_keep_both_sets_of_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 1);
    let r = ReplicaProc::start(&["--taxpayers", "1"]);
    let args = batch_on("production-api-user", &r.production);
    Test::new().cwd(dir.path()).args(&args).run();
    // Run again: the portal now has the API user (already registered, done).
    let again = Test::new().cwd(dir.path()).args(&args).run();
    assert!(
        again.stdout.contains("1 already registered"),
        "{}",
        again.stdout
    );
    let batches: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path().join("einvreg-runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(batches.len(), 2, "{batches:?}");
    for b in &batches {
        let name = b.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.contains("-batch-"), "{name}");
        let trace = b.join(format!("0002-{}", gstins[0])).join("trace.json");
        assert!(trace.exists(), "{} was kept", trace.display());
    }
}

/// The progress bar in a real pseudo-terminal, with the replica's oracle
/// answering: no ETA before a row has finished (it could only say 0s),
/// and no "waiting for you" for prompts no person answers.
#[test]
fn the_progress_bar_shows_no_eta_before_a_row_and_no_wait_for_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 2);
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    let args = batch_on("production-api-user", &r.production).join(" ");
    let cmd = format!("{} {args} --parallel 1", bin().display());
    let out = std::process::Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("COLUMNS", "160")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` (util-linux) gives einvreg a terminal");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 rows: 2 registered"), "{text}");
    let drawn: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.contains("/2 "))
        .collect();
    assert!(
        drawn.iter().any(|l| l.contains("0/2")),
        "the bar was drawn: {text}"
    );
    for l in &drawn {
        assert!(!(l.contains("0/2") && l.contains("ETA")), "{l}");
        assert!(l.contains("waiting for you 0"), "{l}");
    }
}
