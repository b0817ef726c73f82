//! `einvreg vault` and age encryption: a sealed vault holds no credential
//! in clear, opens with either identity, and the commands list, show and
//! export what it holds, passwords only when asked.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn two_rows(dir: &std::path::Path) {
    let csv = std::fs::read_to_string(root().join("fixtures/demo-batch.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().take(3).collect();
    std::fs::write(dir.join("batch.csv"), rows.join("\n") + "\n").unwrap();
    write_secrets(
        dir,
        "[portal_password]\nudaytrd01 = \"Uday@Login2024\"\ngstzendemo = \"Zen@Login2024x\"\n",
    );
}

fn keygen(dir: &std::path::Path, name: &str) -> String {
    let d = Test::new()
        .cwd(dir)
        .args(["vault", "keygen", "-o", name])
        .run();
    let mode = std::fs::metadata(dir.join(name))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    d.stdout.trim().to_string()
}

#[test]
fn a_sealed_vault_round_trips_and_holds_nothing_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    two_rows(p);
    let ops = keygen(p, "ops.key");
    let lead = keygen(p, "lead.key");
    assert!(
        ops.starts_with("age1") && lead.starts_with("age1"),
        "{ops} {lead}"
    );
    std::fs::write(
        p.join("recipients.txt"),
        format!("# the ops lead\n{lead}\n"),
    )
    .unwrap();
    Test::new()
        .cwd(p)
        .args(batch_on("production-api-user", "replica"))
        .args([
            "--vault-recipient",
            &ops,
            "--vault-recipients-file",
            "recipients.txt",
        ])
        .timeout(Duration::from_secs(240))
        .run();
    let raw = std::fs::read_to_string(vault_file(p)).unwrap();
    for clear in ["27AAPFU0939F1ZV", "API_", "Tera", "password", "pending"] {
        assert!(
            !raw.contains(clear),
            "`{clear}` in the sealed vault:\n{raw}"
        );
    }
    // Without the identity: refused, saying what to give.
    let d = Test::new()
        .cwd(p)
        .args(["vault", "list", "--rehearsal"])
        .status(2)
        .run();
    assert!(d.stderr.contains("--vault-identity"), "{}", d.stderr);
    let d = Test::new()
        .cwd(p)
        .args([
            "vault",
            "list",
            "--rehearsal",
            "--vault-identity",
            "ops.key",
        ])
        .run();
    assert_eq!(
        d.stdout.lines().filter(|l| l.contains("API_")).count(),
        2,
        "{}",
        d.stdout
    );
    // Either identity opens it; the export is owner-only.
    Test::new()
        .cwd(p)
        .args([
            "vault",
            "export",
            "--rehearsal",
            "--format",
            "json",
            "-o",
            "all.json",
            "--reveal",
        ])
        .env("EINVREG_VAULT_IDENTITY", "lead.key")
        .run();
    assert_eq!(
        std::fs::metadata(p.join("all.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(p.join("all.json")).unwrap()).unwrap();
    assert_eq!(all.len(), 2);
    let pw = all[0]["password"].as_str().unwrap().to_string();
    assert!(pw.len() >= 8);
    assert!(!raw.contains(&pw));
    // list and a plain export never hold a password.
    assert!(!d.stdout.contains(&pw));
    Test::new()
        .cwd(p)
        .args([
            "vault",
            "export",
            "--rehearsal",
            "--format",
            "csv",
            "-o",
            "plain.csv",
            "--vault-identity",
            "ops.key",
        ])
        .run();
    let csv = std::fs::read_to_string(p.join("plain.csv")).unwrap();
    assert!(
        csv.starts_with("gstin,portal,base_url,provider,username,status"),
        "{csv}"
    );
    assert!(!csv.contains(&pw) && !csv.contains(",password,"), "{csv}");
    // show asks before it prints a password.
    let gstin = all[0]["gstin"].as_str().unwrap();
    let show = |answer: &str, status: i32| {
        Test::new()
            .cwd(p)
            .args([
                "vault",
                "show",
                gstin,
                "--rehearsal",
                "--reveal",
                "--vault-identity",
                "ops.key",
            ])
            .stdin(answer)
            .status(status)
            .run()
    };
    let no = show("n\n", 2);
    assert!(
        !no.stdout.contains(&pw) && no.stderr.contains("not confirmed"),
        "{}",
        no.stderr
    );
    let yes = show("y\n", 0);
    assert!(
        yes.stdout.contains(&format!("password     {pw}")),
        "{}",
        yes.stdout
    );
    let plain = Test::new()
        .cwd(p)
        .args(["vault", "show", gstin, "--rehearsal"])
        .args(["--vault-identity", "ops.key"])
        .run();
    assert!(
        !plain.stdout.contains(&pw) && plain.stdout.contains("API_"),
        "{}",
        plain.stdout
    );
    // --resume reads the vault back: without its identity, refused before any browser.
    let d = Test::new()
        .cwd(p)
        .args(batch_on("production-api-user", "replica"))
        .args(["--resume", "--vault-recipient", &ops])
        .status(2)
        .run();
    assert!(d.stderr.contains("--vault-identity"), "{}", d.stderr);
}

#[test]
fn a_plain_vault_lists_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    two_rows(p);
    Test::new()
        .cwd(p)
        .args(batch_on("production-api-user", "replica"))
        .args(["--html", "report.html"])
        .timeout(Duration::from_secs(240))
        .run();
    // A rehearsal keeps to its own vault and journal: the real ones are never made.
    for real in [
        einvreg::vault::DEFAULT_FILE,
        einvreg::journal_files::DEFAULT_FILE,
    ] {
        assert!(!p.join(real).exists(), "the rehearsal wrote {real}");
    }
    assert!(p.join(einvreg::journal_files::REHEARSAL_FILE).exists());
    let html = std::fs::read_to_string(p.join("report.html")).unwrap();
    assert!(
        html.contains("id=\"rehearsal\"") && html.contains("<span id=\"portal\">http://127.0.0.1:"),
        "the report's header names the portal and the rehearsal"
    );
    // The default vault does not exist, and says where the rehearsal's are.
    let d = Test::new().cwd(p).args(["vault", "list"]).status(2).run();
    assert!(
        d.stderr.contains("einvreg-vault.jsonl: no such vault") && d.stderr.contains("--rehearsal"),
        "{}",
        d.stderr
    );
    let d = Test::new()
        .cwd(p)
        .args(["vault", "list", "--rehearsal"])
        .run();
    assert_eq!(
        d.stdout.lines().filter(|l| l.contains(" created ")).count(),
        2,
        "{}",
        d.stdout
    );
    // --json parses, each credential with the portal it was made on and never a password.
    let d = Test::new()
        .cwd(p)
        .args(["vault", "list", "--rehearsal", "--json"])
        .run();
    let listed: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    let vault = vault_in(p);
    assert_eq!(listed.as_array().unwrap().len(), vault.len());
    for (shown, c) in listed.as_array().unwrap().iter().zip(&vault) {
        assert_eq!(shown["base_url"], c.base_url.as_str(), "{shown}");
        assert!(
            c.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            c.base_url
        );
        assert_eq!(shown["kind"], "api_user");
        assert!(shown.get("password").is_none(), "{shown}");
        assert!(!d.stdout.contains(&c.password), "a password in the list");
    }
    let d = Test::new()
        .cwd(p)
        .args(["vault", "show", "05AAACH6188F1ZM", "--rehearsal"])
        .status(2)
        .run();
    assert!(
        d.stderr.contains("no credential for 05AAACH6188F1ZM"),
        "{}",
        d.stderr
    );
}
