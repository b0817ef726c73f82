//! The runner: walks a flow screen by screen in one browser session.
//!
//! One walk serves both commands that drive a portal. In
//! [`Mode::Register`] it does every step: recognises each screen, waits
//! for targets to be visible and enabled, answers JS alerts, applies
//! outcome rules (retry a captcha, re-ask an OTP, stop on a known error)
//! and writes the vault before the submit. In [`Mode::Inspect`] (the smoke
//! check) it walks the same screens with the same recognition and lookups
//! but stops before anything that needs a person or changes state, and
//! reports each check as an event.
//!
//! Layers: `page` (the page scripts), `session` (one browser session and
//! the waiting helper), `steps` (one function per step kind), `typing`
//! (typing and checking it held), `human`
//! (captcha and OTP steps, with renewals), `lookup` (finding, clicking,
//! asking), `leads` (what a click leads to), `interrupts` (what may show
//! anywhere, and sorting alerts),
//! `walk` (screens, recognition, retries), `outcomes`, `inspect` (smoke
//! checks), `artifacts` (trace and failure files).

mod arrival;
mod artifacts;
mod dropdown;
mod error;
mod human;
mod inspect;
mod interrupts;
mod leads;
mod lookup;
mod mode;
mod outcomes;
pub(crate) mod page;
pub(crate) mod proposal;
mod repair;
mod report;
mod session;
mod steps;
mod typing;
mod walk;

pub use error::{Drift, RunError};
pub use mode::Mode;
pub use report::{Answered, RunReport};

use crate::driver::Endpoint;
use crate::events::{
    self, Collector, DialogAnswer, DialogSort, DialogTrace, Event, RunStatus, Sink, StepResult,
    StepTrace,
};
use crate::flow::{Condition, Flow, Role, Screen, Step};
use crate::ledger::{Ledger, LedgerError};
use crate::operator::Queue;
use crate::redact::{Redactor, Secret};
use crate::vault;
use error::StepErr;
use fantoccini::Client;
use session::Session;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything one walk needs besides the browser.
pub struct RunSpec {
    /// The flow to walk.
    pub flow: Arc<Flow>,
    /// The portal's address (the flow's, the replica's or `--portal`).
    pub base_url: String,
    /// Non-secret inputs, validated, defaults applied.
    pub vars: HashMap<String, String>,
    /// Secret inputs by name.
    pub secrets: HashMap<String, Secret>,
    /// Folder for captcha images, `trace.json` and failure artifacts.
    pub artifacts: PathBuf,
    /// Where the row's credential records go (the vault, the journal),
    /// and a resumed row's pending credential to submit again.
    pub ledger: Ledger,
    /// Who answers captchas and OTPs.
    pub queue: Arc<Queue>,
    /// Masks every secret in what leaves the run.
    pub redactor: Redactor,
    /// Where the walk's events go.
    pub events: Sink,
    /// Register, or inspect only.
    pub mode: Mode,
    /// `--repair`: drift is asked about instead of ending the run; the
    /// repairs are shared by every row of a batch.
    pub repairs: Option<Arc<crate::repair::Book>>,
    /// While a person is awaited, a harmless command this often keeps the
    /// session from being ended as idle (a Grid's `--session-timeout`,
    /// 300 s by default); zero: never.
    pub keep_alive: Duration,
}

/// How the walk ended, before the report is made.
pub(crate) struct Finish {
    status: RunStatus,
    outcome: Option<String>,
    message: String,
    /// Drift's proposal: what stands there now and the TOML to paste.
    fix: Option<String>,
}

/// What a step used: its target and whether that was a fallback.
#[derive(Default)]
pub(crate) struct Used {
    target: Option<String>,
    fallback: bool,
}

/// One walk of one flow in one browser session.
pub(crate) struct Runner<'a> {
    s: Session<'a>,
    spec: &'a RunSpec,
    events: Sink,
    trace: Collector<StepTrace>,
    /// Every dialog answered, in order.
    dialogs: Collector<DialogTrace>,
    vars: HashMap<String, String>,
    started: Instant,
    /// Where the walk is.
    at: Place,
    /// The people's share of the walk.
    people: People,
    /// The credential this walk submits.
    cred: Submitted,
    /// Outcome patterns, rendered and compiled once per distinct text.
    patterns: HashMap<String, regex::Regex>,
    /// Smoke: a check found drift (the page is kept as a screenshot).
    drifted: std::sync::atomic::AtomicBool,
    /// Smoke: when the last finding was reported (each finding's time).
    last_check: std::sync::Mutex<Option<Instant>>,
    /// The walk stopped because the browser session was lost.
    session_lost: bool,
    /// Repairs this walk made (`--repair`), in order.
    repairs: Vec<crate::repair::Repair>,
}

/// Where the walk is: its screen, its retries, what it last did.
#[derive(Default)]
struct Place {
    current: Option<usize>,
    retries: HashMap<String, u32>,
    /// Answers given so far to each prompt (by screen and step): a prompt's
    /// try count is its own, never another prompt's retries.
    answered: HashMap<(String, String), u32>,
    /// The last step that opened or left a page (smoke names it on recognition).
    last_step: Option<String>,
    /// Interrupts handled so far (a bound on ones that never go away).
    interrupts_met: u32,
    /// A `then` step already waited its time for the next screen in vain:
    /// the walk looks for it once, without waiting again.
    waited_for_screen: bool,
    /// The look that recognised the screen just entered.
    arrival: Option<arrival::Arrival>,
    /// The look a page load's wait took of the next screen's page.
    fresh: Option<arrival::Fresh>,
    /// The confirm the running step raises (its `confirm`): answered yes.
    confirm: Option<crate::flow::Pattern>,
    /// The walk is over and its cleanup runs: best effort, never repaired.
    cleaning: bool,
    /// A box typed into whose check rides on the next find.
    typed: Option<typing::Typed>,
}

/// The people's share: who answered each prompt, how long they took.
#[derive(Default)]
struct People {
    /// Time spent waiting for people (queue and answer).
    human: Duration,
    /// Who answered each prompt, in order (never what).
    answered: Vec<Answered>,
    /// Captcha images saved so far (each gets the next number).
    captchas: u32,
    /// Repair screenshots and question files saved so far.
    repairs: u32,
    repair_files: u32,
}

/// The credential the walk submits, as the ledger has it.
#[derive(Default)]
struct Submitted {
    /// Its vault id, once it is recorded pending (the submit may follow).
    vault_id: Option<String>,
    /// The credentials' username as its box held it after typing (a page
    /// that keeps a prefix in the box): what the vault records.
    typed_username: Option<String>,
    /// Why the ledger could not record it, if it could not.
    store_error: Option<Arc<LedgerError>>,
}

impl<'a> Runner<'a> {
    pub(crate) fn new(c: &'a Client, spec: &'a RunSpec) -> Runner<'a> {
        let (trace, trace_sink) = Collector::new(|e| match e {
            Event::StepDone(t) => Some(t.clone()),
            _ => None,
        });
        let (dialogs, dialog_sink) = Collector::new(|e| match e {
            Event::Dialog(d) => Some(d.clone()),
            _ => None,
        });
        let watch = interrupts::watched(&spec.flow, &spec.vars)
            .iter()
            .enumerate()
            .map(|(i, s)| page::watch_entry(i, s))
            .collect();
        Runner {
            s: Session::new(c, watch),
            spec,
            events: events::tee(vec![spec.events.clone(), trace_sink, dialog_sink]),
            trace,
            dialogs,
            vars: spec.vars.clone(),
            started: Instant::now(),
            at: Place::default(),
            people: People::default(),
            cred: Submitted::default(),
            patterns: HashMap::new(),
            drifted: std::sync::atomic::AtomicBool::new(false),
            last_check: std::sync::Mutex::new(None),
            session_lost: false,
            repairs: vec![],
        }
    }

    fn flow(&self) -> &'a Flow {
        &self.spec.flow
    }

    fn emit(&self, e: Event) {
        // Events name screens, steps and targets, never what was typed.
        debug_assert!(
            !e.texts()
                .iter()
                .any(|t| self.spec.redactor.contains_secret(t)),
            "an event carries a secret: {e:?}"
        );
        (self.events)(&e);
    }

    /// What the walk is for: every difference between registering and
    /// inspecting is a question to it.
    fn mode(&self) -> Mode {
        self.spec.mode
    }

    fn holds(&self, c: &Option<Condition>) -> bool {
        c.as_ref()
            .is_none_or(|c| c.holds(|k| self.vars.get(k).cloned()))
    }

    /// The value of the input that plays `role` (e.g. the GSTIN).
    fn role(&self, role: Role) -> Option<String> {
        role_value(self.flow(), &self.vars, role)
    }

    fn ms_since_start(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn step_timeout(&self, st: &Step) -> Duration {
        self.mode().step_timeout(st, self.flow())
    }

    fn screen_timeout(&self, screen: &Screen) -> Duration {
        self.mode().screen_timeout(screen, self.flow())
    }

    /// A path on the portal as a full address.
    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("{}{sep}{path}", self.spec.base_url.trim_end_matches('/'))
    }

    /// Walks the flow to its end and always returns a report; artifacts
    /// are written for anything but success.
    pub(crate) async fn run(mut self) -> RunReport {
        if let Some(limit) = self.mode().page_load_limit() {
            let t = fantoccini::wd::TimeoutConfiguration::new(None, Some(limit), None);
            if let Err(e) = self.s.c.update_timeouts(t).await {
                tracing::warn!("could not set the page-load timeout: {e}");
            }
        }
        let finish = match self.walk().await {
            Ok(f) => f,
            Err(e) => {
                self.session_lost = e.is_lost() || self.s.context_gone().await;
                self.stopped_by(e).await
            }
        };
        let finish = self.after_submit(finish);
        self.record_vault_status(&finish);
        // The page as it failed, before any clean-up (a log out) leaves
        // it; a lost session has neither page nor clean-up.
        if finish.status != RunStatus::Registered && !self.session_lost {
            self.save_failure_artifacts().await;
        }
        if self.mode().cleans_up() && !self.session_lost {
            self.clean_up().await;
        }
        self.emit(Event::Finished {
            status: finish.status,
            outcome: finish.outcome.clone(),
        });
        let report = self.report(finish);
        self.write_trace(&report);
        report
    }

    /// How a walk stopped by `e` ends. A screen that matches nothing because
    /// Chromium shows its own error page is the portal being unreachable,
    /// not drift.
    async fn stopped_by(&self, e: RunError) -> Finish {
        let unreachable = match e.status() {
            RunStatus::Drift | RunStatus::Failed => self.s.error_page().await,
            _ => None,
        };
        match unreachable {
            Some(why) => Finish {
                status: RunStatus::PortalError,
                outcome: None,
                message: format!("the portal is unreachable: Chromium shows {why}"),
                fix: None,
            },
            None => Finish {
                status: e.status(),
                outcome: None,
                message: crate::chain::chain(&e),
                fix: match &e {
                    RunError::Drift(d) => d.fix.clone(),
                    _ => None,
                },
            },
        }
    }

    /// The in-flight rule: from the moment the submit starts the portal
    /// may have created the credential whatever it showed, so any end but
    /// a recognised outcome (drift, a lost page or browser, a time-out, no
    /// person) leaves it in doubt: needs verification, never "failed".
    fn after_submit(&self, finish: Finish) -> Finish {
        if self.cred.vault_id.is_none() || finish.outcome.is_some() {
            return finish;
        }
        if matches!(
            finish.status,
            RunStatus::Registered | RunStatus::AlreadyRegistered | RunStatus::NeedsVerification
        ) {
            return finish;
        }
        Finish {
            status: RunStatus::NeedsVerification,
            outcome: None,
            message: format!(
                "after the submit the portal's answer was not recognised ({}); the credential may exist: verify it before creating another",
                finish.message
            ),
            fix: None,
        }
    }

    /// Runs the flow's `[[cleanup]]` steps (e.g. log out) on whatever page
    /// the walk ended; each is tried once and a failure only logged.
    async fn clean_up(&mut self) {
        let Some(last) = self.flow().screens.last() else {
            return;
        };
        self.at.cleaning = true;
        if let Err(e) = self.s.back_to_first_window().await {
            let why = self.spec.redactor.redact(&e.to_string());
            tracing::info!("cannot go back to the first window for the cleanup: {why}");
        }
        for st in &self.flow().cleanup {
            if !self.holds(&st.when) {
                continue;
            }
            if let Err(StepErr::Fail(e)) = self.exec_traced(last, st).await {
                // The error may quote the page: keep secrets out of the log.
                let why = self.spec.redactor.redact(&crate::chain::chain(&e));
                tracing::info!(step = %st.label, "cleanup step not done: {why}");
            }
        }
    }

    /// Marks the pending credential with how the run ended.
    fn record_vault_status(&mut self, finish: &Finish) {
        let Some(id) = &self.cred.vault_id else {
            return;
        };
        // A resubmitted credential the portal already holds is confirmed by
        // the resume, never marked failed on the way.
        if self.spec.ledger.reused().is_some() && finish.status == RunStatus::AlreadyRegistered {
            return;
        }
        let status = match finish.status {
            RunStatus::Registered => vault::Status::Created,
            RunStatus::NeedsVerification => vault::Status::NeedsVerification,
            _ => vault::Status::Failed,
        };
        let note =
            (status != vault::Status::Created).then(|| self.spec.redactor.redact(&finish.message));
        match self.spec.ledger.settle(id, status, note) {
            Ok(()) => self.emit(Event::CredentialRecorded {
                vault_id: id.clone(),
                status,
            }),
            // The pending record stands; `--resume` reads it. The exit says so.
            Err(e) => {
                tracing::error!("{}", crate::chain::Chain(&e));
                self.cred.store_error = Some(Arc::new(e));
            }
        }
    }

    /// The username as the portal knows it: captured from the result, or prefix + input.
    fn api_username(&self) -> Option<String> {
        let c = self.flow().credentials.as_ref()?;
        c.created
            .as_ref()
            .and_then(|v| self.vars.get(v).cloned())
            .or_else(|| self.cred.typed_username.clone())
            .or_else(|| {
                self.vars
                    .get(&c.username)
                    .map(|u| format!("{}{u}", c.prefix))
            })
    }

    fn report(&self, finish: Finish) -> RunReport {
        let created = matches!(
            finish.status,
            RunStatus::Registered | RunStatus::NeedsVerification
        );
        RunReport {
            status: finish.status,
            message: self.spec.redactor.redact(&finish.message),
            fix: finish.fix.map(|f| self.spec.redactor.redact(&f)),
            outcome: finish.outcome,
            gstin: self.role(Role::Gstin).unwrap_or_default(),
            portal: self.flow().portal.as_str().to_string(),
            api_username: (created || self.cred.vault_id.is_some())
                .then(|| self.api_username())
                .flatten(),
            credential_kind: (created || self.cred.vault_id.is_some())
                .then(|| self.flow().credentials.as_ref().map(|c| c.kind))
                .flatten(),
            vault: self
                .cred
                .vault_id
                .as_ref()
                .and(self.spec.ledger.vault_path())
                .map(|v| v.to_path_buf()),
            credential: self.cred.vault_id.clone(),
            artifacts: self.spec.artifacts.clone(),
            session_wait: Duration::ZERO,
            total: self.started.elapsed(),
            human_wait: self.people.human,
            answered: self.people.answered.clone(),
            steps: self.trace.take(),
            dialogs: self.dialogs.take(),
            repairs: self.repairs.clone(),
            store_error: self.cred.store_error.clone(),
            session_lost: self.session_lost,
        }
    }

    /// Answers the open dialog, whose text the walk read and sorted, and
    /// records it: the one place a dialog is answered. A dialog nothing
    /// names is answered no (an alert is only closed, a confirm or prompt
    /// cancelled): nothing unknown is ever agreed to.
    async fn answer(
        &mut self,
        text: &str,
        sorted: DialogSort,
        answer: DialogAnswer,
    ) -> Result<(), fantoccini::error::CmdError> {
        match answer {
            DialogAnswer::Accept => self.s.accept_alert().await?,
            DialogAnswer::Dismiss => self.s.dismiss_alert().await?,
        }
        let screen = self
            .at
            .current
            .and_then(|i| self.flow().screens.get(i))
            .map(|s| s.label.clone());
        self.emit(Event::Dialog(DialogTrace {
            at_ms: self.ms_since_start(),
            screen,
            text: self.spec.redactor.redact(text),
            sorted,
            answer,
        }));
        Ok(())
    }

    /// Records a step that did not run because its `when` does not hold.
    fn trace_skipped(&self, screen: &Screen, st: &Step) {
        self.emit(Event::StepDone(StepTrace {
            screen: screen.id.clone(),
            step: st.label.clone(),
            kind: st.kind.name().into(),
            started_ms: self.ms_since_start(),
            ms: 0,
            result: StepResult::Skipped,
            target: None,
            fallback: false,
            detail: Some("when does not hold".into()),
        }));
    }
}

/// The value of the input that plays `role` in `flow`.
pub(crate) fn role_value(
    flow: &Flow,
    vars: &HashMap<String, String>,
    role: Role,
) -> Option<String> {
    flow.input_for(role)
        .and_then(|i| vars.get(&i.name).cloned())
}

/// Opens a fresh browser session, walks the flow in it, closes it. A
/// session lost on the way makes its endpoint rest, so the next goes elsewhere.
pub async fn run_in_new_session(endpoint: &Arc<Endpoint>, spec: &RunSpec) -> RunReport {
    let started = Instant::now();
    let name = role_value(&spec.flow, &spec.vars, Role::Gstin);
    let browser = match endpoint.session(name.as_deref()).await {
        Ok(b) => b,
        Err(e) => return RunReport::not_started(spec, RunError::from(e), started.elapsed()),
    };
    tracing::debug!(endpoint = %browser.at, "browser session open");
    let mut runner = Runner::new(&browser.client, spec);
    runner.s.scope = browser.scope();
    let mut report = runner.run().await;
    report.session_wait = started.elapsed().saturating_sub(report.total);
    if report.session_lost {
        browser.lost();
    }
    browser.close().await;
    report
}

/// Walks the flow in an open browser session (which stays open).
pub async fn run_in(client: &Client, spec: &RunSpec) -> RunReport {
    Runner::new(client, spec).run().await
}
