//! One flow of one row: resumed where the journal left it, walked, its
//! credential confirmed or verified, and its end journaled. A batch of
//! one flow is a chain of one link.

use super::books::{entry, RowBook};
use super::journal::{self, Entry, State};
use super::plan::{self, Plan};
use super::report::RowResult;
use super::rows::Row;
use super::{verify, Shared, StoreFailure};
use crate::chained::Link;
use crate::driver::Endpoint;
use crate::events::{Ending, Event, RowStatus, RunStatus};
use crate::flow::Flow;
use crate::ledger::Ledger;
use crate::redact::Secret;
use crate::runner::{self, Mode, RunSpec};
use crate::vault::{self, Kind};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How a link ended, and how the chain goes on from it.
pub(super) struct LinkEnd {
    /// The flow's part of the row's result.
    pub result: RowResult,
    /// The status the next link is handed on by: `registered` only when
    /// the link holds what it made (the credential's username and password).
    pub carry: RunStatus,
}

impl LinkEnd {
    /// A link that did not run, and after which the chain stops.
    pub(super) fn stopped(result: RowResult) -> LinkEnd {
        LinkEnd {
            result,
            carry: RunStatus::Failed,
        }
    }

    fn ran(result: RowResult) -> LinkEnd {
        let carry = match result.status {
            RowStatus::Ran(s) => s,
            _ => RunStatus::Failed,
        };
        LinkEnd { result, carry }
    }
}

/// One row's walk of one flow (`tag` names it in the journal, in a chain).
pub(super) struct At<'a> {
    pub row: &'a Row,
    pub tag: Option<&'a str>,
}

impl At<'_> {
    fn entry(&self, state: State) -> Entry {
        entry(self.row, self.tag, state)
    }
}

impl Shared {
    /// The ledger a walk records its credential through.
    fn ledger(&self, at: &At) -> Ledger {
        let book = RowBook {
            journal: self.spec.journal.clone(),
            row: at.row.clone(),
            flow: at.tag.map(String::from),
        };
        Ledger::vault(self.spec.vault.clone()).with_journal(Arc::new(book))
    }
}

/// Runs `link` for `at.row`, unless the journal says an earlier run did.
/// `started` says whether the row's start was announced yet.
pub(super) async fn one(
    endpoint: &Arc<Endpoint>,
    shared: &Arc<Shared>,
    at: &At<'_>,
    (link, started): (&mut Link, &mut bool),
) -> LinkEnd {
    let spec = &shared.spec;
    let row = at.row;
    let prev = spec
        .resume
        .as_ref()
        .and_then(|m| m.get(&journal::slot(&row.key(), at.tag)));
    let known = match plan::plan(prev) {
        Plan::Skip(why) => return done_before(shared, row, link, prev, why),
        Plan::Run => None,
        Plan::Verify(v) => v,
    };
    // Resuming, any credential of this flow still in doubt is submitted again as is.
    let reuse = match spec.resume.is_some() {
        true => match in_doubt(shared, row, &link.flow, known.as_deref()) {
            InDoubt::Created(c) => {
                adopt(link, &c);
                let why = "registered in an earlier run (the vault records it created)";
                return LinkEnd {
                    result: RowResult::plain(row, RowStatus::Skipped, why),
                    carry: RunStatus::Registered,
                };
            }
            InDoubt::Pending(c) => match verify::resumed(shared, row, &c).await {
                verify::Resumed::Confirmed(why) => {
                    adopt(link, &c);
                    return LinkEnd::ran(finished(shared, at, RunStatus::Registered, why));
                }
                verify::Resumed::Rejected => None,
                verify::Resumed::Unsettled => {
                    adopt(link, &c);
                    Some(*c)
                }
            },
            InDoubt::None => None,
        },
        false => None,
    };
    let run_spec = link_spec(shared, at, link, reuse.as_ref().map(|c| c.id.clone()));
    shared.record(row, &at.entry(State::Started));
    if !std::mem::replace(started, true) {
        (spec.events)(&Event::RowStarted {
            line: row.line,
            gstin: row.gstin(),
        });
    }
    let report = run_row(endpoint, shared, at, &run_spec).await;
    LinkEnd::ran(ended(shared, at, &run_spec, reuse.as_ref(), report).await)
}

/// A link the journal records as done: what it made (in the vault) is
/// what the next link is handed, when the vault still has it.
fn done_before(
    shared: &Shared,
    row: &Row,
    link: &mut Link,
    prev: Option<&Entry>,
    why: &str,
) -> LinkEnd {
    let registered = prev.is_some_and(|p| p.status == Some(RowStatus::Ran(RunStatus::Registered)));
    let made = registered
        .then(|| {
            created(
                shared,
                row,
                &link.flow,
                prev.and_then(|p| p.vault_id.as_deref()),
            )
        })
        .flatten();
    let carry = match made {
        Some(c) => {
            adopt(link, c);
            RunStatus::Registered
        }
        None => RunStatus::AlreadyRegistered,
    };
    LinkEnd {
        result: RowResult::plain(row, RowStatus::Skipped, why),
        carry,
    }
}

/// The row's result once its walk ended: a resubmitted credential
/// confirmed, a credential the vault could not record kept in doubt, the
/// credential verified when asked for, and the end journaled.
async fn ended(
    shared: &Arc<Shared>,
    at: &At<'_>,
    run_spec: &RunSpec,
    reuse: Option<&vault::Credential>,
    report: runner::RunReport,
) -> RowResult {
    let (spec, row) = (&shared.spec, at.row);
    if let Some(e) = &report.store_error {
        shared.store_failed(StoreFailure::row(row, e.clone()));
    }
    let end = match reuse {
        // The portal's answer to the credential resubmitted decides.
        Some(c) => confirm(shared, at, &c.id, &report),
        None => Ending::new(report.status, report.message.clone()),
    };
    let end = unrecorded(&report, end);
    let Ending { status, message } = verify::after(shared, row, &report, end).await;
    let message = spec.redactor.redact(&message);
    let mut fin = at.entry(State::Finished);
    fin.answered = report.answered.clone();
    journal_finished(shared, at, fin, status, &message);
    RowResult {
        status: status.into(),
        message,
        fix: report.fix.clone(),
        api_username: report.api_username.clone(),
        credential_kind: report.credential_kind,
        machine_s: report.machine_time().as_secs_f64(),
        human_s: report.human_wait.as_secs_f64(),
        artifacts: Some(run_spec.artifacts.clone()),
        steps: report.steps.clone(),
        ..RowResult::plain(row, status.into(), "")
    }
}

/// `c` becomes the link's credential: its username and password are what
/// the walk types (a resubmit) and what the next link is handed.
fn adopt(link: &mut Link, c: &vault::Credential) {
    let Some(creds) = &link.flow.credentials else {
        return;
    };
    let name = c
        .username
        .strip_prefix(&creds.prefix)
        .unwrap_or(&c.username);
    let vars = &mut link.resolved.vars;
    vars.insert(creds.username.clone(), name.to_string());
    let password = Secret::new(c.password.clone());
    link.resolved
        .secrets
        .insert(creds.password.clone(), password);
}

/// The walk's spec for one link. A resumed credential (`reuse`, already
/// adopted into the link's inputs) is recorded under its own vault id.
fn link_spec(shared: &Shared, at: &At, link: &Link, reuse: Option<String>) -> RunSpec {
    let (spec, row) = (&shared.spec, at.row);
    for s in link.resolved.secrets.values() {
        spec.redactor.add(s.expose());
    }
    let folder = spec
        .artifacts_root
        .join(format!("{:04}-{}", row.line, row.gstin()));
    let index = spec.flows.iter().position(|f| Arc::ptr_eq(f, &link.flow));
    RunSpec {
        flow: link.flow.clone(),
        base_url: spec.base_url.clone(),
        vars: link.resolved.vars.clone(),
        secrets: link.resolved.secrets.clone(),
        // A chain's flows each keep their own folder in the row's.
        artifacts: match at.tag {
            Some(name) => folder.join(name),
            None => folder,
        },
        ledger: shared.ledger(at).reusing(reuse),
        queue: spec.queue.clone(),
        redactor: spec.redactor.clone(),
        events: spec.events.clone(),
        mode: Mode::Register,
        keep_alive: spec.keep_alive,
        repairs: index.and_then(|i| spec.repairs.get(i).cloned().flatten()),
    }
}

/// Times a row is started again after its browser session was lost.
const RESTARTS: u32 = 2;

/// Walks the link. A session lost before the submit (nothing in the vault
/// yet, so nothing can exist on the portal) starts it again on a new
/// session, which goes elsewhere while the endpoint that lost it rests;
/// one lost after the submit is in doubt (the runner's in-flight rule).
async fn run_row(
    endpoint: &Arc<Endpoint>,
    shared: &Shared,
    at: &At<'_>,
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
            at.row.line,
            at.row.gstin()
        );
        tracing::warn!("{note}");
        (shared.spec.events)(&Event::Note(note));
        shared.record(at.row, &at.entry(State::Started));
    }
}

/// A link settled without a run: journaled and reported.
fn finished(shared: &Shared, at: &At, status: RunStatus, message: String) -> RowResult {
    let fin = at.entry(State::Finished);
    journal_finished(shared, at, fin, status, &message);
    RowResult::plain(at.row, status.into(), &message)
}

fn journal_finished(shared: &Shared, at: &At, mut fin: Entry, status: RunStatus, message: &str) {
    fin.status = Some(status.into());
    fin.message = Some(message.to_string());
    shared.record(at.row, &fin);
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

/// A resumed link's result once its pending credential was submitted
/// again: the portal's "already registered" or "already created" means
/// the interrupted run created it, so it is confirmed; "created" was
/// recorded by the walk itself (same vault id). Exactly one `created`.
fn confirm(shared: &Shared, at: &At, id: &str, report: &runner::RunReport) -> Ending {
    let portal_knows = report.status == RunStatus::AlreadyRegistered
        || (report.status == RunStatus::NeedsVerification && report.outcome.is_some());
    if !portal_knows {
        return Ending::new(report.status, report.message.clone());
    }
    let note = "confirmed on resume: the portal already holds this credential";
    let settled = shared
        .ledger(at)
        .settle(id, vault::Status::Created, Some(note.into()));
    if let Err(e) = settled {
        shared.store_failed(StoreFailure::row(at.row, Arc::new(e)));
    }
    let msg = "confirmed: created by the interrupted run (credential in the vault)";
    Ending::new(RunStatus::Registered, msg)
}

/// What the vault holds for a resumed link.
enum InDoubt {
    /// Nothing in doubt: register afresh.
    None,
    /// The journal's credential is already `created`.
    Created(Box<vault::Credential>),
    /// A pending (or unverified) credential: resubmit it.
    Pending(Box<vault::Credential>),
}

fn open(c: &vault::Credential) -> bool {
    matches!(
        c.status,
        vault::Status::Pending | vault::Status::NeedsVerification
    )
}

/// The journal's credential for this link (`known`), or else the newest
/// one still pending or unverified that this flow would make for the row.
fn in_doubt(shared: &Shared, row: &Row, flow: &Flow, known: Option<&str>) -> InDoubt {
    let creds = &shared.earlier;
    if let Some(c) = known.and_then(|id| creds.iter().find(|c| c.id == id)) {
        match c.status {
            vault::Status::Created => return InDoubt::Created(Box::new(c.clone())),
            _ if open(c) => return InDoubt::Pending(Box::new(c.clone())),
            _ => {}
        }
    }
    creds
        .iter()
        .rev()
        .find(|c| made_by(flow, row, c) && open(c))
        .map_or(InDoubt::None, |c| InDoubt::Pending(Box::new(c.clone())))
}

/// The credential a resumed link made in an earlier run, now `created`:
/// the journal's, or else the newest this flow would make for the row.
fn created<'a>(
    shared: &'a Shared,
    row: &Row,
    flow: &Flow,
    known: Option<&str>,
) -> Option<&'a vault::Credential> {
    let done = |c: &&vault::Credential| c.status == vault::Status::Created;
    let creds = &shared.earlier;
    let by_id = known.and_then(|id| creds.iter().find(|c| c.id == id));
    by_id.filter(done).or_else(|| {
        creds
            .iter()
            .rev()
            .filter(done)
            .find(|c| made_by(flow, row, c))
    })
}

/// Whether `c` is of the kind `flow` makes, for `row`'s GSTIN on its
/// portal; an API user also for the row's provider, as the walk records
/// it (the provider named, else the route).
fn made_by(flow: &Flow, row: &Row, c: &vault::Credential) -> bool {
    let Some(creds) = &flow.credentials else {
        return false;
    };
    let provider = [row.get("provider"), row.get("through")]
        .into_iter()
        .flatten()
        .find(|p| !p.is_empty())
        .unwrap_or("");
    let for_provider = c.kind != Kind::ApiUser || provider.is_empty() || c.provider == provider;
    c.gstin == row.gstin()
        && c.portal == flow.portal.as_str()
        && c.kind == creds.kind
        && for_provider
}
