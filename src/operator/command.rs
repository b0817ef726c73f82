//! Answer commands: `--captcha-command CMD` gets the PNG path as `$1`;
//! `--otp-command CMD` gets the GSTIN and mobile in its environment. Each
//! prints the answer on stdout, or `RENEW` to ask the portal for a new
//! image or OTP when `EINVREG_CAN_RENEW=1`. This is how a team with an SMS
//! gateway or a captcha desk automates runs. `--repair-command CMD` gets
//! the candidates' JSON file as `$1` and `EINVREG_REPAIR_KIND`,
//! `EINVREG_REPAIR_SCREEN`, `EINVREG_REPAIR_STEP` and `EINVREG_GSTIN`.

use super::{Ask, BoxFut, By, Operator, OperatorError, Question, Reply, RENEW_WORD};
use crate::redact::Secret;
use std::process::Stdio;
use std::time::Duration;

/// The command line run by the system's shell: `sh -c 'CMD "$@"'` (the
/// captcha's path is `$1`), or on Windows `cmd /C CMD` (the path follows
/// the command, and is in %EINVREG_CAPTCHA_PNG%).
pub(crate) fn shell(command: &str) -> tokio::process::Command {
    let mut cmd = shell_of(command);
    // einvreg's own EINVREG_* variables (secrets among them) stay with it.
    crate::process::scrub(cmd.as_std_mut());
    cmd
}

fn shell_of(command: &str) -> tokio::process::Command {
    #[cfg(unix)]
    {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{command} \"$@\""))
            .arg("einvreg");
        cmd
    }
    #[cfg(not(unix))]
    {
        let mut cmd = tokio::process::Command::new("cmd");
        cmd.arg("/C").arg(command);
        cmd
    }
}

/// The command's process group, killed if the wait for it is dropped
/// (the desk answered first) or times out: a shell's children go with it.
pub(crate) struct Group(pub(crate) Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            crate::process::kill(pid);
        }
    }
}

pub struct CommandOperator {
    pub command: String,
    pub timeout: Duration,
}

impl Operator for CommandOperator {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        Box::pin(async move {
            let mut cmd = shell(&self.command);
            cmd.env("EINVREG_GSTIN", &q.gstin)
                .env("EINVREG_PORTAL", &q.portal)
                .env("EINVREG_SCREEN", &q.screen)
                .env("EINVREG_STEP", &q.step)
                .env("EINVREG_PROMPT", &q.prompt)
                .env("EINVREG_ATTEMPT", q.attempt.to_string())
                .env("EINVREG_BASE_URL", &q.base_url)
                .env("EINVREG_CAN_RENEW", if q.can_renew { "1" } else { "0" });
            match &q.ask {
                Ask::Captcha { path, .. } => {
                    cmd.arg(path).env("EINVREG_CAPTCHA_PNG", path);
                }
                Ask::Otp { mobile, rotates } => {
                    cmd.env("EINVREG_MOBILE", mobile.clone().unwrap_or_default());
                    if let Some(r) = rotates {
                        cmd.env("EINVREG_CODE_PERIOD", r.as_secs().to_string());
                    }
                }
                // The interface scripts rely on: kind, screen, step, GSTIN, $1.
                Ask::Repair(r) => {
                    cmd.arg(&r.file)
                        .env("EINVREG_REPAIR_KIND", r.kind.as_str())
                        .env("EINVREG_REPAIR_SCREEN", &q.screen)
                        .env("EINVREG_REPAIR_STEP", &q.step);
                }
            }
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true);
            crate::process::contain(&mut cmd);
            let child = cmd
                .spawn()
                .map_err(|e| OperatorError::Failed(format!("cannot run answer command: {e}")))?;
            let mut group = Group(child.id());
            let out = tokio::time::timeout(self.timeout, child.wait_with_output()).await;
            if out.is_ok() {
                // Ended and reaped: its group id may be reused, so it is left alone.
                group.0 = None;
            }
            let out = match out {
                Ok(r) => {
                    r.map_err(|e| OperatorError::Failed(format!("answer command failed: {e}")))?
                }
                Err(_) => {
                    return Err(OperatorError::Timeout {
                        what: q.what(),
                        secs: self.timeout.as_secs(),
                    })
                }
            };
            if !out.status.success() {
                return Err(OperatorError::Failed(format!(
                    "the {} answer command exited with {}",
                    q.what(),
                    out.status
                )));
            }
            let answer = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if answer.is_empty() {
                return Err(OperatorError::Failed(format!(
                    "the {} answer command printed nothing",
                    q.what()
                )));
            }
            if answer == RENEW_WORD {
                return match q.can_renew {
                    true => Ok(Reply::Renew),
                    false => Err(OperatorError::Failed(format!(
                        "the {} answer command asked for {}, but this step cannot get one",
                        q.what(),
                        q.renewal()
                    ))),
                };
            }
            Ok(Reply::Answer(Secret::new(answer), By::Command))
        })
    }
    fn describe(&self) -> String {
        "answer command".into()
    }
}
