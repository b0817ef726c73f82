//! The desk's secrets: random tokens (256 bits), compared in constant
//! time, and a limit on wrong ones per client address.

use base64::Engine;
use rand::TryRngCore;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// A random token: 32 bytes from the OS, URL-safe base64 (43 characters).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new() -> Token {
        let mut b = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut b)
            .expect("the OS random source works");
        Token(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
    }

    /// Whether `given` is this token, in time that does not depend on
    /// where they differ.
    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Default for Token {
    fn default() -> Token {
        Token::new()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// The index of the entry whose token matches `given`. Every entry is
/// compared, so the time taken says nothing about which (if any) matched.
pub fn find<T>(items: &[T], token: impl Fn(&T) -> &Token, given: &str) -> Option<usize> {
    let mut hit = None;
    for (i, it) in items.iter().enumerate() {
        if token(it).matches(given) && hit.is_none() {
            hit = Some(i);
        }
    }
    hit
}

/// Wrong tokens per client address: `max` in any `window`, then every
/// token from that address is refused until the oldest failure ages out.
pub struct Limiter {
    max: usize,
    global_max: usize,
    window: Duration,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
    /// Every address's failures: rotating addresses share this budget.
    global: VecDeque<Instant>,
}

impl Limiter {
    /// `max` wrong tokens per address and `global_max` in all, per `window`.
    pub fn new(max: usize, global_max: usize, window: Duration) -> Limiter {
        Limiter {
            max,
            global_max,
            window,
            failures: HashMap::new(),
            global: VecDeque::new(),
        }
    }

    /// `Err(wait)` while `ip` has used up its wrong tokens, or has failed
    /// once while every address together has used up theirs (so rotating
    /// addresses get one guess each; an address that never failed is free).
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let window = self.window;
        let age = |q: &mut VecDeque<Instant>| {
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
        };
        age(&mut self.global);
        let Some(f) = self.failures.get_mut(&ip) else {
            return Ok(());
        };
        age(f);
        let wait = |oldest: &Instant| window - now.duration_since(*oldest);
        if f.len() >= self.max {
            return Err(f.front().map_or(window, wait));
        }
        match (self.global.len() >= self.global_max, f.is_empty()) {
            (true, false) => Err(self.global.front().map_or(window, wait)),
            _ => Ok(()),
        }
    }

    /// Whether every address together has used up the budget just now
    /// (true once per crossing: the console hears of it once).
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> bool {
        self.failures.entry(ip).or_default().push_back(now);
        self.global.push_back(now);
        // Addresses with nothing left in the window are forgotten.
        let window = self.window;
        self.failures
            .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        self.global.len() == self.global_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_match_only_themselves() {
        let (a, b) = (Token::new(), Token::new());
        assert_eq!(a.expose().len(), 43, "256 bits in URL-safe base64");
        assert_ne!(a, b);
        assert!(a.matches(a.expose()));
        assert!(!a.matches(b.expose()) && !a.matches("") && !a.matches(&a.expose()[..42]));
        assert_eq!(format!("{a:?}"), "Token(..)", "Debug never shows it");
    }

    #[test]
    fn find_names_the_matching_entry() {
        let v = vec![Token::new(), Token::new(), Token::new()];
        assert_eq!(find(&v, |t| t, v[1].expose()), Some(1));
        assert_eq!(find(&v, |t| t, "nope"), None);
    }

    #[test]
    fn the_limiter_locks_an_address_after_max_failures_for_the_window() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let mut l = Limiter::new(3, 100, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.check(ip, t0).is_ok(), "failure {i} is still allowed");
            l.failed(ip, t0 + Duration::from_secs(i));
        }
        let wait = l.check(ip, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(l.check(other, t0).is_ok(), "another address is not locked");
        assert!(
            l.check(ip, t0 + Duration::from_secs(60)).is_ok(),
            "the oldest aged out"
        );
    }

    #[test]
    fn rotating_addresses_share_a_global_budget_and_a_clean_address_stays_free() {
        let mut l = Limiter::new(10, 20, Duration::from_secs(60));
        let t0 = Instant::now();
        let addr = |i: u32| IpAddr::from(std::net::Ipv4Addr::from(0x7f00_0000 + i));
        let mut crossed = 0;
        let mut refused = 0;
        for i in 0..200 {
            let ip = addr(2 + i % 50);
            match l.check(ip, t0) {
                Ok(()) => crossed += l.failed(ip, t0) as u32,
                Err(_) => refused += 1,
            }
        }
        assert_eq!(crossed, 1, "the console hears of it once");
        assert!(
            refused >= 140,
            "after the budget each address got one guess: {refused}"
        );
        assert!(
            l.check(addr(1), t0).is_ok(),
            "an address that never failed is not locked"
        );
        assert!(
            l.check(addr(2), t0 + Duration::from_secs(60)).is_ok(),
            "it ages out"
        );
    }
}
