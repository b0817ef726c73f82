//! Page shells (fixtures/pages/*.html) and HTML escaping.

pub const PRODUCTION_SHELL: &str = include_str!("../../fixtures/pages/production.html");
pub const SANDBOX_SHELL: &str = include_str!("../../fixtures/pages/sandbox.html");

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A JS string literal (for alert texts).
pub fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap().replace("</", "<\\/")
}

pub fn fill(shell: &str, parts: &[(&str, &str)]) -> String {
    let mut out = shell.to_string();
    for (k, v) in parts {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

pub fn server_error() -> String {
    "<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1>\
     <h2><i>Runtime Error</i></h2><p>An application error occurred on the server.</p></body></html>"
        .to_string()
}

pub fn options(list: &[&str], selected: Option<&str>, placeholder: &str) -> String {
    let mut s = format!("<option value=\"\">{}</option>", esc(placeholder));
    for (i, item) in list.iter().enumerate() {
        let sel = if Some(*item) == selected {
            " selected"
        } else {
            ""
        };
        s.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            i + 1,
            esc(item)
        ));
    }
    s
}
