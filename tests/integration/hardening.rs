//! The process itself under hostile conditions, with a real Chromium: its
//! children never see einvreg's secrets, it dumps no core, SIGTERM ends a
//! batch as a first Ctrl-C does, and a closed stdout or stderr never stops
//! the work.

use crate::procs;
use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const PORTAL_SECRET: &str = "Env@Portal2024q";
const API_SECRET: &str = "Env@Api2024zz";
const CLIENT_SECRET: &str = "env-client-secret-7731";

fn spawn_batch(dir: &Path, url: &str, out: Stdio, err: Stdio) -> std::process::Child {
    Command::new(bin())
        .args(batch_on("production-api-user", url))
        .args([
            "--parallel",
            "1",
            "--report",
            "report.csv",
            "--html",
            "report.html",
        ])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("EINVREG_PORTAL_PASSWORD", PORTAL_SECRET)
        .env("EINVREG_API_PASSWORD", API_SECRET)
        .env("EINVREG_API_CLIENT_SECRET", CLIENT_SECRET)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, child: &mut std::process::Child, mut f: impl FnMut() -> bool) {
    poll(what).until(|| {
        let ended = child.try_wait().unwrap();
        assert!(ended.is_none(), "einvreg ended before {what}");
        f()
    });
}

/// The exit code, or a panic after two minutes.
fn exit_code(child: &mut std::process::Child) -> Option<i32> {
    let ended = poll("einvreg to end").try_value(|| child.try_wait().unwrap());
    match ended {
        Some(st) => st.code(),
        None => {
            child.kill().unwrap();
            panic!("einvreg did not end");
        }
    }
}

#[test]
fn sigterm_mid_batch_finishes_the_row_in_flight_writes_everything_and_exits_143() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 3);
    let r = ReplicaProc::start(&["--taxpayers", "3", "--faults", "hold_create=3s"]);
    let url = r.production.clone();
    let mut child = spawn_batch(dir.path(), &url, Stdio::null(), Stdio::null());
    let pid = child.id();
    wait_for("the submit window", &mut child, || {
        counter(&url, "create_held") > 0
    });

    // No core file, and no child holds einvreg's EINVREG_* variables.
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>()[4..6],
        ["0", "0"],
        "{core}"
    );
    let kids = procs::descendants(pid);
    assert!(kids.iter().any(|p| p.comm == "chromedriver"), "{kids:?}");
    assert!(kids.iter().any(|p| p.comm.starts_with("chrom")), "{kids:?}");
    for p in &kids {
        let Ok(env) = std::fs::read(format!("/proc/{}/environ", p.pid)) else {
            continue;
        };
        let env = String::from_utf8_lossy(&env);
        for bad in ["EINVREG_", PORTAL_SECRET, API_SECRET, CLIENT_SECRET] {
            assert!(
                !env.contains(bad),
                "{} ({}) has {bad} in its environment",
                p.comm,
                p.pid
            );
        }
    }
    let groups: Vec<i32> = kids
        .iter()
        .map(|p| p.pgid)
        .filter(|g| *g != pid as i32)
        .collect();

    // SIGTERM: as a first Ctrl-C.
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    assert_eq!(exit_code(&mut child), Some(143));
    let done = finished_entries(dir.path());
    assert_eq!(
        done.len(),
        1,
        "the row in flight finished, no other started: {done:?}"
    );
    assert_eq!(done[0]["status"], "registered", "{done:?}");
    let report = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    assert_eq!(report.lines().count(), 4, "every row is reported: {report}");
    assert!(
        report.contains("registered") && report.contains("not_started"),
        "{report}"
    );
    assert!(dir.path().join("report.html").exists());
    // EINVREG_API_PASSWORD is the API password of every GSTIN the secrets file names none for.
    let vault = vault_in(dir.path());
    assert_eq!(vault.len(), 1, "{vault:?}");
    assert_eq!(vault[0].password, API_SECRET);
    if let Err(left) = procs::wait_gone(&groups, Duration::from_secs(10)) {
        panic!("processes outlived einvreg: {left:?}");
    }
}

#[test]
fn a_closed_stdout_and_stderr_never_stop_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 2);
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    // `| head -0` on both: the reading ends are closed before einvreg writes.
    let mut child = spawn_batch(dir.path(), &r.production, Stdio::piped(), Stdio::piped());
    drop(child.stdout.take());
    drop(child.stderr.take());
    assert_eq!(exit_code(&mut child), Some(0), "no panic, no abort");
    let done = finished_entries(dir.path());
    assert_eq!(done.len(), gstins.len(), "{done:?}");
    assert!(done.iter().all(|e| e["status"] == "registered"), "{done:?}");
    let report = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    assert_eq!(report.matches("registered").count(), 2, "{report}");
    assert!(dir.path().join("report.html").exists());
}
