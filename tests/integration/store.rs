//! The vault and journal under pressure: a full disk at the pending write
//! and at the status update, a second batch on the same files, a symlink,
//! a torn last line.

use crate::support::*;
use einvreg::vault::{Status, Vault};
use std::path::Path;

/// A vault already holding `bytes` or a little more of earlier, valid records.
fn padded_vault(path: &Path, bytes: usize) -> Vec<u8> {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!(
            "{{\"id\":\"old-{i}\",\"at\":\"2026-01-01T00:00:00Z\",\"status\":\"failed\",\"portal\":\"production\",\"gstin\":\"27AAAAA0000A1Z{}\",\"note\":\"padding\"}}\n",
            i % 10
        ));
        i += 1;
    }
    std::fs::write(path, &text).unwrap();
    text.into_bytes()
}

/// Caps the size of any file `pid` writes from now on: a full disk for it alone
/// (its chromedriver and Chromium keep their own limits).
fn fill_disk(pid: u32, limit: u64) {
    let lim = libc::rlimit {
        rlim_cur: limit,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit reads `lim` and writes nothing back (null old).
    let rc = unsafe { libc::prlimit(pid as i32, libc::RLIMIT_FSIZE, &lim, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

fn args(url: &str) -> Vec<String> {
    [
        batch_on("production-api-user", url),
        vec!["--parallel", "1"],
    ]
    .concat()
    .into_iter()
    .map(String::from)
    .collect()
}

fn api_users_of(url: &str, gstin: &str) -> usize {
    get_json(&format!("{url}/__replica/users"))["api_users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["gstin"] == gstin)
        .count()
}

#[test]
fn a_full_disk_at_the_pending_write_submits_nothing_and_stops_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 2);
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    let vault = dir.path().join("einvreg-vault.jsonl");
    let before = padded_vault(&vault, 64 * 1024);
    let mut child = spawn(dir.path(), &args(&r.production), true);
    // Once the browser runs (it keeps its own limit) and the login captcha
    // is saved, the disk is full for einvreg.
    let captcha = || row_dir(dir.path(), 2, &gstins[0]).join("captcha-1.png");
    poll("the login captcha").until(|| captcha().exists());
    fill_disk(child.id(), before.len() as u64 + 10);
    let out = wait_output(&mut child);
    assert_eq!(out.0, Some(1), "{}", out.2);
    assert!(
        out.2
            .contains("the vault could not take a pending credential"),
        "{}",
        out.2
    );
    assert_eq!(
        api_users_of(&r.production, &gstins[0]),
        0,
        "nothing submitted"
    );
    assert_eq!(
        api_users_of(&r.production, &gstins[1]),
        0,
        "no new row started"
    );
    assert_eq!(std::fs::read(&vault).unwrap(), before, "no torn line left");
}

#[test]
fn a_full_disk_at_the_journals_submitting_line_submits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 2);
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    let journal = dir.path().join("einvreg-journal.jsonl");
    let mut text = String::new();
    while text.len() < 64 * 1024 {
        text.push_str("{\"at\":\"2026-01-01T00:00:00Z\",\"key\":\"old|\",\"gstin\":\"OLD\",\"line\":9,\"state\":\"started\"}\n");
    }
    std::fs::write(&journal, &text).unwrap();
    let mut child = spawn(dir.path(), &args(&r.production), true);
    let captcha = || row_dir(dir.path(), 2, &gstins[0]).join("captcha-1.png");
    poll("the login captcha").until(|| captcha().exists());
    // The row's "started" line is in; the vault (small) still has room.
    let started = std::fs::read(&journal).unwrap();
    assert!(started.len() > text.len(), "the started line is written");
    fill_disk(child.id(), started.len() as u64 + 10);
    let (code, _, stderr) = wait_output(&mut child);
    assert_eq!(code, Some(1), "{stderr}");
    let first = gstins[0].as_str();
    assert!(
        stderr.contains(&format!("line 2 ({first}): not submitting: the journal could not record credential {first}-production-")),
        "{stderr}"
    );
    assert!(
        stderr.contains("File too large"),
        "the cause, once: {stderr}"
    );
    assert_eq!(api_users_of(&r.production, first), 0, "nothing submitted");
    assert_eq!(
        api_users_of(&r.production, &gstins[1]),
        0,
        "no new row started"
    );
    let creds = vault_in(dir.path());
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0].status, Status::Failed, "marked not submitted");
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        started,
        "no torn line left"
    );
}

#[test]
fn a_full_disk_at_the_status_update_is_an_error_naming_the_credential() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 1);
    let r = ReplicaProc::start(&["--taxpayers", "1", "--faults", "hold_create=3s"]);
    let vault = dir.path().join("einvreg-vault.jsonl");
    padded_vault(&vault, 64 * 1024);
    let a = args(&r.production);
    let mut child = spawn(dir.path(), &a, true);
    poll("the submit window").until(|| {
        get_json(&format!("{}/__replica/counters", r.production))["create_held"]
            .as_u64()
            .is_some_and(|n| n > 0)
    });
    let with_pending = std::fs::read(&vault).unwrap();
    fill_disk(child.id(), with_pending.len() as u64 + 10);
    let (code, _, stderr) = wait_output(&mut child);
    assert_eq!(
        code,
        Some(7),
        "in doubt until the vault records it: {stderr}"
    );
    let creds = Vault::read(&vault).unwrap();
    let mine = creds.iter().find(|c| c.gstin == gstins[0]).unwrap();
    assert_eq!(mine.status, Status::Pending, "the pending record stands");
    assert!(
        stderr.contains(&format!(
            "credential {} could not be marked created",
            mine.id
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&vault).unwrap(),
        with_pending,
        "no torn line left"
    );
    // Disk fixed: the resume confirms the pending credential, once.
    resume(dir.path(), &a);
    let creds = Vault::read(&vault).unwrap();
    let created: Vec<_> = creds
        .iter()
        .filter(|c| c.gstin == gstins[0] && c.status == Status::Created)
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(api_users_of(&r.production, &gstins[0]), 1);
}

fn wait_output(child: &mut std::process::Child) -> (Option<i32>, String, String) {
    use std::io::Read;
    let (mut o, mut e) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut o).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
    (child.wait().unwrap().code(), o, e)
}

#[test]
fn a_second_batch_on_the_same_vault_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 2);
    let r = ReplicaProc::start(&["--taxpayers", "2", "--faults", "hold_create=20s"]);
    let a = args(&r.production);
    let mut first = spawn(dir.path(), &a, true);
    let lock = dir.path().join("einvreg-vault.jsonl.lock");
    poll("the first batch holds the vault")
        .until(|| std::fs::read_to_string(&lock).is_ok_and(|p| p.trim() == first.id().to_string()));
    let d = Test::new()
        .cwd(dir.path())
        .args(&a)
        .args(["--journal", "other-journal.jsonl"])
        .status(2)
        .run();
    assert!(
        d.stderr.contains(&format!(
            "is in use by another einvreg (PID {})",
            first.id()
        )),
        "{}",
        d.stderr
    );
    assert!(
        !d.stderr.contains("chromedriver"),
        "refused before any browser"
    );
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn a_symlinked_vault_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 1);
    let target = dir.path().join("target.txt");
    std::fs::write(&target, "not a vault\n").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("einvreg-vault.jsonl")).unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args(args("http://127.0.0.1:9"))
        .status(2)
        .run();
    assert!(d.stderr.contains("is a symbolic link"), "{}", d.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a vault\n");
}
