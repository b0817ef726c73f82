//! User prompts (<https://www.w3.org/TR/webdriver2/#user-prompts>): the
//! open alert's text, accepting and dismissing it.

use super::Session;
use fantoccini::error::CmdError;

/// An alert that closed before it was answered (by itself, or by a page
/// load: chromedriver then says "aborted by navigation") needs no answer.
fn gone_is_fine(r: Result<(), CmdError>) -> Result<(), CmdError> {
    match r {
        Err(e) if e.is_no_such_alert() => Ok(()),
        Err(CmdError::NotW3C(serde_json::Value::String(_))) => Ok(()),
        r => r,
    }
}

impl Session<'_> {
    /// The text of the open JS alert, if one is open.
    pub(crate) async fn alert_text(&self) -> Result<Option<String>, CmdError> {
        match self.c.get_alert_text().await {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_no_such_alert() => Ok(None),
            // A dialog opening or closing just now has no text yet: look again later.
            Err(CmdError::NotW3C(serde_json::Value::Null)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Accepts the open alert; an alert that closed meanwhile is fine.
    pub(crate) async fn accept_alert(&self) -> Result<(), CmdError> {
        gone_is_fine(self.c.accept_alert().await)
    }

    /// Dismisses the open alert; an alert that closed meanwhile is fine.
    pub(crate) async fn dismiss_alert(&self) -> Result<(), CmdError> {
        gone_is_fine(self.c.dismiss_alert().await)
    }
}
