//! What an endpoint says about itself (`GET /status`,
//! https://www.w3.org/TR/webdriver2/#status): whether it is ready and, for
//! a Selenium Grid, its nodes and slots, from which the sessions it could
//! start now are counted.

use super::address::Address;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

/// How long a `/status` may take before the endpoint counts as down.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// The most a `/status` answer may hold: a Grid of hundreds of nodes fits.
const MAX_STATUS: usize = 4 << 20;

/// Why an endpoint's `/status` (or a Delete Session) gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// A URL that cannot carry the request.
    #[error("not a URL that can be asked")]
    BadUrl,
    /// Connection, TLS or protocol failure: the causes, one line.
    #[error("{0}")]
    Transport(String),
    /// More than [`MAX_STATUS`] bytes.
    #[error("{path} answered more than {} MiB: not a WebDriver status", MAX_STATUS >> 20)]
    TooBig {
        /// What was asked.
        path: String,
    },
    /// 401 or 403.
    #[error("{path} answered {status}: check the user and password in the URL")]
    Refused {
        /// What was asked.
        path: String,
        /// The HTTP status.
        status: u16,
    },
    /// Another status than 200.
    #[error("{path} answered {status}")]
    Status {
        /// What was asked.
        path: String,
        /// The HTTP status.
        status: u16,
    },
    /// No answer within [`STATUS_TIMEOUT`].
    #[error("{path} did not answer within {}s", STATUS_TIMEOUT.as_secs())]
    Timeout {
        /// What was asked.
        path: String,
    },
    /// An answer that is not JSON.
    #[error("/status is not JSON")]
    NotJson,
    /// A plain driver that says it is not ready, and why.
    #[error("not ready: {0}")]
    NotReady(String),
}

/// What `/status` says about room for new sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// A Selenium Grid: sessions of our browser it could start now, and
    /// how many it could run in all.
    Grid {
        /// Free now.
        free: usize,
        /// In all.
        total: usize,
    },
    /// A plain driver (chromedriver, geckodriver) that says it is ready:
    /// it reports no slots, so it counts as `--parallel`.
    Plain,
}

/// Reads `/status` at `addr` (basic auth from its userinfo).
pub async fn fetch(addr: &Address, browser: &str) -> Result<Capacity, StatusError> {
    let body = request(addr, "GET", "/status").await?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| StatusError::NotJson)?;
    parse(&v, browser)
}

/// Ends session `id` at `addr` (https://www.w3.org/TR/webdriver2/#delete-session)
/// with the basic auth fantoccini 0.22 leaves off its own Delete Session,
/// so a Grid behind auth frees the slot.
pub async fn delete_session(addr: &Address, id: &str) -> Result<(), StatusError> {
    request(addr, "DELETE", &format!("/session/{id}"))
        .await
        .map(|_| ())
}

/// One request to `addr` + `path`, basic auth from its userinfo; the
/// body of a 200.
async fn request(addr: &Address, method: &str, path: &str) -> Result<Vec<u8>, StatusError> {
    let u = url::Url::parse(&format!("{}{path}", addr.full())).map_err(|_| StatusError::BadUrl)?;
    let mut plain = u.clone();
    // Both setters fail only for URLs that cannot have credentials.
    if plain
        .set_username("")
        .and(plain.set_password(None))
        .is_err()
    {
        return Err(StatusError::BadUrl);
    }
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(plain.as_str())
        .header("accept", "application/json");
    if let Some(auth) = addr.basic_auth() {
        req = req.header("authorization", auth);
    }
    let req = req
        .body(Empty::<Bytes>::new())
        .map_err(|_| StatusError::BadUrl)?;
    let path = path.to_string();
    let call = async {
        let client = shared_client();
        let res = client
            .request(req)
            .await
            .map_err(|e| StatusError::Transport(chain(&e)))?;
        let status = res.status().as_u16();
        let body = http_body_util::Limited::new(res.into_body(), MAX_STATUS)
            .collect()
            .await
            .map_err(|e| match e.is::<http_body_util::LengthLimitError>() {
                true => StatusError::TooBig { path: path.clone() },
                false => StatusError::Transport(e.to_string()),
            })?;
        match status {
            200 => Ok(body.to_bytes().to_vec()),
            401 | 403 => Err(StatusError::Refused {
                path: path.clone(),
                status,
            }),
            status => Err(StatusError::Status {
                path: path.clone(),
                status,
            }),
        }
    };
    tokio::time::timeout(STATUS_TIMEOUT, call)
        .await
        .map_err(|_| StatusError::Timeout { path: path.clone() })?
}

/// One client for every endpoint's `/status` and Delete Session: the
/// system's CA roots are read once, and connections are kept between asks.
fn shared_client() -> &'static Client<super::connect::Https, Empty<Bytes>> {
    static CLIENT: std::sync::OnceLock<Client<super::connect::Https, Empty<Bytes>>> =
        std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder(TokioExecutor::new()).build(super::connect::https_connector())
    })
}

/// The error and its causes, one line (hyper's top level says little).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        parts.push(c.to_string());
        cause = c.source();
    }
    parts.join(": ")
}

/// A Grid (its status has `nodes`) or a plain driver; `browser` is the
/// W3C `browserName` the sessions will ask for.
pub fn parse(v: &Value, browser: &str) -> Result<Capacity, StatusError> {
    let value = &v["value"];
    let Some(nodes) = value["nodes"].as_array() else {
        return match value["ready"].as_bool() {
            Some(false) => Err(StatusError::NotReady(
                value["message"]
                    .as_str()
                    .unwrap_or("no reason given")
                    .to_string(),
            )),
            _ => Ok(Capacity::Plain),
        };
    };
    let (mut free, mut total) = (0, 0);
    for node in nodes.iter().filter(|n| n["availability"] == "UP") {
        let slots = node["slots"].as_array().map_or(&[][..], |s| s.as_slice());
        let busy = slots.iter().filter(|s| !s["session"].is_null()).count();
        let ours = |s: &&Value| s["stereotype"]["browserName"] == browser;
        let mine = slots.iter().filter(ours).count();
        let mine_free = slots
            .iter()
            .filter(ours)
            .filter(|s| s["session"].is_null())
            .count();
        // A node runs at most maxSessions at once, whatever its slots.
        let max = node["maxSessions"].as_u64().map_or(mine, |m| m as usize);
        total += mine.min(max);
        free += mine_free.min(max.saturating_sub(busy));
    }
    Ok(Capacity::Grid { free, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slot(browser: &str, busy: bool) -> Value {
        let session = match busy {
            true => json!({"sessionId": "x", "capabilities": {"se:name": "29AAAAA"}}),
            false => Value::Null,
        };
        json!({"stereotype": {"browserName": browser}, "session": session})
    }

    #[test]
    fn a_grid_counts_free_slots_of_our_browser_within_each_nodes_limit() {
        // One node: 3 sessions at most, chrome and firefox slots 3 each, one chrome busy.
        let node = json!({"availability": "UP", "maxSessions": 3, "slots": [
            slot("chrome", true), slot("chrome", false), slot("chrome", false),
            slot("firefox", false), slot("firefox", false), slot("firefox", false)]});
        let down =
            json!({"availability": "DOWN", "maxSessions": 4, "slots": [slot("chrome", false)]});
        let v = json!({"value": {"ready": true, "nodes": [node, down]}});
        assert_eq!(
            parse(&v, "chrome"),
            Ok(Capacity::Grid { free: 2, total: 3 })
        );
        assert_eq!(
            parse(&v, "firefox"),
            Ok(Capacity::Grid { free: 2, total: 3 }),
            "the busy chrome slot counts against the node's limit"
        );
        let full = json!({"value": {"ready": true, "nodes": [{"availability": "UP", "maxSessions": 1,
            "slots": [slot("firefox", true), slot("chrome", false)]}]}});
        assert_eq!(
            parse(&full, "chrome"),
            Ok(Capacity::Grid { free: 0, total: 1 })
        );
    }

    #[test]
    fn a_plain_driver_is_ready_or_says_why_not() {
        let cd = json!({"value": {"ready": true, "message": "ChromeDriver ready for new sessions.", "build": {"version": "156"}}});
        assert_eq!(parse(&cd, "chrome"), Ok(Capacity::Plain));
        let busy = json!({"value": {"ready": false, "message": "Session already started"}});
        assert_eq!(
            parse(&busy, "firefox"),
            Err(StatusError::NotReady("Session already started".into()))
        );
        let hub = json!({"value": {"ready": false, "nodes": []}});
        assert_eq!(
            parse(&hub, "chrome"),
            Ok(Capacity::Grid { free: 0, total: 0 })
        );
    }

    #[tokio::test]
    async fn an_endless_status_is_refused_at_the_cap() {
        let url = crate::loopback::endless_server().await;
        let addr = crate::driver::address::Address::parse(&url).unwrap();
        let e = fetch(&addr, "chrome").await.unwrap_err();
        assert!(matches!(e, StatusError::TooBig { .. }), "{e}");
        assert!(e.to_string().contains("more than 4 MiB"), "{e}");
    }
}
