//! How a command fails at the edge: typed, with its cause kept, printed as
//! one chain and turned into a stable exit code in one place
//! ([`CliError::code`]).

use crate::exit;
use std::error::Error;

/// A command's exit code (see [`crate::exit`]).
pub type Code = i32;

/// Why a command stopped before its work could report for itself.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input or setup, found before any browser started: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Bad input or setup whose cause is an error of the engine: exit 2.
    #[error(transparent)]
    Bad(Box<dyn Error + Send + Sync>),
    /// The command could not do its work (a browser that would not
    /// start, a file not written): exit 1.
    #[error(transparent)]
    Failed(Box<dyn Error + Send + Sync>),
    /// The problems were already printed, each on its line; exit `code`.
    #[error("stopped (see above)")]
    Reported {
        /// The exit code.
        code: Code,
    },
}

impl CliError {
    /// Bad input, caused by `e`.
    pub fn bad(e: impl Error + Send + Sync + 'static) -> CliError {
        CliError::Bad(Box::new(e))
    }

    /// The work failed, caused by `e`.
    pub fn failed(e: impl Error + Send + Sync + 'static) -> CliError {
        CliError::Failed(Box::new(e))
    }

    /// The work failed: `what`, caused by `e`.
    pub fn failed_with(what: impl Into<String>, e: impl Error + Send + Sync + 'static) -> CliError {
        CliError::Failed(Box::new(Context {
            what: what.into(),
            source: Box::new(e),
        }))
    }

    /// Bad input: `what`, caused by `e`.
    pub fn bad_with(what: impl Into<String>, e: impl Error + Send + Sync + 'static) -> CliError {
        CliError::Bad(Box::new(Context {
            what: what.into(),
            source: Box::new(e),
        }))
    }

    /// The exit code this failure ends the command with.
    pub fn code(&self) -> Code {
        match self {
            CliError::Usage(_) | CliError::Bad(_) => exit::USAGE,
            CliError::Failed(_) => exit::FAILURE,
            CliError::Reported { code } => *code,
        }
    }

    /// Prints the failure (unless it was printed already) and gives its code.
    pub fn report(self) -> Code {
        if !matches!(self, CliError::Reported { .. }) {
            errln!("error: {}", crate::chain::Chain(&self));
        }
        self.code()
    }
}

impl From<String> for CliError {
    fn from(s: String) -> CliError {
        CliError::Usage(s)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> CliError {
        CliError::Bad(e.into())
    }
}

impl From<&str> for CliError {
    fn from(s: &str) -> CliError {
        CliError::Usage(s.to_string())
    }
}

/// What was being done, around the error that stopped it.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Context {
    what: String,
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

/// A command's result as the process exit code.
pub fn finish(r: Result<Code, CliError>) -> Code {
    r.unwrap_or_else(CliError::report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_prints_its_chain_once_and_exits_by_kind() {
        let io = std::io::Error::other("disk full");
        let e = CliError::bad_with("--artifacts runs/", io);
        assert_eq!(crate::chain::chain(&e), "--artifacts runs/: disk full");
        assert_eq!(e.code(), exit::USAGE);
        assert_eq!(CliError::Reported { code: 7 }.report(), 7);
        assert_eq!(finish(Ok(3)), 3);
        assert_eq!(finish(Err("bad --var".into())), exit::USAGE);
    }
}
