//! Context isolation (`batch --isolation context`): a browser is kept for
//! many GSTINs, and each GSTIN gets a fresh user context in it (WebDriver
//! BiDi, <https://w3c.github.io/webdriver-bidi/#command-browser-createUserContext>):
//! its own cookies, storage and cache, removed with everything in it when
//! the row ends. Starting a Chromium costs ~0.6 s of CPU; a user context
//! and its tab ~0.2 s, made while the row before still runs.
//!
//! A browser (a "host") serves one row at a time and is replaced after
//! `--recycle` rows, or at once when a row's session on it was lost.

use super::bidi::{Bidi, BidiError, Dialog, Tab, UserContext};
use super::Browser;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// Rows one browser serves before it is replaced, when `--recycle` does
/// not say: a long-lived Chromium slowly grows (caches, leaked renderers).
pub const RECYCLE_DEFAULT: usize = 25;

/// How long a tab the browser lists may go unannounced by the events
/// before its user context is asked for instead (they lag by a few ms).
const EVENT_LAG: Duration = Duration::from_secs(1);

/// How long a look at whether a row's tab is still there may take (a
/// browser that died may leave its driver's socket open and silent).
const ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A kept browser: its session, its BiDi socket, and the next row's
/// context made ahead.
pub(super) struct Host {
    session: Browser,
    bidi: Arc<Bidi>,
    /// Which browser of the batch this is (1, 2, …), for the logs.
    number: usize,
    /// Rows handed a context so far.
    rows: AtomicUsize,
    /// A row's session on it was lost, or its socket closed: not reused.
    dead: AtomicBool,
    /// The next row's context, made while the current row runs.
    next: Mutex<Option<JoinHandle<Result<Room, BidiError>>>>,
}

/// A user context and the tab a row starts in.
#[derive(Debug, Clone)]
struct Room {
    uc: UserContext,
    tab: Tab,
}

/// What the walk needs of a row's user context: which windows are its
/// own (the browser holds other rows' tabs too), and whether it is there.
#[derive(Clone)]
pub struct Scope {
    bidi: Arc<Bidi>,
    uc: UserContext,
    tab: Tab,
}

impl Scope {
    /// The row's windows, as classic window handles (a BiDi context id is
    /// its window handle): as the events said, else asked for.
    /// `open`: the browser's tabs as classic Get Window Handles lists them
    /// (up to date the moment a click returns, where an event may lag).
    pub async fn windows(&self, open: Vec<String>) -> Result<Vec<String>, BidiError> {
        let deadline = tokio::time::Instant::now() + EVENT_LAG;
        let tabs = loop {
            if let Some(tabs) = self.bidi.tabs_pushed(&self.uc, &open) {
                break tabs;
            }
            if tokio::time::Instant::now() >= deadline {
                break self.bidi.tabs_in(&self.uc).await?;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        Ok(tabs.into_iter().map(|t| t.0).collect())
    }

    /// The dialogs the row's pages opened so far, in order (none known
    /// where the endpoint pushes no events).
    pub fn dialogs(&self) -> Vec<Dialog> {
        self.bidi.dialogs(&self.uc)
    }

    /// The cookies of the row's user context, as (name, value).
    pub async fn cookies(&self) -> Result<Vec<(String, String)>, BidiError> {
        self.bidi.cookies_of(&self.tab).await
    }

    /// Whether the row's first tab still exists (`false` too when the
    /// browser does not answer).
    pub async fn alive(&self) -> bool {
        match tokio::time::timeout(ALIVE_TIMEOUT, self.bidi.tabs_in(&self.uc)).await {
            Ok(Ok(tabs)) => tabs.contains(&self.tab),
            _ => false,
        }
    }
}

/// The kept browsers not serving a row now.
pub(super) struct Hosts {
    idle: Mutex<Vec<Arc<Host>>>,
    /// Rows one browser serves (`--recycle`).
    recycle: usize,
    /// Make the next row's context while the current row runs.
    ahead: bool,
    /// Browsers started so far (numbers them).
    started: AtomicUsize,
}

/// One row's share of a host, held by the row's [`Browser`]: ending it
/// removes the row's user context and hands the host back.
pub(super) struct Lease {
    host: Arc<Host>,
    room: Room,
    hosts: Arc<Hosts>,
}

impl Hosts {
    pub(super) fn new(recycle: usize, ahead: bool) -> Hosts {
        Hosts {
            idle: Mutex::new(vec![]),
            recycle: recycle.max(1),
            ahead,
            started: AtomicUsize::new(0),
        }
    }

    /// A kept browser free for a row, if there is one.
    pub(super) fn take_idle(&self) -> Option<Arc<Host>> {
        self.idle.lock().expect("hosts lock").pop()
    }

    /// Keeps a new browser session (one that offered a BiDi socket).
    pub(super) fn host(&self, session: Browser, bidi: Bidi) -> Arc<Host> {
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::info!(
            browser = number,
            at = %session.at,
            "started a browser for the batch's rows (one user context per GSTIN)"
        );
        Arc::new(Host {
            session,
            bidi: Arc::new(bidi),
            number,
            rows: AtomicUsize::new(0),
            dead: AtomicBool::new(false),
            next: Mutex::new(None),
        })
    }

    /// A fresh user context on `host`, its tab current for the host's
    /// client: the context made ahead if there is one, else a new one.
    pub(super) async fn lease(
        self: &Arc<Self>,
        host: Arc<Host>,
        name: Option<&str>,
    ) -> Result<Browser, (Arc<Host>, BidiError)> {
        let ahead = host.next.lock().expect("next lock").take();
        let made_ahead = ahead.is_some();
        let room = match ahead {
            Some(made) => made.await.unwrap_or(Err(BidiError::Closed)),
            None => make_room(&host.bidi).await,
        };
        let room = match room {
            Ok(r) => r,
            Err(e) => return Err((host, e)),
        };
        if let Err(e) = host.bidi.activate(&room.tab).await {
            return Err((host, e));
        }
        let handle = fantoccini::wd::WindowHandle::try_from(room.tab.0.clone())
            .map_err(|_| BidiError::Closed);
        let switched = match handle {
            Ok(h) => host.session.client.switch_to_window(h).await.is_ok(),
            Err(_) => false,
        };
        if !switched {
            return Err((host, BidiError::Closed));
        }
        let n = host.rows.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::info!(
            browser = host.number,
            row = n,
            gstin = name.unwrap_or(""),
            made_ahead,
            "a fresh user context for this GSTIN"
        );
        if self.ahead && n < self.recycle {
            let bidi = host.bidi.clone();
            *host.next.lock().expect("next lock") =
                Some(tokio::spawn(async move { make_room(&bidi).await }));
        }
        Ok(Browser {
            client: host.session.client.clone(),
            at: host.session.at.clone(),
            remote: None,
            _driver: None,
            lease: Some(Lease {
                host,
                room,
                hosts: self.clone(),
            }),
        })
    }

    /// Closes a kept browser for good (its made-ahead context goes with it).
    pub(super) async fn retire(&self, host: Arc<Host>) {
        if let Some(made) = host.next.lock().expect("next lock").take() {
            made.abort();
        }
        tracing::debug!(browser = host.number, "closing a kept browser");
        host.session.close().await;
    }

    /// Closes every kept browser not serving a row (the batch is over).
    pub(super) async fn close_idle(&self) {
        let idle: Vec<_> = self.idle.lock().expect("hosts lock").drain(..).collect();
        for h in idle {
            self.retire(h).await;
        }
    }

    /// A row ended on `host`: kept for the next row, or closed when it
    /// served its `--recycle` rows or died.
    async fn give_back(&self, host: Arc<Host>) {
        let used = host.rows.load(Ordering::SeqCst) >= self.recycle;
        if used || host.dead.load(Ordering::SeqCst) {
            if used {
                tracing::info!(
                    browser = host.number,
                    "served its {} rows: replacing it",
                    self.recycle
                );
            }
            self.retire(host).await;
            return;
        }
        self.idle.lock().expect("hosts lock").push(host);
    }
}

impl Host {
    /// Marks it not to be reused: a row's session on it was lost.
    pub(super) fn lost(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.session.lost();
    }
}

impl Lease {
    pub(super) fn scope(&self) -> Scope {
        Scope {
            bidi: self.host.bidi.clone(),
            uc: self.room.uc.clone(),
            tab: self.room.tab.clone(),
        }
    }

    pub(super) fn lost(&self) {
        self.host.lost();
    }

    /// The row is over: its user context goes (its tabs, cookies,
    /// storage, cache), and the browser goes back to the pool.
    pub(super) async fn end(&self) {
        // The row's dialogs are kept no longer than its context.
        drop(self.host.bidi.take_dialogs(&self.room.uc));
        if let Err(e) = self.host.bidi.remove_user_context(&self.room.uc).await {
            tracing::warn!(
                browser = self.host.number,
                "removing a GSTIN's user context failed ({e}); closing its browser"
            );
            self.host.dead.store(true, Ordering::SeqCst);
        }
        self.hosts.give_back(self.host.clone()).await;
    }
}

/// A new user context and a tab in it.
async fn make_room(bidi: &Bidi) -> Result<Room, BidiError> {
    let uc = bidi.create_user_context().await?;
    let tab = bidi.create_tab(&uc).await?;
    Ok(Room { uc, tab })
}
