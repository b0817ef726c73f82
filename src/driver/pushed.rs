//! What a BiDi socket pushed (<https://w3c.github.io/webdriver-bidi/#events>):
//! the tabs each user context has open and the dialogs its pages opened,
//! kept in arrival order so the walk reads them without a round trip.

use super::bidi::{str_of, Tab, UserContext};
use serde_json::Value;

/// What the browser pushed since the subscription, in arrival order.
#[derive(Debug, Default)]
pub struct Pushed {
    /// The events arrive (`session.subscribe` succeeded).
    pub(super) subscribed: bool,
    /// Each open top-level tab and the user context it is in.
    pub(super) tabs: Vec<(Tab, UserContext)>,
    /// Every dialog opened in a known tab, in order.
    pub(super) dialogs: Vec<Dialog>,
}

/// One dialog a page opened, as BiDi pushed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The user context whose page opened it.
    pub uc: UserContext,
    /// The tab it opened in.
    pub tab: Tab,
    /// `alert`, `confirm`, `prompt` or `beforeunload`.
    pub kind: String,
    /// Its text, as the page wrote it (may hold anything: redact before showing).
    pub message: String,
    /// `None` while open; then whether it was accepted.
    pub accepted: Option<bool>,
}

impl Pushed {
    /// Takes one event in; anything not subscribed to is ignored.
    pub(super) fn take(&mut self, method: &str, p: &Value) {
        let tab = Tab(str_of(p, "context"));
        match method {
            // Frames are the page's business: only tabs are windows.
            "browsingContext.contextCreated" if p["parent"].is_null() => {
                self.tabs.push((tab, UserContext(str_of(p, "userContext"))))
            }
            "browsingContext.contextDestroyed" => self.tabs.retain(|(t, _)| *t != tab),
            "browsingContext.userPromptOpened" => {
                let Some(uc) = self.uc_of(&tab) else { return };
                self.dialogs.push(Dialog {
                    uc,
                    tab,
                    kind: str_of(p, "type"),
                    message: str_of(p, "message"),
                    accepted: None,
                })
            }
            "browsingContext.userPromptClosed" => {
                let open = self.dialogs.iter_mut().rev();
                if let Some(d) = open.filter(|d| d.tab == tab).find(|d| d.accepted.is_none()) {
                    d.accepted = Some(p["accepted"].as_bool().unwrap_or(false));
                }
            }
            _ => {}
        }
    }

    /// Which of `open` are `uc`'s; `None` while one is not announced yet.
    pub(super) fn mine(&self, uc: &UserContext, open: &[String]) -> Option<Vec<Tab>> {
        let mut mine = vec![];
        for h in open {
            let tab = Tab(h.clone());
            match self.uc_of(&tab)? {
                u if u == *uc => mine.push(tab),
                _ => {}
            }
        }
        Some(mine)
    }

    pub(super) fn uc_of(&self, tab: &Tab) -> Option<UserContext> {
        self.tabs
            .iter()
            .find(|(t, _)| t == tab)
            .map(|(_, uc)| uc.clone())
    }

    /// Whether a script may run in `uc`'s pages over BiDi: the events
    /// come, and none of its dialogs is open.
    pub(super) fn callable(&self, uc: &UserContext) -> bool {
        let open = |d: &Dialog| d.uc == *uc && d.accepted.is_none();
        self.subscribed && !self.dialogs.iter().any(open)
    }

    /// Takes the dialogs of `uc` out (its row is over).
    pub(super) fn take_dialogs(&mut self, uc: &UserContext) -> Vec<Dialog> {
        let (mine, rest) = std::mem::take(&mut self.dialogs)
            .into_iter()
            .partition(|d| d.uc == *uc);
        self.dialogs = rest;
        mine
    }
}
