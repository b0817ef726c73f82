//! One POST to the auth API: HTTPS through rustls with the system's
//! roots, or plain HTTP to this machine only (the replica, a local
//! gateway). Credentials never travel unencrypted over a network.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The answer: status, `Retry-After` seconds if any, body.
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Vec<u8>,
}

/// Why no answer came.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// `http://` to another machine: refused before sending.
    #[error("{0}: plain http is allowed to this machine only; use https")]
    Plaintext(String),
    /// Not a URL.
    #[error("{0}: not an http(s) URL")]
    BadUrl(String),
    /// No TLS: the system's CA roots could not be loaded.
    #[error("TLS is not available: {0}")]
    Tls(String),
    /// Connection, TLS or protocol failure.
    #[error("{0}")]
    Transport(String),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A body larger than an auth API answer can be.
    #[error("the answer is larger than {} KiB, more than any auth API answer: refused unread", .0 / 1024)]
    TooBig(usize),
}

/// The most a verify answer may hold (they are a few hundred bytes).
pub const MAX_BODY: usize = 256 * 1024;

type Plain = hyper_util::client::legacy::connect::HttpConnector;
type Https = hyper_rustls::HttpsConnector<Plain>;

/// A reusable client (connections are kept alive between calls). Plain
/// HTTP needs no TLS, so a machine without CA certificates can still reach
/// the replica; only an https call says the roots are missing.
pub struct Http {
    plain: Client<Plain, Full<Bytes>>,
    tls: Result<Client<Https, Full<Bytes>>, std::sync::Arc<std::io::Error>>,
    timeout: Duration,
}

impl Http {
    pub fn new(timeout: Duration) -> Http {
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map(|b| b.https_only().enable_http1().build())
            .map(|c| Client::builder(TokioExecutor::new()).build(c))
            .map_err(std::sync::Arc::new);
        Http {
            plain: Client::builder(TokioExecutor::new()).build_http(),
            tls,
            timeout,
        }
    }

    /// POSTs `body` as JSON with `headers`.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Result<Reply, HttpError> {
        check_url(url)?;
        let mut req = hyper::Request::post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| HttpError::BadUrl(shown(url)))?;
        let call = async {
            let res = match (req.uri().scheme_str(), &self.tls) {
                (Some("https"), Ok(c)) => c.request(req).await,
                (Some("https"), Err(why)) => {
                    let why = format!("{why} (install Debian's ca-certificates)");
                    return Err(HttpError::Tls(why));
                }
                _ => self.plain.request(req).await,
            };
            read(res.map_err(|e| HttpError::Transport(transport(&e)))?).await
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| HttpError::Timeout(self.timeout))?
    }
}

/// The status, `Retry-After` and whole body of a response.
async fn read(res: hyper::Response<hyper::body::Incoming>) -> Result<Reply, HttpError> {
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let body = http_body_util::Limited::new(res.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| match e.is::<http_body_util::LengthLimitError>() {
            true => HttpError::TooBig(MAX_BODY),
            false => HttpError::Transport(e.to_string()),
        })?
        .to_bytes()
        .to_vec();
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// The error and its causes, one line (hyper's top level says little).
fn transport(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        parts.push(c.to_string());
        cause = c.source();
    }
    parts.join(": ")
}

/// The URL as it may be shown: without a user or password (a gateway's basic auth).
pub fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            // Both setters fail only for URLs that cannot have credentials.
            if u.set_username("").and(u.set_password(None)).is_err() {
                return "<the API URL>".into();
            }
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// https anywhere; http only to loopback.
pub fn check_url(url: &str) -> Result<(), HttpError> {
    let u = url::Url::parse(url).map_err(|_| HttpError::BadUrl(shown(url)))?;
    match u.scheme() {
        "https" => Ok(()),
        "http" => match u.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Domain("localhost")) => Ok(()),
            _ => Err(HttpError::Plaintext(shown(url))),
        },
        _ => Err(HttpError::BadUrl(shown(url))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_login_in_the_url_is_never_shown() {
        let s = shown("https://ops:Gw%40pass@gw.example/eivital/v1.04/auth");
        assert_eq!(s, "https://gw.example/eivital/v1.04/auth");
        assert_eq!(shown("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        assert!(check_url("https://api.einvoice1.gst.gov.in/eivital/v1.04/auth").is_ok());
        assert!(check_url("http://127.0.0.1:8080/eivital/v1.04/auth").is_ok());
        assert!(check_url("http://localhost:1/x").is_ok());
        assert!(matches!(
            check_url("http://api.einvoice1.gst.gov.in/eivital/v1.04/auth"),
            Err(HttpError::Plaintext(_))
        ));
        assert!(matches!(check_url("ftp://x/"), Err(HttpError::BadUrl(_))));
    }

    #[tokio::test]
    async fn an_endless_answer_is_refused_at_the_cap() {
        let url = crate::loopback::endless_server().await;
        let http = Http::new(Duration::from_secs(60));
        let r = http
            .post_json(&format!("{url}/auth"), &[], "{}".into())
            .await;
        assert!(
            matches!(r, Err(HttpError::TooBig(MAX_BODY))),
            "{:?}",
            r.err()
        );
    }
}
