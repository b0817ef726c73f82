//! Batch registration: many GSTINs, each in its own fresh browser session,
//! `parallel` at a time, all prompts through one operator queue, with a
//! journal of every transition and a vault written before every submit.
//!
//! Records that must not be lost (the journal, the vault) are written
//! through `books`: each row's walk gets a [`Ledger`] that tells the
//! journal before its submit, and every failed write comes back as a
//! typed [`StoreFailure`]. The event stream (`RowStarted`,
//! `RowFinished`, each row's walk events) is for displays only.

mod books;
pub mod journal;
mod plan;
pub mod prepare;
pub mod report;
pub mod rows;
mod verify;

pub use books::StoreFailure;
pub use prepare::{prepare, Checks, CsvSource, PrepareError, Prepared};
pub use report::RowResult;

use crate::driver::Endpoint;
use crate::events::{Ending, Event, RowStatus, RunStatus, Sink};
use crate::flow::inputs;
use crate::flow::Flow;
use crate::ledger::Ledger;
use crate::operator::Queue;
use crate::redact::{Redactor, Secret};
use crate::runner::{self, Mode, RunSpec};
use crate::secrets::{SecretsFile, Want};
use crate::vault::{self, Vault};
use books::{entry, RowBook};
use journal::{Entry, Journal, State};
use plan::Plan;
use rows::Row;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Everything a batch run needs.
pub struct BatchSpec {
    /// The flow every row runs.
    pub flow: Arc<Flow>,
    /// The portal's address.
    pub base_url: String,
    /// Valid rows, in file order.
    pub rows: Vec<Row>,
    /// Browser sessions at once.
    pub parallel: usize,
    /// Where credentials are written before each submit.
    pub vault: Arc<Vault>,
    /// Every row's state changes.
    pub journal: Arc<Journal>,
    /// Who answers prompts, one at a time.
    pub queue: Arc<Queue>,
    /// Masks every secret in what leaves the batch.
    pub redactor: Redactor,
    /// Each row's folder goes under this one.
    pub artifacts_root: PathBuf,
    /// The secrets file: logins, API passwords, other secret inputs.
    pub secrets: SecretsFile,
    /// Last journal state per row key, with --resume.
    pub resume: Option<HashMap<String, Entry>>,
    /// Set on the first Ctrl-C (or a journal or vault write that failed): start nothing new.
    pub stop: Arc<AtomicBool>,
    /// Where rows and their walks report.
    pub events: Sink,
    /// `--verify`: check credentials through the e-Invoice auth API.
    pub verify: Option<crate::verify::AfterRun>,
    /// How often a session awaiting a person is touched (zero: never).
    pub keep_alive: std::time::Duration,
    /// `--repair`: one book for every row, so a drift is asked about once.
    pub repairs: Option<Arc<crate::repair::Book>>,
}

/// What a batch run produced.
pub struct BatchOutcome {
    /// One result per row, in file order.
    pub results: Vec<RowResult>,
    /// The journal or the vault could not be written: rows after the
    /// first failure were not started. Each names what was not recorded.
    pub store_errors: Vec<StoreFailure>,
}

/// A row's input problems, found when its secrets are resolved.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
struct RowInputs(Vec<inputs::InputProblem>);

/// Shared between the rows of one run.
struct Shared {
    spec: Arc<BatchSpec>,
    store_errors: Mutex<Vec<StoreFailure>>,
    /// With `--resume`: the vault as the earlier run left it, read (and
    /// decrypted) once for every row.
    earlier: Vec<vault::Credential>,
}

impl Shared {
    /// Appends `row`'s entry to the journal. A failed write stops new
    /// rows: without the journal a later `--resume` could not tell what
    /// was submitted.
    fn record(&self, row: &Row, e: &Entry) {
        if let Err(source) = self.spec.journal.write(e) {
            self.store_failed(StoreFailure::Journal {
                line: row.line,
                gstin: row.gstin(),
                source,
            });
        }
    }

    /// The ledger `row`'s walk records its credential through.
    fn ledger(&self, row: &Row) -> Ledger {
        let book = RowBook {
            journal: self.spec.journal.clone(),
            row: row.clone(),
        };
        Ledger::vault(self.spec.vault.clone()).with_journal(Arc::new(book))
    }

    /// Why rows are no longer started.
    fn why_stopped(&self) -> &'static str {
        match self
            .store_errors
            .lock()
            .expect("store errors lock")
            .is_empty()
        {
            true => "not started: stopped by Ctrl-C",
            false => "not started: a journal or vault write failed",
        }
    }

    /// A write failed: start no new rows, let running ones finish, and
    /// keep the failure for the end (and the exit code).
    fn store_failed(&self, failure: StoreFailure) {
        let msg = crate::chain::chain(&failure);
        tracing::error!("{msg}");
        let first = !self.spec.stop.swap(true, Ordering::SeqCst);
        let note = match first {
            true => format!("error: {msg}; starting no new GSTINs"),
            false => format!("error: {msg}"),
        };
        (self.spec.events)(&Event::Note(note));
        self.store_errors
            .lock()
            .expect("store errors lock")
            .push(failure);
    }
}

/// Runs every row, `parallel` at a time.
pub async fn run(endpoint: Arc<Endpoint>, spec: Arc<BatchSpec>) -> BatchOutcome {
    let sem = Arc::new(tokio::sync::Semaphore::new(spec.parallel.max(1)));
    let shared = Arc::new(Shared {
        spec: spec.clone(),
        store_errors: Mutex::new(vec![]),
        earlier: earlier_vault(&spec),
    });
    // Every row opens a session: the first ones start now, the next ones
    // while earlier rows run.
    endpoint.plan_sessions(spec.rows.len(), spec.parallel.max(1));
    let mut handles = vec![];
    for row in spec.rows.clone() {
        let (shared, endpoint) = (shared.clone(), endpoint.clone());
        // The permit is taken here, not in the task: rows start in file order.
        let permit = sem.clone().acquire_owned().await.expect("semaphore open");
        handles.push(tokio::spawn(async move {
            let _permit = permit;
            let r = match shared.spec.stop.load(Ordering::SeqCst) {
                true => RowResult::plain(&row, RowStatus::NotStarted, shared.why_stopped()),
                false => one(&endpoint, &shared, &row).await,
            };
            (shared.spec.events)(&Event::RowFinished {
                line: r.line,
                gstin: r.gstin.clone(),
                status: r.status,
                message: r.message.clone(),
            });
            r
        }));
    }
    let mut results = vec![];
    for h in handles {
        match h.await {
            Ok(r) => results.push(r),
            Err(e) => tracing::error!("a batch task failed: {e}"),
        }
    }
    results.sort_by_key(|r| r.line);
    endpoint.close_ahead().await;
    let store_errors = std::mem::take(&mut *shared.store_errors.lock().expect("store errors lock"));
    BatchOutcome {
        results,
        store_errors,
    }
}

/// The walk's spec for one row, or why the row cannot run (its input problems, joined).
/// A resumed row's pending credential (`reuse`) replaces the username and
/// password it would otherwise get: the portal may already hold them.
fn row_spec(
    shared: &Arc<Shared>,
    row: &Row,
    reuse: Option<&vault::Credential>,
) -> Result<RunSpec, RowInputs> {
    let spec = &shared.spec;
    let gstin = row.gstin();
    let mut resolved = inputs::resolve(&spec.flow, &row.given, |name, _| {
        let want = Want::of(&spec.flow, name, Some(&gstin), row.get("portal_username"));
        spec.secrets.find(want).cloned()
    })
    .map_err(RowInputs)?;
    if let (Some(c), Some(creds)) = (reuse, &spec.flow.credentials) {
        let name = c
            .username
            .strip_prefix(&creds.prefix)
            .unwrap_or(&c.username);
        resolved
            .vars
            .insert(creds.username.clone(), name.to_string());
        let password = Secret::new(c.password.clone());
        resolved.secrets.insert(creds.password.clone(), password);
    }
    for s in resolved.secrets.values() {
        spec.redactor.add(s.expose());
    }
    Ok(RunSpec {
        flow: spec.flow.clone(),
        base_url: spec.base_url.clone(),
        vars: resolved.vars,
        secrets: resolved.secrets,
        artifacts: spec.artifacts_root.join(format!("{:04}-{gstin}", row.line)),
        ledger: shared.ledger(row).reusing(reuse.map(|c| c.id.clone())),
        queue: spec.queue.clone(),
        redactor: spec.redactor.clone(),
        events: spec.events.clone(),
        mode: Mode::Register,
        keep_alive: spec.keep_alive,
        repairs: spec.repairs.clone(),
    })
}

async fn one(endpoint: &Arc<Endpoint>, shared: &Arc<Shared>, row: &Row) -> RowResult {
    let spec = &shared.spec;
    let prev = spec.resume.as_ref().and_then(|m| m.get(&row.key()));
    let known = match plan::plan(prev) {
        Plan::Skip(why) => return RowResult::plain(row, RowStatus::Skipped, why),
        Plan::Run => None,
        Plan::Verify(v) => v,
    };
    // Resuming, any credential of this row still in doubt is submitted again as is.
    let reuse = match spec.resume.is_some() {
        true => match in_doubt(spec, &shared.earlier, row, known.as_deref()) {
            InDoubt::Created => {
                let why = "registered in an earlier run (the vault records it created)";
                return RowResult::plain(row, RowStatus::Skipped, why);
            }
            InDoubt::Pending(c) => match verify::resumed(shared, row, &c).await {
                verify::Resumed::Confirmed(why) => {
                    return finished(shared, row, RunStatus::Registered, why)
                }
                verify::Resumed::Rejected => None,
                verify::Resumed::Unsettled => Some(*c),
            },
            InDoubt::None => None,
        },
        false => None,
    };
    let run_spec = match row_spec(shared, row, reuse.as_ref()) {
        Ok(s) => s,
        Err(why) => {
            return RowResult::plain(row, RowStatus::Ran(RunStatus::Failed), &why.to_string())
        }
    };
    shared.record(row, &entry(row, State::Started));
    (spec.events)(&Event::RowStarted {
        line: row.line,
        gstin: row.gstin(),
    });
    let report = run_row(endpoint, shared, row, &run_spec).await;
    if let Some(e) = &report.store_error {
        shared.store_failed(StoreFailure::row(row, e.clone()));
    }
    let end = match &reuse {
        // The portal's answer to the credential resubmitted decides.
        Some(c) => confirm(shared, row, &c.id, &report),
        None => Ending::new(report.status, report.message.clone()),
    };
    let end = unrecorded(&report, end);
    let Ending { status, message } = verify::after(shared, row, &report, end).await;
    let message = spec.redactor.redact(&message);
    let mut fin = entry(row, State::Finished);
    fin.answered = report.answered.clone();
    journal_finished(shared, row, fin, status, &message);
    RowResult {
        status: status.into(),
        message,
        fix: report.fix.clone(),
        api_username: report.api_username.clone(),
        machine_s: report.machine_time().as_secs_f64(),
        human_s: report.human_wait.as_secs_f64(),
        artifacts: Some(run_spec.artifacts),
        steps: report.steps.clone(),
        ..RowResult::plain(row, status.into(), "")
    }
}

/// Times a row is started again after its browser session was lost.
const RESTARTS: u32 = 2;

/// Walks the row. A session lost before the submit (nothing in the vault
/// yet, so nothing can exist on the portal) starts the row again on a new
/// session, which goes elsewhere while the endpoint that lost it rests;
/// one lost after the submit is in doubt (the runner's in-flight rule).
async fn run_row(
    endpoint: &Arc<Endpoint>,
    shared: &Shared,
    row: &Row,
    spec: &RunSpec,
) -> runner::RunReport {
    let mut restarts = 0;
    loop {
        let report = runner::run_in_new_session(endpoint, spec).await;
        let before_submit = report.session_lost && report.credential.is_none();
        let stopping = shared.spec.stop.load(Ordering::SeqCst);
        if !before_submit || stopping || restarts == RESTARTS {
            return report;
        }
        restarts += 1;
        let note = format!(
            "line {} ({}): the browser session was lost before the submit; starting the row again ({restarts} of {RESTARTS})",
            row.line,
            row.gstin()
        );
        tracing::warn!("{note}");
        (shared.spec.events)(&Event::Note(note));
        shared.record(row, &entry(row, State::Started));
    }
}

/// A row settled without a run: journaled and reported.
fn finished(shared: &Shared, row: &Row, status: RunStatus, message: String) -> RowResult {
    journal_finished(shared, row, entry(row, State::Finished), status, &message);
    RowResult::plain(row, status.into(), &message)
}

fn journal_finished(shared: &Shared, row: &Row, mut fin: Entry, status: RunStatus, message: &str) {
    fin.status = Some(status.into());
    fin.message = Some(message.to_string());
    shared.record(row, &fin);
}

/// A registration the vault could not record as created stays in doubt
/// (its record says pending), so `--resume` settles it.
fn unrecorded(report: &runner::RunReport, end: Ending) -> Ending {
    match (&report.store_error, end.status) {
        (Some(e), RunStatus::Registered) => Ending::new(
            RunStatus::NeedsVerification,
            format!(
                "the portal created it, but {}",
                crate::chain::Chain(e.as_ref())
            ),
        ),
        _ => end,
    }
}

/// A resumed row's result once its pending credential was submitted
/// again: the portal's "already registered" or "already created" means
/// the interrupted run created it, so it is confirmed; "created" was
/// recorded by the walk itself (same vault id). Exactly one `created`.
fn confirm(shared: &Shared, row: &Row, id: &str, report: &runner::RunReport) -> Ending {
    let portal_knows = report.status == RunStatus::AlreadyRegistered
        || (report.status == RunStatus::NeedsVerification && report.outcome.is_some());
    if !portal_knows {
        return Ending::new(report.status, report.message.clone());
    }
    let note = "confirmed on resume: the portal already holds this credential";
    let settled = shared
        .ledger(row)
        .settle(id, vault::Status::Created, Some(note.into()));
    if let Err(e) = settled {
        shared.store_failed(StoreFailure::row(row, Arc::new(e)));
    }
    let msg = "confirmed: created by the interrupted run (credential in the vault)";
    Ending::new(RunStatus::Registered, msg)
}

/// What the vault holds for a resumed row.
enum InDoubt {
    /// Nothing in doubt: register afresh.
    None,
    /// The journal's credential is already `created`.
    Created,
    /// A pending (or unverified) credential: resubmit it.
    Pending(Box<vault::Credential>),
}

/// The journal's credential for this row (`known`), or else the newest one
/// still pending or unverified for its GSTIN, portal and provider.
fn in_doubt(
    spec: &BatchSpec,
    creds: &[vault::Credential],
    row: &Row,
    known: Option<&str>,
) -> InDoubt {
    let open = |c: &vault::Credential| {
        matches!(
            c.status,
            vault::Status::Pending | vault::Status::NeedsVerification
        )
    };
    if let Some(c) = known.and_then(|id| creds.iter().find(|c| c.id == id)) {
        match c.status {
            vault::Status::Created => return InDoubt::Created,
            _ if open(c) => return InDoubt::Pending(Box::new(c.clone())),
            _ => {}
        }
    }
    let gstin = row.gstin();
    // As the walk records it: the provider named, else the route.
    let provider = [row.get("provider"), row.get("through")]
        .into_iter()
        .flatten()
        .find(|p| !p.is_empty())
        .unwrap_or("");
    creds
        .iter()
        .rev()
        .find(|c| {
            c.gstin == gstin
                && c.portal == spec.flow.portal.as_str()
                && (provider.is_empty() || c.provider == provider)
                && open(c)
        })
        .map_or(InDoubt::None, |c| InDoubt::Pending(Box::new(c.clone())))
}

/// The vault as the earlier run left it, when resuming (read once: a
/// row's own credentials are never another row's in doubt).
fn earlier_vault(spec: &BatchSpec) -> Vec<vault::Credential> {
    if spec.resume.is_none() {
        return vec![];
    }
    spec.vault.read_all().unwrap_or_else(|e| {
        tracing::error!(
            "cannot read the vault to resume: {}",
            crate::chain::Chain(&e)
        );
        vec![]
    })
}

/// Marks rows still in flight as in doubt (second Ctrl-C).
pub fn mark_in_doubt(journal: &Journal, rows: &[Row]) -> Result<(), crate::store::StoreError> {
    let last =
        Journal::last_states(journal.path()).map_err(|source| crate::store::StoreError::Io {
            path: journal.path().to_path_buf(),
            source,
        })?;
    for r in rows {
        let Some(e) = last.get(&r.key()) else {
            continue;
        };
        if matches!(e.state, State::Started | State::Submitting) {
            let mut d = entry(r, State::InDoubt);
            d.vault_id = e.vault_id.clone();
            journal.write(&d)?;
        }
    }
    Ok(())
}
