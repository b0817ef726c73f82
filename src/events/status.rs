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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The portal refused the login: its username or password (exit code 6,
    /// as a portal error).
    LoginRefused,
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
            OutcomeKind::LoginRefused => RunStatus::LoginRefused,
            // Ends a run only once its retries are used up: "other failure" (README).
            OutcomeKind::WrongCaptcha
            | OutcomeKind::WrongOtp
            | OutcomeKind::OtpExpired
            | OutcomeKind::SessionExpired => RunStatus::Failed,
        }
    }
}

impl RunStatus {
    /// Every status, in the order reports count them.
    pub const ALL: [RunStatus; 8] = [
        RunStatus::Registered,
        RunStatus::AlreadyRegistered,
        RunStatus::NeedsVerification,
        RunStatus::HumanNeeded,
        RunStatus::Drift,
        RunStatus::PortalError,
        RunStatus::LoginRefused,
        RunStatus::Failed,
    ];

    /// The word used in journals, reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Registered => "registered",
            RunStatus::AlreadyRegistered => "already_registered",
            RunStatus::NeedsVerification => "needs_verification",
            RunStatus::HumanNeeded => "human_needed",
            RunStatus::Drift => "drift",
            RunStatus::PortalError => "portal_error",
            RunStatus::LoginRefused => "login_refused",
            RunStatus::Failed => "failed",
        }
    }
}

/// How a batch row ended: its run's status, or not run at all. Written
/// as one word (the run's, or `skipped`, `not_started`), as always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowStatus {
    /// The row ran; how its run ended.
    Ran(RunStatus),
    /// Registered in an earlier run (`--resume`).
    Skipped,
    /// Never started (Ctrl-C, or a write that failed).
    NotStarted,
}

impl From<RunStatus> for RowStatus {
    fn from(s: RunStatus) -> RowStatus {
        RowStatus::Ran(s)
    }
}

impl RowStatus {
    /// Every row status.
    pub fn all() -> impl Iterator<Item = RowStatus> {
        RunStatus::ALL
            .into_iter()
            .map(RowStatus::Ran)
            .chain([RowStatus::Skipped, RowStatus::NotStarted])
    }

    /// The word used in journals, reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Ran(s) => s.as_str(),
            RowStatus::Skipped => "skipped",
            RowStatus::NotStarted => "not_started",
        }
    }

    /// Nothing is left to do for this row.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            RowStatus::Ran(RunStatus::Registered | RunStatus::AlreadyRegistered)
                | RowStatus::Skipped
        )
    }
}

impl std::fmt::Display for RowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RowStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RowStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RowStatus, D::Error> {
        let word = String::deserialize(d)?;
        RowStatus::all()
            .find(|s| s.as_str() == word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown row status `{word}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_serde_names() {
        for s in RunStatus::ALL {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        let all: Vec<RowStatus> = RowStatus::all().collect();
        assert_eq!(all.len(), 10);
        for s in all {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
            let back: RowStatus = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(
            RowStatus::from(RunStatus::HumanNeeded).as_str(),
            "human_needed"
        );
        assert!(serde_json::from_str::<RowStatus>("\"done\"").is_err());
    }
}
