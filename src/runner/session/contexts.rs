//! Contexts (<https://www.w3.org/TR/webdriver2/#contexts>): the window,
//! touched while a person is awaited so an endpoint that ends idle
//! sessions keeps this one; a window a step opened, followed, and the
//! one that opened it, gone back to once it closes.

use super::Session;
use fantoccini::error::CmdError;
use fantoccini::wd::WindowHandle;
use std::time::Duration;

impl Session<'_> {
    /// Awaits `wait` (a person answering) while a harmless command goes
    /// to the browser every `every`, so an endpoint that ends idle
    /// sessions keeps this one. Get Window Handle touches neither page nor
    /// alert (<https://www.w3.org/TR/webdriver2/#get-window-handle>).
    pub(crate) async fn keep_alive<T>(
        &self,
        every: Duration,
        wait: impl std::future::Future<Output = T>,
    ) -> T {
        if every.is_zero() {
            return wait.await;
        }
        tokio::pin!(wait);
        let start = tokio::time::Instant::now() + every;
        let mut tick = tokio::time::interval_at(start, every);
        loop {
            tokio::select! {
                out = &mut wait => return out,
                _ = tick.tick() => self.touch(every).await,
            }
        }
    }

    /// One keep-alive command; a failure only shows in the debug log (the
    /// walk meets it at its next step).
    async fn touch(&self, every: Duration) {
        match tokio::time::timeout(every, self.c.window()).await {
            Ok(Ok(_)) => tracing::trace!("keep-alive sent"),
            Ok(Err(e)) => tracing::debug!("keep-alive: {e}"),
            Err(_) => tracing::debug!("keep-alive: no answer within {every:?}"),
        }
    }

    /// Follows a window that opened since the walk last looked: switches
    /// to it ([Switch To Window](https://www.w3.org/TR/webdriver2/#switch-to-window)),
    /// remembering the one it came from. `true` when there was one.
    pub(crate) async fn follow_new_window(&self) -> Result<bool, CmdError> {
        let all = self.windows().await?;
        let mut w = self.followed();
        if w.seen.is_empty() {
            let first = self.c.window().await?;
            w = Windows {
                seen: vec![first.clone()],
                path: vec![first],
            };
        }
        let Some(new) = all.into_iter().find(|h| !w.seen.contains(h)) else {
            self.keep_followed(w);
            return Ok(false);
        };
        self.c.switch_to_window(new.clone()).await?;
        tracing::info!(
            windows = w.path.len() + 1,
            "followed a window the step opened"
        );
        w.seen.push(new.clone());
        w.path.push(new);
        self.keep_followed(w);
        Ok(true)
    }

    /// When the window the walk followed has closed: back to the newest
    /// one still open that led to it. `true` when the walk switched.
    pub(crate) async fn back_to_open_window(&self) -> Result<bool, CmdError> {
        let mut w = self.followed();
        if w.path.len() < 2 {
            return Ok(false); // no window followed: nothing to go back to
        }
        let open = self.windows().await?;
        let before = w.path.len();
        while w.path.last().is_some_and(|h| !open.contains(h)) {
            w.path.pop();
        }
        let Some(back) = w.path.last().cloned().filter(|_| w.path.len() < before) else {
            return Ok(false);
        };
        self.c.switch_to_window(back).await?;
        tracing::info!("the followed window closed: back to the one that opened it");
        self.keep_followed(w);
        Ok(true)
    }

    /// Back to the first window, whatever the walk followed since: the
    /// cleanup (a logout) belongs to it.
    pub(crate) async fn back_to_first_window(&self) -> Result<(), CmdError> {
        let mut w = self.followed();
        if w.path.len() > 1 {
            w.path.truncate(1);
            self.c.switch_to_window(w.path[0].clone()).await?;
            self.keep_followed(w);
        }
        Ok(())
    }

    /// The open windows that are the walk's: all of the session's, or
    /// in a shared browser only those of the row's user context.
    async fn windows(&self) -> Result<Vec<WindowHandle>, CmdError> {
        let Some(scope) = &self.scope else {
            return self.c.windows().await;
        };
        let open = self.c.windows().await?.into_iter().map(String::from);
        match scope.windows(open.collect()).await {
            Ok(ids) => Ok(ids
                .into_iter()
                .filter_map(|id| WindowHandle::try_from(id).ok())
                .collect()),
            Err(e) => {
                tracing::debug!("listing the row's windows over BiDi: {e}");
                // The classic list is all the browser's tabs: the current
                // one only, since others may be other rows'.
                Ok(vec![self.c.window().await?])
            }
        }
    }

    /// Whether the row's user context is gone (removed, or its browser
    /// died) in a shared browser: its session counts as lost.
    pub(crate) async fn context_gone(&self) -> bool {
        match &self.scope {
            Some(scope) => !scope.alive().await,
            None => false,
        }
    }

    fn followed(&self) -> Windows {
        self.windows.lock().map(|w| w.clone()).unwrap_or_default()
    }

    fn keep_followed(&self, w: Windows) {
        if let Ok(mut kept) = self.windows.lock() {
            *kept = w;
        }
    }
}

impl Session<'_> {
    /// [Switch To Frame](https://www.w3.org/TR/webdriver2/#switch-to-frame)
    /// down `path` (each an index among its parent's frames), where a
    /// step's element is.
    pub(crate) async fn enter_frame(&self, path: &[u16]) -> Result<(), CmdError> {
        // Marked first: a failure half-way down still leaves for the top.
        self.framed.store(true, std::sync::atomic::Ordering::SeqCst);
        for &index in path {
            self.c.enter_frame(index).await?;
        }
        tracing::debug!(frame = ?path, "acting inside a frame");
        Ok(())
    }

    /// Back to the page's top from a frame the walk entered, however deep
    /// (Switch To Frame with a null id); nothing when not in one.
    pub(crate) async fn leave_frame(&self) -> Result<(), CmdError> {
        if self.in_frame() {
            crate::driver::command::to_top(self.c).await?;
            self.framed
                .store(false, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }

    /// Where page scripts run: over BiDi in the row's own tab, when the
    /// walk is there (not in a frame, nor in a window a step opened).
    pub(crate) fn scripts(&self) -> crate::runner::page::Scripts<'_> {
        let followed = self.windows.lock().map_or(true, |w| w.path.len() > 1);
        let home = !followed && !self.in_frame();
        crate::runner::page::Scripts {
            c: self.c,
            via: self.scope.as_ref().filter(|_| home),
        }
    }

    /// Whether the walk is inside a frame.
    pub(crate) fn in_frame(&self) -> bool {
        self.framed.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The windows the walk has met: every one seen (so one is new only
/// once), and the path from the first to the current one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Windows {
    seen: Vec<WindowHandle>,
    path: Vec<WindowHandle>,
}
