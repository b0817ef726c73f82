//! The session layer: what the walk asks of one browser session.
//!
//! WebDriver commands are grouped by the chapters of the spec
//! (<https://www.w3.org/TR/webdriver2/>), as fantoccini groups them:
//! `contexts` (the window, kept alive), `elements`, `actions` (clicks and
//! keys), `prompts` (user prompts: alerts and confirms). Apart from them,
//! `probes`: the one-round-trip page scripts that look at the page and
//! wait in it. [`until`] is the one waiting helper every wait is built on.

mod actions;
mod contexts;
mod elements;
mod probes;
mod prompts;

pub(crate) use actions::Click;
pub(crate) use probes::{Look, NavEnd};

use fantoccini::Client;

pub(crate) use crate::wait::until;

/// One browser session, with the counters that tag its elements and
/// documents, and the interrupts every look watches for.
pub(crate) struct Session<'a> {
    pub(crate) c: &'a Client,
    marks: u64,
    /// Each watched interrupt as the page scripts take it.
    watch: Vec<serde_json::Value>,
    /// Interrupts whose steps are running (innermost last): their own
    /// lookups must not see them again, but may meet another on top.
    pub(crate) busy: Vec<usize>,
    /// The windows the walk has met (none known until a step clicks).
    windows: std::sync::Mutex<contexts::Windows>,
    /// The walk is inside a frame (for the step that found its element there).
    framed: std::sync::atomic::AtomicBool,
    /// The row's user context, when it has one in a browser other rows
    /// share: only its windows are the walk's.
    pub(crate) scope: Option<crate::driver::Scope>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(c: &'a Client, watch: Vec<serde_json::Value>) -> Session<'a> {
        Session {
            c,
            marks: 0,
            watch,
            busy: vec![],
            windows: Default::default(),
            framed: Default::default(),
            scope: None,
        }
    }

    /// The interrupts a look watches for now.
    fn watching(&self) -> serde_json::Value {
        let free = self
            .watch
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.busy.contains(i))
            .map(|(_, w)| w.clone());
        serde_json::Value::Array(free.collect())
    }

    /// A fresh tag for an element or a document.
    pub(crate) fn mark(&mut self) -> String {
        self.marks += 1;
        format!("m{}", self.marks)
    }
}
