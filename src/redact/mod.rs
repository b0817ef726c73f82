//! Redaction: every secret einvreg learns (portal and API passwords, OTPs,
//! captcha answers) is registered here, and every text that leaves the
//! process for a person or a file (errors, events, artifacts) passes
//! through [`Redactor::redact`]. The vault is the one exception.

mod spread;

use spread::Spread;
use std::sync::{Arc, RwLock};

pub const MASK: &str = "[REDACTED]";

#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
    /// Each secret, forwards and reversed, with any whitespace between its
    /// characters (a page may lay single characters out one per box).
    spread: Arc<RwLock<Spread>>,
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
        // A batch adds each row's secrets again: nothing twice.
        if v.iter().any(|f| f == s) {
            return;
        }
        let reversed: String = s.chars().rev().collect();
        for form in encoded_forms(s).into_iter().chain(encoded_forms(&reversed)) {
            if !v.contains(&form) {
                v.push(form);
            }
        }
        // Longest first, so a secret containing another is masked whole.
        v.sort_by_key(|x| std::cmp::Reverse(x.len()));
        let mut spread = self.spread.write().unwrap();
        spread.add(s);
        spread.add(&reversed);
    }

    pub fn redact(&self, text: &str) -> String {
        let v = self.secrets.read().unwrap();
        let mut out = text.to_string();
        for s in v.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        self.spread.read().unwrap().mask(&out, MASK)
    }

    /// The secrets (in whichever forms) that occur in `text`.
    pub fn found_in(&self, text: &str) -> Vec<String> {
        self.secrets
            .read()
            .unwrap()
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .cloned()
            .collect()
    }

    pub fn contains_secret(&self, text: &str) -> bool {
        let whole = self
            .secrets
            .read()
            .unwrap()
            .iter()
            .any(|s| text.contains(s.as_str()));
        whole || !self.spread.read().unwrap().find(text).is_empty()
    }
}

/// The ways a secret shows up in what a page or a file holds: as is,
/// HTML-escaped, URL-encoded (`%XX`, and `+` for spaces, in either case),
/// JSON-escaped and base64 (standard and URL-safe, unpadded).
fn encoded_forms(s: &str) -> Vec<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(s);
    let mut forms = vec![
        s.to_string(),
        html_escape(s),
        // maud's (the reports and desk pages): `'` as is.
        html_escape(s).replace("&#39;", "'"),
        url_encode(s, false, false),
        url_encode(s, true, false),
        url_encode(s, false, true),
        url_encode(s, true, true),
        serde_json::to_string(s)
            .map(|j| j[1..j.len() - 1].to_string())
            .unwrap_or_default(),
        b64.trim_end_matches('=').to_string(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
    ];
    forms.retain(|f| f.chars().count() >= 4);
    forms.dedup();
    forms
}

/// `s` as HTML text and attribute values carry it (how a page may carry a
/// secret, so the redactor masks this form too).
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What URL encoders leave as is (RFC 3986's unreserved characters).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `application/x-www-form-urlencoded` (`plus`: space as `+`) or plain
/// `%20`; `lower`: hex digits in lower case, as some encoders write them.
fn url_encode(s: &str, plus: bool, lower: bool) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED)
        .map(|part| match (part, plus, lower) {
            ("%20", true, _) => "+".to_string(),
            (p, _, true) if p.starts_with('%') => p.to_ascii_lowercase(),
            (p, _, _) => p.to_string(),
        })
        .collect()
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

/// A secret's memory is wiped when it is dropped, so a freed buffer does
/// not keep it (clones wipe their own).
impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
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

    #[test]
    fn url_encodes_as_forms_and_query_strings_do() {
        let s = "Ab c/é~";
        assert_eq!(url_encode(s, false, false), "Ab%20c%2F%C3%A9~");
        assert_eq!(url_encode(s, true, false), "Ab+c%2F%C3%A9~");
        assert_eq!(url_encode(s, false, true), "Ab%20c%2f%c3%a9~");
        assert_eq!(url_encode(s, true, true), "Ab+c%2f%c3%a9~");
    }

    #[test]
    fn masks_every_encoding_a_page_or_file_may_hold() {
        use base64::Engine;
        let pw = "Pa<s\"w&r d%+/=1'";
        let r = Redactor::new();
        r.add(pw);
        let b64 = base64::engine::general_purpose::STANDARD.encode(pw);
        let forms = [
            pw.to_string(),
            "Pa&lt;s&quot;w&amp;r d%+/=1&#39;".into(),
            "Pa%3Cs%22w%26r+d%25%2B%2F%3D1%27".into(),
            "Pa%3Cs%22w%26r%20d%25%2B%2F%3D1%27".into(),
            "Pa%3cs%22w%26r%20d%25%2b%2f%3d1%27".into(),
            r#"Pa<s\"w&r d%+/=1'"#.into(),
            b64.clone(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pw),
        ];
        for f in forms {
            let out = r.redact(&format!("x={f};"));
            // Base64's `=` padding may stay: it says nothing.
            let out = out.replace("==;", ";").replace("=;", ";");
            assert_eq!(out, "x=[REDACTED];", "{f} is not masked");
        }
    }

    /// A secrets file of hundreds of logins: each secret, spread out,
    /// still masked whole; a secret that contains another (added first)
    /// masked whole too.
    #[test]
    fn hundreds_of_secrets_are_each_masked_spread_out() {
        let r = Redactor::new();
        r.add("Load@17Pw");
        for i in 0..400 {
            r.add(&format!("Load@{i}Pw"));
        }
        r.add("Load@17Pw-and-more");
        assert_eq!(
            r.spread.read().unwrap().len(),
            802,
            "401 secrets, each reversed too"
        );
        for i in [0, 17, 399] {
            let spread: String = format!("Load@{i}Pw")
                .chars()
                .map(|c| format!("{c} "))
                .collect();
            assert_eq!(r.redact(&format!("<b>{spread}</b>")), "<b>[REDACTED] </b>");
        }
        let spread: String = "Load@17Pw-and-more"
            .chars()
            .map(|c| format!("{c}\n"))
            .collect();
        assert_eq!(r.redact(&spread), "[REDACTED]\n");
    }

    #[test]
    fn masks_a_secret_reversed_or_spread_one_character_a_line() {
        let r = Redactor::new();
        r.add("Uday@Login2024");
        r.add("Uday@Login2024");
        assert_eq!(r.spread.read().unwrap().len(), 2, "added once");
        for shown in [
            "4202nigoL@yadU",
            "U d a y @ L o g i n 2 0 2 4",
            "4\n2\n0\n2\nn\ni\ng\no\nL\n@\ny\na\nd\nU",
        ] {
            let out = r.redact(&format!("<p>{shown}</p>"));
            assert!(
                !out.contains("Login") && !out.contains("nigoL") && out.contains(MASK),
                "{shown}: {out}"
            );
            assert!(r.contains_secret(shown), "{shown}");
        }
        assert_eq!(r.redact("Login 2024 report"), "Login 2024 report");
    }
}
