//! `einvreg run` end to end: a real Chromium (through chromedriver) against
//! the replica, for every route (here), the people a run needs (`people`),
//! and every fault and error path (`faults`).

mod faults;
mod people;

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

pub(super) struct Case {
    dir: tempfile::TempDir,
    test: Test,
}

pub(super) fn prod(
    gstin: &str,
    login: &str,
    password: &str,
    through: &str,
    extra: &[&str],
) -> Case {
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

pub(super) fn sandbox(gstin: &str, name: &str, mobile: &str, email: &str, extra: &[&str]) -> Case {
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

pub(super) fn vault(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(vault_file(dir)).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(super) fn trace(dir: &Path) -> serde_json::Value {
    let runs = dir.join("einvreg-runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    serde_json::from_str(&std::fs::read_to_string(run.join("trace.json")).unwrap()).unwrap()
}

pub(super) fn results(t: &serde_json::Value) -> Vec<String> {
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
            "-vv",
            "--log-file",
            "log.txt",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stdout.contains("API user    API_gstzenprd"),
        "{}",
        d.stdout
    );
    // The look that saw a click's page load (or its screen) also
    // recognised the screen that came: no look of the walk's own.
    let log = std::fs::read_to_string(c.dir.path().join("log.txt")).unwrap();
    assert!(
        log.contains(
            "the page is at this address already: not loaded again step=Open the dashboard"
        ),
        "the login landed on the dashboard: {log}"
    );
    for screen in ["two_factor", "dashboard", "route", "credentials"] {
        let line = format!("screen recognised by the page load's look screen={screen}");
        assert!(log.contains(&line), "{screen}: {log}");
    }
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

/// `run --help`'s rehearsal example, run as printed (in a shell, in an
/// empty folder): it registers on the built-in replica.
#[test]
fn the_help_rehearsal_example_runs_as_printed() {
    let help = Test::new().args(["run", "--help"]).run().stdout;
    let start = help
        .find("EINVREG_PORTAL_PASSWORD=")
        .expect("the help has a rehearsal example");
    let end = start + help[start..].find("# rehearse").expect("marked");
    let example = help[start..end].replace(" einvreg ", &format!(" {} ", bin().display()));
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("sh")
        .args(["-c", &example])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("registered: created"),
        "{example}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
