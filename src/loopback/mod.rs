//! An HTTP client for loopback only: the operator's replica oracle, the
//! driver's status checks and the replica's own HTTP-level tests use it.
//! It refuses any host but 127.0.0.1/localhost, so it can never reach the
//! real portals. hyper-util's client speaks the HTTP; this keeps the
//! loopback rule, the size and time bounds, and a cookie-keeping agent.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::time::Duration;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Headers in order (names in lower case, as HTTP/1.1 allows).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Every `Set-Cookie` as (name, value).
    pub fn set_cookies(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| {
                v.split(';')
                    .next()?
                    .split_once('=')
                    .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
            })
            .collect()
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not on this machine.
    #[error("only loopback URLs are allowed here, not {0}")]
    NotLoopback(String),
    /// Not an `http://host:port/path` URL.
    #[error("bad URL {0}")]
    BadUrl(String),
    /// The request could not be sent or the answer not read.
    #[error("{0}")]
    Transport(String),
    /// No whole answer in time.
    #[error("no complete HTTP response within {0:?}")]
    Timeout(Duration),
    /// An answer larger than any loopback answer can be.
    #[error("the answer is larger than {} MiB: refused", .0 >> 20)]
    TooBig(usize),
}

/// (host:port, path) of an http://127.0.0.1 or http://localhost URL.
pub fn split_loopback(url: &str) -> Result<(String, String), HttpError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| HttpError::BadUrl(url.into()))?;
    let (hostport, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let host = hostport
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(hostport);
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        return Err(HttpError::NotLoopback(url.into()));
    }
    Ok((hostport.to_string(), path))
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        let mut o = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    o.push(b as char)
                }
                b' ' => o.push('+'),
                _ => o.push_str(&format!("%{b:02X}")),
            }
        }
        o
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The most a loopback answer may hold (a driver's status, a replica page).
const MAX_RESPONSE: usize = 16 << 20;

/// How long a whole loopback answer may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends one request to a loopback URL and reads the whole response.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    split_loopback(url)?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("user-agent", "einvreg");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let body = Full::new(Bytes::from(body.unwrap_or_default().to_string()));
    let req = req.body(body).map_err(|_| HttpError::BadUrl(url.into()))?;
    // One connection per request: a test's runtime may end with its call.
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http();
    let call = async {
        let res = client.request(req).await.map_err(|e| {
            // hyper's own message says little: its causes say what failed.
            HttpError::Transport(crate::chain::chain(&e))
        })?;
        read(res).await
    };
    tokio::time::timeout(TIMEOUT, call)
        .await
        .map_err(|_| HttpError::Timeout(TIMEOUT))?
}

/// The status, headers and whole body (at most [`MAX_RESPONSE`]).
async fn read(res: hyper::Response<hyper::body::Incoming>) -> Result<HttpResponse, HttpError> {
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_string(), v)
        })
        .collect();
    let body = Limited::new(res.into_body(), MAX_RESPONSE)
        .collect()
        .await
        .map_err(|e| match e.is::<http_body_util::LengthLimitError>() {
            true => HttpError::TooBig(MAX_RESPONSE),
            false => HttpError::Transport(e.to_string()),
        })?
        .to_bytes()
        .to_vec();
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// A cookie-keeping client for scripted walks through the replica.
#[derive(Default, Debug, Clone)]
pub struct Agent {
    /// The portal's base URL.
    pub base: String,
    /// Cookies set so far, sent with every request.
    pub cookies: HashMap<String, String>,
}

impl Agent {
    /// An agent with no cookies yet.
    pub fn new(base: &str) -> Agent {
        Agent {
            base: base.trim_end_matches('/').to_string(),
            cookies: HashMap::new(),
        }
    }
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<HttpResponse, HttpError> {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let cookie = self.cookie_header();
        let hdrs: Vec<(&str, &str)> = if cookie.is_empty() {
            vec![]
        } else {
            vec![("Cookie", cookie.as_str())]
        };
        let r = request(method, &url, &hdrs, body).await?;
        for (k, v) in r.set_cookies() {
            self.cookies.insert(k, v);
        }
        Ok(r)
    }
    /// GET a path (or a full loopback URL).
    pub async fn get(&mut self, path: &str) -> Result<HttpResponse, HttpError> {
        self.send("GET", path, None).await
    }
    /// POST a form to a path (or a full loopback URL).
    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        self.send("POST", path, Some(&form_encode(form))).await
    }
    /// GET, following redirects (at most 5).
    pub async fn get_follow(&mut self, path: &str) -> Result<HttpResponse, HttpError> {
        let mut r = self.get(path).await?;
        for _ in 0..5 {
            match (r.status, r.header("location").map(str::to_string)) {
                (301..=303, Some(loc)) => r = self.get(&loc).await?,
                _ => break,
            }
        }
        Ok(r)
    }
    /// POST, then follow the redirect with GETs.
    pub async fn post_follow(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        let r = self.post(path, form).await?;
        match (r.status, r.header("location").map(str::to_string)) {
            (301..=303, Some(loc)) => self.get_follow(&loc).await,
            _ => Ok(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn refuses_non_loopback() {
        assert!(matches!(
            split_loopback("http://einvoice1.gst.gov.in/"),
            Err(HttpError::NotLoopback(_))
        ));
        assert!(split_loopback("https://127.0.0.1/").is_err());
        assert_eq!(
            split_loopback("http://127.0.0.1:80/a?b=1").unwrap(),
            ("127.0.0.1:80".into(), "/a?b=1".into())
        );
        assert_eq!(form_encode(&[("a b", "x&y=ü")]), "a+b=x%26y%3D%C3%BC");
    }
}

/// A test server that answers every request with `answer`, whole.
#[cfg(test)]
async fn server(answer: &'static [u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut req = [0u8; 4096];
            if s.read(&mut req).await.is_ok() && s.write_all(answer).await.is_ok() {
                // The answer is whole; the connection stays open (chromedriver's way).
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    });
    format!("http://{addr}")
}

/// A test server that answers every request with an endless body.
#[cfg(test)]
pub(crate) async fn endless_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut req = [0u8; 4096];
                if s.read(&mut req).await.is_err() {
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000000000\r\n\r\n";
                let chunk = vec![b' '; 64 * 1024];
                // Until the client hangs up; bounded so a broken test ends.
                if s.write_all(head.as_bytes()).await.is_ok() {
                    for _ in 0..20_000 {
                        if s.write_all(&chunk).await.is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[cfg(test)]
mod answers {
    #[tokio::test]
    async fn a_chunked_answer_with_cookies_is_read_whole_on_a_kept_connection() {
        let url = super::server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=b; Path=/\r\nSet-Cookie: c=d\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").await;
        let r = super::request("GET", &format!("{url}/x"), &[], None)
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "abcde");
        let cookies = r.set_cookies();
        assert_eq!(
            cookies,
            [("a".into(), "b".into()), ("c".into(), "d".into())]
        );
    }
}

#[cfg(test)]
mod bounded {
    #[tokio::test]
    async fn an_endless_answer_is_refused_not_read_into_memory() {
        let url = super::endless_server().await;
        let e = super::request("GET", &format!("{url}/status"), &[], None)
            .await
            .expect_err("refused");
        let shown = crate::chain::chain(&e);
        assert!(shown.contains("larger than 16 MiB"), "{shown}");
    }
}
