//! How a run and a batch row end: typed, serialised as the snake_case
//! words the journal, reports and `--json` have always used.

use crate::flow::OutcomeKind;
use serde::{Deserialize, Serialize};

/// How a run ended, and the words that say why: what the batch's
/// confirm, record and verify steps hand on to one another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// The status.
    pub status: RunStatus,
    /// Why (redacted before it is shown or written).
    pub message: String,
}

impl Ending {
    /// `status` because of `message`.
    pub fn new(status: RunStatus, message: impl Into<String>) -> Ending {
        Ending {
            status,
            message: message.into(),
        }
    }
}

/// How a run ended. [`crate::exit`] maps each to one stable exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The API user was created.
    Registered,
    /// The portal already lists this registration.
    AlreadyRegistered,
    /// The portal said "already created" on a first try: check by hand.
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
    /// The status an outcome of this kind ends a run with.
    pub fn from_outcome(k: OutcomeKind) -> RunStatus {
        match k {
            OutcomeKind::Registered => RunStatus::Registered,
            OutcomeKind::AlreadyRegistered => RunStatus::AlreadyRegistered,
            OutcomeKind::NeedsVerification => RunStatus::NeedsVerification,
            OutcomeKind::PortalError => RunStatus::PortalError,
            // Ends a run only once its retries are used up: "other failure" (README).
            OutcomeKind::WrongCaptcha
            | OutcomeKind::WrongOtp
            | OutcomeKind::OtpExpired
            | OutcomeKind::SessionExpired => RunStatus::Failed,
        }
    }
}

/// How a batch row ended: a run's status, or not run at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// See [`RunStatus::Registered`].
    Registered,
    /// See [`RunStatus::AlreadyRegistered`].
    AlreadyRegistered,
    /// See [`RunStatus::NeedsVerification`].
    NeedsVerification,
    /// See [`RunStatus::HumanNeeded`].
    HumanNeeded,
    /// See [`RunStatus::Drift`].
    Drift,
    /// See [`RunStatus::PortalError`].
    PortalError,
    /// See [`RunStatus::Failed`].
    Failed,
    /// Registered in an earlier run (`--resume`).
    Skipped,
    /// Never started (Ctrl-C).
    NotStarted,
}

impl From<RunStatus> for RowStatus {
    fn from(s: RunStatus) -> RowStatus {
        match s {
            RunStatus::Registered => RowStatus::Registered,
            RunStatus::AlreadyRegistered => RowStatus::AlreadyRegistered,
            RunStatus::NeedsVerification => RowStatus::NeedsVerification,
            RunStatus::HumanNeeded => RowStatus::HumanNeeded,
            RunStatus::Drift => RowStatus::Drift,
            RunStatus::PortalError => RowStatus::PortalError,
            RunStatus::Failed => RowStatus::Failed,
        }
    }
}

impl RowStatus {
    /// The word used in journals, reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Registered => "registered",
            RowStatus::AlreadyRegistered => "already_registered",
            RowStatus::NeedsVerification => "needs_verification",
            RowStatus::HumanNeeded => "human_needed",
            RowStatus::Drift => "drift",
            RowStatus::PortalError => "portal_error",
            RowStatus::Failed => "failed",
            RowStatus::Skipped => "skipped",
            RowStatus::NotStarted => "not_started",
        }
    }

    /// Nothing is left to do for this row.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            RowStatus::Registered | RowStatus::AlreadyRegistered | RowStatus::Skipped
        )
    }
}

impl std::fmt::Display for RowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_serde_names() {
        for s in [
            RowStatus::Registered,
            RowStatus::AlreadyRegistered,
            RowStatus::NeedsVerification,
            RowStatus::HumanNeeded,
            RowStatus::Drift,
            RowStatus::PortalError,
            RowStatus::Failed,
            RowStatus::Skipped,
            RowStatus::NotStarted,
        ] {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
            let back: RowStatus = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(
            RowStatus::from(RunStatus::HumanNeeded).as_str(),
            "human_needed"
        );
    }
}
