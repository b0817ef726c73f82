//! Warm sessions: the next browser is started while the current one works,
//! so no row waits for Chromium to start. Each is a fresh session (its own
//! profile: no cookies or storage shared between GSTINs), handed out once,
//! checked alive before use and replaced when it died while waiting.

use super::{Browser, DriverError};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::task::JoinHandle;

/// A session being started (or started) ahead of its row.
pub(super) type Starting = JoinHandle<Result<Browser, DriverError>>;

/// Sessions started ahead, and how many more will be asked for.
#[derive(Default)]
pub(super) struct Warm {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// How many to keep started ahead (0: none).
    ahead: usize,
    /// Sessions still to be asked for (ahead-starts never exceed it).
    left: usize,
    ready: VecDeque<Starting>,
}

impl Warm {
    /// From now on, `n` sessions will be asked for; keep `ahead` started.
    pub(super) fn plan(&self, n: usize, ahead: usize) {
        let mut s = self.state.lock().expect("warm lock");
        (s.left, s.ahead) = (n, ahead);
    }

    /// How many ahead-starts to begin now: the pool is kept at `ahead`,
    /// never beyond the sessions still to be asked for.
    pub(super) fn to_start(&self) -> usize {
        let s = self.state.lock().expect("warm lock");
        s.ahead.min(s.left).saturating_sub(s.ready.len())
    }

    pub(super) fn push(&self, s: Starting) {
        self.state.lock().expect("warm lock").ready.push_back(s);
    }

    /// A session is asked for: the oldest one started ahead, if any.
    pub(super) fn take(&self) -> Option<Starting> {
        let mut s = self.state.lock().expect("warm lock");
        s.left = s.left.saturating_sub(1);
        s.ready.pop_front()
    }

    /// Every session started ahead and not asked for (the batch stopped early).
    pub(super) fn drain(&self) -> Vec<Starting> {
        let mut s = self.state.lock().expect("warm lock");
        s.left = 0;
        s.ready.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> Starting {
        tokio::spawn(async { Err(DriverError::Setup("test".into())) })
    }

    #[tokio::test]
    async fn starts_ahead_only_for_sessions_still_to_come() {
        let w = Warm::default();
        assert_eq!(w.to_start(), 0, "nothing expected, nothing started");
        w.plan(3, 2);
        assert_eq!(w.to_start(), 2);
        w.push(never());
        w.push(never());
        assert_eq!(w.to_start(), 0, "the pool is full");
        assert!(w.take().is_some()); // 2 left, 1 ready
        assert_eq!(w.to_start(), 1);
        w.push(never());
        assert!(w.take().is_some()); // 1 left, 1 ready
        assert_eq!(w.to_start(), 0, "the last one is already started");
        assert!(w.take().is_some()); // 0 left
        assert!(w.take().is_none());
        assert_eq!(w.to_start(), 0, "no session will be asked for");
    }

    #[tokio::test]
    async fn none_ahead_means_none_started() {
        let w = Warm::default();
        w.plan(10, 0);
        assert_eq!(w.to_start(), 0);
        assert!(w.take().is_none());
    }

    #[tokio::test]
    async fn drain_hands_back_the_unused_and_stops_starting() {
        let w = Warm::default();
        w.plan(5, 1);
        w.push(never());
        assert_eq!(w.drain().len(), 1);
        assert_eq!(w.to_start(), 0);
    }
}
