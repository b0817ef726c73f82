//! The smoke check: walks each flow with the runner's own walk in
//! [`Mode::Inspect`], as far as it goes with no person and no side
//! effect, and collects the walk's [`Check`] events. A captcha, an OTP, a
//! submit or a step marked `barrier` is never crossed. Each finding is
//! `ok`, `fallback`, `drift` or `unreachable`.

pub mod coverage;
pub mod junit;

pub use crate::events::{Check as Finding, CheckKind, Class};

use crate::events::{self, Collector, Event, RunStatus};
use crate::flow::Flow;
use crate::operator::{Nobody, Queue};
use crate::redact::Redactor;
use crate::runner::{Mode, RunReport, RunSpec};
use fantoccini::Client;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// One flow to check.
pub struct SmokeSpec {
    /// The flow.
    pub flow: Arc<Flow>,
    /// The portal's address.
    pub base_url: String,
    /// Values to check (e.g. a provider); choice inputs not given are checked for every value.
    pub vars: HashMap<String, String>,
    /// The longest wait for any page or element.
    pub timeout: Duration,
    /// Where screenshots of drifted pages go (one folder per flow).
    pub artifacts: PathBuf,
}

/// Checks one flow in the given browser session; returns every finding.
pub async fn smoke(c: &Client, spec: &SmokeSpec) -> Vec<Finding> {
    let (checks, sink) = Collector::new(|e| match e {
        Event::Check(c) => Some(c.clone()),
        _ => None,
    });
    let run = RunSpec {
        flow: spec.flow.clone(),
        base_url: spec.base_url.clone(),
        vars: spec.vars.clone(),
        secrets: HashMap::new(),
        artifacts: spec.artifacts.join(&spec.flow.name),
        ledger: crate::ledger::Ledger::none(),
        queue: Arc::new(Queue::new(Arc::new(Nobody), events::discard())),
        redactor: Redactor::new(),
        events: sink,
        mode: Mode::Inspect {
            timeout: spec.timeout,
        },
        // Smoke stops before anything a person answers.
        keep_alive: std::time::Duration::ZERO,
        repairs: None,
    };
    let report = crate::runner::run_in(c, &run).await;
    let mut out = checks.take();
    crate::runner::proposal::for_recognition(c, &spec.flow, &mut out).await;
    if let Some(f) = unreported_failure(&spec.flow, &report, &out) {
        out.push(f);
    }
    out
}

/// A walk that stopped for a reason no check reported (a lost browser,
/// an alert) still fails the check.
fn unreported_failure(flow: &Flow, report: &RunReport, found: &[Finding]) -> Option<Finding> {
    let failed = !matches!(report.status, RunStatus::Registered | RunStatus::Drift);
    if !failed || found.iter().any(|f| f.class >= Class::Drift) {
        return None;
    }
    let class = match report.status {
        RunStatus::PortalError | RunStatus::LoginRefused => Class::Unreachable,
        _ => Class::Drift,
    };
    Some(Finding {
        flow: flow.name.clone(),
        screen: report
            .steps
            .last()
            .map(|s| s.screen.clone())
            .unwrap_or_default(),
        step: report
            .steps
            .last()
            .map(|s| s.step.clone())
            .unwrap_or_default(),
        check: CheckKind::Navigation,
        selector: None,
        class,
        detail: report.message.clone(),
        fix: None,
        // The walk's time after its last finding is not known here.
        time_s: 0.0,
    })
}

/// The findings as a table: problems (or everything with `verbose`), then a count.
pub fn table(findings: &[Finding], verbose: bool) -> String {
    let mut s = String::new();
    for f in findings.iter().filter(|f| verbose || f.class != Class::Ok) {
        let sel = f
            .selector
            .as_ref()
            .map(|x| format!(" [{x}]"))
            .unwrap_or_default();
        s.push_str(&format!(
            "{:<11} {} › {} › {}: {}{sel}\n",
            f.class.as_str(),
            f.flow,
            f.screen,
            f.step,
            f.detail
        ));
        if let Some(fix) = &f.fix {
            for l in fix.lines() {
                s.push_str(&format!("    {l}\n"));
            }
        }
    }
    let n = |c: Class| findings.iter().filter(|f| f.class == c).count();
    s.push_str(&format!(
        "{} checks: {} ok, {} fallback, {} drift, {} unreachable\n",
        findings.len(),
        n(Class::Ok),
        n(Class::Fallback),
        n(Class::Drift),
        n(Class::Unreachable)
    ));
    s
}
