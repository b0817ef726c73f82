//! One secrets file for `run` and `batch`: the batch shape (tables by login
//! and by GSTIN) and the flat shape (`name = "value"`) both work in both.

use crate::support::*;
use std::time::Duration;

const GSTIN: &str = "27AAPFU0939F1ZV";

fn run_args() -> Vec<String> {
    let mut a = demo_run("replica");
    a.extend(["--secrets".into(), "secrets.toml".into()]);
    a
}

/// The one credential `dir`'s vault holds: its password.
fn vault_password(dir: &std::path::Path) -> String {
    let creds = vault_in(dir);
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0].status, einvreg::vault::Status::Created);
    creds[0].password.clone()
}

#[test]
fn run_and_batch_take_both_shapes() {
    let batch_shape = format!(
        "[portal_password]\nudaytrd01 = \"Uday@Login2024\"\n[api_password]\n{GSTIN} = \"Given@Pass123\"\n"
    );
    let flat = "portal_password = \"Uday@Login2024\"\napi_password = \"Given@Pass123\"\n";
    for (shape, text) in [("batch shape", batch_shape.as_str()), ("flat", flat)] {
        for command in ["run", "batch"] {
            let dir = tempfile::tempdir().unwrap();
            write_secrets(dir.path(), text);
            let args: Vec<String> = match command {
                "run" => run_args(),
                _ => {
                    let csv =
                        std::fs::read_to_string(root().join("fixtures/demo-batch.csv")).unwrap();
                    let two: Vec<&str> = csv.lines().take(2).collect();
                    std::fs::write(dir.path().join("batch.csv"), two.join("\n") + "\n").unwrap();
                    batch_on("production-api-user", "replica")
                        .into_iter()
                        .map(String::from)
                        .collect()
                }
            };
            let d = Test::new()
                .cwd(dir.path())
                .args(args)
                .timeout(Duration::from_secs(180))
                .any_status()
                .run();
            assert_eq!(
                d.out.status.code(),
                Some(0),
                "{command} with the {shape}:\n{}\n{}",
                d.stdout,
                d.stderr
            );
            // The API password came from the file, not the generator.
            assert_eq!(
                vault_password(dir.path()),
                "Given@Pass123",
                "{command} with the {shape}"
            );
        }
    }
}

#[test]
fn a_flat_login_for_one_user_is_not_everyones() {
    // The older batch shape: a login's password under its username.
    let dir = tempfile::tempdir().unwrap();
    write_secrets(dir.path(), "someoneelse = \"Other@Login1\"\n");
    let d = Test::new().cwd(dir.path()).args(run_args()).status(2).run();
    assert!(d.stderr.contains("portal_password"), "{}", d.stderr);
    let dir = tempfile::tempdir().unwrap();
    write_secrets(dir.path(), "udaytrd01 = \"Uday@Login2024\"\n");
    // -q: the result, without the screen-by-screen lines.
    let d = Test::new()
        .cwd(dir.path())
        .args(run_args())
        .arg("-q")
        .timeout(Duration::from_secs(180))
        .run();
    assert!(
        !d.stderr.contains("→") && !d.stderr.contains("einvreg: production-api-user on"),
        "{}",
        d.stderr
    );
    assert!(
        d.stdout.contains("API_udaytera") || d.stderr.contains("API_udaytera"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    vault_password(dir.path());
}
