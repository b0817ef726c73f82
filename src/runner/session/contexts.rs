//! Contexts (<https://www.w3.org/TR/webdriver2/#contexts>): the window,
//! touched while a person is awaited so an endpoint that ends idle
//! sessions keeps this one.

use super::Session;
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
}
