//! What a run writes: the pending credential (before the submit), captcha
//! images, `trace.json`, and on failure a screenshot and the page's HTML
//! with every secret blanked.

use super::error::RunError;
use super::page;
use super::{RunReport, Runner};
use crate::events::{DialogAnswer, DialogSort, Event};
use crate::flow::Role;
use crate::vault;
use std::path::Path;
use std::sync::LazyLock;

impl Runner<'_> {
    /// Writes `bytes` to `path` in the run's folder.
    pub(super) fn write_artifact(&self, path: &Path, bytes: &[u8]) -> Result<(), RunError> {
        let own = crate::store::private::own_dir(&self.spec.artifacts);
        own.and_then(|_| crate::store::private::write(path, bytes))
            .map_err(|source| RunError::Write {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Saves a captcha image for the person (and the answer command) to see.
    pub(super) fn save_captcha(&mut self, png: &[u8]) -> Result<std::path::PathBuf, RunError> {
        self.people.captchas += 1;
        let path = self
            .spec
            .artifacts
            .join(format!("captcha-{}.png", self.people.captchas));
        self.write_artifact(&path, png)?;
        Ok(path)
    }

    /// Writes the credential as `pending` (and, in a batch, the journal's
    /// "submitting") before the step that submits it; on `Err` nothing is
    /// submitted.
    pub(super) fn write_vault_pending(&mut self) -> Result<(), RunError> {
        if self.cred.vault_id.is_some() {
            return Ok(()); // a retry of the submit: the record already exists
        }
        let Some(record) = self.pending_record() else {
            return Ok(());
        };
        match self.spec.ledger.pending(record) {
            Ok(Some(id)) => {
                self.emit(Event::CredentialPending {
                    vault_id: id.clone(),
                });
                self.cred.vault_id = Some(id);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => {
                let e = std::sync::Arc::new(e);
                self.cred.store_error = Some(e.clone());
                Err(RunError::Ledger(e))
            }
        }
    }

    /// The credential this run is about to submit, as the vault records it.
    fn pending_record(&self) -> Option<vault::Record> {
        let c = self.flow().credentials.as_ref()?;
        let gstin = self.role(Role::Gstin).unwrap_or_default();
        let portal = self.flow().portal.as_str();
        let provider = c
            .provider
            .as_ref()
            .and_then(|p| self.vars.get(p).cloned())
            .or_else(|| self.role(Role::Route));
        let id = format!(
            "{gstin}-{portal}-{}",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        Some(vault::Record {
            id,
            at: vault::now_rfc3339(),
            status: vault::Status::Pending,
            portal: Some(portal.into()),
            base_url: Some(self.spec.base_url.clone()),
            flow: Some(self.flow().name.clone()),
            gstin: Some(gstin),
            kind: Some(c.kind),
            provider,
            username: Some(self.cred.typed_username.clone().unwrap_or_else(|| {
                self.vars
                    .get(&c.username)
                    .map(|u| format!("{}{u}", c.prefix))
                    .unwrap_or_default()
            })),
            password: self
                .spec
                .secrets
                .get(&c.password)
                .map(|s| s.expose().to_string()),
            note: None,
            verified_at: None,
        })
    }

    /// Every dialog the row's pages opened, in order, as the browser pushed
    /// them (BiDi events, in a shared browser): one that opened and closed
    /// before einvreg looked shows only here.
    fn keep_dialogs(&self, dir: &std::path::Path) {
        let Some(scope) = &self.s.scope else { return };
        let dialogs = scope.dialogs();
        if dialogs.is_empty() {
            return;
        }
        let lines: Vec<String> = dialogs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let end = match d.accepted {
                    None => "still open",
                    Some(true) => "accepted",
                    Some(false) => "dismissed or closed by the page",
                };
                let text = self.spec.redactor.redact(&d.message);
                format!(
                    "{}. {} ({end}): {}\n",
                    i + 1,
                    d.kind,
                    text.replace('\n', " ")
                )
            })
            .collect();
        self.keep(&dir.join("dialogs.txt"), lines.concat().as_bytes());
    }

    /// Keeps what a person needs to see why a run failed. Best effort: a
    /// file that cannot be written is logged, and the run's result stands.
    pub(super) async fn save_failure_artifacts(&mut self) {
        let dir = self.spec.artifacts.clone();
        // An open alert blocks everything else; keep its text, then close it.
        if let Ok(Some(t)) = self.s.alert_text().await {
            let text = self.spec.redactor.redact(&t);
            self.keep(&dir.join("alert.txt"), text.as_bytes());
            let closed = self.answer(&t, DialogSort::Unknown, DialogAnswer::Dismiss);
            if let Err(e) = closed.await {
                tracing::debug!("closing the alert: {e}");
            }
        }
        self.keep_dialogs(&dir);
        match self.safe_screenshot().await {
            Ok(Some(png)) => self.keep(&dir.join("screenshot.png"), &png),
            Ok(None) => {
                let why = "no screenshot: a secret shows on this page and could not be hidden (laid out in a form einvreg cannot mask, or the page undoes einvreg's masking), or pixels einvreg cannot read (a canvas, a frame) stayed painted; see page.html, where it is blanked";
                tracing::warn!("{why}");
                self.keep(&dir.join("screenshot-withheld.txt"), why.as_bytes());
            }
            Err(e) => tracing::debug!("no failure screenshot: {e}"),
        }
        match self.s.c.source().await {
            Ok(html) => {
                let html = self.spec.redactor.redact(&blank_sensitive_inputs(&html));
                // A secret split across elements (one character a box) is
                // not masked in the markup: then no page.html at all.
                match self
                    .spec
                    .redactor
                    .contains_secret(&TAG.replace_all(&html, ""))
                {
                    false => self.keep(&dir.join("page.html"), html.as_bytes()),
                    true => {
                        let why = "no page.html: the page's text holds a secret split across its markup, which blanking cannot remove";
                        tracing::warn!("{why}");
                        self.keep(&dir.join("page-withheld.txt"), why.as_bytes());
                    }
                }
            }
            Err(e) => tracing::debug!("no failure page source: {e}"),
        }
    }

    /// A screenshot in which no secret shows: secret boxes masked, and any
    /// element whose text holds a secret (in any form the redactor knows)
    /// hidden; `None` when one still shows after that. Only strings the
    /// page already shows are handed to it, to find them.
    pub(super) async fn safe_screenshot(
        &self,
    ) -> Result<Option<Vec<u8>>, fantoccini::error::CmdError> {
        let c = self.s.c;
        let redactor = &self.spec.redactor;
        page::mask_secrets(c, true).await?;
        let first = page::visible_text(c).await?;
        let found = redactor.found_in(&first.text);
        if !found.is_empty() {
            let n = page::hide_texts(c, &found).await?;
            tracing::info!("hid {n} element(s) showing a secret before the screenshot");
        }
        // A second look, after the page's own scripts had their turn: any
        // secret left (whole, reversed or spread out) or opaque pixels
        // still painted, and the pixels cannot be proven clean.
        let now = page::visible_text(c).await?;
        let clean = now.opaque == 0 && !redactor.contains_secret(&now.text);
        let png = match clean {
            true => Some(c.screenshot().await?),
            false => None,
        };
        page::unhide_texts(c).await?;
        page::mask_secrets(c, false).await?;
        Ok(png)
    }

    /// Writes the report as `trace.json` (redacted).
    pub(super) fn write_trace(&self, report: &RunReport) {
        match serde_json::to_string_pretty(report) {
            Ok(s) => {
                let s = self.spec.redactor.redact(&s);
                self.keep(&self.spec.artifacts.join("trace.json"), s.as_bytes());
            }
            Err(e) => tracing::warn!("cannot serialise the trace: {e}"),
        }
    }

    fn keep(&self, path: &Path, bytes: &[u8]) {
        if let Err(e) = self.write_artifact(path, bytes) {
            tracing::warn!("{}", crate::chain::Chain(&e));
        }
    }
}

/// A tag, to read a page's text from its markup.
static TAG: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"<[^>]*>").expect("valid regex"));
static INPUT: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(?is)<input\b[^>]*>").expect("valid regex"));
static SENSITIVE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"(?i)type\s*=\s*["']?password|(name|id)\s*=\s*["'][^"']*(otp|captcha|password)"#,
    )
    .expect("valid regex")
});
static VALUE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?i)\svalue\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#).expect("valid regex")
});

/// Blanks the values of password, OTP and captcha inputs in saved HTML.
pub fn blank_sensitive_inputs(html: &str) -> String {
    INPUT
        .replace_all(html, |c: &regex::Captures| {
            let tag = &c[0];
            if SENSITIVE.is_match(tag) {
                VALUE.replace_all(tag, " value=\"\"").into_owned()
            } else {
                tag.to_string()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn blanks_secret_inputs_only() {
        let html = r#"<input id="txtOTP" name="OTP" value="123456"><input type="password" value='pw'><input name="UserName" value="keep"><input id="ctl00_txtCaptcha" value=ABC>"#;
        let out = blank_sensitive_inputs(html);
        assert!(!out.contains("123456") && !out.contains("'pw'") && !out.contains("ABC"));
        assert!(out.contains(r#"value="keep""#));
    }
}
