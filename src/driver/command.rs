//! WebDriver commands fantoccini does not offer the way einvreg needs them.

use fantoccini::error::CmdError;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;

/// [Navigate To](https://www.w3.org/TR/webdriver2/#navigate-to) an
/// absolute address. fantoccini's `goto` first asks for the current URL
/// (to resolve relative ones): a round trip an absolute address does not need.
#[derive(Debug)]
struct NavigateTo(String);

impl WebDriverCompatibleCommand for NavigateTo {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/url", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        let body = serde_json::json!({ "url": self.0 }).to_string();
        (hyper::Method::POST, Some(body))
    }
}

/// Opens `url`, which must be absolute.
pub async fn navigate(c: &Client, url: &str) -> Result<(), CmdError> {
    c.issue_cmd(NavigateTo(url.to_string())).await.map(|_| ())
}

/// [Switch To Frame](https://www.w3.org/TR/webdriver2/#switch-to-frame)
/// with a null id: the page's top, from a frame at any depth, in one
/// round trip (fantoccini offers only an index or the parent).
#[derive(Debug)]
struct ToTop;

impl WebDriverCompatibleCommand for ToTop {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/frame", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        (hyper::Method::POST, Some(r#"{"id":null}"#.into()))
    }
}

/// Back to the page's top-level browsing context.
pub async fn to_top(c: &Client) -> Result<(), CmdError> {
    c.issue_cmd(ToTop).await.map(|_| ())
}

/// chromedriver's own command for one DevTools method in the current tab
/// (`POST /session/{id}/goog/cdp/execute`; a Grid relays it to its node).
#[derive(Debug)]
struct CdpExecute(&'static str);

impl WebDriverCompatibleCommand for CdpExecute {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let id = session_id.unwrap_or_default();
        base_url.join(&format!("session/{id}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.0, "params": {} }).to_string();
        (hyper::Method::POST, Some(body))
    }
}

/// Mouse moves reach the current tab's page at once. Chromium otherwise
/// holds a move until the page's next frame (at 60 Hz, ~8 ms on average),
/// and every click begins with one. Chromium does the same itself while
/// DevTools' overlay is on, which needs DevTools' DOM domain: the page
/// gets the same events, only sooner. Chromium only.
pub async fn unbuffered_input(c: &Client) -> Result<(), CmdError> {
    for method in ["DOM.enable", "Overlay.enable"] {
        c.issue_cmd(CdpExecute(method)).await?;
    }
    Ok(())
}
