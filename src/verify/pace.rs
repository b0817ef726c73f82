//! Pacing and backoff for the auth API: at most one call per `gap` for a
//! GSTIN, and busy answers retried a bounded number of times.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Hands out call times per GSTIN, `gap` apart; a GSTIN the API said
/// was too fast (HTTP 429) gets a wider gap and a pause.
pub struct Pace {
    gap: Duration,
    per: Mutex<HashMap<String, Lane>>,
}

/// One GSTIN's clock.
#[derive(Clone, Copy)]
struct Lane {
    /// The next free call time.
    next: Instant,
    /// Its gap now (widened by `slow_down`).
    gap: Duration,
    /// No call before this, even one already given a slot.
    hold: Option<Instant>,
}

/// The widest gap `slow_down` makes.
const MAX_GAP: Duration = Duration::from_secs(8);

impl Pace {
    pub fn new(gap: Duration) -> Pace {
        Pace {
            gap,
            per: Mutex::new(HashMap::new()),
        }
    }

    fn lane<'a>(
        &self,
        per: &'a mut HashMap<String, Lane>,
        gstin: &str,
        now: Instant,
    ) -> &'a mut Lane {
        per.entry(gstin.to_uppercase()).or_insert(Lane {
            next: now,
            gap: self.gap,
            hold: None,
        })
    }

    /// When this GSTIN's next call may go, given `now`; reserves it.
    pub fn slot(&self, gstin: &str, now: Instant) -> Instant {
        let mut per = self.per.lock().expect("pace lock");
        let lane = self.lane(&mut per, gstin, now);
        let at = lane.next.max(now);
        lane.next = at + lane.gap;
        at
    }

    /// Whether a call slotted at `at` must wait for a pause set since.
    fn held(&self, gstin: &str, at: Instant) -> bool {
        let per = self.per.lock().expect("pace lock");
        per.get(&gstin.to_uppercase())
            .and_then(|l| l.hold)
            .is_some_and(|h| h > at)
    }

    /// The API said "too many": this GSTIN's gap doubles (at least
    /// `pause`), and no call goes for `pause`.
    pub fn slow_down(&self, gstin: &str, now: Instant, pause: Duration) {
        let mut per = self.per.lock().expect("pace lock");
        let lane = self.lane(&mut per, gstin, now);
        lane.gap = (lane.gap * 2).max(pause).min(MAX_GAP);
        lane.hold = Some(now + pause);
        lane.next = lane.next.max(now + pause);
    }

    /// Waits for this GSTIN's turn.
    pub async fn wait(&self, gstin: &str) {
        loop {
            let at = self.slot(gstin, Instant::now());
            tokio::time::sleep_until(at).await;
            if !self.held(gstin, at) {
                return;
            }
        }
    }
}

/// How often and how patiently busy answers are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Calls in all, the first included.
    pub attempts: u32,
    /// The wait after the first busy answer; doubled each time.
    pub first: Duration,
    /// No wait is longer (a `Retry-After` included).
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

impl Retry {
    /// The wait after busy answer number `attempt` (1-based).
    pub fn delay(&self, attempt: u32, retry_after: Option<u64>) -> Duration {
        let doubled = self
            .first
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let asked = retry_after.map(Duration::from_secs).unwrap_or_default();
        doubled.max(asked).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_gstin_is_paced_others_are_not() {
        let p = Pace::new(Duration::from_millis(500));
        let t0 = Instant::now();
        assert_eq!(p.slot("27aapfu0939f1zv", t0), t0);
        assert_eq!(
            p.slot("27AAPFU0939F1ZV", t0),
            t0 + Duration::from_millis(500)
        );
        assert_eq!(
            p.slot("27AAPFU0939F1ZV", t0),
            t0 + Duration::from_millis(1000)
        );
        assert_eq!(p.slot("29AAFCC9980MZZT", t0), t0);
        // Once the reserved time has passed, the next call goes at once.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(p.slot("27AAPFU0939F1ZV", later), later);
    }

    #[test]
    fn too_many_widens_the_gap_and_pauses_slots_already_given() {
        let p = Pace::new(Duration::from_millis(500));
        let t0 = Instant::now();
        let early = p.slot("G", t0);
        let given = p.slot("G", t0);
        p.slow_down("G", t0, Duration::from_secs(1));
        assert!(!p.held("G", t0 + Duration::from_secs(2)));
        assert!(
            p.held("G", given),
            "a slot given before the pause waits again"
        );
        let _ = early;
        let a = p.slot("G", t0);
        let b = p.slot("G", t0);
        assert!(a >= t0 + Duration::from_secs(1));
        assert_eq!(
            b - a,
            Duration::from_secs(1),
            "the gap doubled to at least the pause"
        );
        for _ in 0..6 {
            p.slow_down("G", t0, Duration::from_secs(1));
        }
        let (c, d) = (p.slot("G", t0), p.slot("G", t0));
        assert_eq!(d - c, MAX_GAP);
    }

    #[test]
    fn backoff_doubles_honours_retry_after_and_is_capped() {
        let r = Retry {
            attempts: 4,
            first: Duration::from_secs(1),
            max: Duration::from_secs(10),
        };
        assert_eq!(r.delay(1, None), Duration::from_secs(1));
        assert_eq!(r.delay(2, None), Duration::from_secs(2));
        assert_eq!(r.delay(3, None), Duration::from_secs(4));
        assert_eq!(r.delay(1, Some(3)), Duration::from_secs(3));
        assert_eq!(r.delay(9, None), Duration::from_secs(10));
        assert_eq!(r.delay(1, Some(3600)), Duration::from_secs(10));
    }
}
