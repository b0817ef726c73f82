//! JUnit XML for CI dashboards: one test suite per flow, one test case per
//! screen check and selector, each with its time. A drift is a `failure`
//! whose body carries the proposed fix (the TOML to paste); a portal that
//! could not be reached is an `error`. quick-xml writes it and escapes
//! every text and attribute.

use super::coverage::Coverage;
use super::{Class, Finding};
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io;

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

/// A suite's (or all suites') counts and time, as attributes.
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    time_s: f64,
}

impl Tally {
    fn of(fs: &[&Finding], strict: bool) -> Tally {
        let n = |o: Outcome| fs.iter().filter(|f| outcome(f, strict) == o).count();
        Tally {
            tests: fs.len(),
            failures: n(Outcome::Failure),
            errors: n(Outcome::Error),
            time_s: fs.iter().map(|f| f.time_s).sum(),
        }
    }

    fn attributes(&self, name: &str) -> Vec<(&'static str, String)> {
        vec![
            ("name", name.to_string()),
            ("tests", self.tests.to_string()),
            ("failures", self.failures.to_string()),
            ("errors", self.errors.to_string()),
            ("skipped", "0".to_string()),
            ("time", seconds(self.time_s)),
        ]
    }
}

fn seconds(s: f64) -> String {
    format!("{s:.3}")
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

/// The report; `strict` counts fallbacks as failures. Each suite says in
/// its `system-out` how far its flow was checked.
pub fn render(findings: &[Finding], coverage: &[Coverage], strict: bool) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, findings, coverage, strict).expect("writing to memory does not fail");
    let mut xml = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    xml.push('\n');
    xml
}

fn write(
    w: &mut Writer<Vec<u8>>,
    findings: &[Finding],
    coverage: &[Coverage],
    strict: bool,
) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let all: Vec<&Finding> = findings.iter().collect();
    let attrs = Tally::of(&all, strict).attributes("einvreg smoke");
    w.create_element("testsuites")
        .with_attributes(attrs.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|w| {
            for flow in flows(findings) {
                let fs: Vec<&Finding> = all.iter().copied().filter(|f| f.flow == flow).collect();
                let covered = coverage.iter().find(|c| c.flow == flow);
                suite(w, flow, &fs, covered, strict)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn suite(
    w: &mut Writer<Vec<u8>>,
    flow: &str,
    fs: &[&Finding],
    covered: Option<&Coverage>,
    strict: bool,
) -> io::Result<()> {
    let attrs = Tally::of(fs, strict).attributes(flow);
    w.create_element("testsuite")
        .with_attributes(attrs.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|w| {
            fs.iter().try_for_each(|f| case(w, f, strict))?;
            match covered {
                Some(c) => w
                    .create_element("system-out")
                    .write_text_content(text(&c.line()))
                    .map(drop),
                None => Ok(()),
            }
        })?;
    Ok(())
}

fn case(w: &mut Writer<Vec<u8>>, f: &Finding, strict: bool) -> io::Result<()> {
    let name = match &f.selector {
        Some(sel) => format!("{} › {} [{}]", f.step, f.check.as_str(), sel),
        None => format!("{} › {}", f.step, f.check.as_str()),
    };
    let classname = format!("{}.{}", f.flow, f.screen);
    let time = seconds(f.time_s);
    let el = w.create_element("testcase").with_attributes([
        ("classname", classname.as_str()),
        ("name", name.as_str()),
        ("time", time.as_str()),
    ]);
    match outcome(f, strict) {
        Outcome::Pass => el.write_empty().map(drop),
        Outcome::Fallback => el
            .write_inner_content(|w| {
                let note = format!("fallback: {}", f.detail);
                w.create_element("system-out")
                    .write_text_content(text(&note))
                    .map(drop)
            })
            .map(drop),
        o @ (Outcome::Failure | Outcome::Error) => el
            .write_inner_content(|w| problem(w, f, o == Outcome::Error))
            .map(drop),
    }
}

/// A failure (or error): the screen and step as its message, the detail
/// and the proposed fix as its body.
fn problem(w: &mut Writer<Vec<u8>>, f: &Finding, error: bool) -> io::Result<()> {
    let message = format!("{}: {}", f.screen, f.step);
    let body = match &f.fix {
        Some(fix) => format!("{}\n\nProposed fix:\n{fix}", f.detail),
        None => f.detail.clone(),
    };
    let tag = if error { "error" } else { "failure" };
    w.create_element(tag)
        .with_attributes([("type", f.class.as_str()), ("message", message.as_str())])
        .write_text_content(text(&body))
        .map(drop)
}

/// Text escaped only where XML needs it, so a pasted TOML line reads as is.
fn text(s: &str) -> BytesText<'_> {
    BytesText::from_escaped(partial_escape(s))
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

    fn render_all(findings: &[Finding], strict: bool) -> String {
        render(findings, &[], strict)
    }

    #[test]
    fn failures_errors_times_fixes_and_escaping() {
        let x = render_all(
            &[
                finding(Class::Ok, "f", "a"),
                finding(Class::Fallback, "g", "b"),
                finding(Class::Drift, "f", "c"),
                finding(Class::Unreachable, "f", "d"),
            ],
            false,
        );
        assert!(x.contains(r#"<testsuites name="einvreg smoke" tests="4" failures="1" errors="1" skipped="0" time="1.000">"#), "{x}");
        // Suites by flow, each once, though their findings interleave.
        assert_eq!(x.matches("<testsuite ").count(), 2, "{x}");
        assert!(
            x.contains(
                r#"<testsuite name="f" tests="3" failures="1" errors="1" skipped="0" time="0.750">"#
            ),
            "{x}"
        );
        assert!(x.contains(r#"classname="f.Login &lt;1&gt;""#), "{x}");
        assert!(x.contains(r#"time="0.250""#), "{x}");
        assert!(
            x.contains(r#"<failure type="drift" message="Login &lt;1&gt;: c">d &amp; e"#),
            "{x}"
        );
        assert!(
            x.contains("Proposed fix:\ntarget = \"#new\"</failure>"),
            "{x}"
        );
        assert!(x.contains(r#"<error type="unreachable""#), "{x}");
        assert!(
            x.contains("<system-out>fallback: d &amp; e</system-out>"),
            "{x}"
        );
        let strict = render_all(&[finding(Class::Fallback, "f", "b")], true);
        assert!(strict.contains(r#"failures="1""#), "{strict}");
    }
}
