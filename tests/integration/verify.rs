//! `einvreg verify`, `batch --verify` and `run --verify` against the
//! replica's e-Invoice auth API (`POST /eivital/v1.04/auth`, RSA-encrypted
//! payload): confirmed, rejected with NIC's codes, busy and rate-limited
//! answers retried, a wrong client or key stopping every further call, and
//! the crash window settled without a person. No secret, token or Sek in
//! any output.

use crate::leaks::{forms, written};
use crate::support::*;
use einvreg::vault::{Record, Status, Vault};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) const CLIENT_ID: &str = "EINVREG-REPLICA-GSP";
pub(crate) const CLIENT_SECRET: &str = "Replica-Client-Secret-1";
const ROWS: &str = "gstin,portal_username,through,provider,api_username\n27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udayverify\n29AAFCC9980MZZT,gstzendemo,erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),zenverify\n";

pub(crate) fn key(portal: &str) -> String {
    root()
        .join(format!("fixtures/api-auth/{portal}-public.pem"))
        .display()
        .to_string()
}

/// The secrets file: the API client and the demo logins.
fn secrets(dir: &Path, client_secret: &str) {
    write_secrets(
        dir,
        &format!(
            "api_client_id = \"{CLIENT_ID}\"\napi_client_secret = \"{client_secret}\"\n{}",
            crate::fidelity::SECRETS
        ),
    );
}

/// Registers the two rows on `r` (exit 0); the batch's output.
fn register(dir: &Path, r: &ReplicaProc, extra: &[&str]) -> Done {
    std::fs::write(dir.join("batch.csv"), ROWS).unwrap();
    Test::new()
        .cwd(dir)
        .args(batch_on("production-api-user", &r.production))
        .args(["--report", "report.json"])
        .args(extra)
        .timeout(Duration::from_secs(180))
        .status(0)
        .run()
}

/// Appends a credential in doubt for `gstin` with this username and password.
fn add_in_doubt(dir: &Path, id: &str, gstin: &str, username: &str, password: &str, base: &str) {
    let v = Vault::open(&vault_file(dir)).unwrap();
    v.append(&Record {
        id: id.into(),
        at: einvreg::vault::now_rfc3339(),
        status: Status::NeedsVerification,
        portal: Some("production".into()),
        base_url: Some(base.into()),
        flow: Some("production-api-user".into()),
        gstin: Some(gstin.into()),
        kind: None,
        provider: Some("Tera Software Limited".into()),
        username: Some(username.into()),
        password: Some(password.into()),
        note: None,
        verified_at: None,
    })
    .unwrap();
}

fn verify(dir: &Path, extra: &[&str]) -> Test {
    Test::new()
        .cwd(dir)
        .args(["verify", "--secrets", "secrets.toml"])
        .args([
            "--nic-public-key",
            &format!("production={}", key("production")),
        ])
        .args(extra)
        .timeout(Duration::from_secs(120))
}

/// Neither the client secret, a password, a token nor a Sek is in the
/// output or in any file but the vault.
fn nothing_leaked(dir: &Path, url: &str, outputs: &[&Done]) {
    let mut secrets: Vec<String> = vault_in(dir).into_iter().map(|c| c.password).collect();
    secrets.push(CLIENT_SECRET.into());
    let issued = get_json(&format!("{url}/__replica/auth-tokens"));
    for pair in issued.as_array().unwrap() {
        for s in pair.as_array().unwrap() {
            secrets.push(s.as_str().unwrap().to_string());
        }
    }
    assert!(secrets.len() > 3, "tokens were issued: {issued}");
    let files: Vec<PathBuf> = written(dir);
    for s in &secrets {
        for form in forms(s) {
            for d in outputs {
                assert!(
                    !d.stdout.contains(&form) && !d.stderr.contains(&form),
                    "output holds {form:?}"
                );
            }
            for f in &files {
                let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
                assert!(!text.contains(&form), "{} holds {form:?}", f.display());
            }
        }
    }
}

#[test]
fn a_created_credential_verifies_and_wrong_ones_fail_with_nics_codes() {
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path(), CLIENT_SECRET);
    let r = ReplicaProc::start(&[]);
    let d = register(dir.path(), &r, &["-vv", "--log-file", "log.txt"]);
    let uday = vault_in(dir.path())
        .into_iter()
        .find(|c| c.gstin == "27AAPFU0939F1ZV")
        .unwrap();
    add_in_doubt(
        dir.path(),
        "wrong-password",
        "27AAPFU0939F1ZV",
        &uday.username,
        "Not@ThePass1",
        &r.production,
    );
    add_in_doubt(
        dir.path(),
        "no-such-user",
        "27AAPFU0939F1ZV",
        "API_nobody",
        "Any@Pass123",
        &r.production,
    );
    // The default selection is what is in doubt: the two made-up ones.
    let d1 = verify(dir.path(), &["-vv", "--log-file", "verify-log.txt"])
        .status(1)
        .run();
    assert!(
        d1.stdout.contains("1019 Incorrect Password"),
        "{}",
        d1.stdout
    );
    assert!(
        d1.stdout.contains("1017 Incorrect user id"),
        "{}",
        d1.stdout
    );
    assert!(
        d1.stdout.contains("0 confirmed, 2 failed, 0 unsettled"),
        "{}",
        d1.stdout
    );
    let d2 = verify(dir.path(), &["--status", "created"]).status(0).run();
    assert!(d2.stdout.contains("2 confirmed, 0 failed"), "{}", d2.stdout);
    let creds = vault_in(dir.path());
    for c in &creds {
        match c.id.as_str() {
            "wrong-password" | "no-such-user" => {
                assert_eq!(c.status, Status::Failed, "{c:?}");
                assert!(c.verified_at.is_none());
            }
            _ => {
                assert_eq!(c.status, Status::Created, "{c:?}");
                assert!(c.verified_at.is_some(), "{c:?}");
            }
        }
    }
    let failed = creds.iter().find(|c| c.id == "wrong-password").unwrap();
    assert!(
        failed.note.as_deref().unwrap().contains("1019"),
        "{failed:?}"
    );
    assert_eq!(
        counter(&r.production, "auth_api"),
        4,
        "one call per credential"
    );
    nothing_leaked(dir.path(), &r.production, &[&d, &d1, &d2]);
}

#[test]
fn already_created_on_a_first_try_ends_created_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path(), CLIENT_SECRET);
    let r = ReplicaProc::start(&["--faults", "spurious_already_created"]);
    let key = format!("production={}", key("production"));
    let d = register(dir.path(), &r, &["--verify", "--nic-public-key", &key]);
    assert!(d.stdout.contains("2 registered"), "{}", d.stdout);
    assert!(
        d.stdout.contains("confirmed by the e-Invoice auth API"),
        "{}",
        d.stdout
    );
    let creds = vault_in(dir.path());
    assert_eq!(creds.len(), 2, "{creds:?}");
    for c in &creds {
        assert_eq!(c.status, Status::Created, "{c:?}");
        assert!(c.verified_at.is_some(), "{c:?}");
        crate::crash::logs_in(&r.production, &c.username, &c.password);
    }
    // `run --verify` on the built-in replica: its key and the client from the environment.
    let run = tempfile::tempdir().unwrap();
    let d2 = Test::new()
        .cwd(run.path())
        .args([
            "run",
            "production-api-user",
            "--auto-answer",
            "--portal",
            "replica",
        ])
        .args(["--replica-faults", "spurious_already_created", "--verify"])
        .args([
            "--var",
            "gstin=29AAACJ4323N1ZC",
            "--var",
            "portal_username=jayantka",
        ])
        .args([
            "--var",
            "through=other_gstin",
            "--var",
            "other_gstin=27AAACJ4323N1ZG",
        ])
        .args(["--var", "api_username=jayverify"])
        .env("EINVREG_PORTAL_PASSWORD", "Jay@Login2024k")
        .env("EINVREG_API_CLIENT_ID", CLIENT_ID)
        .env("EINVREG_API_CLIENT_SECRET", CLIENT_SECRET)
        .timeout(Duration::from_secs(120))
        .status(0)
        .run();
    assert!(
        d2.stdout.contains("confirmed by the e-Invoice auth API"),
        "{}",
        d2.stdout
    );
    let c = vault_in(run.path());
    assert_eq!(c[0].status, Status::Created);
    assert!(c[0].verified_at.is_some());
    assert!(!d2.stdout.contains(CLIENT_SECRET) && !d2.stderr.contains(CLIENT_SECRET));
}

/// A replica sharing `state` (so it holds the same users), with `faults`.
fn replica_with(state: &Path, faults: &str) -> ReplicaProc {
    let s = state.display().to_string();
    ReplicaProc::start(&["--state", &s, "--faults", faults])
}

#[test]
fn busy_and_rate_limited_answers_are_retried_and_calls_are_paced() {
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path(), CLIENT_SECRET);
    let state = dir.path().join("replica-state.json");
    let r = ReplicaProc::start(&["--state", &state.display().to_string()]);
    register(dir.path(), &r, &[]);
    let uday = vault_in(dir.path())
        .into_iter()
        .find(|c| c.gstin == "27AAPFU0939F1ZV")
        .unwrap();
    for i in 0..3 {
        add_in_doubt(
            dir.path(),
            &format!("copy-{i}"),
            &uday.gstin,
            &uday.username,
            &uday.password,
            &r.production,
        );
    }
    let only = |url: &str| {
        let api = format!("production={url}");
        ["--gstin", "27AAPFU0939F1ZV", "--status", "all", "--api-url"]
            .map(String::from)
            .into_iter()
            .chain([api])
            .collect::<Vec<_>>()
    };
    // Two 503s, then the answer: one credential, three calls.
    let busy = replica_with(&state, "auth_busy=2");
    let api = format!("production={}", busy.production);
    let d = verify(
        dir.path(),
        &[
            "--status",
            "created",
            "--gstin",
            "27AAPFU0939F1ZV",
            "--api-url",
            &api,
        ],
    )
    .status(0)
    .run();
    assert!(d.stdout.contains("1 confirmed"), "{}", d.stdout);
    assert_eq!(
        counter(&busy.production, "auth_api"),
        3,
        "two busy answers, then the answer"
    );
    // Four calls for one GSTIN under a limit of three a second: paced, never limited.
    let roomy = replica_with(&state, "auth_rate=3");
    let d = verify(dir.path(), &[])
        .args(only(&roomy.production))
        .status(0)
        .run();
    assert!(d.stdout.contains("4 confirmed"), "{}", d.stdout);
    assert_eq!(counter(&roomy.production, "auth_rate_limited"), 0);
    assert_eq!(counter(&roomy.production, "auth_api"), 4);
    // One a second: some calls are limited (429), waited out, and all confirm.
    let tight = replica_with(&state, "auth_rate=1");
    let d = verify(dir.path(), &[])
        .args(only(&tight.production))
        .status(0)
        .run();
    assert!(d.stdout.contains("4 confirmed"), "{}", d.stdout);
    assert!(counter(&tight.production, "auth_rate_limited") >= 1);
}

#[test]
fn a_wrong_client_or_key_stops_every_further_call() {
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path(), "Not-The-Client-Secret");
    let r = ReplicaProc::start(&[]);
    register(dir.path(), &r, &[]);
    let d = verify(dir.path(), &["--status", "all"]).status(2).run();
    assert!(
        d.stdout.contains("1010 Invalid Client-ID/Client-Secret"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("not asked"), "{}", d.stdout);
    assert_eq!(
        counter(&r.production, "auth_api"),
        1,
        "one erroneous call, not one per credential"
    );
    secrets(dir.path(), CLIENT_SECRET);
    let d = Test::new()
        .cwd(dir.path())
        .args(["verify", "--secrets", "secrets.toml", "--status", "all"])
        .args([
            "--nic-public-key",
            &format!("production={}", key("sandbox")),
        ])
        .status(2)
        .run();
    assert!(
        d.stdout
            .contains("1013 Decryption of password failed (check --nic-public-key"),
        "{}",
        d.stdout
    );
    assert_eq!(counter(&r.production, "auth_api"), 2);
    // Nothing to encrypt with (NIC's key is not built in, only the
    // rehearsal's), or no client: said before any call.
    add_in_doubt(
        dir.path(),
        "made-on-nic",
        "27AAPFU0939F1ZV",
        "API_real",
        "Any@Pass123",
        "https://einvoice1.gst.gov.in",
    );
    let d = Test::new()
        .cwd(dir.path())
        .args(["verify", "--secrets", "secrets.toml", "--status", "all"])
        .status(2)
        .run();
    assert!(
        d.stderr.contains(
            "no NIC public key for production (credentials made on https://einvoice1.gst.gov.in)"
        ) && d.stderr.contains("--nic-public-key production=FILE"),
        "{}",
        d.stderr
    );
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "verify",
            "--status",
            "all",
            "--nic-public-key",
            &key("production"),
        ])
        .status(2)
        .run();
    assert!(d.stderr.contains("no e-Invoice API client"), "{}", d.stderr);
    assert_eq!(counter(&r.production, "auth_api"), 2);
    for c in vault_in(dir.path()) {
        let was = match c.id.as_str() {
            "made-on-nic" => Status::NeedsVerification,
            _ => Status::Created,
        };
        assert_eq!(c.status, was, "left as it was: {c:?}");
        assert!(c.verified_at.is_none());
    }
}

/// A vault holding credentials made on two portals: each is asked its own
/// auth API, with the rehearsal key built in for a portal on this machine.
#[test]
fn a_vault_of_two_portals_verifies_each_credential_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (ReplicaProc::start(&[]), ReplicaProc::start(&[]));
    for r in [&a, &b] {
        Test::new()
            .cwd(dir.path())
            .args(demo_run(&r.production))
            .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
            .timeout(Duration::from_secs(120))
            .status(0)
            .run();
    }
    let made: Vec<String> = vault_in(dir.path())
        .into_iter()
        .map(|c| c.base_url)
        .collect();
    assert_eq!(made, [a.production.clone(), b.production.clone()]);
    let d = Test::new()
        .cwd(dir.path())
        .args(["verify", "--status", "all"])
        .env("EINVREG_API_CLIENT_ID", CLIENT_ID)
        .env("EINVREG_API_CLIENT_SECRET", CLIENT_SECRET)
        .timeout(Duration::from_secs(60))
        .status(0)
        .run();
    assert!(d.stdout.contains("2 confirmed, 0 failed"), "{}", d.stdout);
    for r in [&a, &b] {
        assert_eq!(counter(&r.production, "auth_api"), 1, "{}", r.production);
    }
}

#[test]
fn the_crash_window_resumed_with_verify_settles_every_row_without_a_person() {
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path(), CLIENT_SECRET);
    let csv = "gstin,portal_username,through,provider,other_gstin,api_username,client_id\n27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,,udaycrash,\n29AAFCC9980MZZT,gstzendemo,erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),,zencrash,\n05AAACH6188F1ZM,himagro05,direct,,,himcrash,HIM-OWN-CLIENT\n29AAACJ4323N1ZC,jayantka,other_gstin,,27AAACJ4323N1ZG,jaycrash,\n";
    std::fs::write(dir.path().join("batch.csv"), csv).unwrap();
    let r = ReplicaProc::start(&["--faults", "hold_create=60s"]);
    let key = format!("production={}", key("production"));
    let args = [
        "batch",
        "production-api-user",
        "batch.csv",
        "--portal",
        &r.production,
        "--secrets",
        "secrets.toml",
        "--report",
        "report.json",
        "--nic-public-key",
        &key,
    ];
    let first = [&args[..], &["--auto-answer", "--parallel", "4"]].concat();
    let mut child = spawn(dir.path(), &first, false);
    // Every row's create is held open by the portal: all four are in the window.
    let window = poll("every row in the submit window").within(Duration::from_secs(150));
    window.until(|| {
        assert!(child.try_wait().unwrap().is_none(), "einvreg ended early");
        counter(&r.production, "create_held") >= 4
    });
    crate::procs::sigkill_alone(&mut child).expect("nothing outlives einvreg");
    // No answer source at all: any captcha or OTP would end the row "human needed".
    let d = Test::new()
        .cwd(dir.path())
        .args(args)
        .args(["--resume", "--verify"])
        .timeout(Duration::from_secs(120))
        .status(0)
        .run();
    assert!(d.stdout.contains("4 registered"), "{}", d.stdout);
    assert!(
        d.stdout.contains("operator answered 0 prompt(s)"),
        "{}",
        d.stdout
    );
    let creds = vault_in(dir.path());
    assert_eq!(creds.len(), 4, "{creds:?}");
    for c in &creds {
        assert_eq!(c.status, Status::Created, "{c:?}");
        assert!(c.verified_at.is_some(), "{c:?}");
        crate::crash::logs_in(&r.production, &c.username, &c.password);
    }
    assert_eq!(counter(&r.production, "auth_granted"), 4);
    nothing_leaked(dir.path(), &r.production, &[&d]);
}

#[test]
fn sandbox_credentials_verify_with_the_sandbox_key_and_not_with_productions() {
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path(), CLIENT_SECRET);
    std::fs::write(
        dir.path().join("batch.csv"),
        "gstin,trade_name,mobile,email,through,provider,client_id,api_username\n33GSPTN9771G3ZP,TAMIL GSP SERVICES,8056012345,gsp@tamilgsp.example,gsp,DEFMACRO SOFTWARE PRIVATE LIMITED,AACCT29GSPB5H8G,tngspverify\n",
    )
    .unwrap();
    let r = ReplicaProc::start(&[]);
    let sandbox_key = format!("sandbox={}", key("sandbox"));
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "batch",
            "sandbox-register",
            "batch.csv",
            "--portal",
            &r.sandbox,
        ])
        .args(["--auto-answer", "--secrets", "secrets.toml", "--verify=all"])
        .args(["--nic-public-key", &sandbox_key])
        .timeout(Duration::from_secs(120))
        .status(0)
        .run();
    assert!(
        d.stdout.contains("confirmed by the e-Invoice auth API"),
        "{}",
        d.stdout
    );
    let c = &vault_in(dir.path())[0];
    assert_eq!((c.portal.as_str(), c.status), ("sandbox", Status::Created));
    assert!(c.verified_at.is_some());
    // Production's key is not the sandbox's: NIC's 1013, and nothing changes.
    let wrong = format!("sandbox={}", key("production"));
    let d = Test::new()
        .cwd(dir.path())
        .args(["verify", "--secrets", "secrets.toml", "--status", "all"])
        .args(["--nic-public-key", &wrong])
        .status(2)
        .run();
    assert!(d.stdout.contains("1013"), "{}", d.stdout);
    assert_eq!(counter(&r.sandbox, "auth_granted"), 1);
}
