//! A loopback proxy in front of a chromedriver, for what a real endpoint
//! may do that chromedriver does not: offer no WebDriver BiDi socket, or
//! have a row's user context removed under it (by another client of the
//! browser, or the browser itself).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, Message};

/// What becomes of the BiDi socket a new session offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Bidi {
    /// Taken out of the answer: the endpoint offers none.
    Hidden,
    /// Relayed through the proxy, which can remove a user context.
    Relayed,
}

pub struct WdProxy {
    port: u16,
    remove: Arc<AtomicBool>,
    removed: Arc<Mutex<Option<String>>>,
    contexts: Arc<Mutex<Contexts>>,
    scripts: Arc<Scripts>,
}

/// The page scripts einvreg sent: classic Execute Script commands, and
/// BiDi `script.callFunction` commands.
#[derive(Default, Debug)]
pub struct Scripts {
    pub classic: AtomicUsize,
    pub bidi: AtomicUsize,
    /// Every classic command, in order: its method and its path after the
    /// session's id ("POST /url"), a DevTools method after it
    /// ("POST /goog/cdp/execute DOM.enable").
    pub commands: Mutex<Vec<String>>,
}

/// The user contexts the browser made, and those its client removed.
#[derive(Default, Clone, Debug)]
pub struct Contexts {
    pub made: Vec<String>,
    pub removed_by_client: Vec<String>,
}

impl WdProxy {
    pub fn start(upstream: u16, bidi: Bidi) -> WdProxy {
        let http = TcpListener::bind("127.0.0.1:0").unwrap();
        let ws = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = http.local_addr().unwrap().port();
        let ws_port = ws.local_addr().unwrap().port();
        let scripts: Arc<Scripts> = Default::default();
        let counts = scripts.clone();
        std::thread::spawn(move || {
            for conn in http.incoming().flatten() {
                let counts = counts.clone();
                std::thread::spawn(move || relay(conn, upstream, bidi, ws_port, &counts));
            }
        });
        let remove = Arc::new(AtomicBool::new(false));
        let removed = Arc::new(Mutex::new(None));
        let contexts = Arc::new(Mutex::new(Contexts::default()));
        let (r, d, c) = (remove.clone(), removed.clone(), contexts.clone());
        let counts = scripts.clone();
        std::thread::spawn(move || {
            for conn in ws.incoming().flatten() {
                let (r, d, c, n) = (r.clone(), d.clone(), c.clone(), counts.clone());
                std::thread::spawn(move || relay_socket(conn, upstream, (r, d), c, &n));
            }
        });
        WdProxy {
            port,
            remove,
            removed,
            contexts,
            scripts,
        }
    }

    /// The page scripts sent so far: (classic, over BiDi).
    pub fn scripts(&self) -> (usize, usize) {
        let s = &self.scripts;
        (
            s.classic.load(Ordering::SeqCst),
            s.bidi.load(Ordering::SeqCst),
        )
    }

    /// The classic commands sent so far (see [`Scripts::commands`]).
    pub fn commands(&self) -> Vec<String> {
        self.scripts.commands.lock().unwrap().clone()
    }

    /// The user contexts made so far, and those einvreg removed.
    pub fn contexts(&self) -> Contexts {
        self.contexts.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Removes the user context made last (the row's, with `--warm 0`);
    /// its id once the browser has done it.
    pub fn remove_last_context(&self) -> String {
        self.remove.store(true, Ordering::SeqCst);
        crate::support::poll("the browser to remove the user context")
            .within(Duration::from_secs(20))
            .every(Duration::from_millis(20))
            .value(|| self.removed.lock().unwrap().clone())
    }
}

/// One request each way; answers with `Connection: close`.
fn relay(mut conn: TcpStream, upstream: u16, bidi: Bidi, ws_port: u16, scripts: &Scripts) {
    let Some(req) = read_message(&mut conn) else {
        return;
    };
    let line = String::from_utf8_lossy(&req[..req.len().min(200)]).to_string();
    if line.lines().next().is_some_and(|l| l.contains("/execute/")) {
        scripts.classic.fetch_add(1, Ordering::SeqCst);
    }
    scripts.commands.lock().unwrap().push(command_of(&req));
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
    up.write_all(&req).unwrap();
    let Some(resp) = read_message(&mut up) else {
        return;
    };
    let text = String::from_utf8_lossy(&resp).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let body = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) => {
            let caps = v.get_mut("value").and_then(|v| v.get_mut("capabilities"));
            if let Some(c) = caps.and_then(|c| c.as_object_mut()) {
                rewrite_socket(c, bidi, ws_port);
            }
            v.to_string()
        }
        Err(_) => body.to_string(),
    };
    let status = head.lines().next().unwrap();
    let out = format!(
        "{status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(out.as_bytes()).unwrap();
    let mut rest = vec![];
    // The client closes once it has read the answer.
    drop(conn.read_to_end(&mut rest));
}

/// "POST /url" for `POST /session/ID/url`; a DevTools command's method after it.
fn command_of(req: &[u8]) -> String {
    let text = String::from_utf8_lossy(req);
    let mut first = text.lines().next().unwrap_or("").split(' ');
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let rest = path
        .splitn(4, '/')
        .nth(3)
        .map_or(String::new(), |r| format!("/{r}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let cdp = serde_json::from_str::<serde_json::Value>(body).ok();
    match cdp.as_ref().and_then(|v| v["cmd"].as_str()) {
        Some(cmd) if rest.ends_with("/goog/cdp/execute") => format!("{method} {rest} {cmd}"),
        _ => format!("{method} {rest}"),
    }
}

fn rewrite_socket(caps: &mut serde_json::Map<String, serde_json::Value>, bidi: Bidi, ws_port: u16) {
    match bidi {
        Bidi::Hidden => {
            caps.remove("webSocketUrl");
        }
        Bidi::Relayed => {
            let Some(url) = caps.get("webSocketUrl").and_then(|u| u.as_str()) else {
                return;
            };
            // ws://localhost:PORT/session/ID (chromedriver) → ours
            let path = url.splitn(4, '/').nth(3).unwrap_or("");
            let ours = format!("ws://127.0.0.1:{ws_port}/{path}");
            caps.insert("webSocketUrl".into(), ours.into());
        }
    }
}

/// Our id for the command the proxy sends itself.
const OUR_ID: u64 = 4_000_000_000;

/// Relays one BiDi socket both ways, noting each user context the
/// browser makes; when `remove` is set, removes the last one and answers
/// its id through `removed` (the client never sees that exchange).
// The handshake callback's Result type is tungstenite's, not ours.
#[allow(clippy::result_large_err)]
fn relay_socket(
    conn: TcpStream,
    upstream: u16,
    (remove, removed): (Arc<AtomicBool>, Arc<Mutex<Option<String>>>),
    contexts: Arc<Mutex<Contexts>>,
    scripts: &Scripts,
) {
    let path = Arc::new(Mutex::new(String::new()));
    let p = path.clone();
    let mut client = tungstenite::accept_hdr(
        conn.try_clone().unwrap(),
        move |req: &tungstenite::handshake::server::Request, resp| {
            *p.lock().unwrap() = req.uri().path().to_string();
            Ok(resp)
        },
    )
    .unwrap();
    let url = format!("ws://127.0.0.1:{upstream}{}", path.lock().unwrap());
    let (mut up, _) = tungstenite::connect(url).unwrap();
    let tick = Some(Duration::from_millis(5));
    conn.set_read_timeout(tick).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = up.get_mut() {
        s.set_read_timeout(tick).unwrap();
    }
    let mut last_made: Option<String> = None;
    let mut asked: Option<String> = None;
    // The client's removeUserContext commands: id → the context.
    let mut removals = std::collections::HashMap::new();
    loop {
        match client.read() {
            Ok(m) if m.is_text() => {
                let v: serde_json::Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
                if v["method"] == "script.callFunction" {
                    scripts.bidi.fetch_add(1, Ordering::SeqCst);
                }
                if v["method"] == "browser.removeUserContext" {
                    let uc = v["params"]["userContext"].as_str().unwrap().to_string();
                    removals.insert(v["id"].as_u64().unwrap(), uc);
                }
                up.send(m).unwrap()
            }
            Ok(Message::Close(_)) => return,
            Ok(_) => {}
            Err(e) if waiting(&e) => {}
            Err(_) => return,
        }
        match up.read() {
            Ok(Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                if let Some(uc) = v["result"]["userContext"].as_str() {
                    last_made = Some(uc.to_string());
                    // Made once; other answers (a tab's) name it again.
                    let mut c = contexts.lock().unwrap();
                    if !c.made.iter().any(|m| m == uc) {
                        c.made.push(uc.to_string());
                    }
                }
                let theirs = v["id"].as_u64().and_then(|id| removals.remove(&id));
                if let (Some(uc), "success") = (theirs, v["type"].as_str().unwrap_or("")) {
                    contexts.lock().unwrap().removed_by_client.push(uc);
                }
                if v["id"].as_u64() == Some(OUR_ID) {
                    assert_eq!(v["type"], "success", "removeUserContext: {v}");
                    *removed.lock().unwrap() = asked.take();
                    continue;
                }
                client.send(Message::Text(t)).unwrap();
            }
            Ok(Message::Close(_)) => return,
            Ok(_) => {}
            Err(e) if waiting(&e) => {}
            Err(_) => return,
        }
        if asked.is_none() && last_made.is_some() && remove.swap(false, Ordering::SeqCst) {
            let uc = last_made.clone().unwrap();
            let cmd = serde_json::json!({
                "id": OUR_ID,
                "method": "browser.removeUserContext",
                "params": {"userContext": uc},
            });
            up.send(Message::Text(cmd.to_string().into())).unwrap();
            asked = Some(uc);
        }
    }
}

fn waiting(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
}

/// One HTTP/1.1 message (head and a Content-Length body), or `None` when
/// the peer closed first.
fn read_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut raw = vec![];
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        if raw.len() >= end + 4 + len {
            return Some(raw);
        }
    }
}
