//! The `echo_form` fault: a hostile answer to the API user form that shows
//! everything posted back, in every encoding a page or its source may
//! hold a value in. It never says whether the user was created, so a run
//! ends in doubt and keeps its failure artifacts, which must hold no
//! secret. `stubborn` puts back any style einvreg gives the echo; `tricks`
//! also draws each value where markup-only masking does not look.

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
    if matches!(how, Echo::Tricks(_)) {
        // The plain echo stays (einvreg masks it); the tricks are the test.
        script.push_str(&format!("<style>{STYLE}</style>"));
    }
    if how == Echo::Stubborn {
        // Whatever changes an echo element's style or attributes is undone.
        script.push_str(r#"<script>document.querySelectorAll('.echo *').forEach(function(e){var keep=e.getAttribute('style')||'';new MutationObserver(function(){if((e.getAttribute('style')||'')!==keep){e.setAttribute('style',keep);}}).observe(e,{attributes:true,attributeFilter:['style']});});</script>"#);
    }
    let mut body = format!(
        r#"<h2>API Registration</h2><p id="lblResult">Your request was received:</p><table id="tblEcho">{rows}</table>"#
    );
    if let Echo::Tricks(bits) = how {
        let (html, js) = tricks(f, bits);
        body.push_str(&html);
        script.push_str(&js);
    }
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

/// A page of its own with `values` drawn by `tricks` (`alt+attr+…`), for a
/// test to see that each trick paints red pixels when nothing masks it.
pub fn tricks_page(
    values: &HashMap<String, String>,
    tricks_list: &str,
) -> Result<String, crate::replica::ConfigError> {
    let bits = crate::replica::config::tricks(tricks_list)?;
    let (html, js) = tricks(values, bits);
    let json = serde_json::to_string(values)
        .unwrap_or_default()
        .replace("</", "<\\/");
    Ok(format!("<!doctype html><html><head><style>{STYLE}</style></head><body>{html}<script>var posted = {json};</script>{js}</body></html>"))
}

const STYLE: &str =
    ".trick{color:#f00;font:20px sans-serif} .trick-attr::after{content:attr(data-v)}";

/// Each posted password drawn by the chosen tricks, in pure red (a test counts
/// red pixels in einvreg's screenshot); the canvas is drawn by script.
fn tricks(f: &HashMap<String, String>, bits: u8) -> (String, String) {
    let on = |name: &str| {
        let i = crate::replica::config::TRICKS
            .iter()
            .position(|n| *n == name);
        i.is_some_and(|i| bits & 1 << i != 0)
    };
    let (mut html, mut js) = (String::from(r#"<div id="tricks">"#), String::new());
    // The secret fields only: a red pixel in a screenshot is then a secret.
    let mut keys: Vec<&String> = f.keys().filter(|k| k.contains("Password")).collect();
    keys.sort();
    for (n, k) in keys.into_iter().enumerate() {
        let v = &f[k];
        let rev: String = v.chars().rev().collect();
        if on("alt") {
            html.push_str(&format!(r#"<p><img class="trick" alt="{}" src="/no-such-image-{n}.png" width="300" height="30"></p>"#, esc(v)));
        }
        if on("attr") {
            html.push_str(&format!(
                r#"<p class="trick trick-attr" data-v="{}"></p>"#,
                esc(v)
            ));
        }
        if on("bidi") {
            html.push_str(&format!(
                r#"<p class="trick"><bdo dir="rtl">{}</bdo></p>"#,
                esc(&rev)
            ));
        }
        if on("canvas") {
            html.push_str(&format!(
                r#"<p><canvas id="trick-canvas-{n}" width="400" height="30"></canvas></p>"#
            ));
            js.push_str(&format!("<script>(function(){{var c=document.getElementById('trick-canvas-{n}').getContext('2d');c.fillStyle='#f00';c.font='20px sans-serif';c.fillText(posted[{k}],2,22);}})();</script>", k = serde_json::to_string(k).unwrap_or_default()));
        }
        if on("flex") {
            let spans: String = rev
                .chars()
                .map(|c| format!("<span>{}</span>", esc(&c.to_string())))
                .collect();
            html.push_str(&format!(r#"<div class="trick" style="display:flex;flex-direction:row-reverse;justify-content:flex-end">{spans}</div>"#));
        }
    }
    html.push_str("</div>");
    (html, js)
}
