//! The smoke report: how many checks came out ok, fallback, drift or
//! unreachable, how far each flow was checked, then each finding that needs
//! a look, with the fix proposed, and the page each drifted flow stopped on.

use super::{card, page, png_src};
use crate::smoke::coverage::Coverage;
use crate::smoke::{Class, Finding};
use maud::{html, Markup};

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

/// The whole report; `all` lists the ok checks too.
pub fn render(title: &str, r: &Report, all: bool) -> String {
    let findings = r.findings;
    let n = |c: Class| findings.iter().filter(|f| f.class == c).count();
    let passed = !all && findings.iter().all(|f| f.class == Class::Ok);
    let body = html! {
        h1 { (title) }
        div.meta {
            "einvreg " (env!("CARGO_PKG_VERSION")) " · " (findings.len()) " checks · written "
            (crate::vault::now_rfc3339())
        }
        div.cards {
            (card("ok", n(Class::Ok), "good"))
            (card("fallback", n(Class::Fallback), "warn"))
            (card("drift", n(Class::Drift), "bad"))
            (card("unreachable", n(Class::Unreachable), "bad"))
        }
        (coverage(r.coverage))
        @if passed {
            p #all-passed class="st good" { "all " (findings.len()) " checks passed" }
        } @else {
            (table(findings, all))
            @for s in r.shots {
                details.shot open data-flow=(s.flow) {
                    summary { (s.flow) ": the page it stopped on" }
                    img.shot alt={ "screenshot of " (s.flow) } src=(png_src(s.png));
                }
            }
        }
    };
    page(title, body)
}

/// How far each flow was checked, a line each.
fn coverage(cs: &[Coverage]) -> Markup {
    html! {
        ul #coverage {
            @for c in cs { li { (c.line().trim_start_matches("coverage").trim()) } }
        }
    }
}

/// The findings that need a look (every one with `all`).
fn table(findings: &[Finding], all: bool) -> Markup {
    html! {
        table #findings {
            thead {
                tr {
                    th { "class" } th { "flow" } th { "screen" } th { "step" }
                    th { "check" } th { "target" } th { "detail" }
                }
            }
            tbody {
                @for f in findings.iter().filter(|f| all || f.class != Class::Ok) {
                    tr data-class=(f.class.as_str()) {
                        td { span class={ "st " (class(f.class)) } { (f.class.as_str()) } }
                        td { (f.flow) }
                        td { (f.screen) }
                        td { (f.step) }
                        td { (f.check.as_str()) }
                        td { code { (f.selector.as_deref().unwrap_or("")) } }
                        td {
                            (f.detail)
                            @if let Some(fix) = &f.fix { pre.fix { (fix) } }
                        }
                    }
                }
            }
        }
    }
}

fn class(c: Class) -> &'static str {
    match c {
        Class::Ok => "good",
        Class::Fallback => "warn",
        _ => "bad",
    }
}
