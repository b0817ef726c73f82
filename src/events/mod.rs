//! The event stream: what the engine tells the world while it works.
//!
//! The walk, the operator queue and the batch emit typed [`Event`]s into a
//! [`Sink`]; the step trace, the human display, the logs and the smoke
//! findings are consumers of it, the way a test runner's reporter consumes
//! its runner's events. Events are for observers only: a record that must
//! not be lost (the vault, the journal) goes through the ledger, whose
//! writes return errors. Events never carry secret values: they name
//! screens, steps and targets, never what was typed.

use crate::vault;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod check;
mod status;

pub use check::{Check, CheckKind, Class};
pub use status::{Ending, RowStatus, RunStatus};

/// One thing that happened. Cheap to clone; carries no secrets.
#[derive(Debug, Clone)]
pub enum Event {
    /// The walk recognised a screen and starts its steps.
    ScreenEntered {
        /// The screen's `id` in the flow.
        screen: String,
        /// The screen's label, as a person reads it.
        label: String,
    },
    /// A step finished (or was skipped), with its target and timing.
    StepDone(StepTrace),
    /// A JS dialog was read, sorted and answered.
    Dialog(DialogTrace),
    /// `--repair`: a person's answer stood in for what the flow said.
    Repaired {
        /// Screen label.
        screen: String,
        /// Step label (none for a dialog).
        step: Option<String>,
        /// What changed: "`text:Save` put first", "dialog \"…\": Accept".
        what: String,
    },
    /// A known error sent the walk back to an earlier screen.
    Retry {
        /// The outcome's message.
        outcome: String,
        /// Label of the screen the walk goes back to.
        screen: String,
        /// The attempt about to start (2 after the first retry).
        attempt: u32,
    },
    /// An interrupt (a modal, an announcement, an expiry warning) showed
    /// and its steps ran; the walk carries on.
    Interrupted {
        /// The interrupt's label.
        label: String,
    },
    /// A fallback target matched where the primary did not.
    Fallback {
        /// Screen label.
        screen: String,
        /// Step label.
        step: String,
        /// The target that matched.
        used: String,
        /// The flow's first target, which no longer matches.
        primary: String,
    },
    /// A prompt is shown to a person now (the queue's turn came).
    PromptOpened {
        /// "captcha" or "OTP".
        what: &'static str,
        /// The GSTIN the prompt is for.
        gstin: String,
        /// The step that asks.
        step: String,
    },
    /// The prompt was answered (or failed), after `waited`.
    PromptClosed {
        /// "captcha" or "OTP".
        what: &'static str,
        /// Queue time plus the person's time.
        waited: Duration,
    },
    /// The credential is on disk as `pending`; the submit comes next.
    CredentialPending {
        /// The vault record's id.
        vault_id: String,
    },
    /// The credential's final status was recorded in the vault.
    CredentialRecorded {
        /// The vault record's id.
        vault_id: String,
        /// Its new status.
        status: vault::Status,
    },
    /// The walk ended.
    Finished {
        /// How it ended.
        status: RunStatus,
        /// The matching outcome's id, if one matched.
        outcome: Option<String>,
    },
    /// A smoke check's finding.
    Check(Check),
    /// A batch row started its browser session.
    RowStarted {
        /// CSV line.
        line: usize,
        /// The row's GSTIN.
        gstin: String,
    },
    /// A batch row ended (or was skipped).
    RowFinished {
        /// CSV line.
        line: usize,
        /// The row's GSTIN.
        gstin: String,
        /// How it ended.
        status: RowStatus,
        /// One line, redacted.
        message: String,
    },
    /// A line for the person at the console (e.g. "Ctrl-C: ...").
    Note(String),
}

impl Event {
    /// The free text an event carries (labels, messages, targets), for
    /// checking that no secret slipped in. Numbers are left out: a
    /// six-digit time must not look like an OTP.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Event::ScreenEntered { screen, label } => vec![screen, label],
            Event::Dialog(d) => vec![&d.text],
            Event::Interrupted { label } => vec![label],
            Event::Repaired { screen, step, what } => [Some(screen), step.as_ref(), Some(what)]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect(),
            Event::StepDone(t) => [Some(&t.step), t.target.as_ref(), t.detail.as_ref()]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect(),
            Event::Retry {
                outcome, screen, ..
            } => vec![outcome, screen],
            Event::Fallback {
                screen,
                step,
                used,
                primary,
            } => vec![screen, step, used, primary],
            Event::PromptOpened { gstin, step, .. } => vec![gstin, step],
            Event::Check(c) => vec![&c.screen, &c.step, &c.detail],
            Event::RowStarted { gstin, .. } => vec![gstin],
            Event::RowFinished { gstin, message, .. } => vec![gstin, message],
            Event::Note(n) => vec![n],
            // Vault ids end in a nanosecond clock: digits, not text.
            Event::CredentialPending { .. }
            | Event::CredentialRecorded { .. }
            | Event::PromptClosed { .. }
            | Event::Finished { .. } => vec![],
        }
    }
}

/// A JS dialog (alert, confirm, prompt) as the walk met it: read before
/// it was answered, in the order dialogs came.
#[derive(Debug, Clone, Serialize)]
pub struct DialogTrace {
    /// Milliseconds since the walk began.
    pub at_ms: u64,
    /// The screen the walk was on, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen: Option<String>,
    /// What it said (redacted).
    pub text: String,
    /// What the flow made of it.
    pub sorted: DialogSort,
    /// The answer given.
    pub answer: DialogAnswer,
}

/// What the flow made of a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialogSort {
    /// An `[[outcomes]]` entry matched it.
    Outcome,
    /// An interrupt recognised it.
    Interrupt,
    /// A step named it: an `alert` step, or the `confirm` of the step running.
    Step,
    /// The screen expects it (a notice it is recognised by or waits for).
    Expected,
    /// Nothing in the flow names it; a repair (`--repair`) said how to answer.
    Repaired,
    /// Nothing names it: answered no.
    Unknown,
}

/// The answer given to a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialogAnswer {
    /// OK.
    Accept,
    /// Cancel (an alert is only closed).
    Dismiss,
}

impl DialogAnswer {
    /// The word a report shows: `accepted` or `dismissed`.
    pub fn past(self) -> &'static str {
        match self {
            DialogAnswer::Accept => "accepted",
            DialogAnswer::Dismiss => "dismissed",
        }
    }
}

/// Where events go. Consumers are cheap functions; slow work belongs elsewhere.
pub type Sink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A sink that drops everything.
pub fn discard() -> Sink {
    Arc::new(|_| {})
}

/// Structured logs (`-v`, `--log-file`, `--log-format json`) of every
/// event: the machine-readable record, apart from the human display.
pub fn log() -> Sink {
    Arc::new(|e| match e {
        Event::ScreenEntered { screen, label } => tracing::info!(screen, label, "screen entered"),
        Event::Interrupted { label } => tracing::info!(label, "interrupt handled"),
        Event::Repaired { screen, step, what } => {
            tracing::info!(screen, step = ?step, what, "repaired")
        }
        Event::Dialog(d) => {
            tracing::info!(text = %d.text, sorted = ?d.sorted, answer = ?d.answer, "dialog answered")
        }
        Event::StepDone(t) => {
            tracing::debug!(screen = %t.screen, step = %t.step, ms = t.ms, result = ?t.result, "step done")
        }
        Event::Retry {
            outcome,
            screen,
            attempt,
        } => {
            tracing::info!(outcome, screen, attempt, "retry")
        }
        Event::Fallback {
            screen,
            step,
            used,
            primary,
        } => {
            tracing::warn!(screen, step, used, primary, "fallback target matched")
        }
        Event::PromptOpened { what, gstin, step } => {
            tracing::info!(what, gstin, step, "prompt opened")
        }
        Event::PromptClosed { what, waited } => {
            tracing::info!(what, waited_ms = waited.as_millis() as u64, "prompt closed")
        }
        Event::CredentialPending { vault_id } => tracing::info!(vault_id, "credential pending"),
        Event::CredentialRecorded { vault_id, status } => {
            tracing::info!(vault_id, status = ?status, "credential recorded")
        }
        Event::Finished { status, outcome } => {
            tracing::info!(status = ?status, outcome = ?outcome, "walk finished")
        }
        Event::Check(c) => {
            tracing::debug!(screen = %c.screen, step = %c.step, class = ?c.class, "check")
        }
        Event::RowStarted { line, gstin } => tracing::info!(line, gstin, "row started"),
        Event::RowFinished {
            line,
            gstin,
            status,
            ..
        } => {
            tracing::info!(line, gstin, status = %status, "row finished")
        }
        Event::Note(n) => tracing::info!(note = %n, "note"),
    })
}

/// A sink that hands each event to every sink in `sinks`, in order.
pub fn tee(sinks: Vec<Sink>) -> Sink {
    Arc::new(move |e| sinks.iter().for_each(|s| s(e)))
}

/// One step of a run, as `trace.json` and reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct StepTrace {
    /// Screen id.
    pub screen: String,
    /// Step label.
    pub step: String,
    /// Step kind (`fill`, `click`, ...).
    pub kind: String,
    /// Milliseconds since the run started.
    pub started_ms: u64,
    /// How long the step took.
    pub ms: u64,
    /// What became of it.
    pub result: StepResult,
    /// The target that was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A fallback target matched, not the first.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
    /// Why it failed or was skipped (redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What became of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Done.
    Ok,
    /// Done, after waiting for a person.
    Waited,
    /// Its `when` did not hold.
    Skipped,
    /// It failed (see `detail`).
    Failed,
    /// A known outcome (by id) showed up during the step.
    Outcome(String),
}

impl std::fmt::Display for StepResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepResult::Ok => f.write_str("ok"),
            StepResult::Waited => f.write_str("waited"),
            StepResult::Skipped => f.write_str("skipped"),
            StepResult::Failed => f.write_str("failed"),
            StepResult::Outcome(id) => write!(f, "outcome:{id}"),
        }
    }
}

impl Serialize for StepResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Collects the events a consumer cares about, for reading back at the end.
#[derive(Clone)]
pub struct Collector<T> {
    items: Arc<Mutex<Vec<T>>>,
}

impl<T: Send + 'static> Collector<T> {
    /// A collector and the sink that feeds it: `pick` keeps what it wants.
    pub fn new(pick: impl Fn(&Event) -> Option<T> + Send + Sync + 'static) -> (Self, Sink) {
        let items = Arc::new(Mutex::new(Vec::new()));
        let c = Collector {
            items: items.clone(),
        };
        let sink: Sink = Arc::new(move |e| {
            if let Some(t) = pick(e) {
                items.lock().expect("collector lock").push(t);
            }
        });
        (c, sink)
    }

    /// Everything collected so far, in order.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.items.lock().expect("collector lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tee_feeds_every_consumer_and_collectors_pick_their_kind() {
        let (notes, a) = Collector::new(|e| match e {
            Event::Note(n) => Some(n.clone()),
            _ => None,
        });
        let (rows, b) = Collector::new(|e| match e {
            Event::RowStarted { line, .. } => Some(*line),
            _ => None,
        });
        let sink = tee(vec![a, b]);
        sink(&Event::Note("hello".into()));
        sink(&Event::RowStarted {
            line: 3,
            gstin: "g".into(),
        });
        assert_eq!(notes.take(), vec!["hello".to_string()]);
        assert_eq!(rows.take(), vec![3]);
        assert!(notes.take().is_empty(), "take empties the collector");
    }

    #[test]
    fn step_results_serialise_as_trace_json_always_did() {
        let s = |r: StepResult| serde_json::to_string(&r).unwrap();
        assert_eq!(s(StepResult::Waited), "\"waited\"");
        assert_eq!(
            s(StepResult::Outcome("created".into())),
            "\"outcome:created\""
        );
    }
}
