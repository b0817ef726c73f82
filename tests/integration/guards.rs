//! Inputs and outputs refused before any browser starts: an output that is
//! the vault, the journal, a lock, the secrets file or the CSV; a symlinked
//! report; control characters in values; files others may read.

use crate::support::*;
use std::path::Path;

const VAULT: &str = r#"{"id":"keep-me","at":"2026-01-01T00:00:00Z","status":"created","portal":"production","gstin":"27AAPFU0939F1ZV","username":"keeper","password":"Kept#Secret1"}
"#;

/// A batch folder with a vault worth keeping; the portal (port 9) is never
/// reached: a check that let the batch start would fail differently.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::batch::prod_rows(dir.path(), 1);
    std::fs::write(dir.path().join("v.jsonl"), VAULT).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    dir
}

fn batch(dir: &Path, extra: &[&str]) -> Done {
    let base = batch_on("production-api-user", "http://127.0.0.1:9");
    Test::new()
        .cwd(dir)
        .args(base)
        .args(["--vault", "v.jsonl", "--parallel", "1"])
        .args(extra)
        .status(2)
        .run()
}

#[test]
fn no_output_may_be_the_vault_journal_a_lock_the_secrets_or_the_csv() {
    let dir = folder();
    let d = dir.path();
    std::fs::hard_link(d.join("v.jsonl"), d.join("hard.jsonl")).unwrap();
    std::os::unix::fs::symlink(d, d.join("here")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--report", "v.jsonl"], "--report v.jsonl is the same file as the vault"),
        (&["--report", "sub/../v.jsonl"], "as the vault (v.jsonl)"),
        (&["--html", "hard.jsonl"], "--html hard.jsonl is the same file as the vault"),
        (&["--html", "here/v.jsonl"], "as the vault"),
        (&["--log-file", "v.jsonl"], "--log-file v.jsonl is the same file as the vault"),
        (&["--report", "v.jsonl.lock"], "the vault's lock"),
        (&["--report", "einvreg-journal.jsonl"], "the journal"),
        (&["--html", "./einvreg-journal.jsonl.lock"], "the journal's lock"),
        (&["--report", "secrets.toml"], "the secrets file"),
        (&["--report", "batch.csv"], "the CSV"),
        (&["--report", "r.csv", "--html", "r.csv"], "--html r.csv is the same file as --report"),
    ];
    for (extra, says) in cases {
        let out = batch(d, extra);
        assert!(out.stderr.contains(says), "{extra:?}: {}", out.stderr);
        assert!(!out.stderr.contains("einvreg batch:"), "{extra:?} started: {}", out.stderr);
        assert_eq!(std::fs::read_to_string(d.join("v.jsonl")).unwrap(), VAULT, "{extra:?}");
    }
    let secrets = std::fs::read_to_string(d.join("secrets.toml")).unwrap();
    assert!(secrets.starts_with("[portal_password]"), "{secrets}");
}

#[test]
fn a_symlinked_report_is_refused_before_the_batch_runs() {
    let dir = folder();
    let d = dir.path();
    std::fs::write(d.join("elsewhere.csv"), "theirs\n").unwrap();
    std::os::unix::fs::symlink(d.join("elsewhere.csv"), d.join("r.csv")).unwrap();
    std::os::unix::fs::symlink(d.join("elsewhere.csv"), d.join("r.html")).unwrap();
    for flag in ["--report", "--html"] {
        let file = if flag == "--report" { "r.csv" } else { "r.html" };
        let out = batch(d, &[flag, file]);
        assert!(out.stderr.contains(&format!("{flag} {file}: is a symbolic link")), "{}", out.stderr);
        assert!(!out.stderr.contains("einvreg batch:"), "{}", out.stderr);
    }
    assert_eq!(std::fs::read_to_string(d.join("elsewhere.csv")).unwrap(), "theirs\n");
}

#[test]
fn vault_export_never_writes_over_the_vault_or_an_existing_file_without_force() {
    let dir = folder();
    let d = dir.path();
    let export = |extra: &[&str], code: i32| {
        Test::new()
            .cwd(d)
            .args(["vault", "export", "--vault", "v.jsonl"])
            .args(extra)
            .status(code)
            .run()
    };
    let out = export(&["-o", "sub/../v.jsonl", "--force"], 2);
    assert!(out.stderr.contains("-o sub/../v.jsonl is the same file as the vault"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(d.join("v.jsonl")).unwrap(), VAULT);
    std::fs::write(d.join("old.csv"), "keep\n").unwrap();
    let out = export(&["-o", "old.csv"], 2);
    assert!(out.stderr.contains("old.csv: exists; give --force"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(d.join("old.csv")).unwrap(), "keep\n");
    export(&["-o", "old.csv", "--force"], 0);
    assert!(std::fs::read_to_string(d.join("old.csv")).unwrap().starts_with("gstin,"));
}
