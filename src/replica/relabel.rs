//! The `relabelled-buttons` behaviour: the buttons and menu entries a
//! flow clicks read differently from every guess in the bundled flows
//! ([guess]: what another build of the same portal might say). With
//! `renamed-ids` (the `relabelled` layout) neither their ids nor their
//! words match: the run's repair is what gets through.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Old markup, new markup. The production login page is public and keeps
/// its words; everything after it and the sandbox's form change.
const WORDS: &[(&str, &str)] = &[
    // Production, after login.
    (">Verify OTP</button>", ">Validate OTP</button>"),
    (">API Registration</a>", ">Register for API</a>"),
    (">User Credentials</a>", ">API User Credentials</a>"),
    (">Create API User</a>", ">Create New API User</a>"),
    (
        "id=\"btnSubmit\" class=\"btn\">Submit</button>",
        "id=\"btnSubmit\" class=\"btn\">Submit Request</button>",
    ),
    // Sandbox registration.
    ("value=\"Validate\"", "value=\"Validate Details\""),
    ("value=\"Send OTP\"", "value=\"Get OTP\""),
    ("value=\"Submit\">", "value=\"Verify OTP\">"),
    ("value=\"Create\"", "value=\"Create Account\""),
];

/// The page's markup with the new words.
pub fn relabel(html: &str) -> String {
    WORDS
        .iter()
        .fold(html.to_string(), |s, (old, new)| s.replace(old, new))
}

/// The middleware: relabels the HTML that goes out.
pub async fn layer(req: Request, next: Next) -> Response {
    super::rename::map_html(next.run(req).await, relabel).await
}
