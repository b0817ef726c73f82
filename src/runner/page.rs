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
    /// An interrupt shows (index into the watch list): nothing was tagged.
    pub interrupt: Option<usize>,
}

#[derive(Deserialize)]
struct RawFound {
    index: i64,
    report: Vec<Miss>,
    interrupt: i64,
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
function __norm(s){ return (s||'').replace(/\s+/g,' ').trim(); }
function __lnorm(s){ return __norm(s).replace(/[\s:*]+$/,'').toLowerCase(); }
function __byText(t){ const want=__norm(t), out=new Set();
  const ctl = l => l.control || l.querySelector('input,select,textarea');
  document.querySelectorAll('button,a,label,span,input').forEach(e=>{
    if(e.tagName==='INPUT'){
      if(e.type==='radio'||e.type==='checkbox'){ const n=e.nextSibling; if(n && n.nodeType===3 && __norm(n.textContent)===want) out.add(e); }
      else if((e.type==='submit'||e.type==='button') && __norm(e.value)===want) out.add(e);
      return; }
    if(__norm(e.innerText||e.textContent)!==want) return;
    const c = e.tagName==='LABEL' ? ctl(e) : null;
    out.add(c && (c.type==='radio'||c.type==='checkbox') ? c : e); });
  return Array.from(out); }
function __names(c){ const ns=[];
  if(c.labels) for(const l of c.labels) ns.push(l.innerText||l.textContent);
  const al=c.getAttribute('aria-label'); if(al) ns.push(al);
  if(c.placeholder) ns.push(c.placeholder);
  const cell=c.closest('td,th'); const prev=cell && cell.previousElementSibling; if(prev) ns.push(prev.innerText||prev.textContent);
  return ns.map(__lnorm).filter(x=>x); }
function __byLabel(t){ const want=__lnorm(t), exact=[], part=[];
  document.querySelectorAll('input:not([type=hidden]),select,textarea').forEach(c=>{ const ns=__names(c);
    if(ns.some(n=>n===want)) exact.push(c); else if(ns.some(n=>n.includes(want))) part.push(c); });
  return exact.length ? exact : part; }
function __all(kind, expr){ if(kind==='css') return Array.from(document.querySelectorAll(expr));
  if(kind==='text') return __byText(expr);
  if(kind==='label') return __byLabel(expr);
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
function __watch(list){ let text=null;
  for(let i=0;i<list.length;i++){ const w=list[i];
    if(!w.page) continue;
    if(w.url && !location.href.includes(w.url)) continue;
    if(!w.els.every(g=>__find(g,'see').el)) continue;
    if(w.texts.length){ if(text===null) text=document.body ? document.body.innerText : '';
      if(!w.texts.every(t=>text.includes(t))) continue; }
    return w.i; }
  return -1; }
"#;

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

/// Finds and tags the first usable match, unless an interrupt of `watch`
/// shows (then it says which, and tags nothing).
pub async fn find(
    c: &Client,
    t: &Targets,
    need: Need,
    mark: &str,
    watch: &Value,
) -> Result<Found, CmdError> {
    let js = format!(
        "{COMMON_JS}
        // Only this mark's old element: an interrupt's lookup must not untag the step it interrupted.
        document.querySelectorAll('[data-einvreg-target=\"'+arguments[2]+'\"]').forEach(e=>e.removeAttribute('data-einvreg-target'));
        const w = __watch(arguments[3]);
        if (w >= 0) return {{index:-1, report:[], interrupt:w}};
        const r = __find(arguments[0], arguments[1]);
        if (r.el) r.el.setAttribute('data-einvreg-target', arguments[2]);
        return {{index:r.index, report:r.report, interrupt:-1}};"
    );
    let args = vec![locators(t), json!(need.as_js()), json!(mark), watch.clone()];
    let v = c.execute(&js, args).await?;
    Ok(match serde_json::from_value::<RawFound>(v) {
        Ok(r) => Found {
            matched: usize::try_from(r.index).ok(),
            report: r.report,
            interrupt: usize::try_from(r.interrupt).ok(),
        },
        Err(_) => Found::default(),
    })
}

/// Whether the marked element is an image that finished loading.
pub async fn image_loaded(c: &Client, mark: &str) -> Result<bool, CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return !!e && (e.tagName!=='IMG' || (e.complete && e.naturalWidth>0));", vec![json!(mark)]).await?;
    Ok(v.as_bool().unwrap_or(false))
}

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
        }
    }
}

impl Probe {
    /// The interrupt that shows, if any.
    pub fn interrupt(&self) -> Option<usize> {
        usize::try_from(self.interrupt).ok()
    }
}

/// The page in one look: address, load state, text, the first match of
/// each group and which interrupt of `watch` shows.
pub async fn probe(
    c: &Client,
    groups: &[&Targets],
    nav_token: &str,
    watch: &Value,
) -> Result<Probe, CmdError> {
    let js = format!(
        "{COMMON_JS}
        const groups = arguments[0].map(g => {{ const r = __find(g, 'see'); return r.el ? [r.index, (r.el.innerText||r.el.value||'').slice(0, 20000)] : null; }});
        return {{ url: location.href, ready: document.readyState, text: (document.body ? document.body.innerText : '').slice(0, 200000),
                 marked: !!arguments[1] && window.__einvregNav === arguments[1], groups: groups, interrupt: __watch(arguments[2]) }};"
    );
    let gs: Vec<Value> = groups.iter().map(|t| locators(t)).collect();
    let v = c
        .execute(&js, vec![Value::Array(gs), json!(nav_token), watch.clone()])
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

/// Marks the element as holding a secret (screenshots mask it); the
/// page's origin and address, so the caller can refuse a foreign page.
pub async fn mark_secret(c: &Client, mark: &str) -> Result<(String, String), CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); if(e) e.setAttribute('data-einvreg-secret','1'); return [location.origin, location.href];", vec![json!(mark)]).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
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

/// What a screenshot would show as text: the rendered text of the page
/// (hidden elements left out) and the values of boxes the mask does not cover.
pub async fn visible_text(c: &Client) -> Result<String, CmdError> {
    let v = c.execute(
        "var out=[document.body ? document.body.innerText : ''];
         var masked='input[type=password],[data-einvreg-secret],input[name*=otp i],input[id*=otp i],input[name*=captcha i],input[id*=captcha i]';
         document.querySelectorAll('input,textarea').forEach(function(e){
           if(getComputedStyle(e).visibility!=='visible') return;
           if(e.placeholder) out.push(e.placeholder);
           if(!e.matches(masked) && e.value) out.push(e.value);
         });
         return out.join('\\n');",
        vec![],
    )
    .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Hides every element whose own text, value or placeholder holds one of
/// `found` (strings the page already shows): boxes are marked for the
/// mask, other elements made invisible until [`unhide_texts`]. How many.
pub async fn hide_texts(c: &Client, found: &[String]) -> Result<u64, CmdError> {
    let n = c.execute(
        "var f=arguments[0], n=0; function has(t){ return typeof t==='string' && t && f.some(function(s){ return t.indexOf(s)>=0; }); }
         document.querySelectorAll('body *').forEach(function(e){
           var own=''; e.childNodes.forEach(function(n){ if(n.nodeType===3) own+=n.nodeValue; });
           if(has(e.value) || has(e.placeholder)){ n++; e.setAttribute('data-einvreg-secret','1'); e.setAttribute('placeholder',''); }
           if(has(own)){ n++; e.setAttribute('data-einvreg-hid', e.style.getPropertyValue('visibility')||'-');
             e.style.setProperty('visibility','hidden','important'); }
         });
         return n;",
        vec![json!(found)],
    )
    .await?;
    Ok(n.as_u64().unwrap_or(0))
}

/// Undoes [`hide_texts`] on the elements it made invisible.
pub async fn unhide_texts(c: &Client) -> Result<(), CmdError> {
    c.execute(
        "document.querySelectorAll('[data-einvreg-hid]').forEach(function(e){
           var v=e.getAttribute('data-einvreg-hid'); e.removeAttribute('data-einvreg-hid');
           if(v==='-') e.style.removeProperty('visibility'); else e.style.setProperty('visibility',v); });",
        vec![],
    )
    .await
    .map(|_| ())
}

/// The marked element's tag (lower case) and current value.
pub async fn tag_and_value(c: &Client, mark: &str) -> Result<(String, String), CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? [e.tagName.toLowerCase(), String(e.value||'')] : ['', ''];", vec![json!(mark)]).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The selected option's index in the marked dropdown (`None`: none, or
/// another page by now).
pub async fn selected_index(c: &Client, mark: &str) -> Result<Option<usize>, CmdError> {
    let v = match c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? e.selectedIndex : null;", vec![json!(mark)]).await {
        Ok(v) => v,
        Err(e) if is_transient(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(v.as_u64().map(|i| i as usize))
}

/// Whether the marked box holds exactly `value` (compared in the page:
/// the value, which may be a secret, does not come back).
pub async fn value_is(c: &Client, mark: &str, value: &str) -> Result<bool, CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return !!e && e.value===arguments[1];", vec![json!(mark), json!(value)]).await?;
    Ok(v.as_bool().unwrap_or(false))
}

/// Arms a record of the marked element receiving a click (`token`), so a
/// click an alert swallowed can be told from one that landed.
pub async fn arm_click(c: &Client, mark: &str, token: &str) -> Result<(), CmdError> {
    c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); const t=arguments[1]; window.__einvregArmed=t; window.__einvregClicked=null;
        if(e) document.addEventListener('click', function(ev){ if(e.contains(ev.target)) window.__einvregClicked=t; }, {capture:true, once:false});", vec![json!(mark), json!(token)]).await.map(|_| ())
}

/// Whether the armed click reached its element: `None` when the page is
/// another document by now (a page load: it did).
pub async fn click_seen(c: &Client, token: &str) -> Result<Option<bool>, CmdError> {
    let v = c.execute("return window.__einvregArmed===arguments[0] ? window.__einvregClicked===arguments[0] : null;", vec![json!(token)]).await?;
    Ok(v.as_bool())
}

/// Focuses the marked box and selects what follows its first `keep`
/// characters, so typing replaces that and keeps the rest.
pub async fn select_after(c: &Client, mark: &str, keep: usize) -> Result<(), CmdError> {
    c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); if(e){ e.focus(); const n=(e.value||'').length; try{ e.setSelectionRange(Math.min(arguments[1], n), n); }catch(_){} }", vec![json!(mark), json!(keep)]).await.map(|_| ())
}

/// The marked element's `src` (an image's current address).
pub async fn src_of(c: &Client, mark: &str) -> Result<String, CmdError> {
    let v = c.execute("const e=document.querySelector('[data-einvreg-target=\"'+arguments[0]+'\"]'); return e ? String(e.currentSrc||e.src||'') : '';", vec![json!(mark)]).await?;
    Ok(v.as_str().unwrap_or_default().to_string())
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
