//! `einvreg check` and `einvreg gstin`: golden error texts, bundled flows.

use crate::support::*;

#[test]
fn bundled_flows_are_clean() {
    let d = Test::new()
        .args([
            "check",
            "flows/production-api-user.toml",
            "flows/sandbox-register.toml",
            "--deny-warnings",
        ])
        .run();
    assert_eq!(
        d.stdout, "",
        "bundled flows have diagnostics:\n{}",
        d.stdout
    );
    assert!(d.stderr.contains("flows/production-api-user.toml: ok"));
}

#[test]
fn bundled_flows_resolve_by_name() {
    Test::new().args(["check", "sandbox-register"]).run();
}

/// Each malformed flow in tests/golden/check gives exactly the expected text,
/// every line naming file:line:column, and exit 1.
#[test]
fn golden_errors_for_malformed_flows() {
    let dir = root().join("tests/golden/check");
    let mut n = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for f in files {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .to_string();
        let d = Test::new().args(["check", &rel]).status(1).run();
        for line in d.stdout.lines().filter(|l| !l.starts_with("  help:")) {
            let re = regex::Regex::new(&format!(
                r"^{}:\d+:\d+: (error|warning): ",
                regex::escape(&rel)
            ))
            .unwrap();
            assert!(
                re.is_match(line),
                "{rel}: diagnostic without file:line:col: {line}"
            );
        }
        assert!(d.stdout.contains("  help: "), "{rel}: no fix suggested");
        golden(&d.stdout, &f.with_extension("expected"));
        n += 1;
    }
    assert!(n >= 20, "only {n} golden flows");
}

#[test]
fn missing_file_is_a_problem_not_a_crash() {
    let d = Test::new()
        .args(["check", "no/such/flow.toml"])
        .status(1)
        .run();
    assert!(
        d.stdout
            .contains("no/such/flow.toml:0:0: error: cannot read the flow file"),
        "{}",
        d.stdout
    );
}

#[test]
fn usage_error_exits_2() {
    Test::new().args(["check"]).status(2).run();
    Test::new().args(["frobnicate"]).status(2).run();
}

#[test]
fn gstin_explains_and_exits() {
    let d = Test::new().args(["gstin", "27AAPFU0939F1ZV"]).run();
    assert!(
        d.stdout
            .contains("27AAPFU0939F1ZV: valid: state 27 (Maharashtra), PAN AAPFU0939F"),
        "{}",
        d.stdout
    );
    let d = Test::new()
        .args(["gstin", "22AAAAA0000A1Z5"])
        .status(1)
        .run();
    assert!(d.stdout.contains("it should be 'C'"), "{}", d.stdout);
    let d = Test::new()
        .args(["gstin", "27AAPFU0939F1ZV", "24AAACJ3770E2ZZ"])
        .status(1)
        .run();
    assert!(d.stdout.contains("it should be 'V'"), "{}", d.stdout);
    Test::new()
        .args(["gstin", "--sandbox", "29AAGCB1286Q000"])
        .run();
    Test::new()
        .args(["gstin", "29AAGCB1286Q000"])
        .status(1)
        .run();
}

#[test]
fn help_lists_every_subcommand() {
    let d = Test::new().arg("--help").run();
    for sub in ["run", "batch", "smoke", "check", "gstin", "replica"] {
        assert!(d.stdout.contains(sub), "--help lacks {sub}:\n{}", d.stdout);
    }
}

/// The JSON Schema, checked by an independent validator (Python's
/// jsonschema, Draft 7, as taplo reads it): both bundled flows pass, a
/// misspelt key fails, and `check` agrees.
#[test]
fn the_json_schema_validates_bundled_flows_and_rejects_a_misspelt_key() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Test::new().args(["flows", "schema"]).run().stdout;
    std::fs::write(dir.path().join("flow.schema.json"), &schema).unwrap();
    let prod = Test::new()
        .args(["flows", "show", "production-api-user"])
        .run()
        .stdout;
    let sandbox = Test::new()
        .args(["flows", "show", "sandbox-register"])
        .run()
        .stdout;
    assert_eq!(
        prod,
        std::fs::read_to_string(root().join("flows/production-api-user.toml")).unwrap()
    );
    let bad = prod.replacen("  navigates = true", "  navigate = true", 1);
    assert_ne!(bad, prod);
    for (name, text) in [
        ("prod.toml", &prod),
        ("sandbox.toml", &sandbox),
        ("bad.toml", &bad),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let script = r#"
import json, sys, tomllib, jsonschema
schema = json.load(open("flow.schema.json"))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for f in sys.argv[1:]:
    errs = sorted(v.iter_errors(tomllib.load(open(f, "rb"))), key=lambda e: list(e.absolute_path))
    print(f, len(errs), " | ".join(e.message[:300] for e in errs))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, "prod.toml", "sandbox.toml", "bad.toml"])
        .current_dir(dir.path())
        .output()
        .expect("python3 (scripts/ensure-deps installs python3-jsonschema)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("prod.toml 0 \n") || text.contains("prod.toml 0 "),
        "{text}"
    );
    assert!(text.contains("sandbox.toml 0 "), "{text}");
    let bad_line = text.lines().find(|l| l.starts_with("bad.toml")).unwrap();
    assert!(!bad_line.starts_with("bad.toml 0"), "{text}");
    assert!(bad_line.contains("navigate"), "{bad_line}");
    let d = Test::new()
        .cwd(dir.path())
        .args(["check", "./bad.toml"])
        .status(1)
        .run();
    assert!(d.stdout.contains("navigate"), "{}", d.stdout);
}

#[test]
fn check_json_names_its_source_and_every_diagnostic() {
    let d = Test::new()
        .args([
            "check",
            "--format",
            "json",
            "sandbox-register",
            "tests/golden/check/02-unknown-step-key.toml",
            "nope",
        ])
        .status(1)
        .run();
    let lines: Vec<serde_json::Value> = d
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", d.stdout);
    assert_eq!(lines[0]["source"], "bundled");
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[1]["source"], "file");
    assert_eq!(lines[1]["ok"], false);
    let diag = &lines[1]["diagnostics"][0];
    assert!(diag["loc"]["line"].as_u64().unwrap() > 0, "{diag}");
    assert_eq!(diag["severity"], "error");
    assert!(lines[2]["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .contains("no bundled flow is named `nope`"));
}

#[test]
fn a_name_is_a_bundled_flow_even_beside_a_local_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("flows")).unwrap();
    std::fs::write(dir.path().join("flows/sandbox-register.toml"), "not a flow").unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args(["check", "sandbox-register"])
        .run();
    assert!(
        d.stderr.contains("sandbox-register (bundled): ok"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains("not flows/sandbox-register.toml"),
        "{}",
        d.stderr
    );
    Test::new()
        .cwd(dir.path())
        .args(["check", "flows/sandbox-register.toml"])
        .status(1)
        .run();
    let d = Test::new()
        .args(["check", "sandbox-registr"])
        .status(1)
        .run();
    assert!(
        d.stdout.contains("did you mean `sandbox-register`?"),
        "{}",
        d.stdout
    );
    let flow = std::fs::read_to_string(root().join("flows/sandbox-register.toml")).unwrap();
    let d = Test::new().args(["check", "-"]).stdin(&flow).run();
    assert!(d.stderr.contains("(stdin): ok"), "{}", d.stderr);
}

/// CLI conventions, before any browser: humantime durations, `-` for
/// stdin, CSV headers in any case and spacing, CRLF line numbers.
#[test]
fn durations_stdin_headers_and_crlf_lines() {
    let d = Test::new()
        .args(["batch", "production-api-user", "-", "--portal", "replica", "--auto-answer", "--prompt-timeout", "5 parsecs"])
        .stdin("gstin,portal_username,through,provider,api_username\n27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udaytera\n")
        .env("EINVREG_PORTAL_PASSWORD", "x")
        .status(2)
        .run();
    assert!(
        d.stderr
            .contains("--prompt-timeout: `5 parsecs` is not a duration"),
        "{}",
        d.stderr
    );
    // Excel on Windows: a BOM, spaced headers, CRLF lines; the bad row is line 3.
    let csv = "\u{feff}GSTIN,Portal Username,Through,Provider,API Username\r\n\
               27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udaytera\r\n\
               27AAPFU0939F1ZX,udaytrd01,gsp,Tera Software Limited,udaytera2\r\n";
    let d = Test::new()
        .args([
            "batch",
            "production-api-user",
            "-",
            "--portal",
            "replica",
            "--auto-answer",
            "--prompt-timeout",
            "1m30s",
        ])
        .stdin(csv)
        .status(2)
        .run();
    assert!(d.stderr.contains("(stdin):3 column gstin"), "{}", d.stderr);
    assert!(!d.stderr.contains("(stdin):2"), "{}", d.stderr);
    assert!(!d.stderr.contains("unknown column"), "{}", d.stderr);
    // A CRLF flow's diagnostics name the same line:col as its LF original.
    let dir = tempfile::tempdir().unwrap();
    let lf = std::fs::read_to_string(root().join("tests/golden/check/02-unknown-step-key.toml"))
        .unwrap();
    std::fs::write(dir.path().join("lf.toml"), &lf).unwrap();
    std::fs::write(dir.path().join("crlf.toml"), lf.replace('\n', "\r\n")).unwrap();
    let at = |f: &str| {
        let d = Test::new()
            .cwd(dir.path())
            .args(["check", f])
            .status(1)
            .run();
        d.stdout.replace(f, "F")
    };
    assert_eq!(at("./lf.toml"), at("./crlf.toml"));
    // Two `-` arguments cannot both be stdin.
    let d = Test::new()
        .args([
            "run",
            "-",
            "--vars",
            "-",
            "--portal",
            "replica",
            "--auto-answer",
        ])
        .stdin(&std::fs::read_to_string(root().join("flows/sandbox-register.toml")).unwrap())
        .status(2)
        .run();
    assert!(
        d.stderr.contains("only one argument may be `-`"),
        "{}",
        d.stderr
    );
}

/// The bundled sandbox flow as it was written before roles and language
/// versions: no `role`, no `language`.
fn before_roles() -> String {
    let d = Test::new()
        .args(["flows", "show", "sandbox-register"])
        .run();
    d.stdout
        .lines()
        .filter(|l| !l.starts_with("role = ") && !l.starts_with("language = "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_flow_written_before_roles_keeps_its_meaning_and_check_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.toml");
    std::fs::write(&old, before_roles()).unwrap();
    let d = Test::new().args(["check", old.to_str().unwrap()]).run();
    assert!(d.stderr.contains("ok (language 1,"), "{}", d.stderr);
    for role in ["gstin", "mobile"] {
        assert!(
            d.stderr.contains(&format!(
                "note: input `{role}` plays role `{role}`, as in flows written before roles"
            )) && d.stderr.contains(&format!("add role = \"{role}\" to it")),
            "{}",
            d.stderr
        );
    }
    let j = Test::new()
        .args(["check", "--format", "json", old.to_str().unwrap()])
        .run();
    let v: serde_json::Value = serde_json::from_str(j.stdout.trim()).unwrap();
    assert_eq!(v["inferred_roles"]["mobile"], "mobile", "{v}");
    assert_eq!(v["language"], 1);
    // Two numbers that could be the OTP's and none named: said, and
    // --deny-warnings fails on it.
    let two = before_roles().replace(
        "[inputs.mobile]",
        "[inputs.alt_phone]\ntype = \"mobile\"\nrequired = false\n\n[inputs.mobile]",
    );
    let two = two
        .replace("[inputs.mobile]", "[inputs.phone]")
        .replace("${mobile}", "${phone}");
    std::fs::write(&old, two).unwrap();
    let d = Test::new()
        .args(["check", "--deny-warnings", old.to_str().unwrap()])
        .status(1)
        .run();
    assert!(
        d.stdout.contains(
            "inputs `alt_phone`, `phone` are all of type mobile and none has role = \"mobile\""
        ) || d.stdout.contains(
            "inputs `phone`, `alt_phone` are all of type mobile and none has role = \"mobile\""
        ),
        "{}",
        d.stdout
    );
}

#[test]
fn a_language_this_einvreg_does_not_know_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("new.toml");
    let text = before_roles().replacen("[flow]\n", "[flow]\nlanguage = 7\n", 1);
    std::fs::write(&f, &text).unwrap();
    let d = Test::new()
        .args(["check", f.to_str().unwrap()])
        .status(1)
        .run();
    let line = text.lines().position(|l| l == "language = 7").unwrap() + 1;
    let says = format!(
        "new.toml:{line}:12: error: flow language 7 is not one this einvreg reads (it reads language 1)"
    );
    assert!(
        d.stdout.contains(&says) && d.stdout.contains("install a newer einvreg"),
        "{}",
        d.stdout
    );
}

/// Shell completions offer the bundled flows' names where a flow goes (a
/// path still completes as a file name): bash completes them, and the zsh
/// and fish scripts list them.
#[test]
fn completions_complete_bundled_flow_names() {
    let dir = tempfile::tempdir().unwrap();
    let bash = Test::new().args(["completions", "bash"]).run().stdout;
    std::fs::write(dir.path().join("einvreg.bash"), bash).unwrap();
    let complete = |words: &str| {
        let script = format!(
            "source ./einvreg.bash && COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _einvreg einvreg \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; echo \"${{COMPREPLY[@]}}\""
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(dir.path())
            .output()
            .expect("bash");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("einvreg run prod"), "production-api-user");
    assert_eq!(complete("einvreg smoke sand"), "sandbox-register");
    assert_eq!(complete("einvreg flows show einv"), "einvoice-enablement");
    let portal = complete("einvreg batch portal-");
    for name in [
        "portal-login-register",
        "portal-forgot-password",
        "portal-forgot-username",
    ] {
        assert!(portal.split(' ').any(|w| w == name), "{portal}");
    }
    let zsh = Test::new().args(["completions", "zsh"]).run().stdout;
    assert!(zsh.contains("production-api-user"), "{zsh}");
    // fish (not on this machine): each line's condition is a function the script defines.
    let fish = Test::new().args(["completions", "fish"]).run().stdout;
    assert!(
        fish.contains("function __fish_einvreg_using_subcommand"),
        "{fish}"
    );
    assert!(
        fish.contains("-n \"__fish_einvreg_using_subcommand run\" -a \"production-api-user "),
        "{fish}"
    );
    // Any other flow argument is still taken as given, and checked as before.
    let d = Test::new()
        .args(["check", "portal-login-registr"])
        .status(1)
        .run();
    assert!(
        d.stdout.contains("did you mean `portal-login-register`?"),
        "{}",
        d.stdout
    );
}
