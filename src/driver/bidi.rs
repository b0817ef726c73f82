//! WebDriver BiDi (<https://w3c.github.io/webdriver-bidi/>) over the
//! session's WebSocket: only the commands einvreg uses. fantoccini keeps
//! the classic commands; BiDi gives what classic WebDriver has not: user
//! contexts, so one browser serves many GSTINs, each in a fresh profile,
//! and events pushed in order (tabs opened and closed, dialogs), kept in
//! [`Pushed`] so the walk reads them without a round trip.

pub use super::pushed::Dialog;
use super::pushed::Pushed;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// The longest one command may take (a busy 2-core machine answers a new
/// user context in 140-250 ms).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a BiDi command got no result.
#[derive(Debug, thiserror::Error)]
pub enum BidiError {
    /// The WebSocket could not be opened.
    #[error("cannot open the WebDriver BiDi socket at {url}")]
    Connect {
        /// The socket's address, as it may be shown.
        url: String,
        /// Why.
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The socket closed (the browser or its driver is gone).
    #[error("the WebDriver BiDi socket closed")]
    Closed,
    /// No answer in time.
    #[error("no answer to {method} within {}s", COMMAND_TIMEOUT.as_secs())]
    Timeout {
        /// The command.
        method: &'static str,
    },
    /// The browser answered with an error.
    #[error("{method}: {error}: {message}")]
    Command {
        /// The command.
        method: &'static str,
        /// The error code (e.g. `no such user context`).
        error: String,
        /// What the browser said.
        message: String,
    },
}

type Reply = Result<Value, BidiError>;
type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>;

/// The events einvreg subscribes to: every tab opened and closed (a row's
/// windows, without asking), every dialog opened and closed, in order.
const EVENTS: [&str; 4] = [
    "browsingContext.contextCreated",
    "browsingContext.contextDestroyed",
    "browsingContext.userPromptOpened",
    "browsingContext.userPromptClosed",
];

/// One BiDi connection. Commands may be sent from many tasks at once;
/// each answer finds its caller by id. Dropping it closes the socket.
pub struct Bidi {
    out: mpsc::UnboundedSender<Message>,
    waiting: Waiting,
    pushed: Arc<Mutex<Pushed>>,
    /// Woken at every dialog a page opens: a script call waiting on
    /// that page would wait for whoever answers it.
    prompted: Arc<tokio::sync::Notify>,
    next: AtomicU64,
    io: tokio::task::JoinHandle<()>,
}

/// A user context: its own cookies, storage and cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserContext(pub String);

/// A top-level browsing context (a tab); its id is also its classic
/// window handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab(pub String);

impl Bidi {
    /// Connects to `url` (the session's `webSocketUrl`), with the basic
    /// auth `authorization` header value a Grid behind auth needs.
    pub async fn connect(url: &str, authorization: Option<&str>) -> Result<Bidi, BidiError> {
        let shown = shown(url);
        let fail = |e| BidiError::Connect {
            url: shown.clone(),
            source: Box::new(e),
        };
        let mut req = url.into_client_request().map_err(fail)?;
        if let Some(a) = authorization.and_then(|a| a.parse().ok()) {
            req.headers_mut().insert("authorization", a);
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.map_err(fail)?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut queue) = mpsc::unbounded_channel::<Message>();
        let waiting: Waiting = Default::default();
        let answers = waiting.clone();
        let pushed: Arc<Mutex<Pushed>> = Default::default();
        let events = pushed.clone();
        let prompted: Arc<tokio::sync::Notify> = Default::default();
        let woken = prompted.clone();
        let io = tokio::spawn(async move {
            loop {
                tokio::select! {
                    m = queue.recv() => match m {
                        Some(m) => if sink.send(m).await.is_err() { break },
                        None => break,
                    },
                    m = stream.next() => match m {
                        Some(Ok(Message::Text(t))) => incoming(&answers, &events, &woken, t.as_str()),
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => break,
                    },
                }
            }
            // Everyone still waiting learns the socket is gone.
            if let Ok(mut w) = answers.lock() {
                for (_, tx) in w.drain() {
                    // The caller may have given up waiting: nothing to tell.
                    drop(tx.send(Err(BidiError::Closed)));
                }
            }
        });
        Ok(Bidi {
            out,
            waiting,
            pushed,
            prompted,
            next: AtomicU64::new(1),
            io,
        })
    }

    /// Connects, and subscribes to the events where the endpoint has them
    /// (without, a row's windows are asked for each time).
    pub async fn open(url: &str, authorization: Option<&str>) -> Result<Bidi, BidiError> {
        let socket = Bidi::connect(url, authorization).await?;
        if let Err(e) = socket.subscribe().await {
            tracing::debug!("no BiDi events ({e}): windows are asked for");
        }
        Ok(socket)
    }

    /// Sends one command and awaits its result.
    async fn call(&self, method: &'static str, params: Value) -> Reply {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .map_err(|_| BidiError::Closed)?
            .insert(id, tx);
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.out
            .send(Message::text(msg))
            .map_err(|_| BidiError::Closed)?;
        let got = tokio::time::timeout(COMMAND_TIMEOUT, rx).await;
        if let Ok(mut w) = self.waiting.lock() {
            w.remove(&id);
        }
        match got {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(BidiError::Command { error, message, .. }))) => Err(BidiError::Command {
                method,
                error,
                message,
            }),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(BidiError::Closed),
            Err(_) => Err(BidiError::Timeout { method }),
        }
    }

    /// [browser.createUserContext](https://w3c.github.io/webdriver-bidi/#command-browser-createUserContext).
    pub async fn create_user_context(&self) -> Result<UserContext, BidiError> {
        let r = self.call("browser.createUserContext", json!({})).await?;
        Ok(UserContext(str_of(&r, "userContext")))
    }

    /// [browser.removeUserContext](https://w3c.github.io/webdriver-bidi/#command-browser-removeUserContext):
    /// its tabs close, and its cookies, storage and cache go with it.
    pub async fn remove_user_context(&self, uc: &UserContext) -> Result<(), BidiError> {
        self.call("browser.removeUserContext", json!({"userContext": uc.0}))
            .await
            .map(drop)
    }

    /// [browsingContext.create](https://w3c.github.io/webdriver-bidi/#command-browsingContext-create)
    /// a tab in `uc`, in the background (the tab a row runs in keeps its focus).
    pub async fn create_tab(&self, uc: &UserContext) -> Result<Tab, BidiError> {
        let p = json!({"type": "tab", "userContext": uc.0, "background": true});
        let r = self.call("browsingContext.create", p).await?;
        Ok(Tab(str_of(&r, "context")))
    }

    /// [browsingContext.activate](https://w3c.github.io/webdriver-bidi/#command-browsingContext-activate):
    /// the tab comes to the front, as a person's would (pages may check).
    pub async fn activate(&self, tab: &Tab) -> Result<(), BidiError> {
        self.call("browsingContext.activate", json!({"context": tab.0}))
            .await
            .map(drop)
    }
}

impl Bidi {
    /// [session.subscribe](https://w3c.github.io/webdriver-bidi/#command-session-subscribe)
    /// to [`EVENTS`]; from then on a row's windows are known without asking.
    pub async fn subscribe(&self) -> Result<(), BidiError> {
        self.call("session.subscribe", json!({ "events": EVENTS }))
            .await?;
        // The tabs open before the subscription, which no event announces.
        let r = self
            .call("browsingContext.getTree", json!({"maxDepth": 0}))
            .await?;
        let mut p = self.pushed();
        for c in r["contexts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let tab = Tab(str_of(c, "context"));
            if p.uc_of(&tab).is_none() {
                p.tabs.push((tab, UserContext(str_of(c, "userContext"))));
            }
        }
        p.subscribed = true;
        Ok(())
    }

    /// Which of `open` (the browser's tabs, as classic Get Window Handles
    /// lists them) are `uc`'s, as the events said: `None` before a
    /// subscription, or while a tab in `open` has not been announced yet
    /// (an event lags behind the browser by a few ms).
    pub fn tabs_pushed(&self, uc: &UserContext, open: &[String]) -> Option<Vec<Tab>> {
        let p = self.pushed();
        p.subscribed.then(|| p.mine(uc, open)).flatten()
    }

    /// The dialogs the pages of `uc` opened, in order, taken out.
    pub fn take_dialogs(&self, uc: &UserContext) -> Vec<Dialog> {
        self.pushed().take_dialogs(uc)
    }

    /// The dialogs the pages of `uc` opened so far, in order.
    pub fn dialogs(&self, uc: &UserContext) -> Vec<Dialog> {
        let p = self.pushed();
        p.dialogs.iter().filter(|d| d.uc == *uc).cloned().collect()
    }

    /// [script.callFunction](https://w3c.github.io/webdriver-bidi/#command-script-callFunction)
    /// `decl` with the one string argument `arg` in `tab`, awaiting its
    /// promise: the result as BiDi serialized it, or the exception's text
    /// as an error. `None` when a dialog of `uc` is open or opens
    /// meanwhile: the page is stopped behind it.
    pub async fn call_function(
        &self,
        tab: &Tab,
        uc: &UserContext,
        decl: &str,
        arg: &str,
    ) -> Result<Option<Value>, BidiError> {
        let opened = self.prompted.notified();
        tokio::pin!(opened);
        opened.as_mut().enable();
        // Without the events a dialog would not be seen opening.
        if !self.pushed().callable(uc) {
            return Ok(None);
        }
        let p = json!({
            "functionDeclaration": decl,
            "awaitPromise": true,
            "target": {"context": tab.0},
            "arguments": [{"type": "string", "value": arg}],
            "resultOwnership": "none",
        });
        tokio::select! {
            r = self.call("script.callFunction", p) => {
                let r = r?;
                match r["type"].as_str() {
                    Some("success") => Ok(Some(r["result"].clone())),
                    _ => Err(BidiError::Command {
                        method: "script.callFunction",
                        error: "javascript error".into(),
                        message: r["exceptionDetails"]["text"].as_str().unwrap_or_default().into(),
                    }),
                }
            }
            _ = &mut opened => Ok(None),
        }
    }

    fn pushed(&self) -> std::sync::MutexGuard<'_, Pushed> {
        // A panic while holding it left plain data: still good to read.
        self.pushed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tabs of `uc`, by [browsingContext.getTree](https://w3c.github.io/webdriver-bidi/#command-browsingContext-getTree)
    /// (top-level contexts only): the windows one GSTIN's pages opened.
    pub async fn tabs_in(&self, uc: &UserContext) -> Result<Vec<Tab>, BidiError> {
        let r = self
            .call("browsingContext.getTree", json!({"maxDepth": 0}))
            .await?;
        Ok(tabs_of(&r, uc))
    }

    /// The cookies `tab` would send, by [storage.getCookies](https://w3c.github.io/webdriver-bidi/#command-storage-getCookies),
    /// as (name, value); values that are not text are left out.
    pub async fn cookies_of(&self, tab: &Tab) -> Result<Vec<(String, String)>, BidiError> {
        let p = json!({"partition": {"type": "context", "context": tab.0}});
        let r = self.call("storage.getCookies", p).await?;
        Ok(cookies_in(&r))
    }
}

impl Drop for Bidi {
    fn drop(&mut self) {
        self.io.abort();
    }
}

/// Hands one incoming message to the command it answers, or an event to
/// what was pushed.
fn incoming(waiting: &Waiting, pushed: &Mutex<Pushed>, prompted: &tokio::sync::Notify, text: &str) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if v["type"] == "event" {
        let method = v["method"].as_str().unwrap_or_default();
        let mut p = pushed.lock().unwrap_or_else(|e| e.into_inner());
        p.take(method, &v["params"]);
        drop(p);
        if method == "browsingContext.userPromptOpened" {
            prompted.notify_waiters();
        }
        return;
    }
    answer(waiting, v);
}

/// Hands a command's answer to its caller.
fn answer(waiting: &Waiting, v: Value) {
    let Some(id) = v["id"].as_u64() else {
        return;
    };
    let reply = match v["type"].as_str() {
        Some("success") => Ok(v["result"].clone()),
        _ => Err(BidiError::Command {
            method: "",
            error: v["error"].as_str().unwrap_or("unknown error").into(),
            message: v["message"].as_str().unwrap_or_default().into(),
        }),
    };
    let tx = waiting.lock().ok().and_then(|mut w| w.remove(&id));
    if let Some(tx) = tx {
        // The caller may have timed out meanwhile: nothing to tell.
        drop(tx.send(reply));
    }
}

/// (name, value) of each text cookie in a getCookies result.
fn cookies_in(r: &Value) -> Vec<(String, String)> {
    let all = r["cookies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    all.iter()
        .filter(|c| c["value"]["type"] == "string")
        .map(|c| (str_of(c, "name"), str_of(&c["value"], "value")))
        .collect()
}

/// The tabs in a getTree result that belong to `uc`.
fn tabs_of(tree: &Value, uc: &UserContext) -> Vec<Tab> {
    let all = tree["contexts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    all.iter()
        .filter(|c| c["userContext"].as_str() == Some(uc.0.as_str()))
        .map(|c| Tab(str_of(c, "context")))
        .collect()
}

pub(super) fn str_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The socket's address without userinfo, for messages.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            // Clearing userinfo cannot fail on a ws:// address with a host.
            if u.set_username("").is_err() || u.set_password(None).is_err() {
                return "(the session's socket)".into();
            }
            u.to_string()
        }
        Err(_) => "(the session's socket)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(w: &Waiting, text: &str) {
        incoming(w, &Mutex::default(), &Default::default(), text)
    }

    #[test]
    fn an_answer_reaches_its_caller_and_an_error_says_what() {
        let w: Waiting = Default::default();
        let (tx, mut rx) = oneshot::channel();
        w.lock().unwrap().insert(7, tx);
        answer(
            &w,
            r#"{"type":"success","id":7,"result":{"userContext":"uc-1"}}"#,
        );
        assert_eq!(rx.try_recv().unwrap().unwrap()["userContext"], "uc-1");
        let (tx, mut rx) = oneshot::channel();
        w.lock().unwrap().insert(8, tx);
        answer(
            &w,
            r#"{"type":"error","id":8,"error":"no such user context","message":"gone"}"#,
        );
        match rx.try_recv().unwrap() {
            Err(BidiError::Command { error, message, .. }) => {
                assert_eq!(
                    (error.as_str(), message.as_str()),
                    ("no such user context", "gone")
                )
            }
            other => panic!("{other:?}"),
        }
        // An event, or an answer nobody waits for, is dropped.
        answer(
            &w,
            r#"{"type":"event","method":"log.entryAdded","params":{}}"#,
        );
        answer(&w, r#"{"type":"success","id":99,"result":{}}"#);
        assert!(w.lock().unwrap().is_empty());
    }

    #[test]
    fn pushed_events_keep_each_user_contexts_tabs_and_dialogs_in_order() {
        let (w, p): (Waiting, Mutex<Pushed>) = Default::default();
        let ev = |method: &str, params: Value| {
            let m = json!({"type": "event", "method": method, "params": params});
            incoming(&w, &p, &Default::default(), &m.to_string())
        };
        let created = "browsingContext.contextCreated";
        ev(
            created,
            json!({"context": "T1", "parent": null, "userContext": "uc-1"}),
        );
        ev(
            created,
            json!({"context": "F1", "parent": "T1", "userContext": "uc-1"}),
        );
        ev(
            created,
            json!({"context": "T2", "parent": null, "userContext": "uc-2"}),
        );
        ev(
            created,
            json!({"context": "T3", "parent": null, "userContext": "uc-1"}),
        );
        let opened = "browsingContext.userPromptOpened";
        ev(
            opened,
            json!({"context": "T1", "type": "alert", "message": "one"}),
        );
        ev(
            "browsingContext.userPromptClosed",
            json!({"context": "T1", "accepted": true}),
        );
        ev(
            opened,
            json!({"context": "T2", "type": "confirm", "message": "other row"}),
        );
        ev(
            opened,
            json!({"context": "T3", "type": "confirm", "message": "two"}),
        );
        ev(
            opened,
            json!({"context": "nowhere", "type": "alert", "message": "?"}),
        );
        ev("browsingContext.contextDestroyed", json!({"context": "T3"}));
        let (uc1, mut p) = (UserContext("uc-1".into()), p.lock().unwrap());
        assert_eq!(p.uc_of(&Tab("T1".into())), Some(uc1.clone()));
        assert_eq!(p.uc_of(&Tab("T3".into())), None, "closed");
        let open = |hs: &[&str]| hs.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        assert_eq!(
            p.mine(&uc1, &open(&["T1", "T2"])),
            Some(vec![Tab("T1".into())])
        );
        assert_eq!(
            p.mine(&uc1, &open(&["T1", "T9"])),
            None,
            "T9 not announced yet"
        );
        let d = p.take_dialogs(&uc1);
        let seen: Vec<_> = d
            .iter()
            .map(|d| (d.kind.as_str(), d.message.as_str(), d.accepted))
            .collect();
        assert_eq!(
            seen,
            [("alert", "one", Some(true)), ("confirm", "two", None)]
        );
        assert!(p.take_dialogs(&uc1).is_empty(), "taken out");
        assert_eq!(p.dialogs.len(), 1, "the other row's dialog stays");
    }

    #[test]
    fn only_the_user_contexts_own_tabs_are_its_windows() {
        let tree = json!({"contexts": [
            {"context": "A", "userContext": "default", "children": null},
            {"context": "B", "userContext": "uc-1", "children": null},
            {"context": "C", "userContext": "uc-2", "children": null},
            {"context": "D", "userContext": "uc-1", "children": null},
        ]});
        let uc = UserContext("uc-1".into());
        assert_eq!(tabs_of(&tree, &uc), [Tab("B".into()), Tab("D".into())]);
        assert!(tabs_of(&json!({}), &uc).is_empty());
    }

    #[test]
    fn cookies_are_read_by_name_and_text_value() {
        let r = json!({"cookies": [
            {"name": "sid", "value": {"type": "string", "value": "abc"}, "domain": "127.0.0.1"},
            {"name": "bin", "value": {"type": "base64", "value": "AAE="}},
        ], "partitionKey": {}});
        assert_eq!(cookies_in(&r), [("sid".to_string(), "abc".to_string())]);
    }

    #[test]
    fn a_socket_address_is_shown_without_its_password() {
        assert_eq!(
            shown("ws://ops:s3cret@grid.local:4444/session/ab/se/bidi"),
            "ws://grid.local:4444/session/ab/se/bidi"
        );
    }
}
