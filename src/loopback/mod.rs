//! A minimal HTTP/1.1 client for loopback only: the operator's replica
//! oracle and the replica's own HTTP-level tests use it. It refuses any
//! host but 127.0.0.1/localhost, so it can never reach the real portals.

use std::collections::HashMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Headers in order, names as sent.
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
    /// The connection failed.
    #[error("the connection failed")]
    Io(#[from] std::io::Error),
    /// The answer was not HTTP/1.1.
    #[error("malformed HTTP response")]
    Malformed,
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

/// Sends one request to a loopback URL and reads the whole response.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    let (hostport, path) = split_loopback(url)?;
    let mut stream = tokio::net::TcpStream::connect(&hostport).await?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nUser-Agent: einvreg\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            b.len()
        ));
    } else if method == "POST" {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    stream.write_all(req.as_bytes()).await?;
    // Servers may keep the connection open despite `Connection: close`
    // (chromedriver does): stop at Content-Length or the last chunk.
    let read = async {
        let mut raw = Vec::new();
        let mut buf = [0u8; 16384];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            if complete(&raw) {
                break;
            }
            if raw.len() > MAX_RESPONSE {
                return Err(HttpError::Io(std::io::Error::other(format!(
                    "the answer is larger than {} MiB: refused",
                    MAX_RESPONSE >> 20
                ))));
            }
        }
        Ok::<_, HttpError>(raw)
    };
    let raw = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .map_err(|_| {
            HttpError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete HTTP response within 30s",
            ))
        })??;
    parse(&raw)
}

fn complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    if let Some(len) = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    }) {
        return body.len() >= len;
    }
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    false
}

fn parse(raw: &[u8]) -> Result<HttpResponse, HttpError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(HttpError::Malformed)?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| HttpError::Malformed)?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Malformed)?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or(HttpError::Malformed)?;
            let size = usize::from_str_radix(
                std::str::from_utf8(&rest[..nl])
                    .map_err(|_| HttpError::Malformed)?
                    .trim(),
                16,
            )
            .map_err(|_| HttpError::Malformed)?;
            if size == 0 {
                break;
            }
            let start = nl + 2;
            out.extend_from_slice(rest.get(start..start + size).ok_or(HttpError::Malformed)?);
            rest = rest.get(start + size + 2..).ok_or(HttpError::Malformed)?;
        }
        body = out;
    }
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
    #[test]
    fn parses_chunked() {
        let r = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=b; Path=/\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(r.text(), "abcde");
        assert_eq!(r.set_cookies(), vec![("a".to_string(), "b".to_string())]);
    }
}

/// A test server that answers every request with an endless body.
#[cfg(test)]
pub(crate) async fn endless_server() -> String {
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
