//! Self-contained HTML reports (`--html FILE`) for `batch` and `smoke`: one
//! file, no external assets (styles inline, screenshots as data URLs), for
//! an ops lead to open. What goes in is already redacted and never holds a
//! password. maud builds the pages and escapes every value by default.

pub mod batch;
pub mod smoke;

use base64::Engine;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// A PNG as an `<img>` source.
pub fn png_src(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1b1f23;background:#fff}
h1{font-size:20px;margin:0 0 4px}
.meta{color:#586069;margin-bottom:16px}
.rehearsal{background:#fff5b1;color:#735c0f;border-radius:10px;padding:1px 8px;font-weight:600}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0 20px}
.card{border:1px solid #d1d5da;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e1e4e8;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
.st{font-weight:600;border-radius:10px;padding:1px 8px;white-space:nowrap}
.good{background:#dcffe4;color:#22863a}.warn{background:#fff5b1;color:#735c0f}.bad{background:#ffdce0;color:#b31d28}
.bar{display:flex;height:10px;background:#f6f8fa;border-radius:3px;overflow:hidden;min-width:160px}
.bar span{display:block;height:100%}
.machine{background:#0366d6}.human{background:#f9c513}
details summary{cursor:pointer;color:#0366d6}
.steps td{font-size:12px;padding:2px 6px;border:0}
.steps .t{background:#c8e1ff;height:8px;display:inline-block}
td:last-child{max-width:720px;overflow-wrap:anywhere}
img.shot{max-width:100%;border:1px solid #d1d5da;margin-top:6px}
pre{background:#f6f8fa;padding:8px;white-space:pre-wrap}
ol.flows{margin:0 0 4px;padding-left:20px}
.kind{font-size:11px;color:#586069}
";

/// A whole page around `body`.
pub fn page(title: &str, body: Markup) -> String {
    let csp = html! {
        meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'";
    };
    document(title, STYLE, csp, body)
}

/// An HTML document every einvreg page shares (reports and the desk):
/// UTF-8, readable on a phone, `head` (its own meta and scripts) before
/// the title and the inline `style`.
pub(crate) fn document(title: &str, style: &str, head: Markup, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                (head)
                title { (title) }
                style { (PreEscaped(style)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// A summary card.
fn card(label: &str, value: impl std::fmt::Display, class: &str) -> Markup {
    html! {
        div class={ "card " (class) } data-card=(label) { b { (value.to_string()) } (label) }
    }
}

#[cfg(test)]
mod tests {
    use maud::html;

    #[test]
    fn markup_in_values_is_text() {
        let shown = "<img src=x onerror=\"a('b')\">&";
        let p = super::page("a<b", html! { p { (shown) } });
        assert!(
            p.contains("<title>a&lt;b</title>") && p.contains("default-src 'none'"),
            "{p}"
        );
        assert!(
            p.contains("<p>&lt;img src=x onerror=&quot;a('b')&quot;&gt;&amp;</p>"),
            "{p}"
        );
    }
}
