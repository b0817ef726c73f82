//! Actions (<https://www.w3.org/TR/webdriver2/#actions>): clicks as a
//! mouse makes them and typing as keys, each in one round trip.

use super::Session;
use crate::runner::page;
use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};
use fantoccini::error::CmdError;
use std::time::Duration;

/// A covered-check that met an alert: say nothing is covered, so the
/// click itself meets the alert and reports it.
fn blocked(e: CmdError) -> Result<Option<bool>, CmdError> {
    match e.is_unexpected_alert_open() {
        true => Ok(Some(false)),
        false => Err(e),
    }
}

/// What became of a click.
#[derive(Debug)]
pub(crate) enum Click {
    /// The element was clicked.
    Done,
    /// An alert was open, so nothing was clicked.
    BlockedByAlert,
    /// Something covers the element (a modal?), so nothing was clicked.
    Covered(CmdError),
}

impl Session<'_> {
    /// Clicks the element once, as a mouse would (pointer actions: one
    /// round trip, where Element Click costs several and waits on its own).
    /// `covered` is what the find saw at its centre; `None` looks again.
    pub(crate) async fn click(
        &self,
        mark: &str,
        el: Option<&serde_json::Value>,
        covered: Option<bool>,
    ) -> Result<Click, CmdError> {
        let covered = match covered {
            Some(c) => c,
            None => page::covered(self.scripts(), mark)
                .await
                .or_else(blocked)?
                .unwrap_or(false),
        };
        if covered {
            return Ok(Click::Covered(CmdError::NotW3C(serde_json::json!(
                "element click intercepted"
            ))));
        }
        let element = self.element(mark, el).await?;
        let mouse = MouseActions::new("einvreg-mouse".into())
            .then(PointerAction::MoveToElement {
                element,
                duration: Some(Duration::ZERO),
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        match self.c.perform_actions(mouse).await {
            Ok(()) => Ok(Click::Done),
            // An alert opened before the click: the click did not happen.
            Err(e) if e.is_unexpected_alert_open() => Ok(Click::BlockedByAlert),
            // Scrolled away or hidden meanwhile: as if covered.
            Err(e) if e.is_move_target_out_of_bounds() || e.is_element_not_interactable() => {
                Ok(Click::Covered(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Types into the focused element with real key events (a key down and
    /// up per character, in one round trip).
    pub(crate) async fn type_keys(&self, value: &str) -> Result<(), CmdError> {
        let mut keys = KeyActions::new("einvreg-keys".into());
        for ch in value.chars() {
            keys = keys
                .then(KeyAction::Down { value: ch })
                .then(KeyAction::Up { value: ch });
        }
        self.c.perform_actions(keys).await
    }

    /// Types `value` into the tagged element over what it holds (or sets
    /// it at once when `fast`); `focused`: the find focused and selected it.
    pub(crate) async fn type_into(
        &self,
        mark: &str,
        value: &str,
        fast: bool,
        focused: bool,
    ) -> Result<(), CmdError> {
        if fast {
            return page::fast_fill(self.scripts(), mark, value).await;
        }
        if !focused {
            page::focus_select(self.scripts(), mark).await?;
        }
        self.type_keys(value).await
    }
}
