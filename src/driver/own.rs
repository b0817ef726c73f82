//! Drivers we run ourselves: one chromedriver for every Chromium session,
//! replaced when it dies (the batch goes on); or, for Firefox, one
//! geckodriver per session, since geckodriver runs one session at a time.

use super::caps::BrowserKind;
use super::local::LocalDriver;
use super::{DriverConfig, DriverError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Our drivers.
pub(super) struct Own {
    config: DriverConfig,
    /// The shared chromedriver (Chromium only).
    shared: Mutex<Option<Arc<LocalDriver>>>,
    /// Per-session geckodrivers still running (Firefox only), for `kill`.
    each: Mutex<Vec<Weak<LocalDriver>>>,
    /// One restart at a time.
    restart: tokio::sync::Mutex<()>,
    /// `kill` was called: no restarts.
    stopped: AtomicBool,
}

impl Own {
    /// Starts the shared chromedriver, or checks that a geckodriver starts.
    pub(super) async fn start(config: &DriverConfig) -> Result<Own, DriverError> {
        // For Firefox this one is kept for the first session.
        let first = Arc::new(LocalDriver::start(config).await?);
        Ok(Own {
            config: config.clone(),
            shared: Mutex::new(Some(first)),
            each: Mutex::new(vec![]),
            restart: tokio::sync::Mutex::new(()),
            stopped: AtomicBool::new(false),
        })
    }

    /// Stops every driver we run (and its browsers) at once, for good.
    pub(super) fn kill(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(d) = self.shared.lock().expect("driver lock").take() {
            d.kill();
        }
        for d in self.each.lock().expect("driver lock").drain(..) {
            if let Some(d) = d.upgrade() {
                d.kill();
            }
        }
    }

    fn stopped(&self) -> Result<(), DriverError> {
        match self.stopped.load(Ordering::SeqCst) {
            true => Err(DriverError::Setup(format!(
                "{} was stopped",
                self.config.browser.driver_name()
            ))),
            false => Ok(()),
        }
    }

    /// The driver a new session goes to. For Chromium the shared one (a
    /// dead one is replaced first); for Firefox a geckodriver of the
    /// session's own, which the session holds.
    pub(super) async fn driver(&self) -> Result<Arc<LocalDriver>, DriverError> {
        self.stopped()?;
        if self.config.browser == BrowserKind::Firefox {
            return self.one_for_a_session().await;
        }
        let _one = self.restart.lock().await;
        let current = self.shared.lock().expect("driver lock").clone();
        if let Some(d) = current.filter(|d| !d.exited()) {
            return Ok(d);
        }
        self.stopped()?;
        tracing::warn!("chromedriver exited; starting a new one");
        let d = Arc::new(LocalDriver::start(&self.config).await?);
        // The old one (and any Chromium it left) is killed as it drops.
        let old = self.shared.lock().expect("driver lock").replace(d.clone());
        drop(old);
        Ok(d)
    }

    /// The geckodriver started at `start` for the first session, else a new one.
    async fn one_for_a_session(&self) -> Result<Arc<LocalDriver>, DriverError> {
        let first = self.shared.lock().expect("driver lock").take();
        let d = match first.filter(|d| !d.exited()) {
            Some(d) => d,
            None => Arc::new(LocalDriver::start(&self.config).await?),
        };
        let mut each = self.each.lock().expect("driver lock");
        each.retain(|w| w.strong_count() > 0);
        each.push(Arc::downgrade(&d));
        Ok(d)
    }

    /// Whether the shared chromedriver has died. One killed a moment ago
    /// may not be reaped yet, so one that is still there but does not
    /// answer `/status` is killed and counts as dead.
    pub(super) async fn died(&self) -> bool {
        if self.stopped.load(Ordering::SeqCst) || self.config.browser == BrowserKind::Firefox {
            return false;
        }
        let current = self.shared.lock().expect("driver lock").clone();
        let Some(d) = current.filter(|d| !d.exited()) else {
            return true;
        };
        let status = format!("{}/status", d.url);
        let ask = crate::loopback::request("GET", &status, &[], None);
        let alive = tokio::time::timeout(Duration::from_secs(5), ask)
            .await
            .is_ok_and(|r| r.is_ok_and(|r| r.status == 200));
        if !alive {
            d.kill();
        }
        !alive
    }
}
