//! WebDriver sessions: from a driver we start and stop ourselves
//! (chromedriver, or geckodriver for Firefox), or from W3C endpoints we
//! do not run (`--webdriver URL`, once or many times: Selenium Grid 4, a
//! chromedriver someone started, any W3C endpoint), each new session on
//! the one with the most room. Capabilities follow the WebDriver spec
//! (https://www.w3.org/TR/webdriver2/#capabilities); see [`caps`].

pub mod address;
pub mod bidi;
pub mod caps;
pub mod command;
mod connect;
pub mod endpoints;
mod hosts;
mod local;
mod own;
pub mod pool;
mod pushed;
pub mod status;
mod warm;

pub use address::Address;
pub use caps::BrowserKind;
pub use hosts::{Scope, RECYCLE_DEFAULT};
pub use local::LocalDriver;

use connect::connect;
use fantoccini::Client;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to get browser sessions. Paths are resolved at the CLI edge.
#[derive(Debug, Clone, Default)]
pub struct DriverConfig {
    /// Endpoints we do not run; none: start our own driver.
    pub webdriver: Vec<Address>,
    /// Chromium or Firefox.
    pub browser: BrowserKind,
    /// The chromedriver binary to start.
    pub chromedriver: Binary,
    /// The Chromium binary (found on the machine, or given).
    pub chromium: Option<PathBuf>,
    /// The geckodriver binary to start (Firefox).
    pub geckodriver: Binary,
    /// The Firefox binary (found on the machine, or given).
    pub firefox: Option<PathBuf>,
    /// Show the browser window (needs a display).
    pub headed: bool,
    /// Extra Chromium flags for unusual hosts (e.g. a proxy).
    pub extra_args: Vec<String>,
    /// Sessions to start ahead of the rows that will use them; `None`:
    /// [`warm_default`].
    pub warm: Option<usize>,
    /// The portal is on this machine (the replica): the browser resolves
    /// no host name, so nothing it does leaves the machine (Chromium
    /// otherwise looks up Google's hosts even with background networking off).
    pub loopback_only: bool,
    /// How rows are kept apart: a user context each in kept browsers
    /// (where the endpoint offers WebDriver BiDi), or a browser each.
    pub isolation: Isolation,
    /// Rows one kept browser serves before it is replaced.
    pub recycle: usize,
}

/// How one GSTIN's browsing is kept from the next one's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    /// A fresh browser session per row.
    #[default]
    Session,
    /// A fresh user context per row in a browser kept for many rows
    /// (falls back to sessions where the endpoint offers no BiDi).
    Context,
}

/// Sessions started ahead when `--warm` does not say: none with
/// `--webdriver` (someone else's capacity); with our own chromedriver, one
/// while the rows running at once leave a core free, else none. Starting a
/// Chromium costs ~0.6 s of CPU: on 2 cores at `--parallel 1` that slows
/// the running row less than it saves the next, while at `--parallel 4`
/// it only adds to a machine already busy (BENCHMARKS.md, "warm browsers").
pub fn warm_default(remote: bool, parallel: usize, cores: usize) -> usize {
    match remote || parallel >= cores {
        true => 0,
        false => 1,
    }
}

/// A binary the user named, one found on PATH, or none.
#[derive(Debug, Clone, Default)]
pub enum Binary {
    /// Named with a flag (it may not exist).
    Given(PathBuf),
    /// Found on PATH.
    Found(PathBuf),
    /// Not on PATH.
    #[default]
    Missing,
}

/// Why no browser session could be had.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// chromedriver or Chromium is missing, mismatched or would not start.
    #[error("{0}")]
    Setup(String),
    /// The endpoint refused a new session.
    #[error("could not open a browser session at {url}: {msg}")]
    Session {
        /// The WebDriver endpoint.
        url: String,
        /// What it said, with a fix when one is known.
        msg: String,
    },
}

/// The fix for a missing or mismatched browser.
pub const APT_FIX: &str = "apt-get install chromium chromium-driver";
/// The fix for a missing Firefox or geckodriver.
pub const FIREFOX_FIX: &str = "apt-get install firefox-esr; cargo install geckodriver";

/// Where WebDriver sessions come from. One per process; sessions are cheap.
pub struct Endpoint {
    config: DriverConfig,
    source: Source,
    /// Rows at once (`--parallel`): a plain remote driver's room.
    parallel: AtomicUsize,
    /// Sessions started ahead.
    warm: warm::Warm,
    /// Browsers kept for many rows (context isolation).
    hosts: Arc<hosts::Hosts>,
    /// Context isolation was asked for and not (yet) found wanting.
    contexts: std::sync::atomic::AtomicBool,
    /// Rows' tabs get unbuffered input (Chromium; until the endpoint refuses).
    unbuffered: std::sync::atomic::AtomicBool,
    /// Held from reading the endpoints' room to counting the session in:
    /// rows asking at once (kept browsers start together) would all see
    /// the same room and all pick the same endpoint.
    picking: tokio::sync::Mutex<()>,
}

enum Source {
    /// Drivers we run.
    Own(Box<own::Own>),
    /// `--webdriver` endpoints, in the order given.
    Remote(Vec<Arc<pool::Remote>>),
}

/// Tries at opening one session before giving up: every endpoint gets a
/// few, each after its rest.
const SESSION_TRIES: usize = 6;
/// The longest a remote endpoint may take to open a session (a Grid
/// queues requests while it is full).
const REMOTE_SESSION_TIMEOUT: Duration = Duration::from_secs(330);

/// One browser session, and where it runs. Dropping it frees its room.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Its endpoint, as it may be shown (no userinfo).
    pub at: String,
    /// The remote endpoint it came from.
    remote: Option<Arc<pool::Remote>>,
    /// Its own geckodriver (Firefox), killed when the session ends.
    _driver: Option<Arc<LocalDriver>>,
    /// The row's user context in a kept browser (context isolation).
    lease: Option<hosts::Lease>,
}

impl Browser {
    /// Ends the session. Behind basic auth the Delete Session goes out
    /// with it first (fantoccini's own is sent without), so the Grid frees
    /// the slot at once instead of after its session timeout.
    pub async fn close(&self) {
        if let Some(l) = &self.lease {
            // Boxed: ending a lease may close its host, a Browser too.
            return Box::pin(l.end()).await;
        }
        let authed = self.remote.as_ref().filter(|r| r.addr.password().is_some());
        if let (Some(r), Ok(Some(id))) = (authed, self.client.session_id().await) {
            if let Err(e) = status::delete_session(&r.addr, &id).await {
                tracing::debug!(endpoint = %r.addr, "ending the session: {e}");
            }
        }
        if let Err(e) = self.client.clone().close().await {
            tracing::debug!("closing the browser session: {e}");
        }
    }

    /// The session was lost: its endpoint rests, so the next session
    /// goes elsewhere.
    pub fn lost(&self) {
        if let Some(l) = &self.lease {
            return l.lost();
        }
        if let Some(r) = &self.remote {
            let rest = r.failed();
            tracing::warn!(endpoint = %r.addr, "a session there was lost; resting it for {}", humantime::format_duration(rest));
        }
    }

    /// The row's user context, when it runs in one (context isolation).
    pub fn scope(&self) -> Option<Scope> {
        self.lease.as_ref().map(hosts::Lease::scope)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(r) = &self.remote {
            r.in_use.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Endpoint {
    /// Starts our own driver on a free loopback port, or checks that at
    /// least one `--webdriver` endpoint answers `/status`.
    pub async fn start(config: &DriverConfig) -> Result<Endpoint, DriverError> {
        let source = match config.webdriver.is_empty() {
            true => Source::Own(Box::new(own::Own::start(config).await?)),
            false => Source::Remote(Self::reach(config).await?),
        };
        Ok(Endpoint {
            config: config.clone(),
            source,
            parallel: AtomicUsize::new(1),
            warm: warm::Warm::default(),
            hosts: Arc::new(hosts::Hosts::new(config.recycle, config.warm != Some(0))),
            contexts: (config.isolation == Isolation::Context).into(),
            unbuffered: (config.browser == BrowserKind::Chromium).into(),
            picking: tokio::sync::Mutex::new(()),
        })
    }

    /// The `--webdriver` endpoints, once one of them answers.
    async fn reach(config: &DriverConfig) -> Result<Vec<Arc<pool::Remote>>, DriverError> {
        let remotes: Vec<_> = config
            .webdriver
            .iter()
            .map(|a| Arc::new(pool::Remote::new(a.clone())))
            .collect();
        let browser = config.browser.w3c_name();
        let mut why = vec![];
        for r in &remotes {
            if r.addr.auth_in_clear() {
                tracing::warn!(endpoint = %r.addr, "basic auth over plain http crosses the network unencrypted: use https");
            }
            match status::fetch(&r.addr, browser).await {
                Ok(_) => return Ok(remotes),
                Err(e) => why.push(format!("{}: {e}", r.addr)),
            }
        }
        Err(DriverError::Setup(format!(
            "no WebDriver endpoint answers: {}",
            why.join("; ")
        )))
    }

    /// Stops the drivers we started (and their browsers) at once, for good.
    pub fn kill(&self) {
        if let Source::Own(o) = &self.source {
            o.kill();
        }
    }

    /// The capabilities of a new session, labelled `name` for a Grid.
    pub fn capabilities(&self, name: Option<&str>) -> serde_json::Map<String, serde_json::Value> {
        let mut caps = caps::capabilities(&self.config, name);
        if self.uses_contexts() {
            // https://w3c.github.io/webdriver-bidi/#establishing
            caps.insert("webSocketUrl".into(), serde_json::Value::Bool(true));
        }
        caps
    }

    /// Rows run in user contexts of kept browsers (asked for, and the
    /// endpoint has not shown it cannot).
    fn uses_contexts(&self) -> bool {
        self.contexts.load(Ordering::SeqCst)
    }

    /// From now on `n` sessions will be asked for, `parallel` at a time:
    /// the first ones started ahead (`--warm`, else [`warm_default`])
    /// start now, in the background.
    pub fn plan_sessions(self: &Arc<Self>, n: usize, parallel: usize) {
        self.parallel.store(parallel.max(1), Ordering::SeqCst);
        if self.uses_contexts() {
            // Kept browsers make each next context ahead instead.
            return self.hosts.plan(n);
        }
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let remote = matches!(self.source, Source::Remote(_));
        let ahead = self
            .config
            .warm
            .unwrap_or_else(|| warm_default(remote, parallel, cores));
        self.warm.plan(n, ahead);
        self.start_ahead();
    }

    fn start_ahead(self: &Arc<Self>) {
        for _ in 0..self.warm.to_start() {
            let ep = self.clone();
            self.warm
                .push(tokio::spawn(async move { ep.new_session(None).await }));
        }
    }

    /// A fresh browser session (its own profile, cookies and cache),
    /// labelled `name` on a Grid: one started ahead if there is one and it
    /// is still alive, else a new one. Taking one starts the next ahead.
    /// Its tab takes mouse moves at once (Chromium).
    pub async fn session(self: &Arc<Self>, name: Option<&str>) -> Result<Browser, DriverError> {
        let b = self.fresh_session(name).await?;
        self.unbuffer(&b).await;
        Ok(b)
    }

    /// Mouse moves reach the row's first tab at once (see
    /// [`command::unbuffered_input`]): a click ~10 ms sooner on an idle
    /// page (BENCHMARKS.md). An endpoint that refuses is not asked again;
    /// the row runs as it would have.
    async fn unbuffer(&self, b: &Browser) {
        if !self.unbuffered.load(Ordering::SeqCst) {
            return;
        }
        if let Err(e) = command::unbuffered_input(&b.client).await {
            if self.unbuffered.swap(false, Ordering::SeqCst) {
                tracing::debug!("mouse moves wait for the page's next frame: the endpoint refused DevTools' overlay ({e})");
            }
        }
    }

    /// The session itself: a user context in a kept browser, or a browser.
    async fn fresh_session(self: &Arc<Self>, name: Option<&str>) -> Result<Browser, DriverError> {
        if self.uses_contexts() {
            return self.context_session(name).await;
        }
        let got = match self.warm.take() {
            Some(started) => self.ready(started).await,
            None => None,
        };
        let got = match got {
            Some(b) => Ok(b),
            None => self.new_session(name).await,
        };
        // The next one starts once this one is up: two browsers starting
        // at once would slow this row's start.
        self.start_ahead();
        got
    }

    /// A session started ahead, once it is up and if it is still alive.
    async fn ready(&self, started: warm::Starting) -> Option<Browser> {
        let why = match started.await {
            Ok(Ok(b)) if b.client.windows().await.is_ok() => {
                tracing::info!("using a browser started ahead");
                return Some(b);
            }
            Ok(Ok(b)) => {
                b.close().await;
                tracing::warn!("a browser started ahead died while it waited; starting a new one");
                return None;
            }
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!("starting a browser ahead failed ({why}); starting one now");
        None
    }

    /// Closes the sessions started ahead that no row will use (a batch
    /// that stopped early), so a remote endpoint gets its capacity back.
    pub async fn close_ahead(&self) {
        for started in self.warm.drain() {
            if let Ok(Ok(b)) = started.await {
                b.close().await;
            }
        }
        self.hosts.close_idle().await;
    }

    /// A fresh user context in a kept browser: an idle one, else a new
    /// one. A browser that fails to give one is closed and the next tried;
    /// an endpoint that offers no BiDi socket turns contexts off for good.
    async fn context_session(&self, name: Option<&str>) -> Result<Browser, DriverError> {
        let mut last = None;
        for _ in 0..3 {
            let host = match self.hosts.take_idle().await {
                Some(h) => h,
                None => match self.new_host(name).await? {
                    Ok(h) => h,
                    Err(plain) => return Ok(plain),
                },
            };
            match self.hosts.lease(host, name).await {
                Ok(b) => return Ok(b),
                Err((host, e)) => {
                    tracing::warn!(
                        "a kept browser could not give a fresh user context ({e}); closing it"
                    );
                    host.lost();
                    self.hosts.retire(host).await;
                    last = Some(e);
                }
            }
        }
        Err(DriverError::Setup(format!(
            "no browser gave a fresh user context: {}",
            last.map_or_else(String::new, |e| e.to_string())
        )))
    }

    /// A new browser to keep, with its BiDi socket; or, where the endpoint
    /// offers none, the plain session (used as is, and contexts end here).
    async fn new_host(
        &self,
        name: Option<&str>,
    ) -> Result<Result<Arc<hosts::Host>, Browser>, DriverError> {
        let b = self.new_session(name).await?;
        let url = b
            .client
            .capabilities()
            .and_then(|c| c.get("webSocketUrl"))
            .and_then(|u| u.as_str())
            .map(String::from);
        let Some(url) = url else {
            self.no_contexts("the endpoint offers no WebDriver BiDi socket");
            return Ok(Err(b));
        };
        let auth = b.remote.as_ref().and_then(|r| r.addr.basic_auth());
        match bidi::Bidi::open(&url, auth.as_deref()).await {
            Ok(socket) => Ok(Ok(self.hosts.host(b, socket))),
            Err(e) => {
                self.no_contexts(&e.to_string());
                Ok(Err(b))
            }
        }
    }

    /// Context isolation cannot be had here: said once, sessions from now on.
    fn no_contexts(&self, why: &str) {
        if self.contexts.swap(false, Ordering::SeqCst) {
            tracing::warn!("{why}: each GSTIN gets its own browser session instead of a user context (--isolation session)");
        }
    }

    /// A new browser session, from our driver or the endpoint with most room.
    async fn new_session(&self, name: Option<&str>) -> Result<Browser, DriverError> {
        match &self.source {
            Source::Own(own) => self.own_session(own).await,
            Source::Remote(remotes) => self.remote_session(remotes, name).await,
        }
    }

    /// A session on our driver. If our chromedriver died while the
    /// session was being made, a new one is started and asked once more.
    async fn own_session(&self, own: &own::Own) -> Result<Browser, DriverError> {
        let first = self.own_once(own).await;
        match first {
            Err(e) if own.died().await => {
                tracing::warn!(
                    "chromedriver died while opening a session ({e}); retrying on a new one"
                );
                self.own_once(own).await
            }
            other => other,
        }
    }

    async fn own_once(&self, own: &own::Own) -> Result<Browser, DriverError> {
        let driver = own.driver().await?;
        let client = connect(&driver.url, &driver.url, self.capabilities(None)).await?;
        let per_session = self.config.browser == BrowserKind::Firefox;
        Ok(Browser {
            client,
            at: driver.url.clone(),
            remote: None,
            _driver: per_session.then_some(driver),
            lease: None,
        })
    }

    /// A session on the endpoint with the most room; one that fails rests
    /// (backoff) and the next try goes to another, or to it after its rest.
    async fn remote_session(
        &self,
        remotes: &[Arc<pool::Remote>],
        name: Option<&str>,
    ) -> Result<Browser, DriverError> {
        let mut last = None;
        for _ in 0..SESSION_TRIES {
            let picking = self.picking.lock().await;
            let Some(r) = self.pick(remotes).await else {
                drop(picking);
                wait_for_rest(remotes).await;
                continue;
            };
            r.in_use.fetch_add(1, Ordering::SeqCst);
            drop(picking);
            let name = name.filter(|_| r.grid.load(Ordering::SeqCst));
            let open = connect(r.addr.full(), r.addr.shown(), self.capabilities(name));
            let got = match tokio::time::timeout(REMOTE_SESSION_TIMEOUT, open).await {
                Ok(got) => got,
                Err(_) => Err(DriverError::Session {
                    url: r.addr.shown().into(),
                    msg: format!("no session within {}s", REMOTE_SESSION_TIMEOUT.as_secs()),
                }),
            };
            match got {
                Ok(client) => {
                    r.worked();
                    return Ok(Browser {
                        client,
                        at: r.addr.shown().into(),
                        remote: Some(r.clone()),
                        _driver: None,
                        lease: None,
                    });
                }
                Err(e) => {
                    r.in_use.fetch_sub(1, Ordering::SeqCst);
                    let rest = r.failed();
                    tracing::warn!("{e}; that endpoint rests {} and the next try goes to the one with most room", humantime::format_duration(rest));
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| DriverError::Setup("every WebDriver endpoint is down".into())))
    }

    /// The endpoint with the most room now (their `/status`es asked at once).
    async fn pick(&self, remotes: &[Arc<pool::Remote>]) -> Option<Arc<pool::Remote>> {
        let browser = self.config.browser.w3c_name();
        let parallel = self.parallel.load(Ordering::SeqCst);
        let asks: Vec<_> = remotes
            .iter()
            .map(|r| {
                let r = r.clone();
                tokio::spawn(async move { r.room(browser, parallel).await })
            })
            .collect();
        let mut rooms = vec![];
        for a in asks {
            rooms.push(a.await.unwrap_or(pool::Room {
                free: None,
                in_use: 0,
            }));
        }
        pool::pick(&rooms).map(|i| remotes[i].clone())
    }
}

/// Every endpoint rests: wait for the first to be back (at most 30 s).
async fn wait_for_rest(remotes: &[Arc<pool::Remote>]) {
    let now = Instant::now();
    let back = remotes.iter().filter_map(|r| r.resting(now)).min();
    let wait = back.map_or(Duration::from_millis(500), |b| b - now);
    tokio::time::sleep(wait.min(Duration::from_secs(30))).await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_browser_is_started_ahead_only_with_a_core_to_spare_and_our_own_driver() {
        assert_eq!(super::warm_default(false, 1, 2), 1);
        assert_eq!(super::warm_default(false, 2, 2), 0);
        assert_eq!(super::warm_default(false, 4, 8), 1);
        assert_eq!(
            super::warm_default(true, 1, 8),
            0,
            "a Grid's slots are not ours"
        );
    }
}
