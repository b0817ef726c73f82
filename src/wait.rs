//! Waiting without fixed sleeps: every wait in einvreg polls a condition
//! until it holds or a deadline passes, through [`until!`].

use std::time::Duration;

/// How often a wait looks again.
pub(crate) const POLL: Duration = Duration::from_millis(60);

/// Polls until a probe yields a value or `deadline` passes: evaluates to
/// `Ok(Some(v))`, `Ok(None)` on time-out, or the probe's error. `probe`
/// is an `async { .. }` block (made anew for each look, so it may borrow
/// the runner mutably) returning `Result<Option<T>, E>`. The probe runs at
/// least once, so a zero timeout still looks. A macro rather than a
/// function taking an async closure: such closures' futures cannot yet be
/// shown `Send` for `tokio::spawn`.
macro_rules! until {
    ($deadline:expr, $probe:expr) => {{
        let deadline: std::time::Instant = $deadline;
        loop {
            match $probe.await {
                Err(e) => break Err(e),
                Ok(Some(v)) => break Ok(Some(v)),
                Ok(None) => {}
            }
            if std::time::Instant::now() >= deadline {
                break Ok(None);
            }
            tokio::time::sleep($crate::wait::POLL).await;
        }
    }};
}
pub(crate) use until;
