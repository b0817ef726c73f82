//! The probe: one look at the page in one round trip (its address, load
//! state, text, the first match of each group, the interrupt that shows),
//! answered at once, at the next change, or once a page load is done.

use super::{locators, no_answer, still, Scripts, COMMON_JS};
use crate::flow::Targets;
use fantoccini::error::CmdError;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct Probe {
    pub url: String,
    pub ready: String,
    pub text: String,
    /// Navigation marker still present: the old document.
    pub marked: bool,
    /// Per group: (index matched, innerText of the match) or null.
    pub groups: Vec<Option<(i64, String)>>,
    /// The first interrupt of the watch list that shows, or -1.
    #[serde(default = "none_shows")]
    pub interrupt: i64,
    /// How long the page has been still (as [`Found::still`]).
    #[serde(default, deserialize_with = "still")]
    pub still: Option<std::time::Duration>,
    /// A page load has begun (`beforeunload` fired): the old document
    /// stays only until the next one arrives.
    #[serde(default)]
    pub leaving: bool,
    /// Whether the click armed under the look's token reached its element
    /// (`None`: not asked, or another document, which the click loaded).
    #[serde(default)]
    pub clicked: Option<bool>,
    /// The marked document is gone and the next one has loaded, its load
    /// event's handlers run.
    #[serde(default)]
    pub loaded: bool,
}

fn none_shows() -> i64 {
    -1
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            url: String::new(),
            ready: String::new(),
            text: String::new(),
            marked: false,
            groups: vec![],
            interrupt: -1,
            still: None,
            leaving: false,
            clicked: None,
            loaded: false,
        }
    }
}

impl Probe {
    /// The interrupt that shows, if any.
    pub fn interrupt(&self) -> Option<usize> {
        usize::try_from(self.interrupt).ok()
    }
}

/// When a probe answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// At once.
    Now,
    /// At the next change of the page (a DOM mutation, a load), or after this long.
    Change(std::time::Duration),
    /// Once the marked document is gone and the next has loaded, or after
    /// this long (a page load cuts the wait short with a transient error).
    Loaded(std::time::Duration),
}

impl Wait {
    pub(super) fn as_js(self) -> Value {
        match self {
            Wait::Now => json!({"ms": 0}),
            Wait::Change(d) => json!({"ms": d.as_millis() as u64, "until": "change"}),
            Wait::Loaded(d) => json!({"ms": d.as_millis() as u64, "until": "loaded"}),
        }
    }
}

/// The page in one look: address, load state, text, the first match of
/// each group and which interrupt of `watch` shows; answered as `wait` says.
pub async fn probe(
    js: Scripts<'_>,
    groups: &[&Targets],
    nav_token: &str,
    watch: &Value,
    wait: Wait,
) -> Result<Probe, CmdError> {
    run_probe(js, groups, nav_token, watch, wait.as_js()).await
}

/// One look at once right after a click armed under `arm`: [`probe`]'s,
/// saying too whether the click arrived ([`Probe::clicked`]).
pub async fn probe_after_click(
    js: Scripts<'_>,
    groups: &[&Targets],
    nav_token: &str,
    watch: &Value,
    arm: &str,
) -> Result<Probe, CmdError> {
    let o = json!({"ms": 0, "arm": arm});
    run_probe(js, groups, nav_token, watch, o).await
}

/// The probe script, answered as `o` says ([`Wait::as_js`], and `arm`).
async fn run_probe(
    js: Scripts<'_>,
    groups: &[&Targets],
    nav_token: &str,
    watch: &Value,
    o: Value,
) -> Result<Probe, CmdError> {
    let script = format!("{COMMON_JS}\n{PROBE_JS}");
    let gs: Vec<Value> = groups.iter().map(|t| locators(t)).collect();
    let args = vec![Value::Array(gs), json!(nav_token), watch.clone(), o];
    let v = js.execute_async(&script, args).await?;
    if v.is_null() {
        return Err(no_answer());
    }
    Ok(serde_json::from_value(v).unwrap_or_default())
}

const PROBE_JS: &str = r#"
const [gs, nav, watch, o, done] = arguments;
const probe = () => ({ url: location.href, ready: document.readyState,
  text: (document.body ? document.body.innerText : '').slice(0, 200000),
  marked: !!nav && window.__einvregNav === nav, interrupt: __watch(watch), still: __still(),
  leaving: window.__einvregStill.leaving, loaded: loaded(),
  clicked: o.arm ? (window.__einvregArmed === o.arm ? window.__einvregClicked === o.arm : null) : null,
  groups: gs.map(g => { const r = __find(g, 'see'); return r.el ? [r.index, (r.el.innerText||r.el.value||'').slice(0, 20000)] : null; }) });
// Loaded once the load event's handlers ran (readyState turns 'complete'
// just before them): an alert a handler opens is seen before the page is.
const handled = () => { const n = performance.getEntriesByType('navigation')[0]; return !n || n.loadEventEnd > 0; };
const loaded = () => !(nav && window.__einvregNav === nav) && document.readyState === 'complete' && handled();
if (!o.ms || (o.until === 'loaded' && loaded())) done(probe());
else if (o.until === 'loaded') __waitFor(false, loaded, x => x, o.ms, 50, () => done(probe()));
else __waitFor(false, () => true, x => x, o.ms, 0, () => done(probe()));
"#;
