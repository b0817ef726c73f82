//! The batch report: a summary, then a row per GSTIN with its status, API
//! username, machine against human time, its step timeline and, when it
//! failed, the screenshot (secrets already hidden in it).

use super::{card, page, png_src};
use crate::batch::RowResult;
use crate::events::{RowStatus, RunStatus, StepTrace};
use maud::{html, Markup};

/// One row as the report shows it.
pub struct Row<'a> {
    /// The row's result (redacted, never a password).
    pub result: &'a RowResult,
    /// The failure screenshot, if one was kept.
    pub screenshot: Option<&'a [u8]>,
}

/// The portal a batch ran on, as the report's header names it.
pub struct Portal {
    /// Its base URL.
    pub address: String,
    /// The built-in replica: a rehearsal, no real credential.
    pub rehearsal: bool,
}

/// The whole report.
pub fn render(title: &str, portal: &Portal, rows: &[Row]) -> String {
    let body = html! {
        h1 { (title) }
        div.meta {
            "einvreg " (env!("CARGO_PKG_VERSION")) " · " (rows.len()) " rows · on "
            span #portal { (portal.address) }
            @if portal.rehearsal {
                " " span.rehearsal #rehearsal { "rehearsal on the built-in replica: no real credential" }
            }
            " · written " (crate::vault::now_rfc3339())
        }
        (summary(rows))
        table #rows {
            thead {
                tr {
                    th { "line" } th { "GSTIN" } th { "provider" } th { "status" }
                    th { "username" } th { "time: machine / people" } th { "detail" }
                }
            }
            tbody { @for r in rows { (row(r)) } }
        }
    };
    page(title, body)
}

fn summary(rows: &[Row]) -> Markup {
    let n = |f: &dyn Fn(RowStatus) -> bool| rows.iter().filter(|r| f(r.result.status)).count();
    let machine: f64 = rows.iter().map(|r| r.result.machine_s).sum();
    let human: f64 = rows.iter().map(|r| r.result.human_s).sum();
    let done = RowStatus::is_done;
    let doubt = |s| s == RowStatus::Ran(RunStatus::NeedsVerification);
    let registered = |s| s == RowStatus::Ran(RunStatus::Registered);
    html! {
        div.cards {
            (card("registered", n(&registered), "good"))
            (card("already registered or skipped", n(&|s| done(s) && !registered(s)), "good"))
            (card("need verification", n(&doubt), "warn"))
            (card("failed", n(&|s| !done(s) && !doubt(s)), "bad"))
            (card("machine time", format!("{machine:.0} s"), ""))
            (card("waiting for people", format!("{human:.0} s"), ""))
        }
    }
}

fn status_class(s: RowStatus) -> &'static str {
    match s {
        s if s.is_done() => "good",
        RowStatus::Ran(RunStatus::NeedsVerification) | RowStatus::NotStarted => "warn",
        _ => "bad",
    }
}

fn row(r: &Row) -> Markup {
    let x = r.result;
    html! {
        tr data-gstin=(x.gstin) data-status=(x.status.as_str()) {
            td { (x.line) }
            td { (x.gstin) }
            td { (x.provider) }
            td { span class={ "st " (status_class(x.status)) } { (x.status.as_str()) } }
            td { (username(x)) }
            td { (times(x)) }
            td {
                (flows(&x.flows))
                (x.message)
                @if let Some(fix) = &x.fix { pre.fix { (fix) } }
                @if !x.steps.is_empty() { (timeline(&x.steps)) }
                @if let Some(png) = r.screenshot {
                    details open {
                        summary { "screenshot at the failure" }
                        img.shot alt={ "screenshot of line " (x.line) } src=(png_src(png));
                    }
                }
            }
        }
    }
}

/// Machine against people time, as a bar and in seconds.
fn times(x: &RowResult) -> Markup {
    let total = (x.machine_s + x.human_s).max(0.001);
    let (m, h) = (x.machine_s, x.human_s);
    html! {
        div.bar title=(format!("{m:.1} s machine, {h:.1} s people")) {
            span.machine style=(format!("width:{:.1}%", 100.0 * m / total)) {}
            span.human style=(format!("width:{:.1}%", 100.0 * h / total)) {}
        }
        (format!("{m:.1} s / {h:.1} s"))
    }
}

/// The username made, with its kind when it is not an API user's.
fn username(x: &RowResult) -> Markup {
    html! {
        (x.api_username.as_deref().unwrap_or("–"))
        @if let Some(k @ crate::vault::Kind::PortalLogin) = x.credential_kind {
            " " span.kind { (k.name()) }
        }
    }
}

/// A chained row's flows, each with its status, before the detail.
fn flows(flows: &[crate::batch::report::FlowResult]) -> Markup {
    html! {
        @if !flows.is_empty() {
            ol.flows {
                @for f in flows {
                    li { (f.flow) " " span class={ "st " (status_class(f.status)) } { (f.status.as_str()) } }
                }
            }
        }
    }
}

/// The steps as a table with a bar at each step's start, scaled to the run.
fn timeline(steps: &[StepTrace]) -> Markup {
    let end = steps
        .iter()
        .map(|s| s.started_ms + s.ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    html! {
        details {
            summary { (steps.len()) " steps" }
            table.steps {
                @for st in steps {
                    tr {
                        td { (format!("{:.1} s", st.started_ms as f64 / 1000.0)) }
                        td { (st.screen) }
                        td { (st.step) }
                        td { (st.result.to_string()) }
                        td style="width:200px" {
                            span.t style=(format!(
                                "margin-left:{:.1}%;width:{:.1}%",
                                100.0 * st.started_ms as f64 / end,
                                (100.0 * st.ms as f64 / end).max(0.5)
                            )) {}
                        }
                        td { (st.ms) " ms" }
                    }
                }
            }
        }
    }
}
