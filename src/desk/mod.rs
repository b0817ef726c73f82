//! The answer desk (`--desk`): a small web page served by the running
//! batch where operators answer captchas and OTPs, and where each
//! taxpayer can type their own OTP through a link meant for them alone.
//!
//! It is one more answer source in the operator queue ([`Desk::operator`]):
//! it sees every open prompt at once, and the first answer from the desk,
//! the terminal or an answer command wins. It stops when its [`Desk`] is
//! dropped, at the end of the batch.

mod board;
mod notify;
mod pages;
mod server;
mod tls;
mod token;

pub use notify::Notify;
pub use tls::server_config;

use crate::events::Sink;
use crate::operator::{Ask, BoxFut, Operator, OperatorError, Question, Reply};
use board::Board;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use token::{Limiter, Token};

/// Wrong tokens allowed per client address in [`LIMIT_WINDOW`].
const LIMIT: usize = 10;
/// Wrong tokens from all addresses together in [`LIMIT_WINDOW`]; past it, an
/// address that fails once is locked.
const GLOBAL_LIMIT: usize = 50;
const LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// What `--desk*` asked for, read and checked at the CLI edge.
#[derive(Clone)]
pub struct DeskConfig {
    pub bind: SocketAddr,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Taxpayer links for OTPs, valid this long (`--desk-otp-links`).
    pub links: Option<Duration>,
    pub notify: Option<Notify>,
    /// How long a prompt may wait for an answer.
    pub timeout: Duration,
    /// The address taxpayers' links name (`--desk-url`), if not the bound one.
    pub public_url: Option<String>,
}

impl std::fmt::Debug for DeskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskConfig")
            .field("bind", &self.bind)
            .field("tls", &self.tls.is_some())
            .field("links", &self.links)
            .field("notify", &self.notify.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("the answer desk cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// What the desk's handlers need beyond the board.
pub(crate) struct Settings {
    links: Option<Duration>,
    notify: Option<Notify>,
    timeout: Duration,
    /// `https://host:port`, as links name it.
    base: String,
    /// The session cookie's name (one per port: cookies ignore ports).
    cookie: String,
    secure: bool,
    /// On loopback, the Host values accepted (DNS rebinding).
    hosts: Option<Vec<String>>,
}

pub(crate) struct State {
    board: Board,
    auth: Mutex<Auth>,
    settings: Settings,
}

struct Auth {
    /// Printed at start; signs in any number of operators.
    operator: Token,
    /// The one-time sign-in link's token, until used.
    once: Option<Token>,
    sessions: Vec<OpSession>,
    limiter: Limiter,
}

struct OpSession {
    id: Token,
    csrf: Token,
}

impl Auth {
    fn new_session(&mut self) -> Token {
        let id = Token::new();
        self.sessions.push(OpSession {
            id: id.clone(),
            csrf: Token::new(),
        });
        id
    }

    /// Uses up the one-time sign-in link if `given` is it.
    fn take_once(&mut self, given: &str) -> bool {
        let ok = self.once.as_ref().is_some_and(|t| t.matches(given));
        if ok {
            self.once = None;
        }
        ok
    }
}

/// The Host values a loopback desk answers: its own bound address, the
/// loopback names at its port, and the `--desk-url` host (a reverse
/// proxy's name, with and without its port). Anything else is DNS rebinding.
fn allowed_hosts(local: SocketAddr, public_url: Option<&str>) -> Vec<String> {
    let p = local.port();
    let mut hosts = vec![
        local.to_string(),
        format!("127.0.0.1:{p}"),
        format!("localhost:{p}"),
        format!("[::1]:{p}"),
    ];
    if let Some(u) = public_url.and_then(|u| url::Url::parse(u).ok()) {
        if let Some(h) = u.host_str() {
            hosts.push(h.to_ascii_lowercase());
            if let Some(port) = u.port_or_known_default() {
                hosts.push(format!("{}:{port}", h.to_ascii_lowercase()));
            }
        }
    }
    hosts
}

impl State {
    fn auth(&self) -> MutexGuard<'_, Auth> {
        self.auth.lock().expect("desk auth lock")
    }
}

/// The running desk; dropping it stops it.
pub struct Desk {
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
    operator: Token,
    once: Token,
}

impl Desk {
    /// Listens on `cfg.bind` (HTTPS with `cfg.tls`) and serves the desk.
    pub async fn start(cfg: DeskConfig) -> Result<Desk, DeskError> {
        let bind = |source| DeskError::Bind {
            addr: cfg.bind,
            source,
        };
        let tcp = tokio::net::TcpListener::bind(cfg.bind)
            .await
            .map_err(bind)?;
        let local = tcp.local_addr().map_err(bind)?;
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        let hosts = local
            .ip()
            .is_loopback()
            .then(|| allowed_hosts(local, cfg.public_url.as_deref()));
        let settings = Settings {
            links: cfg.links,
            notify: cfg.notify,
            timeout: cfg.timeout,
            base: cfg
                .public_url
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("{scheme}://{local}")),
            cookie: format!("einvreg_desk_{}", local.port()),
            secure: cfg.tls.is_some(),
            hosts,
        };
        let (operator, once) = (Token::new(), Token::new());
        let state = Arc::new(State {
            board: Board::default(),
            auth: Mutex::new(Auth {
                operator: operator.clone(),
                once: Some(once.clone()),
                sessions: vec![],
                limiter: Limiter::new(LIMIT, GLOBAL_LIMIT, LIMIT_WINDOW),
            }),
            settings,
        });
        let app =
            server::router(state.clone()).into_make_service_with_connect_info::<server::Peer>();
        let server = match cfg.tls {
            Some(tls) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                let l = tls::TlsListener { tcp, acceptor };
                tokio::spawn(async move { log_end(axum::serve(l, app).await) })
            }
            None => tokio::spawn(async move { log_end(axum::serve(tcp, app).await) }),
        };
        Ok(Desk {
            state,
            server,
            operator,
            once,
        })
    }

    /// The operator view's address.
    pub fn url(&self) -> String {
        format!("{}/desk", self.state.settings.base)
    }

    /// The one-time sign-in link (it works once).
    pub fn sign_in_link(&self) -> String {
        format!(
            "{}/desk/login?once={}",
            self.state.settings.base,
            self.once.expose()
        )
    }

    /// The token any number of operators sign in with.
    pub fn token(&self) -> &str {
        self.operator.expose()
    }

    /// The answer source for the operator queue.
    pub fn operator(&self) -> Arc<dyn Operator> {
        Arc::new(DeskOperator(self.state.clone()))
    }

    /// Rows to be done, for the progress shown.
    pub fn set_total(&self, rows: usize) {
        self.state.board.set_total(rows);
    }

    /// Feeds the progress shown from the batch's events.
    pub fn sink(&self) -> Sink {
        let s = self.state.clone();
        Arc::new(move |e| s.board.on_event(e))
    }
}

fn log_end(r: std::io::Result<()>) {
    if let Err(e) = r {
        tracing::warn!("the answer desk stopped: {e}");
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct DeskOperator(Arc<State>);

/// Takes the prompt off the board however the wait ends (answered here
/// or elsewhere, timed out).
struct Withdraw<'a> {
    board: &'a Board,
    id: u64,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.board.withdraw(self.id);
    }
}

impl Operator for DeskOperator {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        Box::pin(async move {
            let s = &self.0;
            let opened = s.board.open(q, s.settings.links);
            let _withdraw = Withdraw {
                board: &s.board,
                id: opened.id,
            };
            if let (Some(t), Some(n), Some(ttl)) =
                (&opened.link, &s.settings.notify, s.settings.links)
            {
                let mobile = match &q.ask {
                    Ask::Otp { mobile, .. } => mobile.clone().unwrap_or_default(),
                    Ask::Captcha { .. } | Ask::Repair(_) => String::new(),
                };
                n.send(notify::Message {
                    link: &format!("{}/otp/{}", s.settings.base, t.expose()),
                    gstin: &q.gstin,
                    mobile: &mobile,
                    valid_for: ttl,
                });
            }
            // A taxpayer has as long as their link is valid.
            let wait = match (&opened.link, s.settings.links) {
                (Some(_), Some(ttl)) => ttl.max(s.settings.timeout),
                _ => s.settings.timeout,
            };
            match tokio::time::timeout(wait, opened.answer).await {
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(_)) => Err(OperatorError::Failed("the answer desk stopped".into())),
                Err(_) => Err(OperatorError::Timeout {
                    what: q.what(),
                    secs: wait.as_secs(),
                }),
            }
        })
    }

    fn describe(&self) -> String {
        "the answer desk".into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_desk_answers_its_bound_address_and_its_public_name() {
        let local = "127.0.0.2:8765".parse().unwrap();
        let h = super::allowed_hosts(local, Some("https://Desk.Example.in:8443/"));
        for ok in [
            "127.0.0.2:8765",
            "localhost:8765",
            "desk.example.in",
            "desk.example.in:8443",
        ] {
            assert!(h.iter().any(|a| a.eq_ignore_ascii_case(ok)), "{ok}: {h:?}");
        }
        assert!(!h.iter().any(|a| a == "evil.example:8765"), "{h:?}");
        let h = super::allowed_hosts(local, Some("https://desk.example.in"));
        assert!(h.contains(&"desk.example.in:443".to_string()), "{h:?}");
    }

    /// The status line's code of one raw HTTP/1.1 request.
    async fn status_of(addr: &str, req: String) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 64];
        let n = s.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).to_string();
        head.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn a_desk_on_another_loopback_address_answers_it_and_refuses_big_bodies() {
        let cfg = super::DeskConfig {
            bind: "127.0.0.2:0".parse().unwrap(),
            tls: None,
            links: None,
            notify: None,
            timeout: std::time::Duration::from_secs(60),
            public_url: None,
        };
        let desk = super::Desk::start(cfg).await.unwrap();
        let addr = desk
            .url()
            .trim_start_matches("http://")
            .trim_end_matches("/desk")
            .to_string();
        let get = format!("GET /desk/login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        assert_eq!(status_of(&addr, get).await, 200);
        let evil = "GET /desk/login HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
            .to_string();
        assert_eq!(status_of(&addr, evil).await, 421);
        let body = "token=".to_string() + &"x".repeat(super::server::MAX_BODY + 1);
        let post = format!("POST /desk/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        assert_eq!(status_of(&addr, post).await, 413);
    }
}
