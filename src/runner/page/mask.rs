//! Screenshots without secrets: a style that hides what secret boxes
//! show and every pixel no text check can read (canvases, frames, plugins,
//! video, images the page made itself), the text a screenshot would still
//! show (alt text and CSS generated content included), and hiding (then
//! restoring) elements that show a secret anyway.

use fantoccini::error::CmdError;
use fantoccini::Client;
use serde_json::json;

/// Elements whose pixels may hold a secret that no text check can read.
const OPAQUE: &str =
    "canvas,iframe,frame,embed,object,video,svg image,img[src^='data:' i],img[src^='blob:' i]";

/// What a screenshot of the masked page would show.
pub struct Shown {
    /// Its text: rendered text, box values and placeholders, broken
    /// images' alt text, CSS generated content, SVG text.
    pub text: String,
    /// Opaque elements still painted (the page undid the mask).
    pub opaque: u64,
}

/// Hides what secret fields show, for screenshots; `false` undoes it.
pub async fn mask_secrets(c: &Client, on: bool) -> Result<(), CmdError> {
    c.execute(
        "let s=document.getElementById('__einvreg_mask');
         if(arguments[0]){ if(!s){ s=document.createElement('style'); s.id='__einvreg_mask';
           s.textContent='input[type=password],[data-einvreg-secret],input[name*=otp i],input[id*=otp i],input[name*=captcha i],input[id*=captcha i]{color:transparent!important;-webkit-text-security:disc!important;text-shadow:none!important}'+arguments[1]+'{visibility:hidden!important}';
           (document.head||document.documentElement).appendChild(s);} }
         else if(s){ s.remove(); }",
        vec![json!(on), json!(OPAQUE)],
    )
    .await
    .map(|_| ())
}

/// What a screenshot would show: the rendered text of the page (hidden
/// elements left out), the values of boxes the mask does not cover, the
/// alt text of images that did not load, CSS generated content (`attr()`
/// resolved) and SVG text; and how many opaque elements are still painted.
pub async fn visible_text(c: &Client) -> Result<Shown, CmdError> {
    let v = c.execute(
        "var out=[document.body ? document.body.innerText : ''], opaque=0;
         var masked='input[type=password],[data-einvreg-secret],input[name*=otp i],input[id*=otp i],input[name*=captcha i],input[id*=captcha i]';
         function painted(e){ var r=e.getBoundingClientRect(), st=getComputedStyle(e);
           return st.visibility==='visible' && st.display!=='none' && r.width>0 && r.height>0; }
         function made(e,which){ var c=getComputedStyle(e,which).content;
           if(!c || c==='none' || c==='normal') return '';
           return c.replace(/attr\\(([^)]+)\\)/g,function(_,n){ return e.getAttribute(n.trim())||''; }); }
         document.querySelectorAll('input,textarea').forEach(function(e){
           if(getComputedStyle(e).visibility!=='visible') return;
           if(e.placeholder) out.push(e.placeholder);
           if(!e.matches(masked) && e.value) out.push(e.value);
         });
         document.querySelectorAll('body *').forEach(function(e){
           if(getComputedStyle(e).visibility!=='visible') return;
           var b=made(e,'::before'), a=made(e,'::after'); if(b) out.push(b); if(a) out.push(a);
           if(e.tagName==='IMG' && e.alt && !(e.complete && e.naturalWidth>0)) out.push(e.alt);
           if(e instanceof SVGTextContentElement) out.push(e.textContent);
         });
         document.querySelectorAll(arguments[0]).forEach(function(e){ if(painted(e)) opaque++; });
         return {text: out.join('\\n'), opaque: opaque};",
        vec![json!(OPAQUE)],
    )
    .await?;
    Ok(Shown {
        text: v["text"].as_str().unwrap_or_default().to_string(),
        opaque: v["opaque"].as_u64().unwrap_or(0),
    })
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
           var made=''; ['::before','::after'].forEach(function(w){ var c=getComputedStyle(e,w).content;
             if(c && c!=='none' && c!=='normal') made+=c.replace(/attr\\(([^)]+)\\)/g,function(_,a){ return e.getAttribute(a.trim())||''; }); });
           if(has(own) || has(e.alt) || has(made)){ n++; e.setAttribute('data-einvreg-hid', e.style.getPropertyValue('visibility')||'-');
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
