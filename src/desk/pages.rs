//! The desk's pages: plain HTML, readable on a phone (the taxpayer's link)
//! and a laptop (the operator view). Nothing secret is ever written into
//! them: no password, no OTP, no captcha answer. maud escapes every value.

use maud::{html, Markup};

const STYLE: &str = "
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1c1e21}
header{background:#123;color:#fff;padding:.8rem 1rem}
header h1{font-size:1.15rem;margin:0}
main{max-width:60rem;margin:0 auto;padding:1rem}
.narrow{max-width:26rem}
.card{background:#fff;border-radius:.5rem;box-shadow:0 1px 3px #0002;padding:1rem;margin:0 0 1rem}
.card h2{font-size:1.05rem;margin:0 0 .3rem}
.counts{display:flex;gap:.5rem;flex-wrap:wrap;margin:0 0 1rem}
.counts div{background:#fff;border-radius:.5rem;padding:.5rem .9rem;box-shadow:0 1px 3px #0002}
.counts b{display:block;font-size:1.4rem}
.meta{color:#555;font-size:.9rem}
input[type=text],input[type=password]{font-size:1.3rem;padding:.5rem;width:100%;max-width:16rem;letter-spacing:.1em}
button{font-size:1rem;padding:.55rem 1rem;margin:.4rem .4rem 0 0;border:0;border-radius:.4rem;background:#0b5cad;color:#fff}
button.second{background:#e4e6eb;color:#1c1e21}
img.captcha{display:block;border:1px solid #ccc;margin:.5rem 0;max-width:100%}
.msg{min-height:1.2em;margin:.4rem 0 0;font-weight:600}
.bad{color:#b00020}.good{color:#0a7d32}
";

/// A whole page; `script` adds the desk's own script (nothing inline).
fn page(title: &str, body: Markup, script: bool) -> String {
    let head = html! {
        meta name="referrer" content="no-referrer";
        @if script { script src="/desk/desk.js" defer {} }
    };
    let body = html! {
        header { h1 { (title) } }
        (body)
    };
    crate::html::document(title, STYLE, head, body)
}

fn error_line(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p.msg.bad #error { (e) } }
    }
}

/// The operator's sign-in: paste the desk token printed at start.
pub fn login(error: Option<&str>) -> String {
    let body = html! {
        main.narrow {
            form.card method="post" action="/desk/login" {
                p { "Paste the desk token einvreg printed when it started." }
                label { "Desk token" br; input type="password" name="token" #token autocomplete="off" required; }
                br;
                button type="submit" #sign-in { "Sign in" }
                (error_line(error))
            }
        }
    };
    page("einvreg answer desk: sign in", body, false)
}

/// The operator view; its script fills it from `/desk/api/state`.
pub fn operator(csrf: &str) -> String {
    let counts = [
        ("done", "done"),
        ("failed", "failed"),
        ("running", "running"),
        ("waiting for an answer", "waiting"),
        ("rows", "total"),
    ];
    let body = html! {
        meta name="csrf" content=(csrf);
        main {
            section.counts #progress aria-live="polite" {
                @for (label, id) in counts { div { (label) b id=(id) { "0" } } }
            }
            p.meta #status { "connecting…" }
            section #prompts {}
            p.meta #empty { "Nothing to answer right now. New captchas and OTPs appear here by themselves." }
        }
    };
    page("einvreg answer desk", body, true)
}

/// A taxpayer's OTP page: the GSTIN, the masked mobile, one box.
pub fn link_form(gstin: &str, mobile: &str, csrf: &str, error: Option<&str>) -> String {
    let body = html! {
        main.narrow {
            form.card method="post" {
                p {
                    "An e-Invoice registration for GSTIN " b #gstin { (gstin) }
                    " needs the OTP just sent to your mobile " b #mobile { (mobile) } "."
                }
                input type="hidden" name="csrf" value=(csrf);
                label {
                    "OTP" br;
                    input type="text" name="otp" #otp inputmode="numeric" maxlength="6" autocomplete="one-time-code" required;
                }
                br;
                button type="submit" #send { "Send the OTP" }
                (error_line(error))
                p.meta { "This link works once. Nobody from the team will ask you for passwords." }
            }
        }
    };
    page("Your OTP for e-Invoice registration", body, false)
}

/// A page that only says something: thanks, used, expired, not valid.
pub fn message(title: &str, text: &str) -> String {
    let body = html! {
        main.narrow { div.card { p #message { (text) } } }
    };
    page(title, body, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show_and_load_no_inline_script() {
        let p = link_form("<g>", "•••210", "\"c", Some("<b>bad</b>"));
        assert!(p.contains("&lt;g&gt;") && p.contains("&lt;b&gt;bad") && p.contains("&quot;c"));
        for p in [p, operator("t"), login(None), message("t", "m")] {
            assert!(
                !p.contains("<script>"),
                "no inline script: the CSP forbids it"
            );
            assert!(p.contains("width=device-width"), "readable on a phone");
        }
    }
}
