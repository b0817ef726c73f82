//! A faithful, stateful replica of both NIC e-Invoice portals
//! (portal-facts.md), for tests, demos and operator rehearsals.
//!
//! Two loopback listeners: the sandbox (taxpayer self-registration, an
//! ASP.NET WebForms page) and production (login, 2FA, Create API User).
//! Replica-only test aids live under `/__replica/` on both.

mod aid;
mod api_auth;
mod captcha;
mod config;
mod fixtures;
mod hash;
mod html;
mod production;
mod relabel;
mod rename;
mod sandbox;
mod state;
mod widgets;

pub use config::{ConfigError, Drift, Faults, Layout};
pub use fixtures::{Fixture, Fixtures};
pub use production::tricks_page;
pub use state::{generated_taxpayers, Taxpayer};
use state::{Inner, Persisted, Providers, Session, Shared};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to start a replica.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sandbox port; production takes the next one. 0 picks free ports.
    pub port: u16,
    /// Where `taxpayers.toml`, `providers.toml` and the API keys come from.
    pub fixtures: Fixtures,
    /// Deterministic generated taxpayers added to the fixtures' (for load).
    pub extra_taxpayers: usize,
    /// Faults to inject.
    pub faults: Faults,
    /// Which of the portals' known behaviours to show.
    pub layout: Layout,
    /// A named markup change.
    pub drift: Option<Drift>,
    /// Seed for captchas, OTPs and fault dice (deterministic runs).
    pub seed: Option<u64>,
    /// How long an OTP stays valid [guess: 10 minutes].
    pub otp_validity: Duration,
    /// OTP resends allowed [guess: 3].
    pub max_resends: u32,
    /// Wrong OTPs before lock-out [guess: 5].
    pub max_wrong_otp: u32,
    /// Keep created users in this JSON file across restarts.
    pub state_file: Option<PathBuf>,
    /// Do not print SMS on the console (tests read the outbox instead).
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            fixtures: Fixtures::Embedded,
            extra_taxpayers: 0,
            faults: Faults::default(),
            layout: Layout::default(),
            drift: None,
            seed: None,
            otp_validity: Duration::from_secs(600),
            max_resends: 3,
            max_wrong_otp: 5,
            state_file: None,
            quiet: true,
        }
    }
}

/// A running replica. Dropping it stops both listeners.
pub struct Replica {
    /// The sandbox's base URL (http://127.0.0.1:PORT).
    pub sandbox_url: String,
    /// The production portal's base URL.
    pub production_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Why the replica did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A fixture file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A fixture file is not the TOML it should be.
    #[error("{}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A port was taken.
    #[error("cannot bind 127.0.0.1:{port}")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn read_toml<T: serde::de::DeserializeOwned>(fx: &Fixtures, rel: &str) -> Result<T, StartError> {
    let f = fx.read(rel)?;
    toml::from_str(&f.text).map_err(|source| StartError::Parse {
        path: f.name.into(),
        source: Box::new(source),
    })
}

#[derive(serde::Deserialize)]
struct Directory {
    taxpayer: Vec<Taxpayer>,
}

/// The demo taxpayers of `taxpayers.toml` (their logins are demo data).
pub fn demo_taxpayers(fx: &Fixtures) -> Result<Vec<Taxpayer>, StartError> {
    read_toml::<Directory>(fx, "taxpayers.toml").map(|d| d.taxpayer)
}

impl Replica {
    /// Starts both portals on 127.0.0.1 and returns once they accept connections.
    pub async fn start(opts: Options) -> Result<Replica, StartError> {
        let dir: Directory = read_toml(&opts.fixtures, "taxpayers.toml")?;
        let providers: Providers = read_toml(&opts.fixtures, "providers.toml")?;
        let mut taxpayers = dir.taxpayer;
        taxpayers.extend(state::generated_taxpayers(opts.extra_taxpayers));
        let users: Persisted = match &opts.state_file {
            Some(f) if f.exists() => {
                let s = std::fs::read_to_string(f).map_err(|source| StartError::Read {
                    path: f.clone(),
                    source,
                })?;
                serde_json::from_str(&s).map_err(|source| StartError::Parse {
                    path: f.clone(),
                    source: Box::new(source),
                })?
            }
            _ => Persisted::default(),
        };
        let api = api_auth::ApiAuth::load(&opts.fixtures)?;
        let seed = opts.seed.unwrap_or_else(rand::random);
        let shared = Arc::new(Shared {
            taxpayers,
            providers,
            api,
            faults: opts.faults.clone(),
            drift: opts.drift,
            layout: opts.layout.clone(),
            otp_validity: opts.otp_validity,
            max_resends: opts.max_resends,
            max_wrong: opts.max_wrong_otp,
            state_file: opts.state_file.clone(),
            quiet: opts.quiet,
            inner: Mutex::new(Inner {
                rng: rand::rngs::StdRng::seed_from_u64(seed),
                sessions: HashMap::new(),
                logins_by_browser: HashMap::new(),
                outbox: vec![],
                users,
                spurious_done: vec![],
                seq: 0,
                tech_popup_seen: vec![],
                counters: HashMap::new(),
                captcha_log: vec![],
                captcha_images: HashMap::new(),
                auth: Default::default(),
            }),
        });
        let sb = bind(opts.port).await?;
        let pr = bind(if opts.port == 0 { 0 } else { opts.port + 1 }).await?;
        let sandbox_url = format!("http://{}", sb.local_addr().unwrap());
        let production_url = format!("http://{}", pr.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (tx1, rx1) = tokio::sync::watch::channel(false);
        let mut sandbox_app = sandbox::router().with_state(Portal {
            shared: shared.clone(),
            kind: PortalKind::Sandbox,
        });
        let mut production_app = production::router().with_state(Portal {
            shared: shared.clone(),
            kind: PortalKind::Production,
        });
        if opts.layout.dropdown_widget {
            sandbox_app = sandbox_app.layer(axum::middleware::from_fn(widgets::dropdown_layer));
            production_app =
                production_app.layer(axum::middleware::from_fn(widgets::dropdown_layer));
        }
        match (opts.layout.framed_2fa, opts.layout.frame_in_frame) {
            (true, false) => {
                production_app =
                    production_app.layer(axum::middleware::from_fn(widgets::frame_layer))
            }
            (true, true) => {
                production_app =
                    production_app.layer(axum::middleware::from_fn(widgets::nested_frame_layer))
            }
            (false, _) => {}
        }
        if opts.layout.create_window {
            production_app = production_app.layer(axum::middleware::from_fn(widgets::window_layer));
        }
        if opts.layout.relabelled_buttons {
            // Inside the renaming: it sees the pages' own ids.
            sandbox_app = sandbox_app.layer(axum::middleware::from_fn(relabel::layer));
            production_app = production_app.layer(axum::middleware::from_fn(relabel::layer));
        }
        if opts.layout.renamed_ids {
            // The portals' pages only: the test aids keep their names.
            sandbox_app = sandbox_app.layer(axum::middleware::from_fn(rename::layer));
            production_app = production_app.layer(axum::middleware::from_fn(rename::layer));
        }
        // The test aids, and the auth API (JSON, which renaming leaves alone).
        let aids = |kind| {
            aid::router()
                .route("/eivital/v1.04/auth", axum::routing::post(api_auth::auth))
                .with_state(Portal {
                    shared: shared.clone(),
                    kind,
                })
        };
        let sandbox_app = sandbox_app.merge(aids(PortalKind::Sandbox));
        let production_app = production_app.merge(aids(PortalKind::Production));
        for (listener, app) in [(sb, sandbox_app), (pr, production_app)] {
            let mut rx = rx1.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        // Stops when told to, or when the replica is dropped.
                        rx.wait_for(|v| *v).await.ok();
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!("replica: the server stopped: {e}");
                }
            });
        }
        tokio::spawn(async move {
            let _ = rx.await;
            let _ = tx1.send(true);
        });
        Ok(Replica {
            sandbox_url,
            production_url,
            shutdown: Some(tx),
        })
    }

    /// The base URL of the portal a flow drives.
    pub fn url_for(&self, portal: crate::flow::PortalKind) -> &str {
        match portal {
            crate::flow::PortalKind::Sandbox => &self.sandbox_url,
            crate::flow::PortalKind::Production => &self.production_url,
        }
    }
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener, StartError> {
    // Loopback only: the replica has demo passwords and test aids.
    tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|source| StartError::Bind { port, source })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortalKind {
    Sandbox,
    Production,
}

/// Handler state: which portal, and the shared memory.
#[derive(Clone)]
struct Portal {
    shared: Arc<Shared>,
    kind: PortalKind,
}

impl Portal {
    pub fn cookie_name(&self) -> &'static str {
        match self.kind {
            PortalKind::Sandbox => "ASP.NET_SessionId",
            PortalKind::Production => "EINV_SessionId",
        }
    }

    /// Applies latency and HTTP 500 faults for `page`.
    pub async fn fault(&self, page: &str) -> Option<Response> {
        let f = &self.shared.faults;
        let (delay, fail) = {
            let mut inner = self.shared.inner.lock().unwrap();
            inner.bump(page);
            let delay = f.latency.map(|(lo, hi)| {
                if lo == hi {
                    lo
                } else {
                    Duration::from_secs_f64(
                        inner.rng.random_range(lo.as_secs_f64()..=hi.as_secs_f64()),
                    )
                }
            });
            let fail = f
                .http500
                .iter()
                .any(|(p, prob)| p == page && inner.rng.random_bool(*prob));
            (delay, fail)
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        fail.then(|| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::response::Html(html::server_error()),
            )
                .into_response()
        })
    }

    /// With `hold_create`, waits before answering a create that succeeded
    /// (counted as `create_held` first, so a test knows the window is open).
    pub async fn hold_create(&self) {
        let Some(d) = self.shared.faults.hold_create else {
            return;
        };
        self.shared.inner.lock().unwrap().bump("create_held");
        tokio::time::sleep(d).await;
    }

    /// Finds or makes this browser's session. `expired` is true when the
    /// cookie named a session that idled out (or that this process never had).
    pub fn session(&self, headers: &HeaderMap) -> SessionRef {
        let name = self.cookie_name();
        let cookie = cookies(headers).remove(name);
        let mut inner = self.shared.inner.lock().unwrap();
        let idle = self.shared.faults.idle_expiry;
        let mut expired = false;
        if let Some(id) = &cookie {
            let stale = inner
                .sessions
                .get(id)
                .map(|s| idle.is_some_and(|d| s.last_seen.is_some_and(|t| t.elapsed() > d)));
            match stale {
                Some(false) => {
                    let s = inner.sessions.get_mut(id).unwrap();
                    s.last_seen = Some(Instant::now());
                    return SessionRef {
                        id: id.clone(),
                        set_cookie: None,
                        expired: false,
                    };
                }
                Some(true) => {
                    inner.sessions.remove(id);
                    expired = true;
                }
                None => expired = true,
            }
        }
        let id = inner.new_id(24);
        let csrf = inner.new_id(32);
        inner.sessions.insert(
            id.clone(),
            Session {
                last_seen: Some(Instant::now()),
                csrf,
                ..Default::default()
            },
        );
        SessionRef {
            set_cookie: Some(format!("{name}={id}; Path=/; HttpOnly; SameSite=Lax")),
            id,
            expired,
        }
    }

    pub fn with<R>(&self, sid: &str, f: impl FnOnce(&mut Session) -> R) -> R {
        let mut inner = self.shared.inner.lock().unwrap();
        let s = inner.sessions.entry(sid.to_string()).or_default();
        f(s)
    }

    /// A fresh captcha for the session; returns the serial the image URL carries.
    pub fn new_captcha(&self, sid: &str) -> u64 {
        let mut inner = self.shared.inner.lock().unwrap();
        let alphabet = match self.kind {
            PortalKind::Sandbox => captcha::DIGITS,
            PortalKind::Production => captcha::ALNUM,
        };
        let text = captcha::random_text(&mut inner.rng, alphabet, 6);
        inner.captcha_log.push(text.clone());
        let s = inner.sessions.entry(sid.to_string()).or_default();
        s.captcha = Some(text);
        s.captcha_serial += 1;
        s.captcha_serial
    }

    pub fn captcha_png(&self, sid: &str) -> Option<Vec<u8>> {
        let mut inner = self.shared.inner.lock().unwrap();
        let text = inner.sessions.get(sid)?.captcha.clone()?;
        let png = captcha::render_png(&text, &mut inner.rng);
        if let Some(key) = captcha::pixels_key(&png) {
            inner.captcha_images.insert(key, text);
        }
        Some(png)
    }

    /// Checks and always consumes the captcha: one image, one try.
    pub fn check_captcha(&self, sid: &str, given: &str) -> bool {
        let mut inner = self.shared.inner.lock().unwrap();
        let Some(s) = inner.sessions.get_mut(sid) else {
            return false;
        };
        let ok = s
            .captcha
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(given.trim()));
        s.captcha = None;
        ok
    }
}

struct SessionRef {
    pub id: String,
    pub set_cookie: Option<String>,
    pub expired: bool,
}

impl SessionRef {
    /// Adds the Set-Cookie header when the session is new.
    pub fn respond(&self, resp: impl IntoResponse) -> Response {
        let mut r = resp.into_response();
        if let Some(c) = &self.set_cookie {
            r.headers_mut()
                .append(header::SET_COOKIE, c.parse().unwrap());
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
        r
    }
}

/// The cookie that tells one browser from another (a real site's visitor
/// cookie), never cleared by a logout.
const BROWSER_COOKIE: &str = "replica_browser";

/// The cookie a login post carries saying whether the browser's
/// localStorage (`L`) or sessionStorage (`S`) still held an earlier
/// login's mark, or `none`; set by [`STORAGE_MARK_JS`].
const STORAGE_COOKIE: &str = "replica_storage";

/// [replica aid] At each login post, notes in [`STORAGE_COOKIE`] whether
/// the storage holds an earlier login's mark, then marks it: counted as
/// `logins.storage_fresh` or `logins.storage_seen`.
pub const STORAGE_MARK_JS: &str = "document.addEventListener('submit',function(e){var f=e.target;if(!f.getAttribute||f.getAttribute('action')!=='/Home/Login')return;var k='replica_login',l=localStorage.getItem(k)?'L':'',s=sessionStorage.getItem(k)?'S':'';document.cookie='replica_storage='+(l+s||'none')+';path=/';localStorage.setItem(k,'1');sessionStorage.setItem(k,'1');},true);";

impl Portal {
    /// Counts a login post against the browser that sent it; a browser
    /// seen for the first time gets its cookie on `resp`. Whether its
    /// storage held an earlier login's mark is counted too.
    pub fn count_login(&self, headers: &HeaderMap, resp: Response) -> Response {
        let mut jar = cookies(headers);
        let known = jar.remove(BROWSER_COOKIE);
        let mut inner = self.shared.inner.lock().unwrap();
        match jar.remove(STORAGE_COOKIE).as_deref() {
            Some("none") => inner.bump("logins.storage_fresh"),
            Some(_) => inner.bump("logins.storage_seen"),
            None => {}
        }
        let id = known.clone().unwrap_or_else(|| inner.new_id(16));
        *inner.logins_by_browser.entry(id.clone()).or_default() += 1;
        drop(inner);
        let mut resp = resp;
        if known.is_none() {
            let c = format!("{BROWSER_COOKIE}={id}; Path=/; Max-Age=86400");
            resp.headers_mut()
                .append(header::SET_COOKIE, c.parse().unwrap());
        }
        resp
    }
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            kv.trim()
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}
