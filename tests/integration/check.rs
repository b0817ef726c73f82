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
