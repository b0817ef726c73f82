//! Why a walk stops before an outcome, typed, with the cause kept.

use crate::driver::DriverError;
use crate::events::RunStatus;
use crate::flow::{Outcome, TemplateError};
use crate::ledger::LedgerError;
use crate::operator::OperatorError;
use fantoccini::error::CmdError;
use std::path::PathBuf;

/// The portal does not look the way the flow says. The message names the
/// screen and step (when known) so `run` and `smoke` report it alike.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct Drift {
    /// Label of the screen the walk was on.
    pub screen: Option<String>,
    /// Label of the step that found the difference.
    pub step: Option<String>,
    /// What was expected and what the page showed.
    pub what: String,
    /// What stands there now and the TOML to paste, when something does.
    pub fix: Option<String>,
}

impl Drift {
    /// A difference found by a step.
    pub fn at_step(screen: &str, step: &str, what: impl Into<String>) -> Drift {
        Drift {
            screen: Some(screen.into()),
            step: Some(step.into()),
            what: what.into(),
            fix: None,
        }
    }

    /// A difference found on a screen, outside any step.
    pub fn on_screen(screen: &str, what: impl Into<String>) -> Drift {
        Drift {
            screen: Some(screen.into()),
            step: None,
            what: what.into(),
            fix: None,
        }
    }

    /// A difference found between screens.
    pub fn between(what: impl Into<String>) -> Drift {
        Drift {
            screen: None,
            step: None,
            what: what.into(),
            fix: None,
        }
    }

    fn render(&self) -> String {
        match (&self.screen, &self.step) {
            (Some(s), Some(st)) => format!("screen \"{s}\", step \"{st}\": {}", self.what),
            (Some(s), None) => format!("screen \"{s}\": {}", self.what),
            _ => self.what.clone(),
        }
    }
}

/// Why a run stopped without an outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The portal does not match the flow.
    #[error(transparent)]
    Drift(#[from] Drift),
    /// Asking a person failed: nobody there, a time-out, a broken answer command.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// A page could not be opened.
    #[error("cannot open {url}")]
    Open {
        /// The address.
        url: String,
        /// WebDriver's error.
        #[source]
        source: CmdError,
    },
    /// Chromium shows its own error page: the portal did not answer.
    #[error("the portal is unreachable: Chromium shows {0}")]
    Unreachable(String),
    /// A click should have loaded a page and did not.
    #[error("the page did not load within {secs}s after the click")]
    PageLoad {
        /// How long the walk waited.
        secs: u64,
    },
    /// The captcha image never finished loading.
    #[error("the captcha image on \"{screen}\" did not load")]
    CaptchaImage {
        /// Screen label.
        screen: String,
    },
    /// A JS alert opened while a command ran, so the command did nothing.
    #[error("an unexpected JS alert blocked the page")]
    AlertOpen(#[source] CmdError),
    /// The browser went away.
    #[error("lost the browser session")]
    Lost(#[source] CmdError),
    /// A dialog stayed open after it was answered twice (a driver that
    /// says it answered, yet the browser still shows it): the session is
    /// treated as lost, so the row starts again in a fresh one.
    #[error("the browser kept a dialog open after it was answered twice")]
    DialogStuck,
    /// Any other WebDriver failure.
    #[error("WebDriver error")]
    WebDriver(#[source] CmdError),
    /// No browser session could be opened.
    #[error(transparent)]
    Session(#[from] DriverError),
    /// A `fill_secret` names a secret nobody provided.
    #[error("secret `{0}` was not provided")]
    MissingSecret(String),
    /// A template names a variable with no value yet.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The credential could not be recorded before the submit: nothing was submitted.
    #[error(transparent)]
    Ledger(std::sync::Arc<LedgerError>),
    /// A file the run must write (a captcha image, a screenshot) could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `retry_from` names a screen the flow does not have (the checker prevents this).
    #[error("retry_from names unknown screen {0}")]
    UnknownScreen(String),
}

impl RunError {
    /// The status a run stopped by this error ends with.
    pub fn status(&self) -> RunStatus {
        match self {
            RunError::Drift(_) | RunError::AlertOpen(_) => RunStatus::Drift,
            RunError::Operator(OperatorError::NoHuman(_) | OperatorError::Timeout { .. }) => {
                RunStatus::HumanNeeded
            }
            RunError::Open { .. }
            | RunError::Unreachable(_)
            | RunError::PageLoad { .. }
            | RunError::CaptchaImage { .. } => RunStatus::PortalError,
            _ => RunStatus::Failed,
        }
    }

    /// Whether the browser session is gone (the walk cannot go on in it).
    pub fn is_lost(&self) -> bool {
        matches!(self, RunError::Lost(_) | RunError::DialogStuck)
    }

    /// Whether an optional step may swallow this error (a person's absence never is).
    pub fn is_skippable(&self) -> bool {
        !matches!(self.status(), RunStatus::HumanNeeded)
    }

    /// Opening `url` failed: the page, or the session itself.
    pub(crate) fn opening(url: String, source: CmdError) -> RunError {
        match session_gone(&source) {
            true => RunError::Lost(source),
            false => RunError::Open { url, source },
        }
    }
}

/// Whether `e` says the browser session is gone: the driver or Grid does
/// not answer, or a Grid that ended the session (idle too long, its node
/// gone) answers "invalid session id".
fn session_gone(e: &CmdError) -> bool {
    e.is_invalid_session_id()
        || matches!(
            e,
            CmdError::Lost(_) | CmdError::Failed(_) | CmdError::FailedC(_)
        )
}

impl From<CmdError> for RunError {
    fn from(e: CmdError) -> Self {
        if e.is_unexpected_alert_open() {
            return RunError::AlertOpen(e);
        }
        match session_gone(&e) {
            true => RunError::Lost(e),
            false => RunError::WebDriver(e),
        }
    }
}

/// How a step ends early: a known outcome showed up, or it failed.
pub(crate) enum StepErr {
    /// The outcome, and the alert text that showed it (if any).
    Outcome(Box<Outcome>, Option<String>),
    /// A failure.
    Fail(RunError),
}

macro_rules! step_fails_with {
    ($($t:ty),*) => {$(
        impl From<$t> for StepErr {
            fn from(e: $t) -> Self {
                StepErr::Fail(e.into())
            }
        }
    )*};
}
step_fails_with!(RunError, CmdError, Drift, OperatorError, TemplateError);
