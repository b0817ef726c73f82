//! The batch report: a summary, then a row per GSTIN with its status, API
//! username, machine against human time, its step timeline and, when it
//! failed, the screenshot (secrets already hidden in it).

use super::{card, escape, page, png_src};
use crate::batch::RowResult;
use crate::events::{RowStatus, RunStatus, StepTrace};

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
    let mut body = format!(
        "<h1>{}</h1><div class=\"meta\">einvreg {} · {} rows · on <span id=\"portal\">{}</span>{} · written {}</div>",
        escape(title),
        env!("CARGO_PKG_VERSION"),
        rows.len(),
        escape(&portal.address),
        match portal.rehearsal {
            true => " <span class=\"rehearsal\" id=\"rehearsal\">rehearsal on the built-in replica: no real credential</span>",
            false => "",
        },
        crate::vault::now_rfc3339()
    );
    body.push_str(&summary(rows));
    body.push_str("<table id=\"rows\"><thead><tr><th>line</th><th>GSTIN</th><th>provider</th><th>status</th><th>username</th><th>time: machine / people</th><th>detail</th></tr></thead><tbody>\n");
    for r in rows {
        body.push_str(&row(r));
    }
    body.push_str("</tbody></table>");
    page(title, &body)
}

fn summary(rows: &[Row]) -> String {
    let n = |f: &dyn Fn(RowStatus) -> bool| rows.iter().filter(|r| f(r.result.status)).count();
    let machine: f64 = rows.iter().map(|r| r.result.machine_s).sum();
    let human: f64 = rows.iter().map(|r| r.result.human_s).sum();
    let done = RowStatus::is_done;
    let doubt = |s| s == RowStatus::Ran(RunStatus::NeedsVerification);
    [
        card(
            "registered",
            n(&|s| s == RowStatus::Ran(RunStatus::Registered)),
            "good",
        ),
        card(
            "already registered or skipped",
            n(&|s| done(s) && s != RowStatus::Ran(RunStatus::Registered)),
            "good",
        ),
        card("need verification", n(&doubt), "warn"),
        card("failed", n(&|s| !done(s) && !doubt(s)), "bad"),
        card("machine time", format!("{machine:.0} s"), ""),
        card("waiting for people", format!("{human:.0} s"), ""),
    ]
    .into_iter()
    .fold(String::from("<div class=\"cards\">"), |a, c| a + &c)
        + "</div>"
}

fn status_class(s: RowStatus) -> &'static str {
    match s {
        s if s.is_done() => "good",
        RowStatus::Ran(RunStatus::NeedsVerification) | RowStatus::NotStarted => "warn",
        _ => "bad",
    }
}

fn row(r: &Row) -> String {
    let x = r.result;
    let total = (x.machine_s + x.human_s).max(0.001);
    let bar = format!(
        "<div class=\"bar\" title=\"{m:.1} s machine, {h:.1} s people\"><span class=\"machine\" style=\"width:{mp:.1}%\"></span><span class=\"human\" style=\"width:{hp:.1}%\"></span></div>{m:.1} s / {h:.1} s",
        m = x.machine_s,
        h = x.human_s,
        mp = 100.0 * x.machine_s / total,
        hp = 100.0 * x.human_s / total,
    );
    let mut detail = flows(&x.flows);
    detail.push_str(&escape(&x.message));
    if let Some(fix) = &x.fix {
        detail.push_str(&format!("<pre class=\"fix\">{}</pre>", escape(fix)));
    }
    if !x.steps.is_empty() {
        detail.push_str(&timeline(&x.steps));
    }
    if let Some(png) = r.screenshot {
        detail.push_str(&format!(
            "<details open><summary>screenshot at the failure</summary><img class=\"shot\" alt=\"screenshot of line {}\" src=\"{}\"></details>",
            x.line,
            png_src(png)
        ));
    }
    format!(
        "<tr data-gstin=\"{g}\" data-status=\"{s}\"><td>{l}</td><td>{g}</td><td>{p}</td><td><span class=\"st {c}\">{s}</span></td><td>{u}</td><td>{bar}</td><td>{detail}</td></tr>\n",
        g = escape(&x.gstin),
        s = x.status.as_str(),
        l = x.line,
        p = escape(&x.provider),
        c = status_class(x.status),
        u = username(x),
    )
}

/// The username made, with its kind when it is not an API user's.
fn username(x: &crate::batch::RowResult) -> String {
    let name = escape(x.api_username.as_deref().unwrap_or("–"));
    match x.credential_kind {
        Some(k @ crate::vault::Kind::PortalLogin) => {
            format!("{name} <span class=\"kind\">{}</span>", k.name())
        }
        _ => name,
    }
}

/// A chained row's flows, each with its status, before the detail.
fn flows(flows: &[crate::batch::report::FlowResult]) -> String {
    if flows.is_empty() {
        return String::new();
    }
    let items: String = flows
        .iter()
        .map(|f| {
            format!(
                "<li>{} <span class=\"st {}\">{}</span></li>",
                escape(&f.flow),
                status_class(f.status),
                f.status.as_str()
            )
        })
        .collect();
    format!("<ol class=\"flows\">{items}</ol>")
}

/// The steps as a table with a bar at each step's start, scaled to the run.
fn timeline(steps: &[StepTrace]) -> String {
    let end = steps
        .iter()
        .map(|s| s.started_ms + s.ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut s = format!(
        "<details><summary>{} steps</summary><table class=\"steps\">",
        steps.len()
    );
    for st in steps {
        let result = st.result.to_string();
        s.push_str(&format!(
            "<tr><td>{:.1} s</td><td>{}</td><td>{}</td><td>{}</td><td style=\"width:200px\"><span class=\"t\" style=\"margin-left:{:.1}%;width:{:.1}%\"></span></td><td>{} ms</td></tr>",
            st.started_ms as f64 / 1000.0,
            escape(&st.screen),
            escape(&st.step),
            escape(&result),
            100.0 * st.started_ms as f64 / end,
            (100.0 * st.ms as f64 / end).max(0.5),
            st.ms
        ));
    }
    s + "</table></details>"
}
