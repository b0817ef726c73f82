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
mod link;
mod plan;
pub mod prepare;
pub mod report;
pub mod rows;
mod verify;

pub use books::StoreFailure;
pub use prepare::{prepare, Checks, CsvSource, PrepareError, Prepared};
pub use report::RowResult;

use crate::chained;
use crate::driver::Endpoint;
use crate::events::{Event, RowStatus, RunStatus, Sink};
use crate::flow::inputs;
use crate::flow::Flow;
use crate::operator::Queue;
use crate::redact::Redactor;
use crate::secrets::{SecretsFile, Want};
use crate::store::StoreError;
use crate::vault::{self, Vault};
use books::entry;
use journal::{Entry, Journal, State};
use rows::Row;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Everything a batch run needs.
pub struct BatchSpec {
    /// The flows every row runs, in order (`batch A,B`: a chain).
    pub flows: Vec<Arc<Flow>>,
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
    /// `--repair`: per flow, one book for every row, so a drift is asked about once.
    pub repairs: Vec<Option<Arc<crate::repair::Book>>>,
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

    /// How the journal names `flow`: in a chain, by name; a batch of one
    /// flow leaves it out, as journals always have.
    fn tag<'a>(&self, flow: &'a Flow) -> Option<&'a str> {
        (self.spec.flows.len() > 1).then_some(flow.name.as_str())
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
    /// keep the failure for the end (and the exit code). One an abort's
    /// seal refused is no failure: the abort records the row.
    fn store_failed(&self, failure: StoreFailure) {
        if failure.by_abort() {
            return;
        }
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
    // Every row opens a session per flow of its chain (fewer if a link
    // stops it): the first ones start now, the next ones while earlier rows run.
    let sessions = spec.rows.len() * spec.flows.len().max(1);
    endpoint.plan_sessions(sessions, spec.parallel.max(1));
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

/// Every flow's inputs for `row`, resolved before any of them runs (a
/// later flow's secret may be one an earlier flow makes); or why the row
/// cannot run (its input problems, joined).
fn links(shared: &Shared, row: &Row) -> Result<Vec<chained::Link>, RowInputs> {
    let spec = &shared.spec;
    let gstin = row.gstin();
    let login = row.get("portal_username");
    chained::resolve(&spec.flows, &row.given, |flow, name, _| {
        let want = Want::of(flow, name, Some(&gstin), login);
        spec.secrets.find(want).cloned()
    })
    .map_err(RowInputs)
}

/// Why a row stops before its next flow: its status and message, or
/// nothing to add (the flow before did not end done, and says why).
type Stopped = Option<(RowStatus, String)>;

/// Whether `next` runs after `before` ended with `carry` (what `before`
/// made handed on to it), or the row stops: a flow not done, a secret
/// only `before` could have made, or Ctrl-C between the two.
fn gate(
    shared: &Shared,
    (before, carry): (&chained::Link, RunStatus),
    next: &mut chained::Link,
) -> Result<(), Stopped> {
    match chained::hand_on(before, carry, next) {
        chained::Next::Run => {}
        chained::Next::Stop => return Err(None),
        chained::Next::Missing(m) => {
            let failed = RowStatus::Ran(RunStatus::Failed);
            return Err(Some((failed, m.explain(secrets_entry))));
        }
    }
    // Ctrl-C between two flows: the row stops here; --resume goes on.
    match shared.spec.stop.load(Ordering::SeqCst) {
        true => Err(Some((RowStatus::NotStarted, shared.why_stopped().into()))),
        false => Ok(()),
    }
}

/// Where a batch takes secret `name` from: a login's password by the
/// login, any other by GSTIN (README, "The secrets file").
fn secrets_entry(name: &str) -> String {
    match name {
        "portal_password" => {
            "`portal_password` (in --secrets FILE, under [portal_password] by the row's portal_username)".into()
        }
        n => format!("`{n}` (in --secrets FILE, under [{n}] by the row's GSTIN)"),
    }
}

/// Runs the row's flows in order, each after the one before ended
/// registered or already registered, what one made handed to the next.
async fn one(endpoint: &Arc<Endpoint>, shared: &Arc<Shared>, row: &Row) -> RowResult {
    let mut links = match links(shared, row) {
        Ok(l) => l,
        Err(why) => {
            return RowResult::plain(row, RowStatus::Ran(RunStatus::Failed), &why.to_string())
        }
    };
    let mut ends: Vec<link::LinkEnd> = vec![];
    let mut started = false;
    for i in 0..links.len() {
        let (done, rest) = links.split_at_mut(i);
        let next = &mut rest[0];
        if let (Some(last), Some(before)) = (ends.last(), done.last()) {
            if let Err(stopped) = gate(shared, (before, last.carry), next) {
                let said = stopped.map(|(status, why)| RowResult::plain(row, status, &why));
                ends.extend(said.map(link::LinkEnd::stopped));
                break;
            }
        }
        let flow = next.flow.clone();
        let at = link::At {
            row,
            tag: shared.tag(&flow),
        };
        ends.push(link::one(endpoint, shared, &at, (next, &mut started)).await);
    }
    let flows: Vec<&str> = links.iter().map(|l| l.flow.name.as_str()).collect();
    report::of_chain(row, &flows, ends.into_iter().map(|e| e.result).collect())
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

/// Marks rows (in a chain, each flow of a row) still in flight as in
/// doubt (second Ctrl-C). `flows` names a chain's flows; none for one flow.
pub fn mark_in_doubt(
    journal: &journal::Sealed<'_>,
    rows: &[Row],
    flows: &[String],
) -> Result<(), StoreError> {
    let last = Journal::last_states(journal.path()).map_err(|source| StoreError::Io {
        path: journal.path().to_path_buf(),
        source,
    })?;
    let tags: Vec<Option<&str>> = match flows.len() > 1 {
        true => flows.iter().map(|f| Some(f.as_str())).collect(),
        false => vec![None],
    };
    for r in rows {
        for tag in &tags {
            let Some(e) = last.get(&journal::slot(&r.key(), *tag)) else {
                continue;
            };
            if matches!(e.state, State::Started | State::Submitting) {
                let mut d = entry(r, *tag, State::InDoubt);
                d.vault_id = e.vault_id.clone();
                journal.write(&d)?;
            }
        }
    }
    Ok(())
}
