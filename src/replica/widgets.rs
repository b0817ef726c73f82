//! The `dropdown-widget` and `create-window` behaviours [guess: no public
//! evidence shows either on NIC's portals; many portals of its kind do
//! both].
//!
//! - `dropdown-widget`: the provider dropdowns (production's GSP and ERP
//!   lists, the sandbox's Company Name) are a box that opens a list with a
//!   search field, over a hidden `<select>` that the form still posts (as
//!   select2 and chosen do).
//! - `create-window`: Create API User opens in a new window (by script,
//!   as portals' pop-ups do), which closes itself once the success alert
//!   is answered: the walk must follow it and come back.
//! - `framed-2fa`: the login's second factor is a page inside an iframe
//!   (same origin) of a page of its own; its form and links go to the top.
//!   With `frame-in-frame`, that iframe's page is itself a frame around it.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The dropdowns that become widgets: their ids end so.
const WIDGET_IDS: &[&str] = &["ddlGSP", "ddlERP", "ddlCompany"];

/// The script that turns those `<select>`s into widgets, now and whenever
/// a form appears in place.
const WIDGET_JS: &str = r#"<script>
(function () {
  var IDS = __IDS__;
  function widget(sel) {
    if (sel.dataset.widget) return;
    sel.dataset.widget = '1';
    sel.style.display = 'none';
    var box = document.createElement('span');
    box.className = 'combo'; box.setAttribute('role', 'combobox'); box.tabIndex = 0;
    box.setAttribute('aria-expanded', 'false');
    box.style.cssText = 'display:inline-block;min-width:18em;border:1px solid #999;padding:3px 6px;cursor:pointer;background:#fff';
    var shown = document.createElement('span'); shown.className = 'combo-text';
    box.appendChild(shown);
    var list = document.createElement('div'); list.className = 'combo-list';
    list.style.cssText = 'display:none;position:absolute;z-index:50;background:#fff;border:1px solid #999;padding:4px;max-height:16em;overflow:auto';
    var search = document.createElement('input'); search.type = 'search'; search.className = 'combo-search';
    search.placeholder = 'Search'; search.setAttribute('aria-label', 'Search');
    var ul = document.createElement('ul'); ul.setAttribute('role', 'listbox');
    ul.style.cssText = 'list-style:none;margin:4px 0 0;padding:0';
    list.appendChild(search); list.appendChild(ul);
    function text() { var o = sel.options[sel.selectedIndex]; shown.textContent = o ? o.text : ''; }
    function items() {
      ul.innerHTML = '';
      var q = search.value.trim().toLowerCase(), shown = 0;
      Array.prototype.forEach.call(sel.options, function (o, i) {
        if (!o.value || (q && o.text.toLowerCase().indexOf(q) < 0)) return;
        // A long list shows its first items until a search narrows it.
        if (!q && ++shown > 8) {
          if (shown === 9) { var more = document.createElement('li'); more.className = 'combo-more';
            more.textContent = 'Type to search for more'; more.style.color = '#777'; ul.appendChild(more); }
          return;
        }
        var li = document.createElement('li'); li.setAttribute('role', 'option');
        li.textContent = o.text; li.style.cssText = 'padding:2px 4px;cursor:pointer';
        li.onclick = function () {
          sel.selectedIndex = i; text(); close();
          sel.dispatchEvent(new Event('change', { bubbles: true }));
        };
        ul.appendChild(li);
      });
    }
    function close() { list.style.display = 'none'; box.setAttribute('aria-expanded', 'false'); }
    // Opening is slow, as a widget that fetches its list is.
    box.onclick = function () {
      if (list.style.display === 'block') { close(); return; }
      setTimeout(function () {
        search.value = ''; items(); list.style.display = 'block';
        box.setAttribute('aria-expanded', 'true'); search.focus();
      }, 150);
    };
    search.oninput = items;
    text();
    sel.parentNode.insertBefore(box, sel.nextSibling);
    sel.parentNode.insertBefore(list, box.nextSibling);
  }
  function all() {
    document.querySelectorAll('select').forEach(function (s) {
      if (IDS.some(function (id) { return s.id === id || s.id.slice(-id.length - 1) === '_' + id; })) widget(s);
    });
  }
  all();
  new MutationObserver(all).observe(document.documentElement, { childList: true, subtree: true });
})();
</script>"#;

/// Adds the widget script at the end of every HTML page.
pub fn dropdowns(html: &str) -> String {
    let ids = serde_json::to_string(WIDGET_IDS).expect("ids serialise");
    let js = WIDGET_JS.replace("__IDS__", &ids);
    match html.rfind("</body>") {
        Some(i) => format!("{}{js}{}", &html[..i], &html[i..]),
        None => html.to_string(),
    }
}

/// Create API User opens in a window of its own, which closes once the
/// success alert is answered (a timer set after the alert's runs after it).
pub fn create_window(html: &str) -> String {
    let html = html.replace(
        r#"<a href="/APIUserAccount/CreateAPIUser">"#,
        r#"<a href="/APIUserAccount/CreateAPIUser" onclick="window.open(this.href, 'apiuser', 'width=1000,height=800'); return false;">"#,
    );
    const CLOSE: &str = "<script>window.addEventListener('load',function(){setTimeout(function(){if(window.name==='apiuser')window.close();},50);});</script>";
    match (
        html.contains("has been created successfully"),
        html.rfind("</body>"),
    ) {
        (true, Some(i)) => format!("{}{CLOSE}{}", &html[..i], &html[i..]),
        _ => html,
    }
}

/// The second factor's address: its page, and the same inside the frame.
const TWO_FACTOR: &str = "/Home/VerifyLoginOTP";

/// The page that frames the second factor.
fn frame_shell() -> String {
    shell(&format!("{TWO_FACTOR}?frame=1"))
}

/// A page of the second factor's look framing `src` in `#fraLoginOtp`.
fn shell(src: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Two Factor Authentication</title></head>
<body style="font-family:sans-serif;margin:0"><div style="background:#1f3864;color:#fff;padding:10px 20px"><b>GOODS AND SERVICES TAX</b> · e-Invoice System</div>
<h2 style="margin:16px 20px">Two Factor Authentication</h2>
<iframe id="fraLoginOtp" name="fraLoginOtp" src="{src}" title="Two Factor Authentication" style="width:100%;height:560px;border:0"></iframe>
</body></html>"#
    )
}

/// The middle page of `frame-in-frame`: a frame holding the second factor.
fn middle_shell() -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>OTP</title></head>
<body style="margin:0"><iframe id="fraOtpInner" name="fraOtpInner" src="{TWO_FACTOR}?frame=2" title="OTP" style="width:100%;height:540px;border:0"></iframe></body></html>"#
    )
}

/// The framed page: its forms and links go to the top window.
pub fn framed(html: &str) -> String {
    match html.find("<head>") {
        Some(i) => format!(
            "{}<head><base target=\"_top\">{}",
            &html[..i],
            &html[i + 6..]
        ),
        None => html.to_string(),
    }
}

/// The middleware for `framed-2fa`: a GET of the second factor is the
/// frame's page; inside the frame (`?frame=1`), the page itself.
pub async fn frame_layer(req: Request, next: Next) -> Response {
    frames(req, next, 1).await
}

/// `framed-2fa` with `frame-in-frame`: the frame's page (`?frame=1`)
/// frames the page itself (`?frame=2`).
pub async fn nested_frame_layer(req: Request, next: Next) -> Response {
    frames(req, next, 2).await
}

/// The second factor `depth` frames down.
async fn frames(req: Request, next: Next, depth: u8) -> Response {
    use axum::response::{Html, IntoResponse};
    let two_factor = req.method() == axum::http::Method::GET && req.uri().path() == TWO_FACTOR;
    let level = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("frame=")))
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or(0);
    match (two_factor, level) {
        (false, _) => next.run(req).await,
        (true, 0) => Html(frame_shell()).into_response(),
        (true, l) if l < depth => Html(middle_shell()).into_response(),
        (true, _) => super::rename::map_html(next.run(req).await, framed).await,
    }
}

/// The middleware for `dropdown-widget`.
pub async fn dropdown_layer(req: Request, next: Next) -> Response {
    super::rename::map_html(next.run(req).await, dropdowns).await
}

/// How long the pop-up's first page takes to come, as a real portal's
/// does over the network (loopback would be at once). It matters:
/// chromedriver answers nothing while a window it is not in shows a
/// dialog, and this page shows one as it loads.
const POPUP_LATENCY: std::time::Duration = std::time::Duration::from_millis(300);

/// The middleware for `create-window`.
pub async fn window_layer(req: Request, next: Next) -> Response {
    if req.uri().path() == "/APIUserAccount/CreateAPIUser" {
        tokio::time::sleep(POPUP_LATENCY).await;
    }
    super::rename::map_html(next.run(req).await, create_window).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_the_body_ends_naming_the_dropdowns() {
        let out = dropdowns("<html><body><select id=\"ddlGSP\"></select></body></html>");
        assert!(out.contains(r#"var IDS = ["ddlGSP","ddlERP","ddlCompany"];"#));
        assert!(out.ends_with("</script></body></html>"), "{out}");
        assert_eq!(dropdowns("no body"), "no body");
    }

    #[test]
    fn the_framed_page_sends_its_forms_to_the_top() {
        assert_eq!(
            framed("<html><head><title>x</title></head>"),
            "<html><head><base target=\"_top\"><title>x</title></head>"
        );
        assert!(frame_shell().contains("src=\"/Home/VerifyLoginOTP?frame=1\""));
    }

    #[test]
    fn create_api_user_opens_by_script() {
        let out = create_window(
            r#"<li><a href="/APIUserAccount/CreateAPIUser">Create API User</a></li>"#,
        );
        assert!(out.contains("window.open(this.href"), "{out}");
        let done = create_window("<body>Api user API_x has been created successfully</body>");
        assert!(done.contains("window.close()"), "{done}");
    }
}
