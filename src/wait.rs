//! Waiting without fixed sleeps: every wait in einvreg polls a condition
//! until it holds or a deadline passes, through [`until!`].

use std::time::Duration;

/// How often a wait looks again.
pub(crate) const POLL: Duration = Duration::from_millis(60);

/// How long one look may wait in the page for a change before it
/// answers anyway (the walk then checks for outcomes and deadlines).
pub(crate) const IN_PAGE: Duration = Duration::from_millis(250);

/// A pause before looking again at a page that is between documents:
/// the looks that wait in the page return at once then, and must not spin.
pub(crate) async fn between() {
    tokio::time::sleep(POLL).await;
}

/// Polls until a probe yields a value or `deadline` passes: evaluates to
/// `Ok(Some(v))`, `Ok(None)` on time-out, or the probe's error. `probe`
/// is an `async { .. }` block (made anew for each look, so it may borrow
/// the runner mutably) returning `Result<Option<T>, E>`. The probe runs at
/// least once, so a zero timeout still looks. A macro rather than a
/// function taking an async closure: such closures' futures cannot yet be
/// shown `Send` for `tokio::spawn`.
macro_rules! until {
    ($deadline:expr, $probe:expr) => {
        $crate::wait::until!($deadline, $probe, $crate::wait::POLL)
    };
    // `gap`: the pause between looks; a probe that itself waits in the
    // page for a change needs none.
    ($deadline:expr, $probe:expr, $gap:expr) => {{
        let deadline: std::time::Instant = $deadline;
        let gap: std::time::Duration = $gap;
        loop {
            match $probe.await {
                Err(e) => break Err(e),
                Ok(Some(v)) => break Ok(Some(v)),
                Ok(None) => {}
            }
            if std::time::Instant::now() >= deadline {
                break Ok(None);
            }
            tokio::time::sleep(gap).await;
        }
    }};
}
pub(crate) use until;
