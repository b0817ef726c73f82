//! JUnit XML for CI dashboards, written with quick-junit: one test suite
//! per flow, one test case per screen check and selector, each with its
//! time. A drift is a `failure` whose body carries the proposed fix (the
//! TOML to paste); a portal that could not be reached is an `error`; each
//! suite's `system-out` says how far its flow was checked.

use super::coverage::Coverage;
use super::{Class, Finding};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// How one finding counts in JUnit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    /// Passes, with a note (`--strict` makes it a failure).
    Fallback,
    Failure,
    Error,
}

fn outcome(f: &Finding, strict: bool) -> Outcome {
    match f.class {
        Class::Ok => Outcome::Pass,
        Class::Fallback if strict => Outcome::Failure,
        Class::Fallback => Outcome::Fallback,
        Class::Drift => Outcome::Failure,
        Class::Unreachable => Outcome::Error,
    }
}

/// The flows in the order they were checked, each once.
fn flows(findings: &[Finding]) -> Vec<&str> {
    let mut out: Vec<&str> = vec![];
    for f in findings {
        if !out.contains(&f.flow.as_str()) {
            out.push(&f.flow);
        }
    }
    out
}

fn seconds(fs: &[&Finding]) -> Duration {
    Duration::from_secs_f64(fs.iter().map(|f| f.time_s.max(0.0)).sum())
}

/// The report; `strict` counts fallbacks as failures.
pub fn render(findings: &[Finding], coverage: &[Coverage], strict: bool) -> String {
    let mut report = Report::new("einvreg smoke");
    for flow in flows(findings) {
        let fs: Vec<&Finding> = findings.iter().filter(|f| f.flow == flow).collect();
        let mut suite = TestSuite::new(flow);
        suite.add_test_cases(fs.iter().map(|f| case(f, strict)));
        suite.set_time(seconds(&fs));
        if let Some(c) = coverage.iter().find(|c| c.flow == flow) {
            suite.set_system_out(c.line());
        }
        report.add_test_suite(suite);
    }
    report.set_time(seconds(&findings.iter().collect::<Vec<_>>()));
    let mut xml = report.to_string().expect("a report in memory serialises");
    if !xml.ends_with('\n') {
        xml.push('\n');
    }
    xml
}

fn case(f: &Finding, strict: bool) -> TestCase {
    let name = match &f.selector {
        Some(sel) => format!("{} › {} [{}]", f.step, f.check.as_str(), sel),
        None => format!("{} › {}", f.step, f.check.as_str()),
    };
    let o = outcome(f, strict);
    let status = match o {
        Outcome::Pass | Outcome::Fallback => TestCaseStatus::success(),
        Outcome::Failure => problem(NonSuccessKind::Failure, f),
        Outcome::Error => problem(NonSuccessKind::Error, f),
    };
    let mut c = TestCase::new(name, status);
    c.set_classname(format!("{}.{}", f.flow, f.screen));
    c.set_time(Duration::from_secs_f64(f.time_s.max(0.0)));
    if o == Outcome::Fallback {
        c.set_system_out(format!("fallback: {}", f.detail));
    }
    c
}

/// A failure (or error): the screen and step as its message, the detail
/// and the proposed fix as its body.
fn problem(kind: NonSuccessKind, f: &Finding) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(kind);
    s.set_type(f.class.as_str());
    s.set_message(format!("{}: {}", f.screen, f.step));
    s.set_description(match &f.fix {
        Some(fix) => format!("{}\n\nProposed fix:\n{fix}", f.detail),
        None => f.detail.clone(),
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(class: Class, flow: &str, step: &str) -> Finding {
        Finding {
            flow: flow.into(),
            screen: "Login <1>".into(),
            step: step.into(),
            check: crate::events::CheckKind::Target,
            selector: Some("input[name='a']".into()),
            class,
            detail: "d & e".into(),
            fix: Some("target = \"#new\"".into()),
            time_s: 0.25,
        }
    }

    /// The line of the element that starts with `start`.
    fn element<'a>(x: &'a str, start: &str) -> &'a str {
        x.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no {start} in {x}"))
    }

    #[test]
    fn failures_errors_times_fixes_and_escaping() {
        let x = render(
            &[
                finding(Class::Ok, "f", "a"),
                finding(Class::Fallback, "g", "b"),
                finding(Class::Drift, "f", "c"),
                finding(Class::Unreachable, "f", "d"),
            ],
            &[],
            false,
        );
        let all = element(&x, "<testsuites");
        for a in [
            r#"tests="4""#,
            r#"failures="1""#,
            r#"errors="1""#,
            r#"time="1.000""#,
        ] {
            assert!(all.contains(a), "{a} in {all}");
        }
        // Suites by flow, each once, though their findings interleave.
        assert_eq!(x.matches("<testsuite ").count(), 2, "{x}");
        let f = element(&x, r#"<testsuite name="f""#);
        for a in [
            r#"tests="3""#,
            r#"failures="1""#,
            r#"errors="1""#,
            r#"time="0.750""#,
        ] {
            assert!(f.contains(a), "{a} in {f}");
        }
        assert!(x.contains(r#"classname="f.Login &lt;1&gt;""#), "{x}");
        assert!(x.contains(r#"time="0.250""#), "{x}");
        let failure = element(&x, "<failure");
        assert!(
            failure.contains(r#"type="drift""#)
                && failure.contains(r#"message="Login &lt;1&gt;: c""#),
            "{failure}"
        );
        assert!(
            x.contains("d &amp; e\n\nProposed fix:\ntarget = &quot;#new&quot;</failure>"),
            "{x}"
        );
        assert!(
            element(&x, "<error").contains(r#"type="unreachable""#),
            "{x}"
        );
        assert!(
            x.contains("<system-out>fallback: d &amp; e</system-out>"),
            "{x}"
        );
        let strict = render(&[finding(Class::Fallback, "f", "b")], &[], true);
        assert!(
            element(&strict, "<testsuites").contains(r#"failures="1""#),
            "{strict}"
        );
    }
}
