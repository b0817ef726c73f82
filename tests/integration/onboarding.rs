//! From a bare GSTIN to a working API user: the portal login registered
//! first (`portal-login-register`), then the API user made with it.

use crate::support::*;
use einvreg::vault::{Kind, Status};

const NO_LOGIN: &str = "27AADCN5521K1ZD";

/// `einvreg run FLOWS` on `portal`'s replica with these inputs, answered by its oracle.
fn run_on(dir: &std::path::Path, portal: &str, flows: &str, vars: &[(&str, &str)]) -> Test {
    let mut args = vec!["run".to_string(), flows.to_string()];
    for (k, v) in vars {
        args.extend(["--var".to_string(), format!("{k}={v}")]);
    }
    args.extend(["--portal", portal, "--auto-answer"].map(String::from));
    Test::new().cwd(dir).args(args)
}

fn register_login(dir: &std::path::Path, portal: &str, login: &str) -> Test {
    let vars = [("gstin", NO_LOGIN), ("portal_username", login)];
    run_on(dir, portal, "portal-login-register", &vars)
}

/// The login is registered with a password einvreg makes, kept in the
/// vault (a portal login, before the Save) and nowhere else; with it the
/// API user is then created. A second registration is "already registered"
/// and writes nothing.
#[test]
fn a_gstin_without_a_login_gets_one_then_its_api_user() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let d = register_login(dir.path(), &r.production, "navkar27").run();
    assert!(d.stdout.contains("registered: created"), "{}", d.stdout);
    assert!(d.stdout.contains("login       navkar27"), "{}", d.stdout);
    let vault = vault_in(dir.path());
    assert_eq!(vault.len(), 1);
    let login = &vault[0];
    assert_eq!(
        (login.kind, login.status, login.username.as_str()),
        (Kind::PortalLogin, Status::Created, "navkar27")
    );
    for text in [&d.stdout, &d.stderr] {
        assert!(
            !text.contains(&login.password),
            "the password leaked: {text}"
        );
    }
    let listed = get_json(&format!("{}/__replica/taxpayers", r.production));
    let me = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["gstin"] == NO_LOGIN);
    assert_eq!(me.unwrap()["username"], "navkar27");

    let vars = [
        ("gstin", NO_LOGIN),
        ("portal_username", "navkar27"),
        ("provider", "Tera Software Limited"),
        ("api_username", "navkarapi"),
    ];
    let d = run_on(dir.path(), &r.production, "production-api-user", &vars)
        .env("EINVREG_PORTAL_PASSWORD", &login.password)
        .run();
    assert!(
        d.stdout.contains("API user    API_navkarapi"),
        "{}",
        d.stdout
    );
    let kinds: Vec<(Kind, Status)> = vault_in(dir.path())
        .iter()
        .map(|c| (c.kind, c.status))
        .collect();
    assert_eq!(
        kinds,
        [
            (Kind::PortalLogin, Status::Created),
            (Kind::ApiUser, Status::Created)
        ]
    );
    let list = Test::new().cwd(dir.path()).args(["vault", "list"]).run();
    assert!(list.stdout.contains("portal_login") && list.stdout.contains("api_user"));

    let d = register_login(dir.path(), &r.production, "navkar28")
        .status(3) // already registered
        .run();
    assert!(d.stdout.contains("already registered"), "{}", d.stdout);
    assert_eq!(vault_in(dir.path()).len(), 2, "nothing written for it");
}

/// The flow finds its way on every layout: by the public ids, or by what
/// a person reads where every private id is renamed.
#[test]
fn the_portal_login_registers_on_every_layout() {
    for layout in ["legacy", "renamed", "widgets"] {
        let dir = tempfile::tempdir().unwrap();
        let r = ReplicaProc::start(&["--layout", layout]);
        let d = register_login(dir.path(), &r.production, "navkar27").run();
        assert!(
            d.stdout.contains("registered: created"),
            "{layout}: {}",
            d.stdout
        );
        let v = vault_in(dir.path());
        assert_eq!(
            (v[0].kind, v[0].status),
            (Kind::PortalLogin, Status::Created),
            "{layout}"
        );
    }
}

fn chain(dir: &std::path::Path, portal: &str, gstin: &str, login: &str, api: &str) -> Test {
    let vars = [
        ("gstin", gstin),
        ("portal_username", login),
        ("provider", "Tera Software Limited"),
        ("api_username", api),
    ];
    run_on(
        dir,
        portal,
        "portal-login-register,production-api-user",
        &vars,
    )
}

/// `run A,B`: the login A registers (its password made by einvreg, never
/// printed) is what B logs in with; one report per flow.
#[test]
fn a_chain_takes_a_bare_gstin_to_its_api_user() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let d = chain(
        dir.path(),
        &r.production,
        "29AAGFK8812R1ZH",
        "kaveri29",
        "kaveriapi",
    )
    .arg("--json")
    .run();
    let reports: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    let got: Vec<(&str, &str)> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["api_username"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("registered", "kaveri29"), ("registered", "API_kaveriapi")]
    );
    let vault = vault_in(dir.path());
    let kinds: Vec<_> = vault.iter().map(|c| (c.kind, c.status)).collect();
    assert_eq!(
        kinds,
        [
            (Kind::PortalLogin, Status::Created),
            (Kind::ApiUser, Status::Created)
        ]
    );
    for text in [&d.stdout, &d.stderr] {
        assert!(
            !text.contains(&vault[0].password),
            "the login's password leaked"
        );
    }
}

/// A GSTIN that has a login: the first flow ends "already registered" and
/// the second logs in with the login given; with none given, the chain
/// stops saying which secret to give, and nothing is written.
#[test]
fn a_chain_on_a_gstin_with_a_login_uses_the_given_one_or_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let d = chain(
        dir.path(),
        &r.production,
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "udaychain",
    )
    .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
    .run();
    assert!(d.stdout.contains("already registered"), "{}", d.stdout);
    assert!(
        d.stdout.contains("API user    API_udaychain"),
        "{}",
        d.stdout
    );
    assert_eq!(vault_in(dir.path()).len(), 1);

    let d = chain(
        dir.path(),
        &r.production,
        "29AAFCC9980MZZT",
        "gstzendemo",
        "zenchain",
    )
    .status(1)
    .run();
    assert!(
        d.stderr.contains("stopped before production-api-user")
            && d.stderr.contains("`portal_password`"),
        "{}",
        d.stderr
    );
    assert_eq!(vault_in(dir.path()).len(), 1, "nothing written for it");
}

/// The GSTIN not enabled for e-invoicing: `einvoice-enablement` enables
/// it (nothing for the vault), then its API user is created; enabling it
/// again is "already registered".
#[test]
fn a_gstin_not_enabled_is_enabled_then_gets_its_api_user() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let vars = [
        ("gstin", "24AAACJ3770E2ZV"),
        ("portal_username", "jyoticer24"),
        ("provider", "Tera Software Limited"),
        ("api_username", "jyotiapi"),
    ];
    let flows = "einvoice-enablement,production-api-user";
    let d = run_on(dir.path(), &r.production, flows, &vars)
        .env("EINVREG_PORTAL_PASSWORD", "Jyo@Login2024c")
        .run();
    assert!(d.stdout.contains("registered: enabled"), "{}", d.stdout);
    assert!(
        d.stdout.contains("API user    API_jyotiapi"),
        "{}",
        d.stdout
    );
    let kinds: Vec<_> = vault_in(dir.path())
        .iter()
        .map(|c| (c.kind, c.status))
        .collect();
    assert_eq!(kinds, [(Kind::ApiUser, Status::Created)]);
    let counters = get_json(&format!("{}/__replica/counters", r.production));
    assert_eq!(counters["einvoice_enabled"], 1, "{counters}");
    let again = run_on(dir.path(), &r.production, "einvoice-enablement", &vars[..1])
        .status(3) // already registered
        .run();
    assert!(again.stdout.contains("already enabled"), "{}", again.stdout);
}

/// `portal-forgot-password`: the new password einvreg makes is in the
/// vault (a portal login, before the Save), not the old one from the
/// secrets file, and it is what the API user is then made with.
#[test]
fn a_forgotten_password_is_reset_and_the_vault_holds_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    write_secrets(
        dir.path(),
        "[portal_password]\nudaytrd01 = \"Uday@Login2024\"\n",
    );
    let vars = [
        ("gstin", "27AAPFU0939F1ZV"),
        ("portal_username", "udaytrd01"),
        ("mobile", "9876543210"),
        ("provider", "Tera Software Limited"),
        ("api_username", "udayreset"),
    ];
    let flows = "portal-forgot-password,production-api-user";
    let d = run_on(dir.path(), &r.production, flows, &vars)
        .args(["--secrets", "secrets.toml"])
        .run();
    assert!(
        d.stdout.contains("API user    API_udayreset"),
        "{}",
        d.stdout
    );
    let vault = vault_in(dir.path());
    let reset = &vault[0];
    assert_eq!(
        (reset.kind, reset.status),
        (Kind::PortalLogin, Status::Created)
    );
    assert_ne!(
        reset.password, "Uday@Login2024",
        "the old password was kept"
    );
    assert_eq!(vault[1].kind, Kind::ApiUser);
    let counters = get_json(&format!("{}/__replica/counters", r.production));
    assert_eq!(counters["password_reset"], 1, "{counters}");
}

/// Forgot Username: the portal sends the username by SMS to the mobile
/// registered with GST (einvreg never sees it, and the vault gets
/// nothing), on the default layout and where every private id is renamed.
#[test]
fn a_forgotten_username_is_sent_to_the_registered_mobile() {
    for layout in ["evidence", "renamed"] {
        let dir = tempfile::tempdir().unwrap();
        let r = ReplicaProc::start(&["--layout", layout]);
        let vars = [("gstin", "27AAPFU0939F1ZV"), ("mobile", "9876543210")];
        let d = run_on(dir.path(), &r.production, "portal-forgot-username", &vars).run();
        assert!(
            d.stdout
                .contains("registered: the portal sent the username by SMS"),
            "{layout}: {}",
            d.stdout
        );
        let sms = get_json(&format!("{}/__replica/sms", r.production));
        let sent = sms.as_array().unwrap().iter().any(|m| {
            m["mobile"] == "9876543210" && m["text"].as_str().unwrap().contains("is udaytrd01")
        });
        assert!(sent, "{layout}: {sms}");
        assert!(vault_in(dir.path()).is_empty(), "{layout}");
    }
}

/// Smoke walks the new flows' public screens, up to their first captcha.
#[test]
fn smoke_passes_on_the_registration_and_recovery_flows() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "smoke",
            "portal-login-register",
            "einvoice-enablement",
            "portal-forgot-password",
            "portal-forgot-username",
            "--portal",
            &r.production,
        ])
        .run();
    assert!(d.stdout.contains("0 drift, 0 unreachable"), "{}", d.stdout);
    assert!(!d.stdout.contains(" 0 checks"), "{}", d.stdout);
}
