//! The replica oracle (`--auto-answer`): reads the replica's SMS outbox and
//! captcha aid. Refuses any portal that is not an einvreg replica on
//! loopback, so it can never be pointed at the real NIC portals.
//!
//! For tests it can also play a fallible person: answer wrong first, ask
//! for a new captcha image or OTP first, or let an OTP or the session
//! expire before answering. NIC-GST-Shield codes (steps with `rotates`)
//! come from the replica's Shield aid.

use super::{Ask, BoxFut, By, Operator, OperatorError, Question, Reply};
use crate::loopback as http;
use crate::redact::Secret;
use std::sync::Mutex;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mistakes {
    pub wrong_captcha: u32,
    pub wrong_otp: u32,
    /// Expire the OTP before answering, this many times.
    pub expire_otp: u32,
    /// Drop every portal session before answering an OTP, this many times.
    pub expire_session: u32,
    /// Wait this long before each answer (a slow person).
    pub delay_ms: u64,
    /// Ask for a new captcha image first, this many times.
    pub refresh: u32,
    /// Ask for a new OTP first, this many times.
    pub resend: u32,
}

impl Mistakes {
    /// `captcha=1,otp=2,expire_otp=1,expire_session=1,delay=2000,refresh=1,resend=1`
    pub fn parse(s: &str) -> Result<Mistakes, MistakesError> {
        let mut m = Mistakes::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| MistakesError(format!("`{part}`: write name=count")))?;
            let n: u64 = v
                .parse()
                .map_err(|_| MistakesError(format!("`{v}` is not a number")))?;
            match k {
                "captcha" => m.wrong_captcha = n as u32,
                "otp" => m.wrong_otp = n as u32,
                "expire_otp" => m.expire_otp = n as u32,
                "expire_session" => m.expire_session = n as u32,
                "delay" => m.delay_ms = n,
                "refresh" => m.refresh = n as u32,
                "resend" => m.resend = n as u32,
                _ => {
                    return Err(MistakesError(format!(
                        "unknown mistake `{k}` (captcha, otp, expire_otp, expire_session, delay, refresh, resend)"
                    )))
                }
            }
        }
        Ok(m)
    }
}

/// Why `--auto-answer-mistakes` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MistakesError(pub String);

/// Answers from the replica's own aids (see the module docs).
pub struct Oracle {
    left: Mutex<Mistakes>,
    /// Appends "start_ms end_ms what gstin" per answer (tests check overlap).
    pub log: Option<std::path::PathBuf>,
    /// Session cookie name per replica base URL.
    cookies: Mutex<std::collections::HashMap<String, String>>,
}

impl Oracle {
    pub fn new(mistakes: Mistakes) -> Oracle {
        Oracle {
            left: Mutex::new(mistakes),
            log: None,
            cookies: Mutex::new(Default::default()),
        }
    }

    /// Confirms `base_url` is an einvreg replica; returns its session cookie name.
    pub async fn check_replica(base_url: &str) -> Result<String, OperatorError> {
        let refuse = |why: String| {
            OperatorError::Failed(format!(
                "--auto-answer works only against the einvreg replica: {why}"
            ))
        };
        let r = http::request(
            "GET",
            &format!("{}/__replica/info", base_url.trim_end_matches('/')),
            &[],
            None,
        )
        .await
        .map_err(|e| refuse(format!("{base_url}: {}", crate::chain::Chain(&e))))?;
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .map_err(|_| refuse(format!("{base_url} is not a replica")))?;
        if v["replica"] != "einvreg" {
            return Err(refuse(format!("{base_url} is not a replica")));
        }
        Ok(v["session_cookie"].as_str().unwrap_or_default().to_string())
    }

    fn take(&self, f: impl FnOnce(&mut Mistakes) -> &mut u32) -> bool {
        let mut m = self.left.lock().unwrap();
        let c = f(&mut m);
        if *c > 0 {
            *c -= 1;
            true
        } else {
            false
        }
    }
}

async fn post(base: &str, path: &str) -> Result<(), OperatorError> {
    http::request("POST", &format!("{base}{path}"), &[], None)
        .await
        .map(|_| ())
        .map_err(|e| {
            OperatorError::Failed(format!("replica aid {path}: {}", crate::chain::Chain(&e)))
        })
}

impl Operator for Oracle {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        Box::pin(async move {
            let base = q.base_url.trim_end_matches('/');
            // Asked once per portal: the answer does not change during a run.
            let known = self.cookies.lock().unwrap().get(base).cloned();
            let cookie = match known {
                Some(c) => c,
                None => {
                    let c = Oracle::check_replica(base).await?;
                    self.cookies
                        .lock()
                        .unwrap()
                        .insert(base.to_string(), c.clone());
                    c
                }
            };
            let sid = q
                .browser_cookies
                .iter()
                .find(|(k, _)| *k == cookie)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    OperatorError::Failed("the browser has no replica session cookie yet".into())
                })?;
            let started = std::time::SystemTime::now();
            let delay = self.left.lock().unwrap().delay_ms;
            if delay > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            }
            let r = self.lookup(q, base, &sid).await;
            if let Some(path) = &self.log {
                let ms = |t: std::time::SystemTime| {
                    t.duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or(0)
                };
                let line = format!(
                    "{} {} {} {}\n",
                    ms(started),
                    ms(std::time::SystemTime::now()),
                    q.what(),
                    q.gstin
                );
                if let Err(e) = append_line(path, &line) {
                    tracing::warn!("--auto-answer-log {}: {e}", path.display());
                }
            }
            r
        })
    }
    fn wants_cookies(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        "replica oracle (--auto-answer)".into()
    }
}

fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = crate::store::private::append(path)?;
    f.write_all(line.as_bytes())
}

impl Oracle {
    async fn lookup(&self, q: &Question, base: &str, sid: &str) -> Result<Reply, OperatorError> {
        // A renewal comes first; a wrong answer is only spent on an answer.
        let (aid, wrong) = match q.ask {
            Ask::Captcha { .. } => {
                if q.can_renew && self.take(|m| &mut m.refresh) {
                    return Ok(Reply::Renew);
                }
                ("captcha", self.take(|m| &mut m.wrong_captcha))
            }
            Ask::Repair(_) => {
                return Err(OperatorError::NoHuman(
                    "the replica oracle answers captchas and OTPs, not repairs: pass --repair-command, or run in a terminal".into(),
                ))
            }
            Ask::Otp { rotates, .. } => {
                if q.can_renew && self.take(|m| &mut m.resend) {
                    return Ok(Reply::Renew);
                }
                if self.take(|m| &mut m.expire_session) {
                    post(base, "/__replica/expire-sessions").await?;
                }
                if self.take(|m| &mut m.expire_otp) {
                    post(base, "/__replica/expire-otps").await?;
                }
                let aid = if rotates.is_some() { "shield" } else { "otp" };
                (aid, self.take(|m| &mut m.wrong_otp))
            }
        };
        let right = aid_answer(base, aid, sid).await?;
        if wrong {
            // Differs from the right answer in every character.
            let w: String = right
                .chars()
                .map(|c| if c == '7' { '3' } else { '7' })
                .collect();
            return Ok(Reply::Answer(Secret::new(w), By::Oracle));
        }
        Ok(Reply::Answer(Secret::new(right), By::Oracle))
    }
}

/// The right answer from a replica aid (`captcha`, `otp` or `shield`).
async fn aid_answer(base: &str, aid: &str, sid: &str) -> Result<String, OperatorError> {
    let r = http::request(
        "GET",
        &format!("{base}/__replica/{aid}?session={sid}"),
        &[],
        None,
    )
    .await
    .map_err(|e| OperatorError::Failed(format!("replica aid: {}", crate::chain::Chain(&e))))?;
    if r.status != 200 {
        return Err(OperatorError::Failed(format!(
            "the replica has no {aid} answer for this session"
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .map_err(|_| OperatorError::Failed("replica aid sent no JSON".into()))?;
    Ok(["answer", "otp", "code"]
        .iter()
        .find_map(|k| v.get(k).and_then(|x| x.as_str()))
        .unwrap_or_default()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_mistakes() {
        let m =
            Mistakes::parse("captcha=1, otp=2,expire_otp=1,delay=5,refresh=1,resend=2").unwrap();
        assert_eq!(
            (m.wrong_captcha, m.wrong_otp, m.expire_otp, m.delay_ms),
            (1, 2, 1, 5)
        );
        assert_eq!((m.refresh, m.resend), (1, 2));
        assert!(Mistakes::parse("typo=1").is_err());
    }
}
