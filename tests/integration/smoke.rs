//! `einvreg smoke`: passes on the replica, names every drift, treats a
//! fallback as a warning, never sends an OTP or creates anything.

use crate::support::*;
use std::time::{Duration, Instant};

#[test]
fn bundled_flows_pass_and_nothing_happens_on_the_portal() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    // Both portals: one run per flow, each against its own replica portal.
    for (flow, url) in [
        ("production-api-user", &r.production),
        ("sandbox-register", &r.sandbox),
    ] {
        let d = Test::new()
            .cwd(dir.path())
            .args([
                "smoke",
                flow,
                "--portal",
                url,
                "--timeout",
                "5s",
                "--all",
                "--var",
                "provider=Tera Software Limited",
            ])
            .run();
        assert!(
            d.stdout.contains(" 0 fallback, 0 drift, 0 unreachable"),
            "{}",
            d.stdout
        );
        assert!(
            d.stdout.contains("stopped before"),
            "it stopped at a barrier: {}",
            d.stdout
        );
        // How far it checked, and what it never saw.
        let covered = regex::Regex::new(&format!(
            r"coverage    {flow}: (\d+) of (\d+) screens checked \(.+\); stopped before a step a person answers or that changes state, at .+; not checked: .+"
        ))
        .unwrap();
        let c = covered
            .captures(&d.stdout)
            .unwrap_or_else(|| panic!("{}", d.stdout));
        let (checked, of): (usize, usize) = (c[1].parse().unwrap(), c[2].parse().unwrap());
        assert!(checked >= 2 && checked < of, "{}", d.stdout);
    }
    for base in [&r.production, &r.sandbox] {
        assert_eq!(
            http_get(&format!("{base}/__replica/sms")).trim(),
            "[]",
            "an OTP was sent"
        );
        let users: serde_json::Value =
            serde_json::from_str(&http_get(&format!("{base}/__replica/users"))).unwrap();
        assert!(
            users["api_users"].as_array().unwrap().is_empty()
                && users["sandbox_users"].as_array().unwrap().is_empty()
        );
        let counters: serde_json::Value =
            serde_json::from_str(&http_get(&format!("{base}/__replica/counters"))).unwrap();
        for never in [
            "login_submit",
            "create_api_user",
            "create_user",
            "registration_postback",
        ] {
            assert!(
                counters.get(never).is_none(),
                "smoke reached {never}: {counters}"
            );
        }
    }
}

#[test]
fn every_drift_fails_naming_screen_step_and_selector() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "renamed-field",
            &[],
            &[
                "drift",
                "E-INVOICE SYSTEM LOGIN",
                "recognise (after \"Login button\")",
                "#txtUserName | input[name='UserLogin.UserName'] | input[name='UserName'] | label:User name",
            ],
        ),
        (
            "relabelled-button",
            &[],
            &[
                "drift",
                "Home page",
                "recognise (after \"Open the portal\")",
                "button#btnLogin | text:Login",
            ],
        ),
        (
            "moved-element",
            &[],
            &[
                "drift",
                "Registration Form",
                "Captcha",
                "#ctl00_ContentPlaceHolder1_txtCaptcha | input[name$='txtCaptcha'] | label:Captcha",
            ],
        ),
        (
            "interstitial",
            &[],
            &[
                "drift",
                "E-INVOICE SYSTEM LOGIN",
                "recognise (after \"Login button\")",
                "/Home/Notice",
            ],
        ),
        // `missing-gsp` shows only behind the login's captcha, where smoke
        // never goes: `run` meets it at the dropdown (run.rs).
    ];
    for (drift, extra, needles) in cases {
        let d = Test::new()
            .cwd(dir.path())
            .args([
                "smoke",
                "production-api-user",
                "sandbox-register",
                "--portal",
                "replica",
                "--replica-drift",
                drift,
                "--timeout",
                "4s",
                "--junit",
                "smoke.xml",
            ])
            .args(*extra)
            .status(5)
            .run();
        let xml = std::fs::read_to_string(dir.path().join("smoke.xml")).unwrap();
        let said = junit_says(&xml, &d.stdout);
        for n in *needles {
            assert!(
                d.stdout.contains(n),
                "{drift}: table lacks {n:?}:\n{}",
                d.stdout
            );
            assert!(said.contains(n), "{drift}: JUnit lacks {n:?}:\n{xml}");
        }
        // A drifted box does not stop the walk: it goes on to the barrier.
        if *drift == "moved-element" {
            assert!(
                d.stdout.contains("coverage    sandbox-register: ")
                    && d.stdout
                        .contains("at Registration Form › Captcha, going on past 1 drift(s)"),
                "{}",
                d.stdout
            );
        }
        if *drift == "renamed-field" {
            assert!(
                said.contains("Proposed fix:\nnow there: <input id=\"txtLoginId\""),
                "{xml}"
            );
        }
        assert!(
            dir.path()
                .join("einvreg-smoke")
                .read_dir()
                .unwrap()
                .next()
                .is_some(),
            "{drift}: no screenshot"
        );
    }
}

/// The JUnit report parsed as CI reads it: counts that add up, a time on
/// every test case, each drift a failure whose body holds the fix the
/// table proposed. Everything it says, unescaped, for needles.
fn junit_says(xml: &str, table: &str) -> String {
    let (top, suites) = junit::parse(xml);
    let cases: Vec<&junit::Case> = suites.iter().flat_map(|s| &s.cases).collect();
    let count = |tag: &str| {
        let has = |c: &&&junit::Case| c.problem().is_some_and(|p| p.0 == tag);
        cases.iter().filter(has).count().to_string()
    };
    assert_eq!(top.attrs["tests"], cases.len().to_string(), "{xml}");
    assert_eq!(top.attrs["failures"], count("failure"), "{xml}");
    assert_eq!(top.attrs["errors"], count("error"), "{xml}");
    assert_ne!(count("failure"), "0", "a drift is a failure: {xml}");
    for s in &suites {
        assert_eq!(s.attrs["tests"], s.cases.len().to_string(), "{xml}");
        // Each suite says how far its flow was checked, as the table does.
        let flow = &s.attrs["name"];
        let covered = format!("coverage    {flow}: ");
        assert!(
            s.out.starts_with(&covered) && table.contains(s.out.as_str()),
            "{xml}"
        );
    }
    let total: f64 = cases.iter().map(|c| c.time()).sum();
    let said: f64 = top.attrs["time"].parse().unwrap();
    assert!(
        (total - said).abs() < 0.001 * cases.len() as f64 + 0.001,
        "{xml}"
    );
    assert!(total > 0.0, "the checks took time: {xml}");
    // Each fix the table proposed (its indented lines) is in a failure's body.
    let fixes: Vec<&str> = table.lines().filter(|l| l.starts_with("    ")).collect();
    for line in fixes {
        let in_a_failure = cases
            .iter()
            .filter_map(|c| c.problem())
            .any(|p| p.2.contains(line.trim()));
        assert!(in_a_failure, "the fix {line:?} is in no failure: {xml}");
    }
    let mut out = String::new();
    for c in &cases {
        out.extend(c.attrs.values().map(|v| format!("{v}\n")));
        for (_, attrs, text) in &c.parts {
            out.extend(attrs.values().map(|v| format!("{v}\n")));
            out.push_str(text);
        }
    }
    out
}

#[test]
fn a_fallback_match_warns_and_fails_only_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "smoke",
            "production-api-user",
            "--portal",
            "replica",
            "--replica-drift",
            "renamed-id",
            "--timeout",
            "5s",
            "--junit",
            "s.xml",
        ])
        .run();
    assert!(d.stdout.contains("fallback") && d.stdout.contains("primary `#txtUserName` matches nothing; fallback #2 matched: update the flow [input[name='UserLogin.UserName']]"), "{}", d.stdout);
    let xml = std::fs::read_to_string(dir.path().join("s.xml")).unwrap();
    assert!(
        xml.contains("<system-out>fallback:") && xml.contains("failures=\"0\""),
        "{xml}"
    );
    Test::new()
        .cwd(dir.path())
        .args([
            "smoke",
            "production-api-user",
            "--portal",
            "replica",
            "--replica-drift",
            "renamed-id",
            "--timeout",
            "5s",
            "--strict",
        ])
        .status(5)
        .run();
}

#[test]
fn an_unreachable_portal_exits_6_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens there
    let t = Instant::now();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "smoke",
            "sandbox-register",
            "--portal",
            &format!("http://127.0.0.1:{port}"),
            "--timeout",
            "3s",
            "--junit",
            "s.xml",
        ])
        .status(6)
        .timeout(Duration::from_secs(60))
        .run();
    assert!(
        d.stdout.contains("unreachable") && d.stdout.contains("ERR_CONNECTION_REFUSED"),
        "{}",
        d.stdout
    );
    assert!(
        t.elapsed() < Duration::from_secs(45),
        "took {:?}",
        t.elapsed()
    );
    // An unreachable portal is a JUnit error, not a failed check.
    let xml = std::fs::read_to_string(dir.path().join("s.xml")).unwrap();
    let (top, suites) = junit::parse(&xml);
    let problem = suites[0]
        .cases
        .iter()
        .find_map(|c| c.problem())
        .expect("a problem");
    assert_eq!(
        (problem.0.as_str(), problem.1["type"].as_str()),
        ("error", "unreachable"),
        "{xml}"
    );
    assert_eq!(top.attrs["errors"], "1", "{xml}");
    // A port Chromium refuses shows its own error page, not a WebDriver
    // error: that is unreachable too, not drift.
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "smoke",
            "sandbox-register",
            "--portal",
            "http://127.0.0.1:6000",
        ])
        .args(["--timeout", "10s"])
        .status(6)
        .timeout(Duration::from_secs(60))
        .run();
    assert!(
        d.stdout.contains("unreachable") && d.stdout.contains("ERR_UNSAFE_PORT"),
        "{}",
        d.stdout
    );
}

/// `run` and `smoke` share one walk: the same drift stops both at the same
/// screen and step, described in the same words with the same selectors.
#[test]
fn run_and_smoke_meet_a_drift_at_the_same_screen_step_and_selector() {
    let r = ReplicaProc::start(&["--drift", "moved-element"]);
    let dir = tempfile::tempdir().unwrap();
    let (smoke, run) = std::thread::scope(|s| {
        let smoke = s.spawn(|| {
            Test::new()
                .cwd(dir.path())
                .args(["smoke", "sandbox-register", "--portal", &r.sandbox])
                .args(["--timeout", "20s"]) // the flow's own timeout, so the texts match
                .status(5)
                .run()
        });
        let run = s.spawn(|| {
            Test::new()
                .cwd(dir.path())
                .args([
                    "run",
                    "sandbox-register",
                    "--portal",
                    &r.sandbox,
                    "--auto-answer",
                ])
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
                .args(["--var", "client_id=AACCT29GSPB5H8G"])
                .args(["--var", "api_username=tngspsbx"])
                .status(5)
                .run()
        });
        (smoke.join().unwrap(), run.join().unwrap())
    });
    let line = smoke
        .stdout
        .lines()
        .find(|l| l.starts_with("drift"))
        .unwrap_or_else(|| panic!("no drift line:\n{}", smoke.stdout));
    assert!(
        line.contains(
            "sandbox-register › Registration Form › Captcha: no usable element on a page still for 3s; tried "
        ),
        "{line}"
    );
    let tried = line
        .split("; tried ")
        .nth(1)
        .unwrap()
        .split("; page")
        .next()
        .unwrap();
    assert!(
        tried.starts_with("`#ctl00_ContentPlaceHolder1_txtCaptcha` (not on the page)"),
        "{tried}"
    );
    let want = format!(
        "stopped: the portal does not match the flow: screen \"Registration Form\", step \"Captcha\": no usable element on a page still for 3s; tried {tried}; page"
    );
    assert!(
        run.stdout.contains(&want),
        "run says:\n{}\nsmoke says:\n{line}",
        run.stdout
    );
    // run proposes what smoke proposes: the same TOML line to paste.
    let fix = smoke
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("drift"))
        .nth(1)
        .filter(|l| l.starts_with("    "))
        .unwrap_or_else(|| panic!("no fix under the drift:\n{}", smoke.stdout))
        .trim();
    assert!(
        run.stdout.contains(&format!("  proposal    {fix}")),
        "run proposes otherwise than smoke ({fix}):\n{}",
        run.stdout
    );
}

/// Replaces, after the line `label = "{after}"`, the first line that sets `key`.
fn paste(flow: &str, after: &str, key: &str, line: &str) -> String {
    let mut out = vec![];
    let mut armed = false;
    let mut done = false;
    for l in flow.lines() {
        if l.trim() == format!("label = \"{after}\"") {
            armed = true;
        }
        if armed && !done && l.trim_start().starts_with(&format!("{key} =")) {
            out.push(line.to_string());
            done = true;
            continue;
        }
        out.push(l.to_string());
    }
    assert!(done, "no `{key} =` after label {after}");
    out.join("\n") + "\n"
}

/// Each drift comes with the element now there and the TOML to paste;
/// pasting each proposal in turn, the flow passes smoke on the drifted portal.
#[test]
fn drift_comes_with_the_fix_and_the_fix_works() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "renamed-field",
            "production-api-user",
            "recognise",
            "#txtLoginId",
            "labelled \"Login ID\"",
        ),
        (
            "relabelled-button",
            "production-api-user",
            "recognise",
            "#btnSignIn",
            "reading \"Sign In\"",
        ),
        (
            "moved-element",
            "sandbox-register",
            "input",
            "#ctl00_ContentPlaceHolder1_pnlVerify_txtCaptchaCode",
            "now there: <input",
        ),
    ];
    let where_re =
        regex::Regex::new(r#"in screen "([^"]+)"(?:, step "([^"]+)")?, write:"#).unwrap();
    for (drift, flow, key, first, seen) in cases {
        let fixed = dir.path().join(format!("{flow}-{drift}.toml"));
        std::fs::write(
            &fixed,
            Test::new().args(["flows", "show", flow]).run().stdout,
        )
        .unwrap();
        let mut rounds = 0;
        loop {
            let d = Test::new()
                .cwd(dir.path())
                .args([
                    "smoke",
                    fixed.to_str().unwrap(),
                    "--portal",
                    "replica",
                    "--replica-drift",
                    drift,
                    "--timeout",
                    "4s",
                    "--json",
                    "f.json",
                ])
                .any_status()
                .run();
            if d.out.status.code() == Some(0) {
                assert!(rounds > 0, "{drift}: no drift at all");
                assert!(d.stdout.contains(" 0 drift, 0 unreachable"), "{}", d.stdout);
                break;
            }
            rounds += 1;
            assert!(
                rounds <= 3,
                "{drift}: still drifting after the proposed fixes:\n{}",
                d.stdout
            );
            let findings: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(dir.path().join("f.json")).unwrap())
                    .unwrap();
            let fix = findings
                .iter()
                .filter(|f| f["class"] == "drift")
                .find_map(|f| f["fix"].as_str())
                .unwrap_or_else(|| panic!("{drift}: a drift without a fix: {}", d.stdout))
                .to_string();
            if rounds == 1 {
                assert!(fix.contains(seen), "{drift}: {fix}");
                let line = fix.lines().last().unwrap();
                assert!(
                    line.trim_start().starts_with(&format!("{key} = ")),
                    "{drift}: {line}"
                );
                assert!(line.contains(&format!("\"{first}\"")), "{drift}: {line}");
            }
            let at = where_re.captures(&fix).unwrap_or_else(|| panic!("{fix}"));
            let after = at.get(2).or(at.get(1)).unwrap().as_str();
            let line = fix.lines().last().unwrap();
            let key = line.trim_start().split(" = ").next().unwrap();
            let text = std::fs::read_to_string(&fixed).unwrap();
            std::fs::write(&fixed, paste(&text, after, key, line)).unwrap();
        }
    }
}

/// A screen `run` does not recognise comes with the proposal smoke makes
/// for it: the `recognise` line to paste, naming what stands there now.
#[test]
fn run_proposes_for_a_screen_it_does_not_recognise_as_smoke_does() {
    let r = ReplicaProc::start(&["--drift", "renamed-field"]);
    let dir = tempfile::tempdir().unwrap();
    let smoke = Test::new()
        .cwd(dir.path())
        .args(["smoke", "production-api-user", "--portal", &r.production])
        .args(["--timeout", "4s"])
        .status(5)
        .run();
    let fix: Vec<&str> = smoke
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("drift"))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .map(str::trim)
        .collect();
    let paste = fix
        .iter()
        .find(|l| l.starts_with("recognise = "))
        .unwrap_or_else(|| panic!("no recognise line:\n{}", smoke.stdout));
    let run = Test::new()
        .cwd(dir.path())
        .args(demo_run(&r.production))
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .status(5)
        .run();
    assert!(
        run.stdout.contains("  proposal    ") && run.stdout.contains(paste),
        "run proposes otherwise than smoke ({paste}):\n{}",
        run.stdout
    );
}
