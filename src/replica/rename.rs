//! The `renamed-ids` behaviour: every id and field name a page uses that
//! is not public is replaced by an opaque one, in the HTML and in its
//! scripts, while every visible label stays. Posted forms are mapped back,
//! so the portal's own handlers never see the difference. It proves a flow
//! finds fields by what a person sees when the markup is unknown.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use regex::Regex;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Ids and names that public evidence gives (portal-facts.md), on the
/// pages that carry the production login form.
const PUBLIC: &[&str] = &[
    "btnLogin",
    "txtUserName",
    "txt_password",
    "captcha_image",
    "CaptchaCode",
    "UserLogin.UserName",
    "UserLogin.Password",
    "UserLogin.Salt",
    "UserLogin_Salt",
];

/// The pages that carry the production login form.
fn shows_login(path: &str) -> bool {
    path == "/" || path == "/Home/Login"
}

/// Parts of ASP.NET's generated names that every WebForms page has.
const FRAMEWORK: &[&str] = &["ctl00", "ContentPlaceHolder1", "aspnetForm"];

static ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\b(?:id|name|for)=\\?"([^"\\]+)\\?""#).expect("regex"));
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""[^"\s<>]*"|'[^'\s<>]*'"#).expect("regex"));
static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z0-9]+").expect("regex"));
static OPAQUE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"q[0-9a-f]{8}").expect("regex"));

/// Opaque names handed out so far, to map posted forms back.
static BACK: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);

/// A word worth renaming: long enough and not a plain lower-case word
/// (`password`, `radio`, `block` are HTML and script, not names).
fn renamable(w: &str) -> bool {
    w.len() >= 3 && w.chars().any(|c| c.is_ascii_uppercase()) && !FRAMEWORK.contains(&w)
}

fn opaque(word: &str) -> String {
    let h = word.bytes().fold(0x811c9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x01000193)
    });
    format!("q{h:08x}")
}

/// The words of this page's ids and names that get opaque names.
fn tokens(html: &str, path: &str) -> HashMap<String, String> {
    let public = shows_login(path);
    let mut out = HashMap::new();
    for c in ATTR.captures_iter(html) {
        let value = &c[1];
        if value.starts_with("__") || (public && PUBLIC.contains(&value)) {
            continue;
        }
        for w in WORD.find_iter(value).map(|m| m.as_str()) {
            if renamable(w) && !(public && PUBLIC.contains(&w)) {
                out.entry(w.to_string()).or_insert_with(|| opaque(w));
            }
        }
    }
    out
}

/// Renames the tokens wherever they stand as words of a quoted string
/// without spaces: attribute values and script literals, never text.
pub fn rename_html(html: &str, path: &str) -> String {
    let map = tokens(html, path);
    if let Ok(mut back) = BACK.lock() {
        back.extend(map.iter().map(|(k, v)| (v.clone(), k.clone())));
    }
    QUOTED
        .replace_all(html, |q: &regex::Captures| {
            WORD.replace_all(&q[0], |w: &regex::Captures| {
                map.get(&w[0]).cloned().unwrap_or_else(|| w[0].to_string())
            })
            .into_owned()
        })
        .into_owned()
}

/// A posted form (or query) with the opaque names turned back.
pub fn restore(body: &str) -> String {
    let back = BACK.lock().map(|b| b.clone()).unwrap_or_default();
    OPAQUE
        .replace_all(body, |m: &regex::Captures| {
            back.get(&m[0]).cloned().unwrap_or_else(|| m[0].to_string())
        })
        .into_owned()
}

/// The middleware: restores what comes in, renames the HTML that goes out.
pub async fn layer(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 4 << 20).await.unwrap_or_default();
    let body = match std::str::from_utf8(&bytes) {
        Ok(s) => Body::from(restore(s)),
        Err(_) => Body::from(bytes),
    };
    let resp = next.run(Request::from_parts(parts, body)).await;
    map_html(resp, |html| rename_html(html, &path)).await
}

/// `resp` with its HTML (only an HTML body) turned into `f`'s.
pub(super) async fn map_html(resp: Response, f: impl FnOnce(&str) -> String) -> Response {
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let text = f(&String::from_utf8_lossy(&bytes));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn renames_names_not_labels_and_maps_posts_back() {
        let html = r#"<label for="txtOTP">Enter OTP</label><input id="txtOTP" name="OTP" type="password">
<script>document.getElementById('txtOTP').focus(); alert('Invalid OTP entered');</script>"#;
        let out = rename_html(html, "/APIUserAccount/CreateAPIUser");
        let o = opaque("txtOTP");
        assert!(out.contains(&format!("for=\"{o}\"")) && out.contains(&format!("id=\"{o}\"")));
        assert!(out.contains(&format!("getElementById('{o}')")));
        assert!(out.contains(">Enter OTP<") && out.contains("'Invalid OTP entered'"));
        assert!(out.contains("type=\"password\""));
        assert_eq!(restore(&format!("{}=123456", opaque("OTP"))), "OTP=123456");
    }

    #[test]
    fn public_login_names_stay_on_login_pages_only() {
        let html = r#"<input id="txtUserName" name="UserLogin.UserName"><input id="txt_password">"#;
        assert_eq!(rename_html(html, "/"), html);
        let elsewhere = rename_html(
            r#"<input id="txtUserName" name="UserName">"#,
            "/APIUserAccount/VerifyRegOTP",
        );
        assert!(!elsewhere.contains("txtUserName") && !elsewhere.contains("\"UserName\""));
    }

    #[test]
    fn webforms_names_keep_their_framework_parts() {
        let html = r#"<input name="ctl00$ContentPlaceHolder1$txtGSTIN" id="ctl00_ContentPlaceHolder1_txtGSTIN">"#;
        let out = rename_html(html, "/einvapiclient/EncDesc/Registration.aspx");
        let o = opaque("txtGSTIN");
        assert!(out.contains(&format!("ctl00$ContentPlaceHolder1${o}")));
        assert!(out.contains(&format!("ctl00_ContentPlaceHolder1_{o}")));
        assert_eq!(
            restore(&format!(
                "ctl00%24ContentPlaceHolder1%24{o}=29AAFCC9980MZZT"
            )),
            "ctl00%24ContentPlaceHolder1%24txtGSTIN=29AAFCC9980MZZT"
        );
    }
}
