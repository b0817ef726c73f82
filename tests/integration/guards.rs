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
    prod_rows(dir.path(), 1);
    std::fs::write(dir.path().join("v.jsonl"), VAULT).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    dir
}

/// `out`'s stderr says `text`.
fn says(out: &Done, text: &str) {
    assert!(out.stderr.contains(text), "no {text:?} in:\n{}", out.stderr);
}

/// `out` shows no `secret`.
fn silent(out: &Done, secret: &str) {
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains(secret), "{secret:?} shown:\n{all}");
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
        (
            &["--report", "v.jsonl"],
            "--report v.jsonl is the same file as the vault",
        ),
        (&["--report", "sub/../v.jsonl"], "as the vault (v.jsonl)"),
        (
            &["--html", "hard.jsonl"],
            "--html hard.jsonl is the same file as the vault",
        ),
        (&["--html", "here/v.jsonl"], "as the vault"),
        (
            &["--log-file", "v.jsonl"],
            "--log-file v.jsonl is the same file as the vault",
        ),
        (&["--report", "v.jsonl.lock"], "the vault's lock"),
        (&["--report", "einvreg-journal.jsonl"], "the journal"),
        (
            &["--html", "./einvreg-journal.jsonl.lock"],
            "the journal's lock",
        ),
        (&["--report", "secrets.toml"], "the secrets file"),
        (&["--report", "batch.csv"], "the CSV"),
        (
            &["--report", "r.csv", "--html", "r.csv"],
            "--html r.csv is the same file as --report",
        ),
    ];
    for (extra, says) in cases {
        let out = batch(d, extra);
        assert!(out.stderr.contains(says), "{extra:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("einvreg batch:"),
            "{extra:?} started: {}",
            out.stderr
        );
        assert_eq!(
            std::fs::read_to_string(d.join("v.jsonl")).unwrap(),
            VAULT,
            "{extra:?}"
        );
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
        let file = if flag == "--report" {
            "r.csv"
        } else {
            "r.html"
        };
        let out = batch(d, &[flag, file]);
        says(&out, &format!("{flag} {file}: is a symbolic link"));
        silent(&out, "einvreg batch:");
    }
    assert_eq!(
        std::fs::read_to_string(d.join("elsewhere.csv")).unwrap(),
        "theirs\n"
    );
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
    says(&out, "-o sub/../v.jsonl is the same file as the vault");
    assert_eq!(std::fs::read_to_string(d.join("v.jsonl")).unwrap(), VAULT);
    std::fs::write(d.join("old.csv"), "keep\n").unwrap();
    let out = export(&["-o", "old.csv"], 2);
    says(&out, "old.csv: exists; give --force");
    assert_eq!(
        std::fs::read_to_string(d.join("old.csv")).unwrap(),
        "keep\n"
    );
    export(&["-o", "old.csv", "--force"], 0);
    assert!(std::fs::read_to_string(d.join("old.csv"))
        .unwrap()
        .starts_with("gstin,"));
}

/// `run` with `extra`, its portal never reached (port 9).
fn run(dir: &Path, extra: &[&str]) -> Done {
    run_with(dir, extra, "Uday@Login2024")
}

/// `run` with `password` as EINVREG_PORTAL_PASSWORD.
fn run_with(dir: &Path, extra: &[&str], password: &str) -> Done {
    Test::new()
        .cwd(dir)
        .args([
            "run",
            "production-api-user",
            "--portal",
            "http://127.0.0.1:9",
            "--auto-answer",
        ])
        .args(["--var", "gstin=27AAPFU0939F1ZV", "--var", "through=gsp"])
        .args([
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "api_username=udaytera",
        ])
        .args(extra)
        .env("EINVREG_PORTAL_PASSWORD", password)
        .status(2)
        .run()
}

#[test]
fn a_newline_in_a_value_is_refused_not_typed_as_enter() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--var", "portal_username=udaytrd01\nX"]);
    says(
        &out,
        "--var portal_username: `portal_username` holds a control character (U+000A)",
    );
    // A secret with one, from the environment or the secrets file, likewise (never shown).
    let login = ["--var", "portal_username=udaytrd01"];
    let out = run_with(dir.path(), &login, "Uday@Login\r2024");
    says(&out, "holds a control character (U+000D)");
    silent(&out, "Uday@Login");
    write_secrets(
        dir.path(),
        "[portal_password]\nudaytrd01 = \"Uday@Login\\n2024\"\n",
    );
    std::fs::write(dir.path().join("batch.csv"), "gstin,portal_username,through,provider,api_username\n27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udaytera\n").unwrap();
    let out = batch(dir.path(), &[]);
    says(
        &out,
        "`portal_password.udaytrd01` holds a control character",
    );
    silent(&out, "Uday@Login");
}

#[test]
fn a_vars_file_others_may_read_may_not_hold_a_secret() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let vars = dir.path().join("vars.toml");
    std::fs::write(
        &vars,
        "portal_username = \"udaytrd01\"\nportal_password = \"Uday@Login2024\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&vars, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(dir.path(), &["--vars", "vars.toml"]);
    says(&out, "vars.toml: permissions are 644");
    says(&out, "chmod 600 vars.toml");
    says(&out, "the secret `portal_password` at vars.toml:2:1");
    silent(&out, "Uday@Login2024");
}

#[test]
fn a_fifo_as_the_secrets_file_is_refused_at_once() {
    let dir = folder();
    let fifo = dir.path().join("fifo.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "production-api-user",
            "batch.csv",
            "--portal",
            "http://127.0.0.1:9",
        ])
        .args(["--auto-answer", "--secrets", "fifo.toml"])
        .timeout(std::time::Duration::from_secs(20))
        .status(2)
        .run();
    says(&out, "fifo.toml: not a regular file");
}

#[test]
fn terminal_escapes_in_arguments_and_csv_cells_are_shown_escaped() {
    let out = Test::new()
        .args(["gstin", "27AAPFU0939F1ZV\x1b]0;owned\x07\x1b[2J"])
        .any_status()
        .run();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains('\x1b') && !all.contains('\x07'), "{all:?}");
    assert!(all.contains("\\x1b]0;owned\\x07"), "{all:?}");
    let dir = folder();
    std::fs::write(
        dir.path().join("batch.csv"),
        "gstin,portal_username,through,provider,api_username\n27AAPFU0939F1ZV,udaytrd01,gsp,Evil\x1b]0;owned\x07 Soft\x1b[2J,udaytera\n",
    )
    .unwrap();
    let out = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", "http://127.0.0.1:9"))
        .args(["--strict-providers"])
        .status(2)
        .run();
    assert!(
        out.stderr.contains("Evil\\x1b]0;owned\\x07 Soft\\x1b[2J"),
        "{:?}",
        out.stderr
    );
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
}

#[test]
fn a_grid_password_on_the_command_line_is_warned_about_and_the_environment_is_offered() {
    let dir = folder();
    // An invalid row stops the batch before any endpoint is asked.
    std::fs::write(dir.path().join("batch.csv"), "gstin,portal_username,through,provider,api_username\nNOTAGSTIN,udaytrd01,gsp,Tera Software Limited,udaytera\n").unwrap();
    let out = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", "http://127.0.0.1:9"))
        .args(["--webdriver", "http://ops:Gr1d-S3cret@127.0.0.1:9"])
        .status(2)
        .run();
    says(
        &out,
        "warning: --webdriver http://127.0.0.1:9: a password on the command line shows in `ps`",
    );
    says(&out, "EINVREG_WEBDRIVER_PASSWORD");
    silent(&out, "Gr1d-S3cret");
    let out = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", "http://127.0.0.1:9"))
        .args(["--webdriver", "http://ops@127.0.0.1:9"])
        .env("EINVREG_WEBDRIVER_PASSWORD", "Gr1d-S3cret")
        .status(2)
        .run();
    silent(&out, "warning: --webdriver");
    silent(&out, "Gr1d-S3cret");
}

#[test]
fn an_artifacts_folder_that_is_a_symlink_or_another_users_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder();
    let d = dir.path();
    std::fs::create_dir(d.join("real")).unwrap();
    std::os::unix::fs::symlink(d.join("real"), d.join("runs")).unwrap();
    let out = run(
        d,
        &["--var", "portal_username=udaytrd01", "--artifacts", "runs"],
    );
    says(&out, "--artifacts runs: is a symbolic link");
    let theirs = d.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
    let c = std::ffi::CString::new(theirs.to_str().unwrap()).unwrap();
    // SAFETY: chown reads a NUL-terminated path. The tests run as root (CI).
    let owned = unsafe { libc::chown(c.as_ptr(), 65534, 65534) } == 0;
    assert!(
        owned,
        "the test needs root to make a folder another user owns"
    );
    let out = batch(d, &["--artifacts", "theirs"]);
    says(
        &out,
        "--artifacts theirs: belongs to another user (uid 65534)",
    );
}

/// `--repair` refusals, before any browser: a repaired flow with nowhere
/// to go, a person to ask with no terminal, the vault as the repaired flow.
#[test]
fn repair_options_that_cannot_work_are_refused_before_any_browser() {
    let dir = folder();
    let d = dir.path();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--repair-out", "fixed.toml"],
            "--repair-out needs --repair or --repair-command",
        ),
        (&["--repair"], "stdin is not one: pass --repair-command CMD"),
        (
            &["--repair-command", "true", "--repair-out", "v.jsonl"],
            "--repair-out v.jsonl is the same file as the vault",
        ),
    ];
    for (extra, text) in cases {
        let out = run(d, &[&["--vault", "v.jsonl"], *extra].concat());
        says(&out, text);
        assert!(!d.join("fixed.toml").exists(), "{extra:?}");
        assert_eq!(
            std::fs::read_to_string(d.join("v.jsonl")).unwrap(),
            VAULT,
            "{extra:?}"
        );
    }
}

/// A rehearsal beside the real default vault (which earlier versions'
/// rehearsals wrote): it says where rehearsals write now, and leaves the
/// real vault as it was. The only row is invalid: no browser starts.
#[test]
fn a_rehearsal_beside_the_real_vault_says_it_keeps_to_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real = d.join(einvreg::vault::DEFAULT_FILE);
    std::fs::write(&real, VAULT).unwrap();
    std::fs::write(
        d.join("batch.csv"),
        "gstin,portal_username,through,provider,api_username\n27AAPFU0939F1ZX,udaytrd01,gsp,Tera Software Limited,udaynote\n",
    )
    .unwrap();
    let out = Test::new()
        .cwd(d)
        .args([
            "batch",
            "production-api-user",
            "batch.csv",
            "--portal",
            "replica",
        ])
        .args(["--auto-answer", "--skip-invalid"])
        .status(1)
        .run();
    says(
        &out,
        "note: rehearsals (--portal replica) write einvreg-rehearsal-vault.jsonl",
    );
    says(&out, "no valid rows in batch.csv: nothing was started");
    assert_eq!(std::fs::read_to_string(&real).unwrap(), VAULT);
    assert!(d.join(einvreg::vault::REHEARSAL_FILE).exists());
    silent(&out, "Kept#Secret1");
}
