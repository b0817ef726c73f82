//! Faults, drift, fallbacks, bad input and a missing driver; secrets that
//! must not leak; a run through Selenium Grid.

use super::*;

#[test]
fn every_fault_gives_its_documented_outcome() {
    // (fault, expected exit, text in stdout)
    let cases: &[(&str, i32, &str)] = &[
        (
            "http500=login_submit@1",
            6,
            "stopped: portal error: the portal returned a server error",
        ),
        ("http500=create_user@1", 6, "stopped: portal error"),
        ("latency=20-120ms", 0, "registered"),
        ("slow_alert=2500ms", 0, "registered"),
        ("spurious_already_created", 7, "NEEDS VERIFICATION"),
    ];
    for (fault, code, text) in cases {
        let c = prod(
            "29AAFCC9980MZZT",
            "gstzendemo",
            "Zen@Login2024x",
            "direct",
            &[
                "--portal",
                "replica",
                "--replica-faults",
                fault,
                "--var",
                "api_username=zenfault",
            ],
        );
        let d = c.test.status(*code).run();
        assert!(d.stdout.contains(text), "{fault}: {}", d.stdout);
        assert!(!d.stderr.contains("panicked"), "{fault}: {}", d.stderr);
    }
}

#[test]
fn idle_session_expiry_fault_recovers() {
    // A slow person (1.5s per answer) against a 1s idle limit: the session
    // dies while waiting for the first OTP; the flow logs in again.
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--replica-faults",
            "idle_expiry=1s",
            "--auto-answer-mistakes",
            "delay=1500",
            "--var",
            "api_username=zenidle",
        ],
    );
    let d = c.test.any_status().run();
    assert!(d.stderr.contains("↺ session expired"), "{}", d.stderr);
    assert!(
        matches!(d.out.status.code(), Some(1)),
        "a person always slower than the idle limit exhausts the retry (exit 1, as README says): {}",
        d.stdout
    );
    assert!(
        d.stdout
            .contains("session expired (gave up after 1 retries)"),
        "{}",
        d.stdout
    );
}

#[test]
fn fallback_selector_works_and_is_reported() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--replica-drift",
            "renamed-id",
            "--var",
            "api_username=zenfall",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stderr.contains(
            "`#txtUserName` no longer matches; fallback `input[name='UserLogin.UserName']` did"
        ),
        "{}",
        d.stderr
    );
    let t = trace(c.dir.path());
    let step = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "Username")
        .unwrap()
        .clone();
    assert_eq!(step["fallback"], true);
}

#[test]
fn drift_stops_with_screen_step_selectors_and_artifacts() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--replica-drift",
            "relabelled-button",
            "--var",
            "api_username=zendrift",
        ],
    );
    let d = c.test.status(5).run();
    assert!(
        d.stdout
            .contains("stopped: the portal does not match the flow: expected screen \"Home page\""),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout
            .contains("element `button#btnLogin` or `text:Login`"),
        "{}",
        d.stdout
    );
    let run = std::fs::read_dir(c.dir.path().join("einvreg-runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for f in ["screenshot.png", "page.html", "trace.json"] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    // A GSP gone from the dropdown is drift at the dropdown, naming it.
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "gsp",
        &[
            "--portal",
            "replica",
            "--replica-drift",
            "missing-gsp",
            "--var",
            "provider=Vay Network Services Private Limited",
            "--var",
            "api_username=zenvay",
        ],
    );
    let d = c.test.status(5).run();
    assert!(d.stdout.contains("step \"Select your GSP\": the dropdown has no option \"Vay Network Services Private Limited\""), "{}", d.stdout);
    // A dropdown without the option is drift too, with a did-you-mean.
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "erp",
        &[
            "--portal",
            "replica",
            "--var",
            "provider=Tally India Private Ltd",
            "--var",
            "api_username=zentally",
        ],
    );
    let d = c.test.status(5).run();
    assert!(d.stdout.contains("step \"Select your ERP\": the dropdown has no option \"Tally India Private Ltd\" (12 options; did you mean \"Tally (India) Private Ltd\"?)"), "{}", d.stdout);
}

#[test]
fn bad_input_is_refused_before_any_browser() {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "production-api-user",
            "--portal",
            "replica",
            "--var",
            "gstin=22AAAAA0000A1Z5",
            "--var",
            "portal_username=x",
            "--var",
            "through=gps",
            "--var",
            "api_username=API_bad",
        ])
        .status(2)
        .run();
    assert!(d.stderr.contains("--var gstin: `gstin` \"22AAAAA0000A1Z5\" is not a valid GSTIN: check character is '5'; it should be 'C'"), "{}", d.stderr);
    assert!(
        d.stderr.contains(
            "--var through: `through` \"gps\" is not one of gsp, erp, direct, other_gstin"
        ),
        "{}",
        d.stderr
    );
    assert!(d.stderr.contains("did you mean `gsp`?"), "{}", d.stderr);
    assert!(d.stderr.contains("--var api_username"), "{}", d.stderr);
    assert!(d.stderr.contains("nothing was started"));
    assert!(!dir.path().join("einvreg-runs").exists(), "no run started");
    std::fs::write(
        dir.path().join("vars.toml"),
        "gstin = \"27AAPFU0939F1ZV\"\nportal_username = \"udaytrd01\"\nmobile = \"12345\"\n",
    )
    .unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args(["run", "sandbox-register", "--vars", "vars.toml"])
        .status(2)
        .run();
    assert!(
        d.stderr
            .contains("vars.toml:3:1: `mobile` \"12345\" is not a mobile number"),
        "{}",
        d.stderr
    );
    let d = Test::new()
        .cwd(dir.path())
        .args(["run", "production-api-user", "--var", "portal_password=x"])
        .status(2)
        .run();
    assert!(
        d.stderr.contains("is a secret; command lines are visible"),
        "{}",
        d.stderr
    );
}

#[test]
fn missing_chromedriver_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "production-api-user",
            "--portal",
            "replica",
            "--auto-answer",
            "--chromedriver",
            "/nonexistent/chromedriver",
            "--var",
            "gstin=27AAPFU0939F1ZV",
            "--var",
            "portal_username=udaytrd01",
            "--var",
            "through=erp",
            "--var",
            "provider=Tally (India) Private Ltd",
            "--var",
            "api_username=udaytera",
        ])
        .env("EINVREG_PORTAL_PASSWORD", "x")
        .status(1)
        .run();
    assert!(
        d.stderr.contains("/nonexistent/chromedriver: no such file"),
        "{}",
        d.stderr
    );
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "production-api-user",
            "--portal",
            "replica",
            "--auto-answer",
            "--var",
            "gstin=27AAPFU0939F1ZV",
            "--var",
            "portal_username=udaytrd01",
            "--var",
            "through=erp",
            "--var",
            "provider=Tally (India) Private Ltd",
            "--var",
            "api_username=udaytera",
        ])
        .env("EINVREG_PORTAL_PASSWORD", "x")
        .env("PATH", "/nonexistent")
        .status(1)
        .run();
    assert!(d.stderr.contains("chromedriver is not on PATH. Install it with: apt-get install chromium chromium-driver"), "{}", d.stderr);
}

/// Known secrets at the most verbose level: none reaches stdout, stderr,
/// the log file, artifacts or the trace; only the vault holds them (0600).
#[test]
fn secrets_never_leak() {
    let r = ReplicaProc::start(&["--faults", "spurious_already_created"]);
    let dir = tempfile::tempdir().unwrap();
    let api_pw = "Kx9@Secret#77q";
    let portal_pw = "Zen@Login2024x";
    write_secrets(dir.path(), &format!("api_password = \"{api_pw}\"\n"));
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "-vvv",
            "--log-file",
            "einvreg.log",
            "run",
            "production-api-user",
            "--portal",
            &r.production,
            "--auto-answer",
            "--auto-answer-mistakes",
            "captcha=1,otp=1",
            "--secrets",
            "secrets.toml",
        ])
        .args([
            "--var",
            "gstin=29AAFCC9980MZZT",
            "--var",
            "portal_username=gstzendemo",
            "--var",
            "through=gsp",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "api_username=zensecret",
        ])
        .env("EINVREG_PORTAL_PASSWORD", portal_pw)
        .env("EINVREG_LOG", "trace")
        .status(7)
        .run();
    let otps: Vec<String> = serde_json::from_str::<serde_json::Value>(&http_get(&format!(
        "{}/__replica/sms",
        r.production
    )))
    .unwrap()
    .as_array()
    .unwrap()
    .iter()
    .map(|m| m["otp"].as_str().unwrap().to_string())
    .collect();
    let captchas: Vec<String> =
        serde_json::from_str(&http_get(&format!("{}/__replica/captchas", r.production))).unwrap();
    assert!(
        otps.len() >= 2 && captchas.len() >= 2,
        "the run used OTPs and captchas"
    );
    let mut secrets: Vec<String> = vec![api_pw.into(), portal_pw.into()];
    secrets.extend(otps);
    secrets.extend(captchas);
    let mut places: Vec<(String, String)> = vec![
        ("stdout".into(), d.stdout.clone()),
        ("stderr".into(), d.stderr.clone()),
    ];
    let log = std::fs::read_to_string(dir.path().join("einvreg.log")).unwrap();
    assert!(log.len() > 1000, "the trace-level log was written");
    places.push(("log".into(), log));
    for e in walk(&dir.path().join("einvreg-runs")) {
        if e.extension().is_some_and(|x| x == "png") {
            continue; // images: the captcha picture itself is what the person reads
        }
        places.push((
            e.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&e).unwrap()).into_owned(),
        ));
    }
    assert!(
        places.iter().any(|(p, _)| p.ends_with("trace.json"))
            && places.iter().any(|(p, _)| p.ends_with("page.html"))
    );
    for (place, text) in &places {
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "secret {s:?} leaked into {place}"
            );
        }
    }
    let vault_path = vault_file(dir.path());
    assert_eq!(
        std::fs::metadata(&vault_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(&vault_path)
            .unwrap()
            .contains(api_pw),
        "the vault is where the password lives"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Any W3C endpoint: the same registration through Selenium Grid 4.
#[test]
fn registers_through_selenium_grid() {
    let grid = GridProc::start();
    let c = prod(
        "05AAACH6188F1ZM",
        "himagro05",
        "Him@Login2024a",
        "gsp",
        &[
            "--portal",
            "replica",
            "--webdriver",
            &grid.url,
            "--var",
            "provider=Tally (India) Private Ltd",
            "--var",
            "api_username=himgrid",
        ],
    );
    let d = c.test.run();
    assert!(d.stdout.contains("API user    API_himgrid"), "{}", d.stdout);
}

/// A sandbox registration's variables (a GSP route).
const SANDBOX_VARS: [&str; 7] = [
    "gstin=33GSPTN9771G3ZP",
    "trade_name=TAMIL GSP SERVICES",
    "mobile=8056012345",
    "email=gsp@tamilgsp.example",
    "provider=DEFMACRO SOFTWARE PRIVATE LIMITED",
    "client_id=AACCT29GSPB5H8G",
    "api_username=tngspsbx",
];

/// A step whose button is gone, on a page that has stopped changing: drift
/// once the page has been still for `[flow] settled` (3 s), not after the
/// step's 20 s.
#[test]
fn a_missing_button_on_a_settled_page_is_drift_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bundled = Test::new()
        .args(["flows", "show", "sandbox-register"])
        .run()
        .stdout;
    let gone = r##"click = ["#ctl00_ContentPlaceHolder1_lnkRegister", "text:Register here"]"##;
    assert!(bundled.contains(gone));
    let mine = bundled.replace(gone, r##"click = "#no-such-button""##);
    std::fs::write(dir.path().join("mine.toml"), mine).unwrap();
    let mut args = vec!["run", "./mine.toml", "--portal", "replica", "--auto-answer"];
    for v in SANDBOX_VARS {
        args.extend(["--var", v]);
    }
    let d = Test::new().cwd(dir.path()).args(args).status(5).run();
    assert!(
        d.stdout
            .contains("step \"Register here\": no usable element on a page still for 3s; tried"),
        "{}",
        d.stdout
    );
    let t = super::trace(dir.path());
    let step = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "Register here")
        .expect("the step is traced")
        .clone();
    assert_eq!(step["result"], "failed", "{step}");
    // The step's own timeout is 20 s: waiting it out would take that long.
    let ms = step["ms"].as_u64().unwrap();
    assert!(ms < 10_000, "drift after {ms} ms");
}

/// A screen that does not show on a page that has stopped changing: drift
/// once the page has been still for `[flow] settled`, not after the
/// screen's whole timeout (the message says which rule ended the wait).
#[test]
fn an_unrecognised_screen_on_a_settled_page_is_drift_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bundled = Test::new()
        .args(["flows", "show", "sandbox-register"])
        .run()
        .stdout;
    let known = r#"texts = ["Registration Form"] }"#;
    assert!(bundled.contains(known));
    let mine = bundled.replace(known, r#"texts = ["Registration Page"] }"#);
    std::fs::write(dir.path().join("mine.toml"), mine).unwrap();
    let mut args = vec!["run", "./mine.toml", "--portal", "replica", "--auto-answer"];
    for v in SANDBOX_VARS {
        args.extend(["--var", v]);
    }
    let d = Test::new().cwd(dir.path()).args(args).status(5).run();
    assert!(
        d.stdout.contains(
            "expected screen \"Registration Form\" (URL containing \"Registration.aspx\", element "
        ) && d
            .stdout
            .contains("text \"Registration Page\") on a page still for 3s, but the page at"),
        "{}",
        d.stdout
    );
}
