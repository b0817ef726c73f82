//! A WebDriver endpoint's address. Basic auth travels in the URL's
//! userinfo (`http://user:pass@grid:4444`), which fantoccini turns into an
//! `Authorization` header; everything shown (logs, errors, reports) uses
//! [`Address::shown`], which never carries the user or password.

use std::fmt;

/// One `--webdriver` URL, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Address {
    /// The URL as given, userinfo included, without a trailing `/`.
    full: String,
    /// The same without userinfo: what may be printed.
    shown: String,
    /// The basic-auth password, for the redactor.
    password: Option<String>,
}

/// Why a `--webdriver` URL is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    /// Not a URL at all.
    #[error("`{0}` is not a URL: give one like http://127.0.0.1:4444 (a Grid) or http://127.0.0.1:9515 (a chromedriver)")]
    NotUrl(String),
    /// ftp://, file://, …
    #[error("{0}: a WebDriver endpoint is http:// or https://")]
    Scheme(String),
    /// A user or password that needed %-escapes: fantoccini sends the
    /// userinfo as written, so the endpoint would see the escapes.
    #[error("{0}: the user or password in the URL has a character that needs %-escaping (such as @ : / # % or a space); einvreg sends them as written, so choose ones without")]
    Escaped(String),
    /// `?query` or `#fragment`: WebDriver paths are appended to the URL.
    #[error("{0}: remove the ?query or #fragment (WebDriver appends /session to the URL)")]
    Suffix(String),
}

impl Address {
    /// Checks `url`: http(s), a host, no query or fragment.
    pub fn parse(url: &str) -> Result<Address, AddressError> {
        let trimmed = url.trim().trim_end_matches('/');
        let u = url::Url::parse(trimmed).map_err(|_| AddressError::NotUrl(strip(trimmed)))?;
        let shown = hide(&u);
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return Err(AddressError::Scheme(shown));
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err(AddressError::Suffix(shown));
        }
        if u.username().contains('%') || u.password().is_some_and(|p| p.contains('%')) {
            return Err(AddressError::Escaped(shown));
        }
        let password = u.password().map(String::from);
        Ok(Address {
            full: trimmed.to_string(),
            shown,
            password,
        })
    }

    /// The same endpoint with `password` for its user, when the URL names
    /// a user and no password (`http://ops@grid:4444`): the password then
    /// never sits on a command line, where `ps` shows it.
    pub fn with_password(self, password: &str) -> Result<Address, AddressError> {
        let Ok(mut u) = url::Url::parse(&self.full) else {
            return Ok(self);
        };
        if u.username().is_empty() || u.password().is_some() {
            return Ok(self);
        }
        if u.set_password(Some(password)).is_err() {
            return Ok(self);
        }
        // A password that needs escapes is refused as it is in a URL.
        match u.password() == Some(password) {
            true => Address::parse(u.as_str()),
            false => Err(AddressError::Escaped(self.shown)),
        }
    }

    /// The URL to connect to (with its userinfo).
    pub fn full(&self) -> &str {
        &self.full
    }

    /// The URL as it may be shown: no user, no password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The basic-auth password, if the URL has one (for the redactor).
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The `Authorization` header value for its userinfo, as fantoccini
    /// sends it (the userinfo as written), if it has any.
    pub fn basic_auth(&self) -> Option<String> {
        use base64::Engine;
        let u = url::Url::parse(&self.full).ok()?;
        if u.username().is_empty() && u.password().is_none() {
            return None;
        }
        let pair = format!("{}:{}", u.username(), u.password().unwrap_or(""));
        let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
        Some(format!("Basic {b64}"))
    }

    /// Whether basic auth would cross a network unencrypted.
    pub fn auth_in_clear(&self) -> bool {
        let Ok(u) = url::Url::parse(&self.full) else {
            return false;
        };
        let auth = !u.username().is_empty() || u.password().is_some();
        auth && u.scheme() == "http" && !on_this_machine(&self.full)
    }
}

/// Whether `url`'s host is this machine (a loopback address or `localhost`).
pub fn on_this_machine(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// The URL without userinfo.
fn hide(u: &url::Url) -> String {
    let mut u = u.clone();
    // Both setters fail only for URLs that cannot have credentials.
    if u.set_username("").and(u.set_password(None)).is_err() {
        return "<the WebDriver URL>".into();
    }
    u.to_string().trim_end_matches('/').to_string()
}

/// A string that is not a URL, with anything before an `@` dropped: it
/// may be a password.
fn strip(s: &str) -> String {
    match s.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => s.to_string(),
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_kept_for_connecting_and_never_shown() {
        let a = Address::parse("http://ops:s3cr!t@grid.local:4444/wd/hub/").unwrap();
        assert_eq!(a.full(), "http://ops:s3cr!t@grid.local:4444/wd/hub");
        assert_eq!(a.shown(), "http://grid.local:4444/wd/hub");
        assert_eq!(a.password(), Some("s3cr!t"));
        let e = Address::parse("http://ops:s3cr%40t@grid.local:4444").unwrap_err();
        assert!(matches!(e, AddressError::Escaped(_)), "{e}");
        assert!(!e.to_string().contains("s3cr"), "{e}");
        assert_eq!(format!("{a} {a:?}").matches("s3cr").count(), 0);
        assert!(a.auth_in_clear());
        let tls = Address::parse("https://ops:pw@grid.example:4444").unwrap();
        assert!(!tls.auth_in_clear());
        let local = Address::parse("http://ops:pw@127.0.0.1:4444").unwrap();
        assert!(!local.auth_in_clear());
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_a_password() {
        let e = Address::parse("ops:pw@grid").unwrap_err().to_string();
        assert!(!e.contains("pw"), "{e}");
        assert!(matches!(
            Address::parse("ftp://grid:21"),
            Err(AddressError::Scheme(_))
        ));
        assert!(matches!(
            Address::parse("http://grid:4444/?x=1"),
            Err(AddressError::Suffix(_))
        ));
        let e = Address::parse("file:///tmp/x").unwrap_err();
        assert!(matches!(e, AddressError::Scheme(_)), "{e}");
    }

    #[test]
    fn a_password_from_elsewhere_joins_a_url_that_names_only_the_user() {
        let a = Address::parse("http://ops@grid.example:4444").unwrap();
        let a = a.with_password("S3cret").unwrap();
        assert_eq!(a.full(), "http://ops:S3cret@grid.example:4444");
        assert_eq!(a.password(), Some("S3cret"));
        assert_eq!(a.shown(), "http://grid.example:4444");
        let b = Address::parse("http://ops:Other@grid.example:4444").unwrap();
        assert_eq!(b.with_password("S3cret").unwrap().password(), Some("Other"));
        let c = Address::parse("http://grid.example:4444").unwrap();
        assert_eq!(c.with_password("S3cret").unwrap().password(), None);
        assert!(Address::parse("http://ops@g:1")
            .unwrap()
            .with_password("a@b")
            .is_err());
    }
}
