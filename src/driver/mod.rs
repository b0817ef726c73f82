//! WebDriver sessions: a chromedriver we start and stop ourselves, or any W3C
//! endpoint (`--webdriver URL`, e.g. Selenium Grid). Capabilities follow the
//! WebDriver spec (https://www.w3.org/TR/webdriver2/#capabilities) plus
//! `goog:chromeOptions` for Chromium.

pub mod chromedriver;
pub mod command;
pub(crate) mod group;
mod warm;

pub use chromedriver::ChromeDriver;

use fantoccini::{Client, ClientBuilder};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// How to get browser sessions. Paths are resolved at the CLI edge.
#[derive(Debug, Clone, Default)]
pub struct DriverConfig {
    /// Use this W3C endpoint instead of starting chromedriver.
    pub webdriver_url: Option<String>,
    /// The chromedriver binary to start.
    pub chromedriver: Binary,
    /// The Chromium binary (found on the machine, or given).
    pub chromium: Option<PathBuf>,
    /// Show the browser window (needs a display).
    pub headed: bool,
    /// Extra Chromium flags for unusual hosts (e.g. a proxy).
    pub extra_args: Vec<String>,
    /// Sessions to start ahead of the rows that will use them; `None`:
    /// [`warm_default`].
    pub warm: Option<usize>,
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

/// Where WebDriver sessions come from. One per process; sessions are cheap.
/// A chromedriver we started that dies is replaced at the next session.
pub struct Endpoint {
    config: DriverConfig,
    /// `--webdriver URL`: someone else's endpoint.
    remote: Option<String>,
    /// The chromedriver we run, when we run one.
    local: std::sync::Mutex<Option<Arc<ChromeDriver>>>,
    /// One restart at a time.
    restart: tokio::sync::Mutex<()>,
    /// `kill` was called: no restarts.
    stopped: std::sync::atomic::AtomicBool,
    /// Sessions started ahead.
    warm: warm::Warm,
}

impl Endpoint {
    /// Starts chromedriver on a free loopback port, or checks the given URL.
    pub async fn start(config: &DriverConfig) -> Result<Endpoint, DriverError> {
        let remote = config
            .webdriver_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_string());
        let local = match remote {
            Some(_) => None,
            None => Some(Arc::new(ChromeDriver::start(config).await?)),
        };
        Ok(Endpoint {
            config: config.clone(),
            remote,
            local: std::sync::Mutex::new(local),
            restart: tokio::sync::Mutex::new(()),
            stopped: std::sync::atomic::AtomicBool::new(false),
            warm: warm::Warm::default(),
        })
    }

    /// Stops the chromedriver we started (and its browsers) at once, for good.
    pub fn kill(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(d) = self.local.lock().expect("driver lock").take() {
            d.kill();
        }
    }

    /// The WebDriver URL to open a session on; a dead chromedriver of ours
    /// is replaced first (the batch goes on).
    async fn url(&self) -> Result<String, DriverError> {
        if let Some(u) = &self.remote {
            return Ok(u.clone());
        }
        let _one = self.restart.lock().await;
        let current = self.local.lock().expect("driver lock").clone();
        if let Some(d) = current.filter(|d| !d.exited()) {
            return Ok(d.url.clone());
        }
        if self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DriverError::Setup("chromedriver was stopped".into()));
        }
        tracing::warn!("chromedriver exited; starting a new one");
        let d = Arc::new(ChromeDriver::start(&self.config).await?);
        let url = d.url.clone();
        // The old one (and any Chromium it left) is killed as it drops.
        let old = self.local.lock().expect("driver lock").replace(d);
        drop(old);
        Ok(url)
    }

    pub fn capabilities(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut args = vec![
            "--no-sandbox",            // root and containers
            "--disable-dev-shm-usage", // small /dev/shm in containers
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking", // closed networks: no stray lookups
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--disable-extensions",
            "--disable-features=Translate,OptimizationHints,MediaRouter,PasswordLeakDetection",
            "--password-store=basic",
            "--window-size=1280,1000",
            // One site, one tab: one renderer is enough and saves ~10% CPU per run (BENCHMARKS.md).
            "--disable-site-isolation-trials",
            "--renderer-process-limit=1",
        ];
        if !self.config.headed {
            args.insert(0, "--headless=new");
        }
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.extend(self.config.extra_args.iter().cloned());
        let mut opts = json!({ "args": args, "prefs": { "credentials_enable_service": false, "profile.password_manager_enabled": false } });
        if let Some(bin) = &self.config.chromium {
            opts["binary"] = json!(bin.to_string_lossy());
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": opts,
            // The runner reads and answers JS alerts itself.
            "unhandledPromptBehavior": "ignore",
            "pageLoadStrategy": "normal",
        });
        caps.as_object()
            .expect("capabilities are an object")
            .clone()
    }

    /// From now on `n` sessions will be asked for, `parallel` at a time:
    /// the first ones started ahead (`--warm`, else [`warm_default`])
    /// start now, in the background.
    pub fn expect(self: &Arc<Self>, n: usize, parallel: usize) {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let remote = self.remote.is_some();
        let ahead = self
            .config
            .warm
            .unwrap_or_else(|| warm_default(remote, parallel, cores));
        self.warm.expect(n, ahead);
        self.start_ahead();
    }

    fn start_ahead(self: &Arc<Self>) {
        for _ in 0..self.warm.to_start() {
            let ep = self.clone();
            self.warm
                .push(tokio::spawn(async move { ep.new_session().await }));
        }
    }

    /// A fresh browser session (its own profile, cookies and cache): one
    /// started ahead if there is one and it is still alive, else a new
    /// one. Taking one starts the next ahead.
    pub async fn session(self: &Arc<Self>) -> Result<Client, DriverError> {
        let got = match self.warm.take() {
            Some(started) => self.ready(started).await,
            None => None,
        };
        let got = match got {
            Some(c) => Ok(c),
            None => self.new_session().await,
        };
        // The next one starts once this one is up: two Chromiums starting
        // at once would slow this row's start.
        self.start_ahead();
        got
    }

    /// A session started ahead, once it is up and if it is still alive.
    async fn ready(&self, started: warm::Starting) -> Option<Client> {
        let why = match started.await {
            Ok(Ok(c)) if c.windows().await.is_ok() => {
                tracing::info!("using a browser started ahead");
                return Some(c);
            }
            Ok(Ok(c)) => {
                if let Err(e) = c.close().await {
                    tracing::debug!("closing the dead session: {e}");
                }
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
            if let Ok(Ok(c)) = started.await {
                if let Err(e) = c.close().await {
                    tracing::debug!("closing a session started ahead: {e}");
                }
            }
        }
    }

    /// A new browser session. If our chromedriver died while the session
    /// was being made, a new one is started and asked once more.
    async fn new_session(&self) -> Result<Client, DriverError> {
        match self.session_once().await {
            Err(e) if self.local_died().await => {
                tracing::warn!(
                    "chromedriver died while opening a session ({e}); retrying on a new one"
                );
                self.session_once().await
            }
            other => other,
        }
    }

    /// Whether the chromedriver we run (not a `--webdriver` endpoint) has
    /// died. One killed a moment ago may not be reaped yet, so one that is
    /// still there but does not answer `/status` is killed and counts as dead.
    async fn local_died(&self) -> bool {
        if self.remote.is_some() || self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        let current = self.local.lock().expect("driver lock").clone();
        let Some(d) = current.filter(|d| !d.exited()) else {
            return true;
        };
        let status = format!("{}/status", d.url);
        let ask = crate::loopback::request("GET", &status, &[], None);
        let alive = tokio::time::timeout(std::time::Duration::from_secs(5), ask)
            .await
            .is_ok_and(|r| r.is_ok_and(|r| r.status == 200));
        if !alive {
            d.kill();
        }
        !alive
    }

    async fn session_once(&self) -> Result<Client, DriverError> {
        let url = self.url().await?;
        let mut b = ClientBuilder::new(https_connector());
        b.capabilities(self.capabilities());
        b.connect(&url).await.map_err(|e| {
            let msg = e.to_string();
            let hint = if msg.contains("cannot find Chrome binary") || msg.contains("no chrome binary") {
                format!(" (install Chromium: {APT_FIX})")
            } else if msg.to_lowercase().contains("only supports chrome version") {
                format!(" (chromium and chromedriver versions differ: {APT_FIX} installs matching ones)")
            } else {
                String::new()
            };
            DriverError::Session { url: url.clone(), msg: format!("{msg}{hint}") }
        })
    }
}

/// What fantoccini reaches WebDriver endpoints through: plain HTTP, or
/// rustls (ring provider) with the system's roots for an `https://` Grid.
/// A machine without CA certificates still reaches a local chromedriver.
fn https_connector() -> HttpsConnector<HttpConnector> {
    let b = hyper_rustls::HttpsConnectorBuilder::new();
    let b = b.with_native_roots().unwrap_or_else(|_| {
        let none = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(none)
    });
    b.https_or_http().enable_http1().build()
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
