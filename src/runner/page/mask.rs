//! Screenshots without secrets: a style that hides what secret boxes
//! show, the text a screenshot would still show, and hiding (then
//! restoring) elements that show a secret anyway.

use fantoccini::error::CmdError;
use fantoccini::Client;
use serde_json::json;

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
