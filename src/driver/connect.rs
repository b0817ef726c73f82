//! Opening a WebDriver session: the HTTP client fantoccini reaches an
//! endpoint through (plain, or rustls for an `https://` Grid), and what
//! a refused session says to do about it.

use super::{DriverError, APT_FIX, FIREFOX_FIX};
use fantoccini::{Client, ClientBuilder};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;

/// Opens a session at `url` (`shown` in errors: no userinfo).
pub(super) async fn connect(
    url: &str,
    shown: &str,
    caps: serde_json::Map<String, serde_json::Value>,
) -> Result<Client, DriverError> {
    let mut b = ClientBuilder::new(https_connector());
    b.capabilities(caps);
    b.connect(url).await.map_err(|e| {
        let msg = e.to_string().replace(url, shown);
        let hint = if msg.contains("cannot find Chrome binary") || msg.contains("no chrome binary")
        {
            format!(" (install Chromium: {APT_FIX})")
        } else if msg.to_lowercase().contains("only supports chrome version") {
            format!(
                " (chromium and chromedriver versions differ: {APT_FIX} installs matching ones)"
            )
        } else if msg.contains("binary is not a Firefox executable")
            || msg.contains("Expected browser binary")
        {
            format!(" (install Firefox: {FIREFOX_FIX})")
        } else {
            String::new()
        };
        DriverError::Session {
            url: shown.to_string(),
            msg: format!("{msg}{hint}"),
        }
    })
}

/// What fantoccini reaches WebDriver endpoints through: plain HTTP, or
/// rustls (ring provider) with the system's roots for an `https://` Grid.
/// A machine without CA certificates still reaches a local chromedriver.
pub(super) type Https = HttpsConnector<HttpConnector>;

pub(super) fn https_connector() -> Https {
    let b = hyper_rustls::HttpsConnectorBuilder::new();
    let b = b.with_native_roots().unwrap_or_else(|_| {
        let none = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(none)
    });
    b.https_or_http().enable_http1().build()
}
