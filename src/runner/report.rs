//! What a walk ends with: status, message, who it was for, timings and the
//! step trace.

use super::{role_value, RunError, RunSpec};
use crate::events::{RunStatus, StepTrace};
use crate::flow::Role;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// The result of one walk; `trace.json` and `run --json` are this, serialised.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How it ended.
    pub status: RunStatus,
    /// One line: the outcome's message or the error (redacted).
    pub message: String,
    /// On drift: what stands where the flow's target stood, and the TOML
    /// to paste (redacted), when the page shows something like it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The outcome's id, when one matched.
    pub outcome: Option<String>,
    /// The GSTIN registered.
    pub gstin: String,
    /// `sandbox` or `production`.
    pub portal: String,
    /// The API username as the portal knows it, once a submit happened
    /// (the new login's username for a flow that makes portal logins).
    pub api_username: Option<String>,
    /// What that credential logs in to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_kind: Option<crate::vault::Kind>,
    /// The vault holding the credential, when one was written.
    pub vault: Option<PathBuf>,
    /// The credential's id in the vault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The run's folder.
    pub artifacts: PathBuf,
    /// Waiting for the browser session (less when one was started ahead).
    #[serde(serialize_with = "ms")]
    pub session_wait: Duration,
    /// Wall time of the walk, from its first step.
    #[serde(serialize_with = "ms")]
    pub total: Duration,
    /// Time spent waiting for people (queue and answer).
    #[serde(serialize_with = "ms")]
    pub human_wait: Duration,
    /// Who answered each prompt, in order: the terminal, a command, the
    /// desk, the taxpayer's link. Never what.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answered: Vec<Answered>,
    /// Every step, in order.
    pub steps: Vec<StepTrace>,
    /// Every JS dialog met, in order: its text, what the flow made of it
    /// and the answer given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dialogs: Vec<crate::events::DialogTrace>,
    /// `--repair`: what a person's answers changed, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<crate::repair::Repair>,
    /// The browser session was lost (its driver or Grid node went away,
    /// or the Grid ended it): before the submit a batch starts the row
    /// again on another session.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub session_lost: bool,
    /// The ledger could not record the credential's status (or its
    /// pending record): the run's result stands, but the exit is non-zero.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "chained")]
    pub store_error: Option<std::sync::Arc<crate::ledger::LedgerError>>,
}

/// One prompt and who answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Answered {
    /// "captcha" or "OTP".
    pub what: String,
    pub by: crate::operator::By,
}

fn chained<S: serde::Serializer>(
    e: &Option<std::sync::Arc<crate::ledger::LedgerError>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_str(&crate::chain::chain(e.as_ref())),
        None => s.serialize_none(),
    }
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl RunReport {
    /// Time the machine spent, without the people.
    pub fn machine_time(&self) -> Duration {
        self.total.saturating_sub(self.human_wait)
    }

    /// The report of a walk that never got a browser session.
    pub(crate) fn not_started(spec: &RunSpec, e: RunError, took: Duration) -> RunReport {
        RunReport {
            status: RunStatus::Failed,
            message: spec.redactor.redact(&crate::chain::chain(&e)),
            fix: None,
            outcome: None,
            gstin: role_value(&spec.flow, &spec.vars, Role::Gstin).unwrap_or_default(),
            portal: spec.flow.portal.as_str().into(),
            api_username: None,
            credential_kind: None,
            vault: None,
            credential: None,
            artifacts: spec.artifacts.clone(),
            session_wait: took,
            total: took,
            human_wait: Duration::ZERO,
            answered: vec![],
            session_lost: false,
            steps: vec![],
            dialogs: vec![],
            repairs: vec![],
            store_error: None,
        }
    }
}
