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
    window: Duration,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Limiter {
    pub fn new(max: usize, window: Duration) -> Limiter {
        Limiter {
            max,
            window,
            failures: HashMap::new(),
        }
    }

    /// `Err(wait)` while `ip` has used up its wrong tokens.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let Some(f) = self.failures.get_mut(&ip) else {
            return Ok(());
        };
        while f
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            f.pop_front();
        }
        match (f.len() >= self.max, f.front()) {
            (true, Some(oldest)) => Err(self.window - now.duration_since(*oldest)),
            _ => Ok(()),
        }
    }

    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        self.failures.entry(ip).or_default().push_back(now);
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
        let mut l = Limiter::new(3, Duration::from_secs(60));
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
}
