//! Ctrl-C and SIGTERM, heard from the moment the listener is made (tokio's
//! `ctrl_c()` listens only from its first poll, which may come after rows
//! started). A service manager's SIGTERM is treated as a first Ctrl-C:
//! finish what is in flight, record it, then exit 143.

/// Which signal asked einvreg to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Stop {
    /// The exit code a stop asked by this signal ends with.
    pub fn code(self) -> i32 {
        match self {
            Stop::Interrupt => crate::exit::INTERRUPTED,
            Stop::Terminate => crate::exit::TERMINATED,
        }
    }

    /// How the signal is named to a person.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "Ctrl-C",
            Stop::Terminate => "SIGTERM",
        }
    }
}

/// Both listeners.
pub struct Stops {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(windows)]
    int: tokio::signal::windows::CtrlC,
}

impl Stops {
    /// Listens from now on (inside a tokio runtime).
    pub fn listen() -> std::io::Result<Stops> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Stops {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(windows)]
        Ok(Stops {
            int: tokio::signal::windows::ctrl_c()?,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Stop {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => Stop::Interrupt,
                _ = self.term.recv() => Stop::Terminate,
            }
        }
        #[cfg(windows)]
        {
            self.int.recv().await;
            Stop::Interrupt
        }
    }
}
