//! The smoke report: how many checks came out ok, fallback, drift or
//! unreachable, then each finding that needs a look, with the fix
//! proposed, and the page each drifted flow stopped on.

use super::{card, escape, page, png_src};
use crate::smoke::coverage::Coverage;
use crate::smoke::{Class, Finding};

/// A drifted flow's screenshot (PNG) of the page it stopped on.
pub struct Shot<'a> {
    pub flow: &'a str,
    pub png: &'a [u8],
}

/// What the report shows: the findings, how far each flow was checked,
/// and each drifted flow's page.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub coverage: &'a [Coverage],
    pub shots: &'a [Shot<'a>],
}

/// How far each flow was checked, a line each.
fn coverage(cs: &[Coverage]) -> String {
    let items: String = cs
        .iter()
        .map(|c| {
            format!(
                "<li>{}</li>",
                escape(c.line().trim_start_matches("coverage").trim())
            )
        })
        .collect();
    format!("<ul id=\"coverage\">{items}</ul>")
}

/// The whole report; `all` lists the ok checks too.
pub fn render(title: &str, r: &Report, all: bool) -> String {
    let (findings, shots) = (r.findings, r.shots);
    let n = |c: Class| findings.iter().filter(|f| f.class == c).count();
    let mut body = format!(
        "<h1>{}</h1><div class=\"meta\">einvreg {} · {} checks · written {}</div><div class=\"cards\">{}{}{}{}</div>",
        escape(title),
        env!("CARGO_PKG_VERSION"),
        findings.len(),
        crate::vault::now_rfc3339(),
        card("ok", n(Class::Ok), "good"),
        card("fallback", n(Class::Fallback), "warn"),
        card("drift", n(Class::Drift), "bad"),
        card("unreachable", n(Class::Unreachable), "bad"),
    );
    body.push_str(&coverage(r.coverage));
    if !all && findings.iter().all(|f| f.class == Class::Ok) {
        body.push_str(&format!(
            "<p id=\"all-passed\" class=\"st good\">all {} checks passed</p>",
            findings.len()
        ));
        return page(title, &body);
    }
    body.push_str("<table id=\"findings\"><thead><tr><th>class</th><th>flow</th><th>screen</th><th>step</th><th>check</th><th>target</th><th>detail</th></tr></thead><tbody>\n");
    for f in findings.iter().filter(|f| all || f.class != Class::Ok) {
        let class = match f.class {
            Class::Ok => "good",
            Class::Fallback => "warn",
            _ => "bad",
        };
        let fix = f
            .fix
            .as_ref()
            .map(|x| format!("<pre class=\"fix\">{}</pre>", escape(x)))
            .unwrap_or_default();
        body.push_str(&format!(
            "<tr data-class=\"{k}\"><td><span class=\"st {class}\">{k}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}{fix}</td></tr>\n",
            escape(&f.flow),
            escape(&f.screen),
            escape(&f.step),
            f.check.as_str(),
            escape(f.selector.as_deref().unwrap_or("")),
            escape(&f.detail),
            k = f.class.as_str(),
        ));
    }
    body.push_str("</tbody></table>");
    for s in shots {
        body.push_str(&format!(
            "<details open class=\"shot\" data-flow=\"{f}\"><summary>{f}: the page it stopped on</summary><img class=\"shot\" alt=\"screenshot of {f}\" src=\"{}\"></details>",
            png_src(s.png),
            f = escape(s.flow),
        ));
    }
    page(title, &body)
}
