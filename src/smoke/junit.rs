//! JUnit XML for CI dashboards: one test suite per flow, one test case per
//! screen check and selector.

use super::{Class, Finding};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn render(findings: &[Finding], strict: bool) -> String {
    let failing = |f: &Finding| f.class >= Class::Drift || (strict && f.class == Class::Fallback);
    let mut flows: Vec<&str> = findings.iter().map(|f| f.flow.as_str()).collect();
    flows.dedup();
    let total_fail = findings.iter().filter(|f| failing(f)).count();
    let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"einvreg smoke\" tests=\"{}\" failures=\"{total_fail}\">\n", findings.len());
    for flow in flows {
        let fs: Vec<&Finding> = findings.iter().filter(|f| f.flow == flow).collect();
        let fails = fs.iter().filter(|f| failing(f)).count();
        s.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\">\n",
            esc(flow),
            fs.len()
        ));
        for f in fs {
            let name = match &f.selector {
                Some(sel) => format!("{} › {} [{}]", f.step, f.check.as_str(), sel),
                None => format!("{} › {}", f.step, f.check.as_str()),
            };
            s.push_str(&format!(
                "    <testcase classname=\"{}.{}\" name=\"{}\">",
                esc(flow),
                esc(&f.screen),
                esc(&name)
            ));
            if failing(f) {
                s.push_str(&format!(
                    "<failure type=\"{}\" message=\"{}: {}\">{}</failure>",
                    f.class.as_str(),
                    esc(&f.screen),
                    esc(&f.step),
                    esc(&f.detail)
                ));
            } else if f.class == Class::Fallback {
                s.push_str(&format!(
                    "<system-out>fallback: {}</system-out>",
                    esc(&f.detail)
                ));
            }
            s.push_str("</testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn failures_and_escaping() {
        let f = |class, step: &str| Finding {
            flow: "f".into(),
            screen: "Login <1>".into(),
            step: step.into(),
            check: crate::events::CheckKind::Target,
            selector: Some("input[name='a']".into()),
            class,
            detail: "d & e".into(),
            fix: None,
        };
        let x = render(
            &[
                f(Class::Ok, "a"),
                f(Class::Fallback, "b"),
                f(Class::Drift, "c"),
            ],
            false,
        );
        assert!(x.contains("tests=\"3\" failures=\"1\""));
        assert!(x.contains("classname=\"f.Login &lt;1&gt;\""));
        assert!(x.contains(
            "<failure type=\"drift\" message=\"Login &lt;1&gt;: c\">d &amp; e</failure>"
        ));
        assert!(x.contains("<system-out>fallback: d &amp; e</system-out>"));
        assert!(render(&[f(Class::Fallback, "b")], true).contains("failures=\"1\""));
    }
}
