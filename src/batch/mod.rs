//! Batch registration: many GSTINs, each in its own fresh browser session,
//! `parallel` at a time, all prompts through one operator queue, with a
//! journal of every transition and a vault written before every submit.

pub mod journal;
pub mod report;
pub mod rows;

use crate::driver::Endpoint;
use crate::flow::inputs;
use crate::flow::Flow;
use crate::operator::Queue;
use crate::redact::{Redactor, Secret};
use crate::runner::{self, RunSpec, RunStatus};
use crate::vault::{self, Vault};
use journal::{Entry, Journal, State};
pub use report::RowResult;
use rows::Row;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct BatchSpec {
    pub flow: Arc<Flow>,
    pub base_url: String,
    pub rows: Vec<Row>,
    pub parallel: usize,
    pub vault: Arc<Vault>,
    pub journal: Arc<Journal>,
    pub queue: Arc<Queue>,
    pub redactor: Redactor,
    pub artifacts_root: PathBuf,
    /// Portal login passwords by portal username.
    pub logins: HashMap<String, Secret>,
    /// API passwords given for a GSTIN (otherwise generated).
    pub api_passwords: HashMap<String, Secret>,
    /// Last journal state per row key, with --resume.
    pub resume: Option<HashMap<String, Entry>>,
    /// Set on the first Ctrl-C: start nothing new.
    pub stop: Arc<AtomicBool>,
}

/// What the display hears about.
pub trait Progress: Send + Sync {
    fn started(&self, row: &Row);
    fn finished(&self, r: &RowResult);
    fn note(&self, msg: &str);
}

fn entry(row: &Row, state: State) -> Entry {
    Entry {
        at: vault::now_rfc3339(),
        key: row.key(),
        gstin: row.get("gstin").unwrap_or("").to_uppercase(),
        line: row.line,
        state,
        status: None,
        vault_id: None,
        message: None,
    }
}

/// Whether a row needs running, given what an earlier run recorded.
enum Plan {
    Run,
    /// Ran before and may have submitted: run, and let the portal's answer decide.
    Verify(Option<String>),
    Skip(String),
}

fn plan(spec: &BatchSpec, row: &Row) -> Plan {
    let Some(prev) = spec.resume.as_ref().and_then(|m| m.get(&row.key())) else {
        return Plan::Run;
    };
    match (prev.state, prev.status.as_deref()) {
        (State::Finished, Some("registered")) => Plan::Skip("registered in an earlier run".into()),
        (State::Finished, Some("already_registered")) => {
            Plan::Skip("already registered (earlier run)".into())
        }
        (State::Finished, Some("needs_verification"))
        | (State::Submitting, _)
        | (State::InDoubt, _) => Plan::Verify(prev.vault_id.clone()),
        (State::Started, _) => Plan::Verify(None),
        _ => Plan::Run,
    }
}

pub async fn run(
    endpoint: Arc<Endpoint>,
    spec: Arc<BatchSpec>,
    progress: Arc<dyn Progress>,
) -> Vec<RowResult> {
    let sem = Arc::new(tokio::sync::Semaphore::new(spec.parallel.max(1)));
    let mut handles = vec![];
    for row in spec.rows.clone() {
        let (spec, sem, endpoint, progress) = (
            spec.clone(),
            sem.clone(),
            endpoint.clone(),
            progress.clone(),
        );
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            if spec.stop.load(Ordering::SeqCst) {
                return RowResult::not_started(&row, "not started: stopped by Ctrl-C");
            }
            let r = one(&endpoint, &spec, &row, progress.as_ref()).await;
            progress.finished(&r);
            r
        }));
    }
    let mut out = vec![];
    for h in handles {
        match h.await {
            Ok(r) => out.push(r),
            Err(e) => tracing::error!("a batch task failed: {e}"),
        }
    }
    out.sort_by_key(|r| r.line);
    out
}

async fn one(
    endpoint: &Endpoint,
    spec: &BatchSpec,
    row: &Row,
    progress: &dyn Progress,
) -> RowResult {
    let verify = match plan(spec, row) {
        Plan::Skip(why) => return RowResult::skipped(row, &why),
        Plan::Run => None,
        Plan::Verify(v) => Some(v),
    };
    let gstin = row.get("gstin").unwrap_or("").to_uppercase();
    let flow = &spec.flow;
    let api_pw_input = flow
        .credentials
        .as_ref()
        .map(|c| c.password.clone())
        .unwrap_or_default();
    let resolved = inputs::resolve(flow, &row.given, |name| {
        if name == api_pw_input {
            return spec.api_passwords.get(&gstin).cloned();
        }
        // Portal login passwords, by login.
        row.get("portal_username")
            .and_then(|u| spec.logins.get(u))
            .cloned()
    });
    let resolved = match resolved {
        Ok(r) => r,
        Err(ps) => {
            return RowResult::failed(
                row,
                &ps.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        }
    };
    for s in resolved.secrets.values() {
        spec.redactor.add(s.expose());
    }
    let _ = spec.journal.write(&entry(row, State::Started));
    progress.started(row);
    let journal = spec.journal.clone();
    let row_c = row.clone();
    let on_pending: runner::PendingSink = Arc::new(move |id: &str| {
        let mut e = entry(&row_c, State::Submitting);
        e.vault_id = Some(id.to_string());
        let _ = journal.write(&e);
    });
    let artifacts = spec.artifacts_root.join(format!("{:04}-{gstin}", row.line));
    let run_spec = RunSpec {
        flow: flow.clone(),
        base_url: spec.base_url.clone(),
        vars: resolved.vars,
        secrets: resolved.secrets,
        artifacts: artifacts.clone(),
        vault: Some(spec.vault.clone()),
        queue: spec.queue.clone(),
        redactor: spec.redactor.clone(),
        on_event: None,
        on_pending: Some(on_pending),
    };
    let report = runner::run_in_new_session(endpoint, &run_spec).await;
    let mut status = report.status;
    let mut message = report.message.clone();
    // Resuming a row that may have submitted: the portal's answer decides.
    if let Some(prev_vault) = verify {
        let prev = prev_vault.or_else(|| latest_vault_id(spec, &gstin, row));
        match (status, prev) {
            (RunStatus::AlreadyRegistered, Some(id)) => {
                let _ = spec.vault.set_status(
                    &id,
                    vault::Status::Created,
                    Some("confirmed on resume: the portal lists this registration".into()),
                );
                status = RunStatus::Registered;
                message =
                    "confirmed: created by the interrupted run (credential in the vault)".into();
            }
            (RunStatus::Registered, Some(id)) => {
                let _ = spec.vault.set_status(
                    &id,
                    vault::Status::Failed,
                    Some("superseded: the interrupted run never reached the portal".into()),
                );
            }
            _ => {}
        }
    }
    let mut fin = entry(row, State::Finished);
    fin.status = Some(status.as_str().into());
    fin.message = Some(spec.redactor.redact(&message));
    let _ = spec.journal.write(&fin);
    RowResult {
        line: row.line,
        gstin,
        provider: row
            .get("provider")
            .or(row.get("through"))
            .unwrap_or("")
            .to_string(),
        status: status.as_str().into(),
        exit: status.exit_code(),
        message: spec.redactor.redact(&message),
        api_username: report.api_username.clone(),
        machine_s: report.machine_time().as_secs_f64(),
        human_s: report.human_wait.as_secs_f64(),
        artifacts: Some(artifacts),
    }
}

/// The newest vault record for this row still pending or unverified.
fn latest_vault_id(spec: &BatchSpec, gstin: &str, row: &Row) -> Option<String> {
    let creds = Vault::read(spec.vault.path()).ok()?;
    let provider = row.get("provider").unwrap_or("");
    creds
        .into_iter()
        .rev()
        .find(|c| {
            c.gstin == gstin
                && c.portal == spec.flow.portal.as_str()
                && (provider.is_empty() || c.provider == provider)
                && matches!(
                    c.status,
                    vault::Status::Pending | vault::Status::NeedsVerification
                )
        })
        .map(|c| c.id)
}

/// Marks rows still in flight as in doubt (second Ctrl-C).
pub fn mark_in_doubt(journal: &Journal, rows: &[Row]) {
    let last = Journal::last_states(journal.path()).unwrap_or_default();
    for r in rows {
        if let Some(e) = last.get(&r.key()) {
            if matches!(e.state, State::Started | State::Submitting) {
                let mut d = entry(r, State::InDoubt);
                d.vault_id = e.vault_id.clone();
                let _ = journal.write(&d);
            }
        }
    }
}
