//! The `--webdriver-file` format: the endpoints a team shares, so nobody
//! types a Grid's address (and its password) on every command line.
//!
//! ```toml
//! webdriver = [
//!   "http://127.0.0.1:4444",          # a Selenium Grid
//!   "http://ops:pw@10.0.0.7:4444",    # another, with basic auth
//!   "http://127.0.0.1:9515",          # a chromedriver someone started
//! ]
//! ```

use super::address::{Address, AddressError};
use crate::flow::Loc;

/// Why an endpoints file was refused. Never carries a line's text: a URL
/// may hold a password.
#[derive(Debug, thiserror::Error)]
pub enum EndpointsError {
    /// Not TOML, or not the shape above.
    #[error("{file}:{line}:{col}: {what}")]
    Shape {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong and how to write it.
        what: String,
    },
    /// One URL is not a WebDriver endpoint.
    #[error("{file}:{line}:{col}: webdriver")]
    Url {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// Why.
        #[source]
        source: AddressError,
    },
    /// A password in a file others may read.
    #[error("{file}: a URL here holds a password but the file's permissions are {mode:o}. Fix: chmod 600 {file}")]
    Exposed {
        /// The file.
        file: String,
        /// Its permission bits.
        mode: u32,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Shape {
    webdriver: Vec<toml::Spanned<String>>,
}

/// How the file should look, for errors.
const HOW: &str = "write webdriver = [\"http://host:4444\", …] (one URL per endpoint)";

/// The endpoints in `text` (from `file`, whose permission bits are `mode`).
pub fn parse(file: &str, text: &str, mode: Option<u32>) -> Result<Vec<Address>, EndpointsError> {
    let shape: Shape = toml::from_str(text).map_err(|e| {
        let loc = e.span().map(|s| Loc::of(text, s.start)).unwrap_or_default();
        let msg = e.message();
        // serde's own words name keys, never values; anything else may quote one.
        let what = match msg.starts_with("unknown field") || msg.starts_with("missing field") {
            true => format!("{msg}; {HOW}"),
            false => format!("not an endpoints file: {HOW}"),
        };
        EndpointsError::Shape {
            file: file.into(),
            line: loc.line.max(1),
            col: loc.col.max(1),
            what,
        }
    })?;
    if shape.webdriver.is_empty() {
        return Err(EndpointsError::Shape {
            file: file.into(),
            line: 1,
            col: 1,
            what: format!("no endpoint is listed: {HOW}"),
        });
    }
    let mut out = vec![];
    for u in &shape.webdriver {
        let loc = Loc::of(text, u.span().start);
        let a = Address::parse(u.get_ref()).map_err(|source| EndpointsError::Url {
            file: file.into(),
            line: loc.line,
            col: loc.col,
            source,
        })?;
        out.push(a);
    }
    let exposed = mode.filter(|m| m & 0o077 != 0);
    if let (Some(mode), true) = (exposed, out.iter().any(|a| a.password().is_some())) {
        return Err(EndpointsError::Exposed {
            file: file.into(),
            mode: mode & 0o777,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_endpoint_in_order() {
        let text = "webdriver = [\n  \"http://127.0.0.1:4444\",\n  \"http://ops:pw@127.0.0.1:4445/\",\n]\n";
        let got = parse("e.toml", text, Some(0o600)).unwrap();
        let shown: Vec<_> = got.iter().map(|a| a.shown()).collect();
        assert_eq!(shown, ["http://127.0.0.1:4444", "http://127.0.0.1:4445"]);
        assert_eq!(got[1].password(), Some("pw"));
    }

    #[test]
    fn errors_name_the_file_line_and_field_and_never_a_password() {
        let bad = "webdriver = [\n  \"http://a:4444\",\n  \"ftp://ops:hunter2@b:2121\",\n]\n";
        let e = crate::chain::chain(&parse("e.toml", bad, None).unwrap_err());
        assert!(e.starts_with("e.toml:3:3: webdriver: ftp://b:2121"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let typo = "webdrivers = [\"http://a:4444\"]\n";
        let e = parse("e.toml", typo, None).unwrap_err().to_string();
        assert!(
            e.starts_with("e.toml:1:1: unknown field `webdrivers`"),
            "{e}"
        );
        let not_list = "webdriver = \"http://ops:hunter2@a:4444\"\n";
        let e = parse("e.toml", not_list, None).unwrap_err().to_string();
        assert!(e.contains("e.toml:1:") && !e.contains("hunter2"), "{e}");
        let e = parse("e.toml", "webdriver = []\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no endpoint is listed"), "{e}");
    }

    #[test]
    fn a_password_needs_an_owner_only_file() {
        let text = "webdriver = [\"http://ops:pw@a:4444\"]\n";
        let e = parse("e.toml", text, Some(0o644)).unwrap_err().to_string();
        assert_eq!(
            e,
            "e.toml: a URL here holds a password but the file's permissions are 644. Fix: chmod 600 e.toml"
        );
        let plain = "webdriver = [\"http://a:4444\"]\n";
        assert!(
            parse("e.toml", plain, Some(0o644)).is_ok(),
            "no password, no secret"
        );
    }
}
