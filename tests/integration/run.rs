//! `einvreg run` end to end: a real Chromium (through chromedriver) against
//! the replica, for every route, every error path and every fault.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

struct Case {
    dir: tempfile::TempDir,
    test: Test,
}

fn prod(gstin: &str, login: &str, password: &str, through: &str, extra: &[&str]) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["run", "production-api-user", "--auto-answer", "--var"]
        .into_iter()
        .map(String::from)
        .collect();
    args.push(format!("gstin={gstin}"));
    args.extend([
        "--var".into(),
        format!("portal_username={login}"),
        "--var".into(),
        format!("through={through}"),
    ]);
    // "Directly" asks for the taxpayer's own Client ID and Secret.
    args.extend(["--var".into(), "client_id=OWN-CLIENT-ID-1".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let test = Test::new()
        .cwd(dir.path())
        .args(args)
        .env("EINVREG_PORTAL_PASSWORD", password)
        .env("EINVREG_CLIENT_SECRET", "Own-Client-Secret-1");
    Case { dir, test }
}

fn sandbox(gstin: &str, name: &str, mobile: &str, email: &str, extra: &[&str]) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "run".into(),
        "sandbox-register".into(),
        "--auto-answer".into(),
    ];
    for (k, v) in [
        ("gstin", gstin),
        ("trade_name", name),
        ("mobile", mobile),
        ("email", email),
    ] {
        args.extend(["--var".into(), format!("{k}={v}")]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Case {
        test: Test::new().cwd(dir.path()).args(args),
        dir,
    }
}

fn vault(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("einvreg-vault.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn trace(dir: &Path) -> serde_json::Value {
    let runs = dir.join("einvreg-runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    serde_json::from_str(&std::fs::read_to_string(run.join("trace.json")).unwrap()).unwrap()
}

fn results(t: &serde_json::Value) -> Vec<String> {
    t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["result"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sandbox_taxpayer_through_gsp() {
    sandbox_through_gsp_on("chromium");
}

/// The same registration on Firefox, through its own geckodriver.
#[test]
fn sandbox_taxpayer_through_gsp_on_firefox() {
    sandbox_through_gsp_on("firefox");
}

fn sandbox_through_gsp_on(browser: &str) {
    let c = sandbox(
        "33GSPTN9771G3ZP",
        "TAMIL GSP SERVICES",
        "8056012345",
        "gsp@tamilgsp.example",
        &[
            "--portal",
            "replica",
            "--var",
            "through=gsp",
            "--var",
            "provider=DEFMACRO SOFTWARE PRIVATE LIMITED",
            "--var",
            "client_id=AACCT29GSPB5H8G",
            "--var",
            "api_username=tngspsbx",
            "--browser",
            browser,
        ],
    );
    let d = c.test.run();
    assert!(
        d.stdout.contains("registered: acknowledged") && d.stdout.contains("API user    tngspsbx"),
        "{}",
        d.stdout
    );
    let v = vault(c.dir.path());
    assert_eq!(v[0]["status"], "pending");
    assert_eq!(
        v[0]["username"], "tngspsbx",
        "no API_ prefix on the sandbox"
    );
    assert_eq!(v[1]["status"], "created");
}

#[test]
fn sandbox_taxpayer_through_erp_with_client_id() {
    sandbox_through_erp_on("chromium");
}

#[test]
fn sandbox_taxpayer_through_erp_with_client_id_on_firefox() {
    sandbox_through_erp_on("firefox");
}

fn sandbox_through_erp_on(browser: &str) {
    let c = sandbox(
        "29AAFCC9980MZZT",
        "GSTZEN DEMO",
        "9845012345",
        "gst@gstzen-demo.example",
        &[
            "--portal",
            "replica",
            "--var",
            "through=erp",
            "--var",
            "provider=CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)",
            "--var",
            "client_id=AAFCC29ERP82ZSO",
            "--var",
            "api_username=gstzensbx",
            "--browser",
            browser,
        ],
    );
    let d = c.test.run();
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
    assert!(d.stderr.contains("→ Create Account"), "{}", d.stderr);
}

#[test]
fn production_through_gsp_with_popup_captcha_2fa_and_both_alerts() {
    production_through_gsp_on("chromium");
}

/// Alerts, a modal and a pop-up captcha, on Firefox.
#[test]
fn production_through_gsp_with_popup_captcha_2fa_and_both_alerts_on_firefox() {
    production_through_gsp_on("firefox");
}

fn production_through_gsp_on(browser: &str) {
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &[
            "--portal",
            "replica",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "api_username=udaytera",
            "--browser",
            browser,
        ],
    );
    let d = c.test.run();
    assert!(
        d.stdout.contains("registered: created") && d.stdout.contains("API user    API_udaytera"),
        "{}",
        d.stdout
    );
    // The technical-person notice is a modal over the dashboard: an interrupt.
    assert!(
        d.stderr.contains("⤷ Contacts of Technical Person (closed)"),
        "{}",
        d.stderr
    );
    for screen in [
        "E-INVOICE SYSTEM LOGIN",
        "Two Factor Authentication",
        "Dash Board",
        "API Registration OTP",
        "API Registration form",
    ] {
        assert!(
            d.stderr.contains(&format!("→ {screen}")),
            "missing {screen}: {}",
            d.stderr
        );
    }
    let t = trace(c.dir.path());
    let steps = t["steps"].as_array().unwrap();
    let alert = steps
        .iter()
        .find(|s| s["step"] == "OTP sent notice")
        .unwrap();
    assert_eq!(alert["result"], "ok", "the OTP alert was read and accepted");
    let submit = steps.iter().find(|s| s["step"] == "Submit").unwrap();
    assert_eq!(
        submit["result"], "outcome:created",
        "the success alert ended the walk"
    );
    let last = steps.last().unwrap();
    assert_eq!(
        (last["step"].as_str(), last["result"].as_str()),
        (Some("Log out"), Some("ok")),
        "the run logs out"
    );
    let v = vault(c.dir.path());
    assert_eq!(v[0]["username"], "API_udaytera");
    assert_eq!(v[0]["provider"], "Tera Software Limited");
}

#[test]
fn production_through_erp() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "erp",
        &[
            "--portal",
            "replica",
            "--var",
            "provider=CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)",
            "--var",
            "api_username=gstzenprd",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stdout.contains("API user    API_gstzenprd"),
        "{}",
        d.stdout
    );
    assert!(
        !d.stderr.contains("Contacts of Technical Person"),
        "no popup for this taxpayer"
    );
}

#[test]
fn production_directly() {
    let c = prod(
        "05AAACH6188F1ZM",
        "himagro05",
        "Him@Login2024a",
        "direct",
        &["--portal", "replica", "--var", "api_username=himdirect"],
    );
    let d = c.test.run();
    assert!(
        d.stdout.contains("API user    API_himdirect"),
        "{}",
        d.stdout
    );
}

#[test]
fn production_through_client_id_of_other_gstin() {
    let c = prod(
        "29AAACJ4323N1ZC",
        "jayantka",
        "Jay@Login2024k",
        "other_gstin",
        &[
            "--portal",
            "replica",
            "--var",
            "other_gstin=27AAACJ4323N1ZG",
            "--var",
            "api_username=jayantcid",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stdout.contains("API user    API_jayantcid"),
        "{}",
        d.stdout
    );
}

#[test]
fn wrong_captcha_then_right_and_wrong_otp_then_right() {
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "captcha=1,otp=1",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "api_username=udaytera",
        ],
    );
    let d = c.test.run();
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
    assert!(
        d.stderr
            .contains("↺ wrong captcha: back to \"E-INVOICE SYSTEM LOGIN\" (try 2)"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr
            .contains("↺ wrong login otp: back to \"Two Factor Authentication\" (try 2)"),
        "{}",
        d.stderr
    );
    let r = results(&trace(c.dir.path()));
    assert!(
        r.contains(&"outcome:wrong-captcha".to_string())
            && r.contains(&"outcome:wrong-login-otp".to_string()),
        "{r:?}"
    );
}

#[test]
fn expired_otp_retries_on_production_and_stops_on_sandbox() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "expire_otp=1",
            "--var",
            "api_username=zenexp",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stderr
            .contains("↺ login otp expired: back to \"Home page\""),
        "{}",
        d.stderr
    );
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
    let c = sandbox(
        "29AAFCC9980MZZT",
        "GSTZEN DEMO",
        "9845012345",
        "gst@gstzen-demo.example",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "expire_otp=1",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "client_id=X",
            "--var",
            "api_username=gstzensbx",
        ],
    );
    let d = c.test.status(1).run();
    assert!(d.stdout.contains("failed: otp expired"), "{}", d.stdout);
    assert!(vault(c.dir.path()).is_empty(), "nothing was submitted");
}

#[test]
fn repeat_registration_is_already_registered() {
    let state = tempfile::tempdir().unwrap();
    let st = state.path().join("replica.json");
    let args = [
        "--portal",
        "replica",
        "--replica-state",
        st.to_str().unwrap(),
        "--var",
        "provider=Tera Software Limited",
        "--var",
        "api_username=udaytera",
    ];
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &args,
    );
    c.test.run();
    let mut args2 = args.to_vec();
    args2[7] = "api_username=udaytera2";
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &args2,
    );
    let d = c.test.status(3).run();
    assert!(
        d.stdout.contains(
            "already registered: this GSTIN already has an API user for the chosen GSP/ERP"
        ),
        "{}",
        d.stdout
    );
    assert!(
        vault(c.dir.path()).is_empty(),
        "no second credential was made"
    );
}

#[test]
fn session_expiry_mid_flow_logs_in_again() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "expire_session=1",
            "--var",
            "api_username=zensess",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stderr
            .contains("↺ session expired: back to \"Home page\""),
        "{}",
        d.stderr
    );
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
}

#[test]
fn spurious_already_created_keeps_the_credential_and_exits_7() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "gsp",
        &[
            "--portal",
            "replica",
            "--replica-faults",
            "spurious_already_created",
            "--var",
            "provider=Masters India Private Limited",
            "--var",
            "api_username=zenspur",
        ],
    );
    let d = c.test.status(7).run();
    assert!(
        d.stdout.contains("NEEDS VERIFICATION") && d.stdout.contains("API user    API_zenspur"),
        "{}",
        d.stdout
    );
    let v = vault(c.dir.path());
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["status"], "pending");
    assert!(
        v[0]["password"].as_str().unwrap().len() >= 8,
        "the password is kept"
    );
    assert_eq!(v[1]["status"], "needs_verification");
}

#[test]
fn unattended_without_answer_source_exits_4_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "production-api-user",
            "--portal",
            "replica",
            "--var",
            "gstin=27AAPFU0939F1ZV",
            "--var",
            "portal_username=udaytrd01",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "api_username=udaytera",
        ])
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .timeout(Duration::from_secs(60))
        .status(4)
        .run();
    assert!(
        d.stdout.contains("stopped: a person was needed") && d.stdout.contains("--captcha-command"),
        "{}",
        d.stdout
    );
}

#[test]
fn answer_commands_supply_captcha_and_otp() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    // The "SMS gateway": reads the replica's outbox for the mobile it is
    // given (the flow's optional `mobile`, passed on as EINVREG_MOBILE).
    let otp_cmd = format!("python3 -c \"import json,os,urllib.request;m=os.environ['EINVREG_MOBILE'];assert m, 'EINVREG_MOBILE is empty';print(json.load(urllib.request.urlopen('{}/__replica/sms?mobile='+m))[-1]['otp'])\"", r.production);
    // The "captcha desk": the replica remembers what it showed (the PNG path arrives as $1).
    let cap_cmd = format!("test -s \"$1\" && python3 -c \"import json,urllib.request;print(json.load(urllib.request.urlopen('{}/__replica/captchas'))[-1])\"", r.production);
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "production-api-user",
            "--portal",
            &r.production,
            "--captcha-command",
            &cap_cmd,
            "--otp-command",
            &otp_cmd,
            "--var",
            "gstin=29AAFCC9980MZZT",
            "--var",
            "portal_username=gstzendemo",
            "--var",
            "through=direct",
            "--var",
            "api_username=zencmd",
            "--var",
            "client_id=OWN-CLIENT-ID-1",
            "--var",
            "mobile=9845012345",
        ])
        .env("EINVREG_PORTAL_PASSWORD", "Zen@Login2024x")
        .env("EINVREG_CLIENT_SECRET", "Own-Client-Secret-1")
        .run();
    assert!(
        d.stdout.contains("registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
}

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
    let vault_path = dir.path().join("einvreg-vault.jsonl");
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

/// The terminal operator in a real pseudo-terminal: names the GSTIN, portal
/// and screen, saves the captcha and shows it inline, and times out cleanly.
#[test]
fn terminal_prompt_shows_captcha_and_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} run production-api-user --portal replica --prompt-timeout 2s --var gstin=29AAFCC9980MZZT --var portal_username=gstzendemo --var through=direct --var client_id=OWN-CLIENT-ID-1 --var api_username=zentty",
        bin().display()
    );
    // `script` gives einvreg a terminal; its stdin stays open and silent.
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("EINVREG_PORTAL_PASSWORD", "Zen@Login2024x")
        .env("EINVREG_CLIENT_SECRET", "Own-Client-Secret-1")
        .env("TERM", "xterm-kitty")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs einvreg in a pseudo-terminal");
    let _keep_stdin_open = child.stdin.take();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(4), "{text}");
    assert!(text.contains("── captcha needed ── GSTIN 29AAFCC9980MZZT · production portal · E-INVOICE SYSTEM LOGIN › Login captcha"), "{text}");
    assert!(
        text.contains("image: einvreg-runs/") && text.contains("captcha-1.png"),
        "{text}"
    );
    assert!(
        text.contains("\x1b_Gf=100,a=T"),
        "kitty inline image expected"
    );
    assert!(
        text.contains("no answer to the captcha prompt within 2s"),
        "{text}"
    );
}
