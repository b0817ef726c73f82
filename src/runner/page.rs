//! What the runner asks of a page, each in one WebDriver round trip
//! (https://www.w3.org/TR/webdriver2/#execute-script): find the first
//! visible (and enabled) match of a target list, probe the page for screen
//! recognition and outcomes, mark navigation, mask secrets for screenshots.

use crate::flow::{Target, Targets};
use fantoccini::error::CmdError;
use fantoccini::Client;
use serde::Deserialize;
use serde_json::{json, Value};

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
}

impl Need {
    fn as_js(self) -> &'static str {
        match self {
            Need::See => "see",
            Need::Fill => "fill",
            Need::Click => "click",
        }
    }
}

/// The outcome of one look for a target list.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Index into the target list of the first that matched.
    pub matched: Option<usize>,
    /// Why each target before it (or every target) did not match.
    pub report: Vec<Miss>,
}

#[derive(Deserialize)]
struct RawFound {
    index: i64,
    report: Vec<Miss>,
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

const COMMON_JS: &str = r#"
function __vis(el){ if(!el || !el.isConnected) return false; if(!el.getClientRects().length) return false;
  const cs = getComputedStyle(el); return cs.visibility !== 'hidden' && cs.display !== 'none'; }
function __all(kind, expr){ if(kind==='css') return Array.from(document.querySelectorAll(expr));
  if(kind!=='xpath') throw new Error('unsupported');
  const r = document.evaluate(expr, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
  const out=[]; for(let i=0;i<r.snapshotLength;i++){ const n=r.snapshotItem(i); if(n.nodeType===1) out.push(n); } return out; }
function __find(list, need){ const report=[];
  for(let i=0;i<list.length;i++){ let els; try{ els=__all(list[i][0], list[i][1]); }catch(e){ report.push(list[i][0]==='unsupported'?'unsupported':'invalid'); continue; }
    if(!els.length){ report.push('none'); continue; }
    const vis = els.filter(__vis); if(!vis.length){ report.push('hidden'); continue; }
    const ok = need==='fill' ? vis.filter(e=>!e.disabled && !e.readOnly) : need==='click' ? vis.filter(e=>!e.disabled) : vis;
    if(!ok.length){ report.push('disabled'); continue; }
    return {index:i, report:report, el:ok[0]}; }
  return {index:-1, report:report, el:null}; }
"#;

/// Finds and tags the first usable match.
pub async fn find(c: &Client, t: &Targets, need: Need, mark: &str) -> Result<Found, CmdError> {
    let js = format!(
        "{COMMON_JS}
        document.querySelectorAll('[data-einvreg-target]').forEach(e=>e.removeAttribute('data-einvreg-target'));
        const r = __find(arguments[0], arguments[1]);
        if (r.el) r.el.setAttribute('data-einvreg-target', arguments[2]);
        return {{index:r.index, report:r.report}};"
    );
    let v = c
        .execute(&js, vec![locators(t), json!(need.as_js()), json!(mark)])
        .await?;
    Ok(match serde_json::from_value::<RawFound>(v) {
        Ok(r) => Found {
            matched: usize::try_from(r.index).ok(),
            report: r.report,
        },
        Err(_) => Found::default(),
    })
}

/// Whether the marked element is an image that finished loading.
pub async fn image_loaded(c: &Client, mark: &str) -> Result<bool, CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return !!e && (e.tagName!=='IMG' || (e.complete && e.naturalWidth>0));", vec![json!(mark)]).await?;
    Ok(v.as_bool().unwrap_or(false))
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Probe {
    pub url: String,
    pub ready: String,
    pub text: String,
    /// Navigation marker still present: the old document.
    pub marked: bool,
    /// Per group: (index matched, innerText of the match) or null.
    pub groups: Vec<Option<(i64, String)>>,
}

pub async fn probe(c: &Client, groups: &[&Targets], nav_token: &str) -> Result<Probe, CmdError> {
    let js = format!(
        "{COMMON_JS}
        const groups = arguments[0].map(g => {{ const r = __find(g, 'see'); return r.el ? [r.index, (r.el.innerText||r.el.value||'').slice(0, 20000)] : null; }});
        return {{ url: location.href, ready: document.readyState, text: (document.body ? document.body.innerText : '').slice(0, 200000),
                 marked: !!arguments[1] && window.__einvregNav === arguments[1], groups: groups }};"
    );
    let gs: Vec<Value> = groups.iter().map(|t| locators(t)).collect();
    let v = c
        .execute(&js, vec![Value::Array(gs), json!(nav_token)])
        .await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

pub async fn set_nav_marker(c: &Client, token: &str) -> Result<(), CmdError> {
    c.execute("window.__einvregNav = arguments[0];", vec![json!(token)])
        .await
        .map(|_| ())
}

/// Sets a value the way a page's own scripts expect: value, then input and change events.
pub async fn fast_fill(c: &Client, mark: &str, value: &str) -> Result<(), CmdError> {
    c.execute(
        "const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); e.focus(); e.value=arguments[1];
         e.dispatchEvent(new Event('input',{bubbles:true})); e.dispatchEvent(new Event('change',{bubbles:true})); e.blur();",
        vec![json!(mark), json!(value)],
    )
    .await
    .map(|_| ())
}

pub async fn mark_secret(c: &Client, mark: &str) -> Result<(), CmdError> {
    c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); if(e) e.setAttribute('data-einvreg-secret','1');", vec![json!(mark)]).await.map(|_| ())
}

pub async fn is_checked(c: &Client, mark: &str) -> Result<bool, CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return !!(e && e.checked);", vec![json!(mark)]).await?;
    Ok(v.as_bool().unwrap_or(false))
}

/// Hides what secret fields show, for screenshots; `false` undoes it.
pub async fn mask_secrets(c: &Client, on: bool) -> Result<(), CmdError> {
    c.execute(
        "let s=document.getElementById('__einvreg_mask');
         if(arguments[0]){ if(!s){ s=document.createElement('style'); s.id='__einvreg_mask';
           s.textContent='input[type=password],[data-einvreg-secret],input[name*=otp i],input[id*=otp i],input[name*=captcha i],input[id*=captcha i]{color:transparent!important;-webkit-text-security:disc!important;text-shadow:none!important}';
           document.head.appendChild(s);} }
         else if(s){ s.remove(); }",
        vec![json!(on)],
    )
    .await
    .map(|_| ())
}

/// Options of the marked <select>: (value, label).
pub async fn select_options(c: &Client, mark: &str) -> Result<Vec<(String, String)>, CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? Array.from(e.options).map(o=>[o.value, o.text.trim()]) : [];", vec![json!(mark)]).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

pub fn is_alert_open(e: &CmdError) -> bool {
    e.is_unexpected_alert_open()
}

/// Errors that mean "the page is between documents": try again.
pub fn is_transient(e: &CmdError) -> bool {
    e.is_stale_element_reference() || e.is_javascript_error() || e.is_no_such_element() || {
        let s = e.to_string();
        s.contains("document unloaded")
            || s.contains("execution context")
            || s.contains("Cannot find context")
            || s.contains("Node with given id")
    }
}

pub fn describe_targets(t: &Targets, report: &[Miss]) -> String {
    t.list
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let why = match report.get(i) {
                Some(Miss::None) | None => "not on the page",
                Some(Miss::Hidden) => "present but hidden",
                Some(Miss::Disabled) => "present but disabled",
                Some(Miss::Invalid) => "invalid selector",
                Some(Miss::Unsupported) => "not an element target",
            };
            format!("`{x}` ({why})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target at `i` of a list (from a probe's group index).
pub fn target_of(t: &Targets, i: i64) -> Option<&Target> {
    usize::try_from(i).ok().and_then(|i| t.list.get(i))
}

/// Every target of a list, backquoted, joined by "or".
pub fn list(t: &Targets) -> String {
    t.list
        .iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Every target of a list joined by " | ", as smoke findings name them.
pub fn joined(t: &Targets) -> String {
    t.list
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Page text on one line, cut at 160 characters, quoted.
pub fn snippet(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 160 {
        format!("\"{}…\"", one.chars().take(160).collect::<String>())
    } else {
        format!("\"{one}\"")
    }
}
