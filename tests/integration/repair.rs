//! `--repair`: drift asked about during the run (a repair command, the
//! terminal), the answer checked on the page, the walk going on in the
//! same session, and the repaired flow written back, checked, and enough
//! on its own the next time.

use crate::support::*;
use std::path::Path;

/// A chooser as scripts and CI write one: logs what it was asked (kind,
/// screen, step, GSTIN and the candidates' JSON) and answers `1`, or
/// `accept` for a dialog.
fn chooser(dir: &Path) -> String {
    answering_script(
        dir,
        "chooser.sh",
        r#"if [ "$EINVREG_REPAIR_KIND" = dialog ]; then echo "${CHOOSER_DIALOG:-accept}"; else echo 1; fi"#,
    )
}

/// A repair command in `dir` that logs each question to `asked.log`
/// (kind|screen|step|GSTIN|file) and answers with the shell line `answer`.
fn answering_script(dir: &Path, name: &str, answer: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            r#"#!/bin/sh
printf '%s|%s|%s|%s|%s\n' "$EINVREG_REPAIR_KIND" "$EINVREG_REPAIR_SCREEN" "$EINVREG_REPAIR_STEP" "$EINVREG_GSTIN" "$1" >> "$(dirname "$0")/asked.log"
{answer}
"#
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// `d`'s summary starts `how`.
fn ended(d: &Done, how: &str) {
    assert!(
        d.stdout.starts_with(how),
        "not {how:?}:\n{}\n{}",
        d.stdout,
        d.stderr
    );
}

/// What the chooser was asked, one line each: kind|screen|step|GSTIN|file.
fn asked(dir: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join("asked.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('|').map(String::from).collect())
        .collect()
}

const RELABELLED: &[&str] = &[
    "--layout",
    "relabelled",
    "--faults",
    "confirm_create,session_confirm",
];

/// On a portal whose post-login buttons read otherwise and whose ids are
/// all renamed, with a confirm before the create and a session-expiry
/// confirm, a chooser that always answers `1` gets both bundled flows
/// through (production by GSP and by ERP); each run writes the repaired
/// flow, prints its diff, and that flow registers on a fresh replica with
/// no repair and passes `check`.
#[test]
fn a_relabelled_portal_is_repaired_during_the_run_and_the_repaired_flow_stands_alone() {
    let dir = tempfile::tempdir().unwrap();
    let choose = chooser(dir.path());
    let r = ReplicaProc::start(RELABELLED);
    for (args, password, out) in [
        (demo_run(&r.production), "Uday@Login2024", "gsp.toml"),
        (erp_run(&r.production), "Zen@Login2024x", "erp.toml"),
    ] {
        let d = Test::new()
            .cwd(dir.path())
            .args(args)
            .args(["--repair-command", &choose, "--repair-out", out])
            .env("EINVREG_PORTAL_PASSWORD", password)
            .run();
        ended(&d, "registered: created");
        assert!(
            d.stderr.contains("✎ Dash Board › API Registration menu:"),
            "{}",
            d.stderr
        );
        // The diff: the new target first, the old ones kept, a dated comment.
        assert!(d.stdout.contains(&format!("+++ {out}")), "{}", d.stdout);
        assert!(
            d.stdout.contains("+  # repaired ")
                && d.stdout
                    .contains("\"#menuApiRegistration\", \"text:API Registration\"]"),
            "{}",
            d.stdout
        );
        Test::new().cwd(dir.path()).args(["check", out]).run();
    }
    // Three drifts a run: the two menus and the submit; each asked once.
    let a = asked(dir.path());
    let steps: Vec<&str> = a.iter().map(|l| l[2].as_str()).collect();
    assert_eq!(
        steps,
        ["API Registration menu", "User Credentials menu", "Submit"].repeat(2),
        "{a:?}"
    );
    let first = &a[0];
    assert_eq!(
        (first[0].as_str(), first[1].as_str(), first[3].as_str()),
        ("target", "Dash Board", "27AAPFU0939F1ZV")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(&first[4])).unwrap())
            .unwrap();
    let c = &json[0];
    assert_eq!(c["n"], 1);
    assert_eq!(c["text"], "Register for API", "{json}");
    for k in ["target", "label", "toml"] {
        assert!(c[k].is_string(), "{k}: {json}");
    }
    assert!(
        c["toml"].as_str().unwrap().starts_with("click = ["),
        "{json}"
    );

    // The repaired flow on a fresh replica: no repair asked, registered.
    let fresh = ReplicaProc::start(RELABELLED);
    let mut again = erp_run(&fresh.production);
    again[1] = "gsp.toml".into(); // repaired on the GSP run, used by ERP
    let d = Test::new()
        .cwd(dir.path())
        .args(again)
        .env("EINVREG_PORTAL_PASSWORD", "Zen@Login2024x")
        .run();
    ended(&d, "registered: created");

    // The sandbox flow likewise.
    let sbx = Test::new()
        .cwd(dir.path())
        .args(sandbox_run(&r.sandbox))
        .args(["--repair-command", &choose])
        .run();
    ended(&sbx, "registered: acknowledged");
    let written = dir.path().join("sandbox-register.repaired.toml");
    assert!(written.is_file(), "the default --repair-out");
    let mut again = sandbox_run(&fresh.sandbox);
    again[1] = written.display().to_string();
    let d = Test::new().cwd(dir.path()).args(again).run();
    ended(&d, "registered: acknowledged");
    assert_eq!(
        asked(dir.path()).len(),
        9,
        "the repaired flows asked nothing more"
    );
}

/// Four rows meet the same three drifts: each is asked about once, the
/// later rows use the answer, and the journal records each repair.
#[test]
fn in_a_batch_each_drift_is_asked_about_once() {
    let dir = tempfile::tempdir().unwrap();
    let choose = chooser(dir.path());
    prod_rows(dir.path(), 4);
    let mut extra = RELABELLED.to_vec();
    extra.extend(["--taxpayers", "4"]);
    let r = ReplicaProc::start(&extra);
    let d = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", &r.production))
        .args(["--parallel", "2", "--repair-command", &choose])
        .timeout(std::time::Duration::from_secs(300))
        .run();
    assert!(
        d.stdout.contains("4 rows: 4 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    assert_eq!(asked(dir.path()).len(), 3, "{:?}", asked(dir.path()));
    let journal = std::fs::read_to_string(journal_file(dir.path())).unwrap();
    let repairs: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("repair").is_some())
        .collect();
    assert_eq!(repairs.len(), 3, "{journal}");
    assert_eq!(repairs[0]["repair"]["kind"], "target");
    assert_eq!(repairs[0]["repair"]["step"], "API Registration menu");
    assert!(dir
        .path()
        .join("production-api-user.repaired.toml")
        .is_file());
}

/// A confirm nothing names, before the submit, is asked about: the
/// answer given (here "dismiss") is given, the walk goes on, and the
/// repaired flow answers it so by itself the next time.
#[test]
fn an_unknown_dialog_is_asked_about_and_becomes_an_interrupt() {
    let dir = tempfile::tempdir().unwrap();
    let choose = chooser(dir.path());
    let r = ReplicaProc::start(&["--faults", "unknown_confirm"]);
    let d = Test::new()
        .cwd(dir.path())
        .args(demo_run(&r.production))
        .args(["--repair-command", &choose, "--repair-out", "dialog.toml"])
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .env("CHOOSER_DIALOG", "dismiss")
        .run();
    ended(&d, "registered: created");
    let a = asked(dir.path());
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(
        (a[0][0].as_str(), a[0][1].as_str()),
        ("dialog", "Dash Board")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(&a[0][4])).unwrap()).unwrap();
    assert_eq!(
        json["text"],
        "Link your Aadhaar with this GSTIN now? Click OK to continue."
    );
    assert_eq!(counter(&r.production, "unknown_confirm.accepted"), 0);
    let flow = std::fs::read_to_string(dir.path().join("dialog.toml")).unwrap();
    assert!(
        flow.contains("id = \"repaired_dialog_1\"") && flow.contains("action = \"dismiss\""),
        "{flow}"
    );
    // The repaired flow on a fresh replica: nothing asked, the confirm refused.
    let fresh = ReplicaProc::start(&["--faults", "unknown_confirm"]);
    let mut again = demo_run(&fresh.production);
    again[1] = "dialog.toml".into();
    let d = Test::new()
        .cwd(dir.path())
        .args(again)
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .run();
    ended(&d, "registered: created");
    assert_eq!(counter(&fresh.production, "unknown_confirm.accepted"), 0);
    assert_eq!(asked(dir.path()).len(), 1);
}

/// After the submit nothing is repaired: a confirm nothing names is
/// answered no and the run ends needing verification, quoting it.
#[test]
fn after_the_submit_an_unknown_confirm_needs_verification_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let choose = chooser(dir.path());
    let r = ReplicaProc::start(&["--faults", "confirm_after_create"]);
    let d = Test::new()
        .cwd(dir.path())
        .args(demo_run(&r.production))
        .args(["--repair-command", &choose])
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .status(7)
        .run();
    assert!(
        d.stdout.starts_with("NEEDS VERIFICATION")
            && d.stdout.contains(
                "\"Would you like to register this GSTIN for the e-Way Bill API as well?\""
            ),
        "{}",
        d.stdout
    );
    assert!(
        asked(dir.path()).is_empty(),
        "nothing is asked after the submit"
    );
}

/// A person at a terminal (a real pseudo-terminal): each question shows
/// what was tried, the screenshot and the numbered candidates; choosing by
/// number the one that reads as the step meant gets the walk on, in the
/// same session (one captcha, one login).
#[test]
fn a_person_repairs_at_the_terminal_by_number() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(RELABELLED);
    let cmd = format!(
        "{} run production-api-user --portal {} --auto-answer --repair --var gstin=27AAPFU0939F1ZV --var portal_username=udaytrd01 --var 'provider=Tera Software Limited' --var api_username=udaytty",
        bin().display(),
        r.production
    );
    // `timeout`: a prompt never seen must fail the test, not hang it.
    let mut child = std::process::Command::new("timeout")
        .args(["180", "script", "-qfec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        // No Client Secret: the GSP route has no use for one, so none is asked.
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs einvreg in a pseudo-terminal");
    let mut stdin = child.stdin.take().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    // What a person reading each list would pick.
    let meant = [
        "\"Register for API\"",
        "\"API User Credentials\"",
        "\"Submit Request\"",
    ];
    let (mut text, mut line, mut asked, mut choice) = (String::new(), String::new(), 0, None);
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        text.push_str(&line);
        if line.contains("── repair needed ──") {
            asked += 1;
        }
        // "    1. <a id="q355ee907">, reading "Register for API"  →  #q355ee907"
        if asked > 0 && line.contains(&format!("reading {}", meant[(asked - 1).min(2)])) {
            choice = line.trim().split('.').next().map(str::to_string);
        }
        line.clear();
        // The prompt itself ends in no newline: answer once the list is read.
        if let Some(n) = choice.take() {
            writeln!(stdin, "{n}").unwrap();
            text.push_str(&format!("<answered {n}>\n"));
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("── repair needed ── GSTIN 27AAPFU0939F1ZV · production portal · Dash Board › API Registration menu"), "{text}");
    assert!(
        text.contains("screenshot: einvreg-runs/") && text.contains("repair-1.png"),
        "{text}"
    );
    assert!(text.contains("Answer (1-9, a target"), "{text}");
    assert_eq!(asked, 3, "{text}");
    assert!(text.contains("registered: created"), "{text}");
    assert!(!text.contains("(client_secret):"), "{text}");
    let runs = dir.path().join("einvreg-runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("trace.json")).unwrap()).unwrap();
    let answered: Vec<(&str, &str)> = t["answered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["what"].as_str().unwrap(), a["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        answered.iter().filter(|a| a.0 == "captcha").count(),
        1,
        "{answered:?}"
    );
    assert_eq!(
        answered
            .iter()
            .filter(|a| *a == &("repair", "terminal"))
            .count(),
        3,
        "{answered:?}"
    );
    assert_eq!(t["repairs"].as_array().map(Vec::len), Some(3), "{t}");
}

/// Without `--repair`, drift after the login still comes with the
/// proposal `smoke` makes, in every report: the JSON and CSV rows, the
/// HTML page and the row's own trace.json.
#[test]
fn drift_in_a_batch_carries_the_proposal_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    prod_rows(dir.path(), 1);
    let r = ReplicaProc::start(&["--layout", "relabelled", "--taxpayers", "1"]);
    let batch = |report: &str, resume: bool| {
        Test::new()
            .cwd(dir.path())
            .args(batch_on("production-api-user", &r.production))
            .args(["--report", report, "--html", "r.html"])
            .args(resume.then_some("--resume"))
            .status(5)
            .run()
    };
    let d = batch("r.json", false);
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(rows[0]["status"], "drift", "{}\n{}", d.stdout, d.stderr);
    let fix = rows[0]["fix"]
        .as_str()
        .unwrap_or_else(|| panic!("no fix: {}", rows[0]));
    assert!(fix.contains(" = [\""), "a TOML line to paste: {fix}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(
        html.contains("<pre class=\"fix\">"),
        "no fix in the HTML report"
    );
    let run = dir.path().join(rows[0]["artifacts"].as_str().unwrap());
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("trace.json")).unwrap()).unwrap();
    assert_eq!(
        trace["fix"].as_str(),
        Some(fix),
        "trace.json proposes the same"
    );
    // The CSV report: `fix` is the column after `message` (added at the
    // end then; `kind`, `flows` and `portal` came after it the same way).
    batch("r.csv", true);
    let text = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head[8..],
        ["message", "fix", "kind", "flows", "portal"],
        "{text}"
    );
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(row.get(9), Some(fix), "{text}");
}

/// A screen that does not show (its Login button reads "Sign In" now, with
/// an id of its own) is asked about as a screen, then the step that clicks
/// the same button as a target; a chooser that answers with a target gets
/// the run through, and the repaired flow leads both lists with it.
#[test]
fn a_screen_not_recognised_is_asked_about_as_a_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = answering_script(dir.path(), "sign-in.sh", "echo '#btnSignIn'");
    let r = ReplicaProc::start(&["--drift", "relabelled-button"]);
    let d = Test::new()
        .cwd(dir.path())
        .args(demo_run(&r.production))
        .args(["--repair-command", &path, "--repair-out", "fixed.toml"])
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .run();
    ended(&d, "registered: created");
    let a = asked(dir.path());
    let kinds: Vec<(&str, &str, &str)> = a
        .iter()
        .map(|l| (l[0].as_str(), l[1].as_str(), l[2].as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("screen", "Home page", "(recognition)"),
            ("target", "Home page", "Login button")
        ],
        "{a:?}"
    );
    let flow = std::fs::read_to_string(dir.path().join("fixed.toml")).unwrap();
    assert!(
        flow.contains(
            r##"recognise = { elements = [["#btnSignIn", "button#btnLogin", "text:Login"]] }"##
        ) && flow.contains(r##"click = ["#btnSignIn", "button#btnLogin", "text:Login"]"##),
        "{flow}"
    );
}
