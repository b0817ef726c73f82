//! Endpoints we do not run (`--webdriver`, once or many times): each new
//! session goes to the one with the most room, a Grid's room read from its
//! `/status`, a plain driver's counted as `--parallel` less our sessions
//! there. An endpoint that fails rests for a while (backoff) and the next
//! session goes elsewhere.

use super::address::Address;
use super::status::{self, Capacity};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The first rest after a failure; each further failure doubles it.
const FIRST_REST: Duration = Duration::from_millis(500);
/// The longest rest.
const LONGEST_REST: Duration = Duration::from_secs(30);

/// How long an endpoint rests after `failures` failures in a row.
pub fn rest_after(failures: u32) -> Duration {
    let doubled = FIRST_REST.saturating_mul(1 << failures.saturating_sub(1).min(16));
    doubled.min(LONGEST_REST)
}

/// One endpoint and what we know of it.
pub(super) struct Remote {
    pub(super) addr: Address,
    /// Our sessions open there now.
    pub(super) in_use: Arc<AtomicUsize>,
    /// Its `/status` showed a Selenium Grid: sessions get `se:name`.
    pub(super) grid: AtomicBool,
    health: Mutex<Health>,
}

/// Failures in a row, and until when the endpoint rests.
#[derive(Default)]
struct Health {
    failures: u32,
    until: Option<Instant>,
}

/// What one endpoint offers a new session now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// Sessions it could start now; `None`: down or resting.
    pub free: Option<usize>,
    /// Ours there now.
    pub in_use: usize,
}

/// The endpoint a new session should go to: the most free room, then the
/// fewest of ours, then the first given. One that is full is still chosen
/// when all are (a Grid queues the request; a driver takes it), but never
/// one that is down or resting.
pub fn pick(rooms: &[Room]) -> Option<usize> {
    rooms
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.free.map(|f| (i, f, r.in_use)))
        .min_by_key(|&(i, free, in_use)| (std::cmp::Reverse(free), in_use, i))
        .map(|(i, _, _)| i)
}

impl Remote {
    pub(super) fn new(addr: Address) -> Remote {
        Remote {
            addr,
            in_use: Arc::new(AtomicUsize::new(0)),
            grid: AtomicBool::new(false),
            health: Mutex::new(Health::default()),
        }
    }

    /// Resting after a failure?
    pub(super) fn resting(&self, now: Instant) -> Option<Instant> {
        let h = self.health.lock().expect("health lock");
        h.until.filter(|u| *u > now)
    }

    /// It failed (a session could not be made, or was lost): rest longer.
    pub(super) fn failed(&self) -> Duration {
        let mut h = self.health.lock().expect("health lock");
        h.failures += 1;
        let rest = rest_after(h.failures);
        h.until = Some(Instant::now() + rest);
        rest
    }

    /// A session was made: its failures are forgiven.
    pub(super) fn worked(&self) {
        *self.health.lock().expect("health lock") = Health::default();
    }

    /// Its room now, from `/status`; a `/status` that fails makes it rest.
    pub(super) async fn room(&self, browser: &str, parallel: usize) -> Room {
        let in_use = self.in_use.load(Ordering::SeqCst);
        if self.resting(Instant::now()).is_some() {
            return Room { free: None, in_use };
        }
        let free = match status::fetch(&self.addr, browser).await {
            Ok(Capacity::Grid { free, total }) => {
                self.grid.store(true, Ordering::SeqCst);
                (total > 0).then_some(free)
            }
            Ok(Capacity::Plain) => Some(parallel.saturating_sub(in_use)),
            Err(why) => {
                let rest = self.failed();
                tracing::warn!(endpoint = %self.addr, "{why}; resting it for {}", humantime::format_duration(rest));
                None
            }
        };
        Room { free, in_use }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(free: Option<usize>, in_use: usize) -> Room {
        Room { free, in_use }
    }

    #[test]
    fn the_most_room_wins_then_the_fewest_of_ours_then_the_first() {
        assert_eq!(pick(&[room(Some(1), 0), room(Some(3), 0)]), Some(1));
        assert_eq!(pick(&[room(Some(2), 2), room(Some(2), 1)]), Some(1));
        assert_eq!(pick(&[room(Some(2), 1), room(Some(2), 1)]), Some(0));
        assert_eq!(
            pick(&[room(Some(0), 3), room(Some(0), 1)]),
            Some(1),
            "all full: the one with fewest of ours (a Grid queues it)"
        );
        assert_eq!(
            pick(&[room(None, 0), room(Some(0), 5)]),
            Some(1),
            "never a down one"
        );
        assert_eq!(pick(&[room(None, 0), room(None, 0)]), None);
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn rests_double_from_half_a_second_up_to_thirty() {
        assert_eq!(rest_after(1), Duration::from_millis(500));
        assert_eq!(rest_after(2), Duration::from_secs(1));
        assert_eq!(rest_after(4), Duration::from_secs(4));
        assert_eq!(rest_after(7), Duration::from_secs(30));
        assert_eq!(rest_after(400), Duration::from_secs(30));
    }

    #[test]
    fn a_failure_rests_the_endpoint_and_a_success_forgives_it() {
        let r = Remote::new(Address::parse("http://127.0.0.1:1").unwrap());
        let now = Instant::now();
        assert!(r.resting(now).is_none());
        assert_eq!(r.failed(), Duration::from_millis(500));
        assert_eq!(r.failed(), Duration::from_secs(1));
        assert!(r.resting(now).is_some());
        r.worked();
        assert!(r.resting(now).is_none());
    }
}
