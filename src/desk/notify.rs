//! `--desk-notify-command`: hands each taxpayer link to the team's own
//! SMS, e-mail or WhatsApp gateway. The link, GSTIN and mobile go in the
//! command's environment, never its arguments (which any user can list).

use std::process::Stdio;
use std::time::Duration;

/// How long a notify command may take before it is stopped.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Notify {
    pub command: String,
}

/// One link to send.
pub struct Message<'a> {
    pub link: &'a str,
    pub gstin: &'a str,
    pub mobile: &'a str,
    pub valid_for: Duration,
}

impl Notify {
    /// Runs the command in the background; a failure is logged (without
    /// the link) and the prompt stays open on the desk.
    pub fn send(&self, m: Message<'_>) {
        let mut cmd = crate::operator::command::shell(&self.command);
        cmd.env("EINVREG_DESK_LINK", m.link)
            .env("EINVREG_GSTIN", m.gstin)
            .env("EINVREG_MOBILE", m.mobile)
            .env("EINVREG_LINK_VALID_SECS", m.valid_for.as_secs().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let gstin = m.gstin.to_string();
        crate::process::contain(&mut cmd);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(%gstin, "cannot run --desk-notify-command: {e}");
                return;
            }
        };
        tokio::spawn(async move {
            let mut child = child;
            let mut group = crate::operator::command::Group(child.id());
            let ended = tokio::time::timeout(NOTIFY_TIMEOUT, child.wait()).await;
            if ended.is_ok() {
                group.0 = None; // reaped: its group id may be reused
            }
            match ended {
                Ok(Ok(s)) if s.success() => tracing::info!(%gstin, "taxpayer link sent"),
                Ok(Ok(s)) => tracing::warn!(%gstin, "--desk-notify-command exited with {s}"),
                Ok(Err(e)) => tracing::warn!(%gstin, "--desk-notify-command: {e}"),
                Err(_) => tracing::warn!(%gstin, "--desk-notify-command took over 60 s: stopped"),
            }
        });
    }
}
