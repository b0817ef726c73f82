//! The `echo_form` fault: a hostile answer to the API user form that shows
//! everything posted back, in every encoding a page or its source may
//! hold a value in. It never says whether the user was created, so a run
//! ends in doubt and keeps its failure artifacts, which must hold no
//! secret. `stubborn` puts back any style einvreg gives the echo.

use super::{render, Page};
use crate::replica::config::Echo;
use crate::replica::html::esc;
use crate::replica::{Portal, SessionRef};
use axum::response::Response;
use base64::Engine;
use std::collections::HashMap;

/// The echo page for the posted form `f`.
pub(super) fn page(
    p: &Portal,
    s: &SessionRef,
    g: &str,
    f: &HashMap<String, String>,
    how: Echo,
) -> Response {
    let mut rows = String::new();
    let mut keys: Vec<&String> = f.keys().collect();
    keys.sort();
    for k in keys {
        let v = &f[k];
        let b64 = base64::engine::general_purpose::STANDARD.encode(v);
        let pair = crate::loopback::form_encode(&[(k, v)]);
        rows.push_str(&format!(
            r#"<tr class="echo"><td>{k}</td><td class="echo-raw">{raw}</td><td><a class="echo-url" href="/APIUserAccount/CreateAPIUser?{pair}">{pair}</a></td><td class="echo-b64">{b64}</td><td><input class="echo-input" type="text" readonly value="{raw}"></td></tr>"#,
            k = esc(k),
            raw = esc(v),
        ));
    }
    let json = serde_json::to_string(f)
        .unwrap_or_default()
        .replace("</", "<\\/");
    let mut script = format!("<script>var posted = {json};</script>");
    if how == Echo::Stubborn {
        // Whatever changes an echo element's style or attributes is undone.
        script.push_str(r#"<script>document.querySelectorAll('.echo *').forEach(function(e){var keep=e.getAttribute('style')||'';new MutationObserver(function(){if((e.getAttribute('style')||'')!==keep){e.setAttribute('style',keep);}}).observe(e,{attributes:true,attributeFilter:['style']});});</script>"#);
    }
    let body = format!(
        r#"<h2>API Registration</h2><p id="lblResult">Your request was received:</p><table id="tblEcho">{rows}</table>"#
    );
    s.respond(render(
        p,
        Page {
            title: "API Registration",
            body,
            script,
            gstin: Some(g.to_string()),
        },
    ))
}
