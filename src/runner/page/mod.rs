//! What the runner asks of a page, each in one WebDriver round trip
//! (https://www.w3.org/TR/webdriver2/#execute-script): find the first
//! visible (and enabled) match of a target list, probe the page for screen
//! recognition and outcomes, mark navigation, mask secrets for screenshots.

use crate::flow::Targets;
use fantoccini::error::CmdError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod describe;
mod mask;
pub mod nearest;
mod probe;
mod script;
pub mod widget;

pub use describe::{describe_targets, joined, list, snippet, target_of};
pub use mask::{hide_texts, mask_secrets, unhide_texts, visible_text};
pub use probe::{probe, probe_after_click, Probe, Wait};
pub use script::Scripts;

/// Why a target in a fallback list did not match.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Miss {
    None,
    Hidden,
    Disabled,
    Invalid,
    Unsupported,
}

/// What a step needs of an element: to see it, or also to type into or click it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Visible.
    See,
    /// Visible, enabled and not read-only.
    Fill,
    /// Visible and enabled.
    Click,
    /// A dropdown to pick from: visible and enabled, or a hidden `<select>`
    /// with a visible widget standing for it (as select2 and chosen do).
    Pick,
}

impl Need {
    fn as_js(self) -> &'static str {
        match self {
            Need::See => "see",
            Need::Fill => "fill",
            Need::Click => "click",
            Need::Pick => "pick",
        }
    }
}

/// The outcome of one look for a target list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Found {
    /// Index into the target list of the first that matched.
    #[serde(rename = "index", deserialize_with = "index")]
    pub matched: Option<usize>,
    /// Why each target before it (or every target) did not match.
    pub report: Vec<Miss>,
    /// An interrupt shows (index into the watch list): nothing was tagged.
    #[serde(deserialize_with = "index")]
    pub interrupt: Option<usize>,
    /// The matched element, as a WebDriver element reference.
    pub el: Option<Value>,
    /// Its tag, lower case.
    pub tag: String,
    /// Its value, when [`Prep::value`] asked for it.
    pub value: String,
    /// A checkbox or radio that is checked.
    pub checked: bool,
    /// Another element is at its centre ([`Prep::click`]): a click would land there.
    pub covered: bool,
    /// The match is inside this frame (the path of indices to it, each
    /// among its parent's frames): nothing was tagged; look again inside it.
    #[serde(default)]
    pub frame: Option<Vec<u16>>,
    /// The page's origin and address ([`Prep::secret`]).
    pub origin: String,
    pub href: String,
    /// Not an image, or an image that finished loading.
    pub loaded: bool,
    /// The loaded image's own pixels as a PNG data URL ([`Prep::image`];
    /// empty when the page may not read them, e.g. another origin's image).
    pub png: String,
    /// When nothing matched: how long the page has been still (no DOM
    /// change, no request in flight, loaded, not leaving); `None` while it
    /// is not, or when something matched.
    #[serde(deserialize_with = "still")]
    pub still: Option<std::time::Duration>,
    /// What [`Prep::typed`] found: whether the box holds what was typed
    /// (`None`: not asked, or the box is not on this page).
    pub typed: Option<bool>,
    /// A `<select>` shown as one ([`Prep::options`]): its options as
    /// (value, label, element reference); `None` for anything else.
    pub options: Option<Vec<(String, String, Value)>>,
}

/// The page's still time in ms, -1 (or absent) for not still.
pub(super) fn still<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::time::Duration>, D::Error> {
    let ms = i64::deserialize(d)?;
    Ok(u64::try_from(ms).ok().map(std::time::Duration::from_millis))
}

/// A page index, -1 for none.
fn index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Ok(usize::try_from(i64::deserialize(d)?).ok())
}

/// What a find does to the element it tags, in the same round trip.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Prep {
    /// Focus it and select what it holds, so typing replaces that.
    pub focus: bool,
    /// Return its value (never asked of a secret box).
    pub value: bool,
    /// Scroll it into view and see what is at its centre (a click's target).
    pub click: bool,
    /// Mark the document for a navigation wait (empty: no).
    pub nav: String,
    /// Record clicks that reach it under this token (empty: no).
    pub arm: String,
    /// Copy a loaded image's pixels (a captcha) through a canvas: no
    /// screenshot round trip, and the picture as served, not as scaled.
    pub image: bool,
    /// Mark it as holding a secret (screenshots mask it) and return the
    /// page's origin and address, so a foreign page can be refused.
    pub secret: bool,
    /// Wait in the page up to this long for a match (0: look once).
    pub wait_ms: u64,
    /// A box typed into before, checked in the same round trip.
    pub typed: Option<TypedCheck>,
    /// Read the options of a `<select>` shown as one (a dropdown's pick
    /// needs no round trip of its own to list them).
    pub options: bool,
}

/// A box typed into and what it should hold now, checked by the next
/// find instead of a round trip of its own. Debug shows no value: it may
/// be a secret.
#[derive(Clone, Default, Serialize)]
pub struct TypedCheck {
    pub mark: String,
    pub want: String,
}

impl std::fmt::Debug for TypedCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedCheck({})", self.mark)
    }
}

/// The CSS selector of the element tagged `mark`.
pub fn tag_selector(mark: &str) -> String {
    format!("[data-einvreg-target=\"{mark}\"]")
}

pub fn locators(t: &Targets) -> Value {
    Value::Array(
        t.list
            .iter()
            .map(|x| match x.locator() {
                Some((k, e)) => json!([k, e]),
                None => json!(["unsupported", x.to_string()]),
            })
            .collect(),
    )
}

/// The helpers every page script starts with.
pub(super) const COMMON_JS: &str = include_str!("common.js");

/// One interrupt to watch for, as the page scripts take it: its index
/// among the watched ones and its recognition (one known only by its
/// alert never shows on the page).
pub fn watch_entry(i: usize, s: &crate::flow::Screen) -> Value {
    let r = &s.recognise;
    json!({
        "i": i,
        "page": !r.elements.is_empty() || !r.texts.is_empty(),
        "url": r.url,
        "els": r.elements.iter().map(locators).collect::<Vec<_>>(),
        "texts": r.texts,
    })
}

/// Finds and tags the first usable match (waiting in the page up to
/// `prep.wait_ms` for one), unless an interrupt of `watch` shows (then it
/// says which, and tags nothing); prepares the element as `prep` asks.
pub async fn find(
    js: Scripts<'_>,
    t: &Targets,
    need: Need,
    mark: &str,
    watch: &Value,
    prep: &Prep,
) -> Result<Found, CmdError> {
    let script = format!("{COMMON_JS}\n{FIND_JS}");
    let args = vec![
        locators(t),
        json!(need.as_js()),
        json!(mark),
        watch.clone(),
        json!(prep),
    ];
    let v = js.execute_async(&script, args).await?;
    // Never "nothing found, the box typed into gone": an alert opened.
    if v.is_null() {
        return Err(no_answer());
    }
    Ok(serde_json::from_value(v).unwrap_or_default())
}

const FIND_JS: &str = r#"
const [list, need, mark, watch, o, reply] = arguments;
// The box typed into before: does it hold what was typed? (null: not asked, or gone)
const typed = o.typed ? (b => b ? b.value === o.typed.want : null)(document.querySelector('[data-einvreg-target="'+o.typed.mark+'"]')) : null;
const done = r => reply(Object.assign(r, {typed}));
// Only this mark's old element: an interrupt's lookup must not untag the step it interrupted.
document.querySelectorAll('[data-einvreg-target="'+mark+'"]').forEach(e=>e.removeAttribute('data-einvreg-target'));
const look = () => { const w = __watch(watch); return w >= 0 ? {index:-1, report:[], interrupt:w} : __find(list, need); };
const ok = r => !!r.el || r.interrupt >= 0;
function finish(r){
  if (!r.el) return done({index:-1, report:r.report, interrupt: r.interrupt >= 0 ? r.interrupt : -1, still:__still()});
  // In a frame: say which (the walk switches into it and looks again there).
  const frame = __frameOf(r.el);
  if (frame) return done({index:r.index, report:r.report, interrupt:-1, frame:frame, tag:r.el.tagName.toLowerCase()});
  // Inside a frame, the top's document is marked too: a page the click loads there ends the frame.
  if (o.nav && window.top !== window) { try { window.top.__einvregNav = o.nav; } catch (_) {} }
  const el = r.el, out = {index:r.index, report:r.report, interrupt:-1, el:el, tag:el.tagName.toLowerCase(),
    checked:!!el.checked, covered:false, value:'', origin:'', href:'', png:'',
    loaded: el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0)};
  el.setAttribute('data-einvreg-target', mark);
  if (o.value) out.value = String(el.value || '');
  if (o.options && out.tag === 'select' && __vis(el)) out.options = Array.from(el.options).map(x => [x.value, x.text.trim(), x]);
  if (o.focus && out.tag !== 'select') { if (document.activeElement !== el) el.focus(); try { el.select(); } catch (_) {} }
  if (o.click) out.covered = __covered(el);
  if (o.image && out.tag === 'img' && out.loaded) { try { const c = document.createElement('canvas');
    c.width = el.naturalWidth; c.height = el.naturalHeight; c.getContext('2d').drawImage(el, 0, 0); out.png = c.toDataURL('image/png'); } catch (_) {} }
  if (o.secret) { el.setAttribute('data-einvreg-secret', '1'); out.origin = location.origin; out.href = location.href; }
  // The page's watchers go in now: a load the click begins is seen leaving.
  if (o.nav) { window.__einvregNav = o.nav; __still(); }
  if (o.arm) { window.__einvregArmed = o.arm; window.__einvregClicked = null; const t = o.arm;
    document.addEventListener('click', ev => { if (el.contains(ev.target)) window.__einvregClicked = t; }, {capture:true}); }
  done(out);
}
const first = look();
if (ok(first) || !o.wait_ms) finish(first); else __waitFor(first, look, ok, o.wait_ms, 100, finish);
"#;

/// The PNG bytes of a find's [`Found::png`], if it has one.
pub fn png_of(found: &Found) -> Option<Vec<u8>> {
    use base64::Engine;
    let b64 = found.png.strip_prefix("data:image/png;base64,")?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Whether something else is at the tagged element's centre (scrolled
/// into view first), so a click would land there; `None`: no such element.
pub async fn covered(js: Scripts<'_>, mark: &str) -> Result<Option<bool>, CmdError> {
    let script = format!("{COMMON_JS}\nconst e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? __covered(e) : null;");
    Ok(js.execute(&script, vec![json!(mark)]).await?.as_bool())
}

/// Focuses the tagged box and selects what it holds.
pub async fn focus_select(js: Scripts<'_>, mark: &str) -> Result<(), CmdError> {
    js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); if(e){ if(document.activeElement!==e) e.focus(); try{ e.select(); }catch(_){} }", vec![json!(mark)]).await.map(|_| ())
}

/// Whether the marked element is an image that finished loading.
pub async fn image_loaded(js: Scripts<'_>, mark: &str) -> Result<bool, CmdError> {
    let v = js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return !!e && (e.tagName!=='IMG' || (e.complete && e.naturalWidth>0));", vec![json!(mark)]).await?;
    Ok(v.as_bool().unwrap_or(false))
}

/// What chromedriver answers for a script during which an alert opened:
/// nothing. Never read as an empty page (where "every element is there"
/// would hold of no elements): an error, transient, that sends the caller
/// to the alert.
const NO_ANSWER: &str = "the page gave no answer (an alert opened?)";

pub(super) fn no_answer() -> CmdError {
    CmdError::NotW3C(json!(NO_ANSWER))
}

/// Whether a script got no answer because an alert opened as it ran.
pub fn is_no_answer(e: &CmdError) -> bool {
    matches!(e, CmdError::NotW3C(Value::String(s)) if s == NO_ANSWER)
}

/// The text of the alert an error says is open: `Some(None)` when one is
/// open but the endpoint did not say its text.
pub fn alert_of(e: &CmdError) -> Option<Option<String>> {
    if !e.is_unexpected_alert_open() {
        return None;
    }
    let text = match e {
        CmdError::Standard(w) => w
            .data
            .as_ref()
            .and_then(|d| d["text"].as_str())
            .map(String::from),
        _ => None,
    };
    Some(text)
}

/// Sets a value the way a page's own scripts expect: value, then input and change events.
pub async fn fast_fill(js: Scripts<'_>, mark: &str, value: &str) -> Result<(), CmdError> {
    js.execute(
        "const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); e.focus(); e.value=arguments[1];
         e.dispatchEvent(new Event('input',{bubbles:true})); e.dispatchEvent(new Event('change',{bubbles:true})); e.blur();",
        vec![json!(mark), json!(value)],
    )
    .await
    .map(|_| ())
}

/// Marks the element as holding a secret (screenshots mask it); the
/// page's origin and address, so the caller can refuse a foreign page.
pub async fn mark_secret(js: Scripts<'_>, mark: &str) -> Result<(String, String), CmdError> {
    let v = js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); if(e) e.setAttribute('data-einvreg-secret','1'); return [location.origin, location.href];", vec![json!(mark)]).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The marked element's tag (lower case) and current value.
pub async fn tag_and_value(js: Scripts<'_>, mark: &str) -> Result<(String, String), CmdError> {
    let v = js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? [e.tagName.toLowerCase(), String(e.value||'')] : ['', ''];", vec![json!(mark)]).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The selected option's index in the marked dropdown (`None`: none, or
/// another page by now).
pub async fn selected_index(js: Scripts<'_>, mark: &str) -> Result<Option<usize>, CmdError> {
    let v = match js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? e.selectedIndex : null;", vec![json!(mark)]).await {
        Ok(v) => v,
        Err(e) if is_transient(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(v.as_u64().map(|i| i as usize))
}

/// Whether the marked box holds exactly `value` (compared in the page:
/// the value, which may be a secret, does not come back).
pub async fn value_is(js: Scripts<'_>, mark: &str, value: &str) -> Result<bool, CmdError> {
    let v = js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return !!e && e.value===arguments[1];", vec![json!(mark), json!(value)]).await?;
    Ok(v.as_bool().unwrap_or(false))
}

/// Whether the armed click reached its element: `None` when the page is
/// another document by now (a page load: it did).
pub async fn click_seen(js: Scripts<'_>, token: &str) -> Result<Option<bool>, CmdError> {
    let v = js.execute("return window.__einvregArmed===arguments[0] ? window.__einvregClicked===arguments[0] : null;", vec![json!(token)]).await?;
    Ok(v.as_bool())
}

/// Focuses the marked box and selects what follows its first `keep`
/// characters, so typing replaces that and keeps the rest.
pub async fn select_after(js: Scripts<'_>, mark: &str, keep: usize) -> Result<(), CmdError> {
    js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); if(e){ e.focus(); const n=(e.value||'').length; try{ e.setSelectionRange(Math.min(arguments[1], n), n); }catch(_){} }", vec![json!(mark), json!(keep)]).await.map(|_| ())
}

/// The marked element's `src` (an image's current address).
pub async fn src_of(js: Scripts<'_>, mark: &str) -> Result<String, CmdError> {
    let v = js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? String(e.currentSrc||e.src||'') : '';", vec![json!(mark)]).await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Options of the marked <select>: (value, label), and each option as a
/// WebDriver element reference (to click it without looking it up).
pub async fn select_options(
    js: Scripts<'_>,
    mark: &str,
) -> Result<(Vec<(String, String)>, Vec<Value>), CmdError> {
    let v = js.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? Array.from(e.options).map(o=>[o.value, o.text.trim(), o]) : [];", vec![json!(mark)]).await?;
    let all: Vec<(String, String, Value)> = serde_json::from_value(v).unwrap_or_default();
    Ok(all.into_iter().map(|(v, l, e)| ((v, l), e)).unzip())
}

pub fn is_alert_open(e: &CmdError) -> bool {
    e.is_unexpected_alert_open()
}

/// Errors that mean "the page is between documents": try again. Our
/// in-page waits all end well within the script timeout, so one that
/// times out lost its document to a page load (chromedriver says so).
pub fn is_transient(e: &CmdError) -> bool {
    e.is_stale_element_reference()
        || e.is_javascript_error()
        || e.is_no_such_element()
        || e.is_script_timeout()
        || is_no_answer(e)
        || {
            let s = e.to_string();
            s.contains("document unloaded")
                || s.contains("execution context")
                || s.contains("Cannot find context")
                || s.contains("Node with given id")
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_find_answer_reads_its_element_and_what_it_saw() {
        let v = json!({"index": 1, "report": ["hidden"], "interrupt": -1,
            "el": {"element-6066-11e4-a52e-4f735466cecf": "f.1.d.2.e.3"},
            "tag": "input", "value": "API_", "checked": false, "covered": true,
            "origin": "http://127.0.0.1:8080", "href": "http://127.0.0.1:8080/x", "loaded": true, "png": ""});
        let f: Found = serde_json::from_value(v).unwrap();
        assert_eq!(f.matched, Some(1));
        assert_eq!(f.report, vec![Miss::Hidden]);
        assert_eq!(f.interrupt, None);
        assert!(f.el.is_some() && f.covered && f.loaded);
        assert_eq!((f.tag.as_str(), f.value.as_str()), ("input", "API_"));
    }

    #[test]
    fn a_find_that_saw_an_interrupt_or_nothing_matches_nothing() {
        let f: Found =
            serde_json::from_value(json!({"index": -1, "report": [], "interrupt": 2})).unwrap();
        assert_eq!((f.matched, f.interrupt), (None, Some(2)));
        // An alert opened mid-script: chromedriver answers null.
        let f: Found = serde_json::from_value(Value::Null).unwrap_or_default();
        assert_eq!((f.matched, f.interrupt), (None, None));
    }

    #[test]
    fn prep_asks_only_for_what_is_set() {
        let p = Prep {
            focus: true,
            nav: "m3".into(),
            wait_ms: 250,
            ..Prep::default()
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["focus"], true);
        assert_eq!(v["click"], false);
        assert_eq!(v["secret"], false);
        assert_eq!(v["nav"], "m3");
        assert_eq!(v["arm"], "");
        assert_eq!(v["wait_ms"], 250);
    }

    #[test]
    fn an_alerts_text_comes_from_the_error_and_no_answer_is_transient() {
        let e = CmdError::Standard(
            fantoccini::error::WebDriver::new(
                fantoccini::error::ErrorStatus::UnexpectedAlertOpen,
                "unexpected alert open: {Alert text : OTP has been sent}",
            )
            .with_data(json!({"text": "OTP has been sent"})),
        );
        assert_eq!(alert_of(&e), Some(Some("OTP has been sent".to_string())));
        assert!(is_no_answer(&no_answer()) && is_transient(&no_answer()));
        assert_eq!(alert_of(&no_answer()), None);
        assert_eq!(
            (
                Wait::Now.as_js()["ms"].clone(),
                Wait::Loaded(std::time::Duration::from_millis(300)).as_js()["until"].clone()
            ),
            (json!(0), json!("loaded"))
        );
    }

    #[test]
    fn png_of_reads_only_png_data_urls() {
        let f = Found {
            png: "data:image/png;base64,iVBORw0KGgo=".into(),
            ..Found::default()
        };
        assert_eq!(png_of(&f).unwrap()[..4], [0x89, b'P', b'N', b'G']);
        let f = Found {
            png: "data:image/jpeg;base64,AAAA".into(),
            ..Found::default()
        };
        assert!(png_of(&f).is_none());
        assert!(png_of(&Found::default()).is_none());
    }
}
