//! Elements (<https://www.w3.org/TR/webdriver2/#elements>): the element a
//! page script found, by its reference or by the tag it was given.

use super::Session;
use crate::runner::page;
use fantoccini::elements::{Element, ElementRef};
use fantoccini::error::CmdError;
use fantoccini::Locator;

impl Session<'_> {
    /// The element a find returned, or else the one tagged with `mark`.
    pub(crate) async fn element(
        &self,
        mark: &str,
        el: Option<&serde_json::Value>,
    ) -> Result<Element, CmdError> {
        let id = el
            .and_then(|v| v.as_object())
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str());
        match id {
            Some(id) => Ok(Element::from_element_id(
                self.c.clone(),
                ElementRef::from(id.to_string()),
            )),
            None => self.tagged(mark).await,
        }
    }

    /// The element tagged with `mark`.
    pub(crate) async fn tagged(
        &self,
        mark: &str,
    ) -> Result<fantoccini::elements::Element, CmdError> {
        self.c.find(Locator::Css(&page::tag_selector(mark))).await
    }
}
