//! The bundled flows against the portals as public evidence shows them
//! (the replica's default layout), as we first guessed them (`legacy`),
//! and with every non-public id renamed (`renamed`): every route, the
//! alerts, the second factor's modes, renewals, interruptions, the `API_`
//! prefix in the box, and a GSTIN not enabled for e-invoicing.

use crate::support::*;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const PROD_CSV: &str = "gstin,portal_username,through,provider,other_gstin,api_username,client_id
27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,,udaytera,
29AAFCC9980MZZT,gstzendemo,erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),,zenerp,
05AAACH6188F1ZM,himagro05,direct,,,himdirect,HIM-OWN-CLIENT
29AAACJ4323N1ZC,jayantka,other_gstin,,27AAACJ4323N1ZG,jayantcid,
";

const SANDBOX_CSV: &str = "gstin,trade_name,mobile,email,through,provider,client_id,api_username
33GSPTN9771G3ZP,TAMIL GSP SERVICES,8056012345,gsp@tamilgsp.example,gsp,DEFMACRO SOFTWARE PRIVATE LIMITED,AACCT29GSPB5H8G,tngspsbx
29AAFCC9980MZZT,GSTZEN DEMO PRIVATE LIMITED,9845012345,gst@gstzen-demo.example,erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),AAFCC29ERP82ZSO,zensbx
";

pub(crate) const SECRETS: &str = "[portal_password]
udaytrd01 = \"Uday@Login2024\"
gstzendemo = \"Zen@Login2024x\"
himagro05 = \"Him@Login2024a\"
jayantka = \"Jay@Login2024k\"
[client_secret]
05AAACH6188F1ZM = \"Himagro-Own-Secret-1\"
";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn secrets(dir: &Path) {
    write_secrets(dir, SECRETS);
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every step of every row's trace under `runs`.
fn trace_steps(runs: &Path) -> Vec<serde_json::Value> {
    let mut out = vec![];
    // Each batch's folder (`<time>-batch-<pid>`), then each row's.
    let batches = std::fs::read_dir(runs).into_iter().flatten().flatten();
    let rows = batches.flat_map(|b| std::fs::read_dir(b.path()).into_iter().flatten().flatten());
    for row in rows {
        let Ok(text) = std::fs::read_to_string(row.path().join("trace.json")) else {
            continue;
        };
        let t: serde_json::Value = serde_json::from_str(&text).unwrap();
        out.extend(t["steps"].as_array().cloned().unwrap_or_default());
    }
    out
}

fn batch(dir: &Path, flow: &str, csv: &str, url: &str) -> Done {
    Test::new()
        .cwd(dir)
        .args(["batch", flow, csv, "--portal", url, "--auto-answer"])
        .args(["--parallel", "2", "--secrets", "secrets.toml"])
        .args(["--report", &format!("{csv}.report.json")])
        .args(["--vault", &format!("{csv}.vault.jsonl")])
        .args(["--journal", &format!("{csv}.journal.jsonl")])
        .args(["--artifacts", &format!("{csv}.runs")])
        .timeout(Duration::from_secs(300))
        .any_status()
        .run()
}

/// Both bundled flows register every route on one layout, and the vault
/// holds each API user exactly as the portal created it.
fn every_route_registers_on(layout: &str) {
    let r = ReplicaProc::start(&["--layout", layout]);
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path());
    write(dir.path(), "prod.csv", PROD_CSV);
    write(dir.path(), "sbx.csv", SANDBOX_CSV);
    let prod = batch(dir.path(), "production-api-user", "prod.csv", &r.production);
    assert!(
        prod.stdout.contains("4 rows: 4 registered"),
        "{layout}:\n{}\n{}",
        prod.stdout,
        prod.stderr
    );
    let sbx = batch(dir.path(), "sandbox-register", "sbx.csv", &r.sandbox);
    assert!(
        sbx.stdout.contains("2 rows: 2 registered"),
        "{layout}:\n{}\n{}",
        sbx.stdout,
        sbx.stderr
    );

    // The username the vault recorded before the submit is the portal's user.
    let users: serde_json::Value = get_json(&format!("{}/__replica/users", r.production));
    let created: HashMap<String, String> = users["api_users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["gstin"].as_str().unwrap().to_string(),
                u["username"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(created.len(), 4, "{layout}: {users}");
    let pending: Vec<_> = json_lines(&dir.path().join("prod.csv.vault.jsonl"))
        .into_iter()
        .filter(|v| v["status"] == "pending")
        .collect();
    assert_eq!(pending.len(), 4, "{layout}");
    for v in pending {
        let g = v["gstin"].as_str().unwrap();
        assert_eq!(
            v["username"].as_str(),
            created.get(g).map(String::as_str),
            "{layout}: the vault's username for {g} is the portal's"
        );
    }
    let steps = trace_steps(&dir.path().join("prod.csv.runs"));
    let by_label = steps.iter().any(|s| {
        s["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("label:"))
    });
    // Renamed ids are found by what a person sees; the others by their ids.
    assert_eq!(
        by_label,
        layout == "renamed",
        "{layout}: label targets used: {by_label}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s["step"] == "Log out" && s["result"] == "ok"),
        "{layout}: every run logs out"
    );
}

#[test]
fn every_route_registers_on_the_evidence_layout() {
    every_route_registers_on("evidence");
}

#[test]
fn every_route_registers_on_the_legacy_layout() {
    every_route_registers_on("legacy");
}

#[test]
fn every_route_registers_with_every_private_id_renamed() {
    every_route_registers_on("renamed");
}

/// Provider dropdowns as widgets, Create API User in a new window.
#[test]
fn every_route_registers_through_widgets_and_a_new_window() {
    every_route_registers_on("widgets");
}

/// The second factor two frames down: the walk finds and fills the OTP
/// there, and is back at the top for the dashboard.
#[test]
fn a_second_factor_two_frames_down_is_found_and_filled() {
    let r = ReplicaProc::start(&["--layout", "widgets,+frame-in-frame"]);
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args(demo_run(&r.production))
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .run();
    assert!(
        d.stdout.contains("API user    API_udaytera"),
        "{}",
        d.stdout
    );
}

#[test]
fn smoke_passes_on_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    for layout in [
        "evidence",
        "legacy",
        "renamed",
        "widgets",
        "evidence,-options-in-place,+gsp-list-page",
    ] {
        let d = Test::new()
            .cwd(dir.path())
            .args(["smoke", "production-api-user", "sandbox-register"])
            .args(["--portal", "replica", "--replica-layout", layout])
            .run();
        assert!(
            d.stdout.contains("0 drift, 0 unreachable"),
            "{layout}: {}",
            d.stdout
        );
    }
}

fn prod_run(dir: &Path, url: &str, gstin: &str, login: &str, pw: &str) -> Test {
    Test::new()
        .cwd(dir)
        .args(["run", "production-api-user", "--portal", url])
        .args(["--var", &format!("gstin={gstin}")])
        .args(["--var", &format!("portal_username={login}")])
        .env("EINVREG_PORTAL_PASSWORD", pw)
}

/// A refused login is a status of its own, `login_refused` (exit code 6,
/// as a portal error), naming what to check; nothing is submitted.
#[test]
fn a_wrong_login_is_refused_as_its_own_status_naming_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = prod_run(
        dir.path(),
        "replica",
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Not@ThePass1",
    )
    .args([
        "--auto-answer",
        "--var",
        "provider=Tera Software Limited",
        "--var",
        "api_username=udaybad",
    ])
    .status(6)
    .run();
    assert!(
        d.stdout.contains("the portal refused the username or password: check the portal login and its password: portal said \"Invalid Login Credentials"),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout.contains("stopped: the portal refused the login"),
        "{}",
        d.stdout
    );
    let vault = std::fs::read_to_string(vault_file(dir.path())).unwrap_or_default();
    assert!(vault.is_empty(), "nothing was submitted: {vault}");
    let d = prod_run(
        dir.path(),
        "replica",
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Not@ThePass1",
    )
    .args(["--auto-answer", "--json"])
    .args(["--var", "provider=Tera Software Limited"])
    .args(["--var", "api_username=udaybad"])
    .status(6)
    .run();
    let report: serde_json::Value = serde_json::from_str(d.stdout.trim()).unwrap();
    assert_eq!(report["status"], "login_refused", "{report}");
}

#[test]
fn a_gstin_not_enabled_for_e_invoicing_names_the_enablement_menu() {
    let dir = tempfile::tempdir().unwrap();
    let d = prod_run(
        dir.path(),
        "replica",
        "24AAACJ3770E2ZV",
        "jyoticer24",
        "Jyo@Login2024c",
    )
    .args([
        "--auto-answer",
        "--var",
        "provider=Tera Software Limited",
        "--var",
        "api_username=jyoti",
    ])
    .status(6)
    .run();
    assert!(
        d.stdout.contains("not enabled for e-invoicing")
            && d.stdout.contains("Registration → e-Invoice Enablement"),
        "{}",
        d.stdout
    );
}

/// Answer commands over the replica's aids: the captcha it drew last, the
/// Shield code of the login, the last SMS to the mobile; each prompt is
/// logged so the test can read what the operator was told.
fn answer_commands(r: &ReplicaProc, log: &Path, login: &str, mobile: &str) -> Vec<String> {
    let otp = format!(
        "python3 -c \"import json,os,urllib.request as u
open('{log}','a').write(os.environ['EINVREG_PROMPT']+'\\n')
open('{log}.env','a').write(json.dumps(dict(os.environ))+'\\n')
if os.environ.get('EINVREG_CODE_PERIOD'):
    print(json.load(u.urlopen('{base}/__replica/shield?login={login}'))['code'])
else:
    print(json.load(u.urlopen('{base}/__replica/sms?mobile='+(os.environ['EINVREG_MOBILE'] or '{mobile}')))[-1]['otp'])\"",
        log = log.display(),
        base = r.production,
    );
    let captcha = format!(
        "python3 -c \"import json,urllib.request as u;print(json.load(u.urlopen('{}/__replica/captchas'))[-1])\"",
        r.production
    );
    vec![
        "--otp-command".into(),
        otp,
        "--captcha-command".into(),
        captcha,
    ]
}

#[test]
fn the_shield_prompt_says_how_long_the_code_has_left() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("prompts.txt");
    let cmds = answer_commands(&r, &log, "gstzendemo", "9845012345");
    let d = prod_run(
        dir.path(),
        &r.production,
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
    )
    .args(&cmds)
    .env("EINVREG_API_PASSWORD", "Shield@Api2026x")
    .args(["--var", "second_factor=shield", "--var", "through=erp"])
    .args([
        "--var",
        "provider=Tally (India) Private Ltd",
        "--var",
        "api_username=zenshield",
    ])
    .run();
    assert!(
        d.stdout.contains("registered: created"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let prompts = std::fs::read_to_string(&log).unwrap();
    let shield = prompts
        .lines()
        .find(|l| l.contains("NIC-GST-Shield"))
        .unwrap_or_else(|| panic!("no Shield prompt: {prompts}"));
    let re =
        regex::Regex::new(r"the code changes every 30 s; the one shown now has about (\d+) s left")
            .unwrap();
    let left: u64 = re.captures(shield).unwrap_or_else(|| panic!("{shield}"))[1]
        .parse()
        .unwrap();
    assert!((1..=30).contains(&left), "{shield}");
    // The answer command saw no secret of einvreg's environment.
    let env = std::fs::read_to_string(format!("{}.env", log.display())).unwrap();
    assert!(env.contains("EINVREG_GSTIN"), "{env}");
    for secret in [
        "Zen@Login2024x",
        "Shield@Api2026x",
        "EINVREG_PORTAL_PASSWORD",
        "EINVREG_API_PASSWORD",
    ] {
        assert!(!env.contains(secret), "the answer command saw {secret}");
    }
}

#[test]
fn a_new_captcha_and_a_new_otp_on_request_then_registered() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = prod_run(
        dir.path(),
        &r.production,
        "36AAFCG6605B3ZX",
        "genems36",
        "Gen@Login2024s",
    )
    .args([
        "--auto-answer",
        "--auto-answer-mistakes",
        "refresh=1,resend=1",
    ])
    .args([
        "--var",
        "through=gsp",
        "--var",
        "provider=Masters India Private Limited",
    ])
    .args(["--var", "api_username=genemsnew"])
    .run();
    assert!(
        d.stdout.contains("registered: created"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let run = std::fs::read_dir(dir.path().join("einvreg-runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        run.join("captcha-2.png").exists() && !run.join("captcha-3.png").exists(),
        "one new image"
    );
    let sms: serde_json::Value =
        get_json(&format!("{}/__replica/sms?mobile=9701022478", r.production));
    // The login OTP, the one asked for instead, and the API registration OTP.
    assert_eq!(sms.as_array().unwrap().len(), 3, "{sms}");

    // The sandbox: a new image without a postback, a new OTP by postback.
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "sandbox-register",
            "--portal",
            &r.sandbox,
            "--auto-answer",
        ])
        .args(["--auto-answer-mistakes", "refresh=1,resend=1"])
        .args([
            "--var",
            "gstin=33GSPTN9771G3ZP",
            "--var",
            "trade_name=TAMIL GSP SERVICES",
        ])
        .args([
            "--var",
            "mobile=8056012345",
            "--var",
            "email=gsp@tamilgsp.example",
        ])
        .args(["--var", "provider=DEFMACRO SOFTWARE PRIVATE LIMITED"])
        .args([
            "--var",
            "client_id=AACCT29GSPB5H8G",
            "--var",
            "api_username=tngspnew",
        ])
        .run();
    assert!(
        d.stdout.contains("registered: acknowledged"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let sms: serde_json::Value =
        get_json(&format!("{}/__replica/sms?mobile=8056012345", r.sandbox));
    assert_eq!(
        sms.as_array().unwrap().len(),
        2,
        "sent, then sent again: {sms}"
    );
}

#[test]
fn interruptions_at_random_moments_are_closed_and_the_batch_registers() {
    let r = ReplicaProc::start(&["--faults", "interruptions=1"]);
    let dir = tempfile::tempdir().unwrap();
    secrets(dir.path());
    write(dir.path(), "prod.csv", PROD_CSV);
    let d = batch(dir.path(), "production-api-user", "prod.csv", &r.production);
    let steps = trace_steps(&dir.path().join("prod.csv.runs"));
    let lines: Vec<String> = steps
        .iter()
        .map(|s| {
            format!(
                "{} | {} | {} | {}",
                s["screen"], s["step"], s["result"], s["detail"]
            )
        })
        .collect();
    assert!(
        d.stdout.contains("4 rows: 4 registered"),
        "{}\n{}\n{}",
        d.stdout,
        d.stderr,
        lines.join("\n")
    );
    let counters: serde_json::Value = get_json(&format!("{}/__replica/counters", r.production));
    // Every page after login drew one, the kinds in turn, at random moments.
    for kind in ["tech_person", "announcement", "session_warning"] {
        let shown = counters[format!("interruptions.{kind}")]
            .as_u64()
            .unwrap_or(0);
        assert!(shown >= 4, "{kind} shown {shown} times: {counters}");
    }
    // Some show after their page is gone; the dashboard's own notice is met for sure.
    let met: Vec<&str> = ["tech_person", "announcement", "session_warning"]
        .into_iter()
        .filter(|k| {
            steps
                .iter()
                .any(|s| s["screen"] == *k && s["result"] == "ok")
        })
        .collect();
    assert!(met.contains(&"tech_person"), "met: {met:?}");
}

/// After the submit the credential may exist whatever the portal shows:
/// an answer the flow does not know is "needs verification" (exit 7),
/// never drift or failure, and the vault keeps the credential so.
#[test]
fn an_unknown_answer_to_the_submit_needs_verification() {
    let dir = tempfile::tempdir().unwrap();
    let flow = std::fs::read_to_string(root().join("flows/production-api-user.toml"))
        .unwrap()
        .replace("has been created successfully", "was made");
    write(dir.path(), "changed.toml", &flow);
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "changed.toml",
            "--portal",
            "replica",
            "--auto-answer",
        ])
        .args([
            "--var",
            "gstin=36AAFCG6605B3ZX",
            "--var",
            "portal_username=genems36",
        ])
        .args([
            "--var",
            "provider=Masters India Private Limited",
            "--var",
            "api_username=genemsnv",
        ])
        .env("EINVREG_PORTAL_PASSWORD", "Gen@Login2024s")
        .status(7)
        .run();
    assert!(
        d.stdout
            .contains("after the submit the portal's answer was not recognised")
            && d.stdout
                .contains("Api user API_genemsnv has been created successfully"),
        "{}",
        d.stdout
    );
    let vault = json_lines(&vault_file(dir.path()));
    assert_eq!(
        vault.last().unwrap()["status"],
        "needs_verification",
        "{vault:?}"
    );
}

/// A portal that goes away mid-run (connection refused after the login) is
/// "unreachable" (exit 6), not drift; so is a port Chromium refuses.
#[test]
fn an_unreachable_portal_is_a_portal_error_not_drift() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let captcha = format!(
        "python3 -c \"import json,urllib.request as u;print(json.load(u.urlopen('{}/__replica/captchas'))[-1])\"",
        r.production
    );
    // The OTP's answer comes as the portal dies.
    let otp = format!("kill -9 {}; echo 123456", r.pid());
    let d = prod_run(
        dir.path(),
        &r.production,
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
    )
    .args(["--captcha-command", &captcha, "--otp-command", &otp])
    .args([
        "--var",
        "through=gsp",
        "--var",
        "provider=Tera Software Limited",
    ])
    .args(["--var", "api_username=udaygone"])
    .status(6)
    .run();
    assert!(
        d.stdout.contains("ERR_CONNECTION_REFUSED"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let d = prod_run(
        dir.path(),
        "http://127.0.0.1:6000",
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "x",
    )
    .args([
        "--var",
        "provider=Tera Software Limited",
        "--var",
        "api_username=udaygone",
    ])
    .status(6)
    .run();
    assert!(
        d.stdout.contains("ERR_UNSAFE_PORT"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
}
