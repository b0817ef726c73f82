//! Redaction: every secret einvreg learns (portal and API passwords, OTPs,
//! captcha answers) is registered here, and every text that leaves the
//! process for a person or a file (errors, events, artifacts) passes
//! through [`Redactor::redact`]. The vault is the one exception.

use std::sync::{Arc, RwLock};

pub const MASK: &str = "[REDACTED]";

#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Redactor({} secrets)",
            self.secrets.read().unwrap().len()
        )
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Remembers a secret. Very short values (under 4 characters) are too
    /// likely to mask innocent text and are not secrets the portals use.
    pub fn add(&self, secret: &str) {
        let s = secret.trim();
        if s.chars().count() < 4 {
            return;
        }
        let mut v = self.secrets.write().unwrap();
        if !v.iter().any(|x| x == s) {
            v.push(s.to_string());
            // Longest first, so a secret containing another is masked whole.
            v.sort_by_key(|x| std::cmp::Reverse(x.len()));
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let v = self.secrets.read().unwrap();
        let mut out = text.to_string();
        for s in v.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }

    pub fn contains_secret(&self, text: &str) -> bool {
        self.secrets
            .read()
            .unwrap()
            .iter()
            .any(|s| text.contains(s.as_str()))
    }
}

/// A secret value that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn masks_registered_secrets_longest_first() {
        let r = Redactor::new();
        r.add("Zen@2024Api7");
        r.add("Zen@2024");
        r.add("12"); // too short to be a secret
        assert_eq!(
            r.redact("pw Zen@2024Api7 and Zen@2024 12"),
            "pw [REDACTED] and [REDACTED] 12"
        );
        assert!(r.contains_secret("xZen@2024x"));
        assert_eq!(
            format!("{:?} {}", Secret::new("x"), Secret::new("y")),
            "[REDACTED] [REDACTED]"
        );
    }
}
