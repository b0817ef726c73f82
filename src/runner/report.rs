//! What a run ends with, the step trace, and the structured events.

use crate::flow::OutcomeKind;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// How a run ended. Each maps to one stable exit code at the CLI edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Registered,
    AlreadyRegistered,
    NeedsVerification,
    /// A captcha or OTP was needed and nobody could answer.
    HumanNeeded,
    /// The portal showed something the flow does not describe.
    Drift,
    /// The portal said no, failed, or could not be reached.
    PortalError,
    /// Anything else (retries used up, OTP expired, input or setup problems).
    Failed,
}

impl RunStatus {
    pub fn exit_code(self) -> i32 {
        use crate::cli::exit::*;
        match self {
            RunStatus::Registered => OK,
            RunStatus::AlreadyRegistered => ALREADY_REGISTERED,
            RunStatus::NeedsVerification => NEEDS_VERIFICATION,
            RunStatus::HumanNeeded => HUMAN_NEEDED,
            RunStatus::Drift => DRIFT,
            RunStatus::PortalError => PORTAL,
            RunStatus::Failed => FAILURE,
        }
    }

    pub fn from_outcome(k: OutcomeKind) -> RunStatus {
        match k {
            OutcomeKind::Registered => RunStatus::Registered,
            OutcomeKind::AlreadyRegistered => RunStatus::AlreadyRegistered,
            OutcomeKind::NeedsVerification => RunStatus::NeedsVerification,
            OutcomeKind::PortalError | OutcomeKind::SessionExpired => RunStatus::PortalError,
            OutcomeKind::WrongCaptcha | OutcomeKind::WrongOtp | OutcomeKind::OtpExpired => {
                RunStatus::Failed
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Registered => "registered",
            RunStatus::AlreadyRegistered => "already_registered",
            RunStatus::NeedsVerification => "needs_verification",
            RunStatus::HumanNeeded => "human_needed",
            RunStatus::Drift => "drift",
            RunStatus::PortalError => "portal_error",
            RunStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepTrace {
    pub screen: String,
    pub step: String,
    pub kind: String,
    pub started_ms: u64,
    pub ms: u64,
    /// ok, skipped, failed, waited (for a human), outcome:<id>
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A fallback target matched, not the first.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub status: RunStatus,
    /// One line: the outcome's message or the error.
    pub message: String,
    pub outcome: Option<String>,
    pub gstin: String,
    pub portal: String,
    pub api_username: Option<String>,
    pub vault: Option<PathBuf>,
    pub artifacts: PathBuf,
    #[serde(serialize_with = "ms")]
    pub total: Duration,
    #[serde(serialize_with = "ms")]
    pub human_wait: Duration,
    pub steps: Vec<StepTrace>,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl RunReport {
    pub fn machine_time(&self) -> Duration {
        self.total.saturating_sub(self.human_wait)
    }
}

/// Progress the display may show; structured, never carrying secrets.
#[derive(Debug, Clone)]
pub enum Event {
    Screen {
        label: String,
    },
    Retry {
        outcome: String,
        screen: String,
        attempt: u32,
    },
    Fallback {
        screen: String,
        step: String,
        used: String,
        primary: String,
    },
    Asking {
        what: &'static str,
        step: String,
    },
}
