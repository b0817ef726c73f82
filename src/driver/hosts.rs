//! Context isolation (`batch --isolation context`): a browser is kept for
//! many GSTINs, and each GSTIN gets a fresh user context in it (WebDriver
//! BiDi, <https://w3c.github.io/webdriver-bidi/#command-browser-createUserContext>):
//! its own cookies, storage and cache, removed with everything in it once
//! the row has ended (as the next row on that browser starts, or with the
//! browser). Starting a Chromium costs ~0.6 s of CPU; a user context and
//! its tab ~0.2 s, made while the row before still runs.
//!
//! A browser (a "host") serves one row at a time and is replaced after
//! `--recycle` rows, or at once when a row's session on it was lost.

use super::bidi::{Bidi, BidiError, Dialog, Tab, UserContext};
use super::Browser;
use serde_json::Value;
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
    /// The last row's context, removed once the next row's tab is
    /// current (the browser would make that row wait for the removal).
    ended: Mutex<Option<UserContext>>,
    /// That removal, under way while the next row runs.
    removing: Mutex<Option<JoinHandle<()>>>,
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

    /// Runs `decl` (a function of one string) in the row's first tab over
    /// BiDi: see [`Bidi::call_function`].
    pub async fn call_function(&self, decl: &str, arg: &str) -> Result<Option<Value>, BidiError> {
        self.bidi
            .call_function(&self.tab, &self.uc, decl, arg)
            .await
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
    /// Rows still to come that no context made ahead is kept for (`None`:
    /// not said, so every browser makes its next one).
    unclaimed: Mutex<Option<usize>>,
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
            unclaimed: Mutex::new(None),
            started: AtomicUsize::new(0),
        }
    }

    /// From now on `n` rows will ask for a context (at most: a chain may
    /// stop early), so no more than that are made ahead.
    pub(super) fn plan(&self, n: usize) {
        *self.unclaimed.lock().expect("unclaimed lock") = Some(n);
    }

    /// A row took a context made on the spot: one fewer row to come.
    fn served_on_the_spot(&self) {
        if let Some(n) = self.unclaimed.lock().expect("unclaimed lock").as_mut() {
            *n = n.saturating_sub(1);
        }
    }

    /// Whether a row is still to come that no context made ahead is kept
    /// for; if so, the one about to be made is kept for it.
    fn claim_next(&self) -> bool {
        match self.unclaimed.lock().expect("unclaimed lock").as_mut() {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    }

    /// A context made ahead will serve no row (its browser is closing):
    /// the row it was kept for is still to come.
    fn unclaim(&self) {
        if let Some(n) = self.unclaimed.lock().expect("unclaimed lock").as_mut() {
            *n += 1;
        }
    }

    /// A kept browser free for a row, if there is one (one whose last
    /// row's context could not be removed is closed instead).
    pub(super) async fn take_idle(&self) -> Option<Arc<Host>> {
        loop {
            let host = self.idle.lock().expect("hosts lock").pop()?;
            if !host.dead.load(Ordering::SeqCst) {
                return Some(host);
            }
            self.retire(host).await;
        }
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
            ended: Mutex::new(None),
            removing: Mutex::new(None),
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
        host.remove_ended();
        if !made_ahead {
            self.served_on_the_spot();
        }
        let n = host.rows.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::info!(
            browser = host.number,
            row = n,
            gstin = name.unwrap_or(""),
            made_ahead,
            "a fresh user context for this GSTIN"
        );
        if self.ahead && n < self.recycle && self.claim_next() {
            tracing::debug!(
                browser = host.number,
                "making the next row's user context ahead"
            );
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
            self.unclaim();
        }
        // A removal still under way ends first: quitting under it would
        // read as a failed removal.
        let removing = host.removing.lock().expect("removing lock").take();
        if let Some(r) = removing {
            if let Err(e) = r.await {
                tracing::debug!(browser = host.number, "removing a user context: {e}");
            }
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

    /// Whether `host` serves more rows: not when it served its
    /// `--recycle` rows or died.
    fn keeps(&self, host: &Host) -> bool {
        let used = host.rows.load(Ordering::SeqCst) >= self.recycle;
        if used {
            tracing::info!(
                browser = host.number,
                "served its {} rows: replacing it",
                self.recycle
            );
        }
        !used && !host.dead.load(Ordering::SeqCst)
    }
}

impl Host {
    /// Removes the last row's context, while the row now current runs; a
    /// removal that fails ends the browser's use after that row.
    fn remove_ended(self: &Arc<Self>) {
        let Some(uc) = self.ended.lock().expect("ended lock").take() else {
            return;
        };
        let host = self.clone();
        let removal = tokio::spawn(async move {
            if let Err(e) = host.bidi.remove_user_context(&uc).await {
                tracing::warn!(
                    browser = host.number,
                    "removing a GSTIN's user context failed ({e}); its browser serves no more rows"
                );
                host.dead.store(true, Ordering::SeqCst);
            }
        });
        *self.removing.lock().expect("removing lock") = Some(removal);
    }

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

    /// The row is over: its user context is to go (its tabs, cookies,
    /// storage, cache), and the browser goes back to the pool, or is
    /// closed with everything in it when it serves no more rows.
    pub(super) async fn end(&self) {
        // The row's dialogs are kept no longer than its context.
        drop(self.host.bidi.take_dialogs(&self.room.uc));
        if !self.hosts.keeps(&self.host) {
            return self.hosts.retire(self.host.clone()).await;
        }
        // Removed once the next row's tab is current: the browser answers
        // nothing for ~40 ms while it removes one (a browser that closes
        // first removes it with everything else).
        *self.host.ended.lock().expect("ended lock") = Some(self.room.uc.clone());
        self.hosts
            .idle
            .lock()
            .expect("hosts lock")
            .push(self.host.clone());
    }
}

/// A new user context and a tab in it.
async fn make_room(bidi: &Bidi) -> Result<Room, BidiError> {
    let uc = bidi.create_user_context().await?;
    let tab = bidi.create_tab(&uc).await?;
    Ok(Room { uc, tab })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_context_is_made_ahead_for_a_row_that_will_not_come() {
        let h = Hosts::new(25, true);
        assert!(h.claim_next(), "not planned: every browser makes its next");
        h.plan(3);
        // Row 1 takes a context made on the spot and has row 2's made...
        h.served_on_the_spot();
        assert!(h.claim_next());
        // ...row 2 takes that one and has row 3's made; row 3 has none made.
        assert!(h.claim_next());
        assert!(!h.claim_next());
        // A browser closed with a context made ahead: its row is still to come.
        h.unclaim();
        assert!(h.claim_next());
        assert!(!h.claim_next());
    }
}
