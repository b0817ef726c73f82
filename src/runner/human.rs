//! The steps that ask a person: a captcha and an OTP. Either may be
//! renewed on the operator's word (a new image, a new OTP) through the
//! control the flow names, a few times per step, without leaving the screen.

use super::error::{Drift, RunError, StepErr};
use super::page::{self, Need, Prep};
use super::session::until;
use super::{Runner, Used};
use crate::flow::{Role, Screen, Step, Targets, Template};
use crate::operator::{Ask, Reply};
use std::time::{Duration, Instant, SystemTime};

/// How many new images or OTPs one step may ask the portal for.
pub(super) const MAX_RENEWALS: u32 = 3;

/// After a renewal click, how long a page load may take to begin before
/// the page counts as having renewed in place.
pub(super) const IN_PLACE: Duration = Duration::from_millis(800);

/// What an OTP step has beyond its box and prompt.
#[derive(Clone, Copy)]
pub(super) struct OtpExtras<'a> {
    /// The control that sends a new OTP.
    pub(super) resend: Option<&'a Targets>,
    /// The code changes this often (an authenticator app).
    pub(super) rotates: Option<Duration>,
}

/// Seconds left of the current code of an app whose codes change every
/// `period`, counted from the Unix epoch as authenticator apps (RFC 6238)
/// do [assumed for NIC-GST-Shield: its scheme is not public].
pub(super) fn seconds_left(period: Duration, now: SystemTime) -> u64 {
    let p = period.as_secs().max(1);
    let t = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    p - t % p
}

impl Runner<'_> {
    pub(super) async fn captcha(
        &mut self,
        screen: &Screen,
        st: &Step,
        image: &Targets,
        input: &Targets,
        refresh: Option<&Targets>,
    ) -> Result<Used, StepErr> {
        let mut renewals = 0;
        loop {
            let prep = Prep {
                image: true,
                ..Prep::default()
            };
            let (hit, used) = self.find_with(screen, st, image, Need::See, prep).await?;
            let img = hit.mark.clone();
            let loaded = hit.found.loaded || self.s.wait_image(&img, self.step_timeout(st)).await?;
            if !loaded {
                let screen = screen.label.clone();
                return Err(RunError::CaptchaImage { screen }.into());
            }
            let png = match page::png_of(&hit.found) {
                Some(png) => png,
                // Not readable from the page (or loaded only now): as shown on screen.
                None => self.captcha_shot(&img, hit.found.el.as_ref()).await?,
            };
            let path = self.save_captcha(&png)?;
            let can_renew = refresh.is_some() && renewals < MAX_RENEWALS;
            let ask = Ask::Captcha { png, path };
            match self
                .ask(screen, &st.label, ask, String::new(), can_renew)
                .await?
            {
                Reply::Answer(answer, _) => {
                    self.type_answer(screen, st, input, None, answer.expose())
                        .await?;
                    return Ok(used);
                }
                Reply::Renew => {
                    renewals += 1;
                    let before = page::src_of(self.s.scripts(), &img).await?;
                    let control = refresh.unwrap_or(image);
                    self.renew(screen, st, control, Some((image, before)))
                        .await?;
                }
            }
        }
    }

    pub(super) async fn otp(
        &mut self,
        screen: &Screen,
        st: &Step,
        input: &Targets,
        prompt: &Template,
        extras: OtpExtras<'_>,
    ) -> Result<Used, StepErr> {
        let mut renewals = 0;
        loop {
            let (first, used) = self.find(screen, st, input, Need::Fill).await?;
            let mut text = prompt.render(&self.vars)?;
            if let Some(period) = extras.rotates {
                let left = seconds_left(period, SystemTime::now());
                let every = period.as_secs();
                text.push_str(&format!(
                    " (the code changes every {every} s; the one shown now has about {left} s left)"
                ));
            }
            let mobile = self.role(Role::Mobile);
            let can_renew = extras.resend.is_some() && renewals < MAX_RENEWALS;
            let ask = Ask::Otp {
                mobile,
                rotates: extras.rotates,
            };
            match self.ask(screen, &st.label, ask, text, can_renew).await? {
                Reply::Answer(answer, _) => {
                    self.type_answer(screen, st, input, Some(first), answer.expose())
                        .await?;
                    return Ok(used);
                }
                Reply::Renew => {
                    renewals += 1;
                    let control = extras.resend.unwrap_or(input);
                    self.renew(screen, st, control, None).await?;
                }
            }
        }
    }

    /// Types a person's answer. The page may have changed while they
    /// typed (a late alert, an interrupt): the box is looked up again
    /// (keeping `first` if that fails) and an alert that blocks the typing
    /// is sorted first, so the answer is never asked for twice.
    async fn type_answer(
        &mut self,
        screen: &Screen,
        st: &Step,
        input: &Targets,
        first: Option<String>,
        answer: &str,
    ) -> Result<(), StepErr> {
        for _ in 0..3 {
            let prep = Prep {
                focus: true,
                secret: true,
                ..Prep::default()
            };
            let found = self.find_with(screen, st, input, Need::Fill, prep).await;
            let (mark, seen) = match (found, &first) {
                (Ok((hit, _)), _) => (hit.mark, Some((hit.found.origin, hit.found.href))),
                (Err(_), Some(f)) => (f.clone(), None),
                (Err(e), None) => return Err(e),
            };
            let focused = seen.is_some();
            self.secret_box(screen, st, &mark, seen).await?;
            let how = super::typing::Typing::Whole {
                fast: false,
                focused,
            };
            match self.type_checked(&mark, answer, how, true).await {
                // A dialog opening mid-typing may also make the box "not interactable".
                Err(StepErr::Fail(RunError::AlertOpen(_) | RunError::WebDriver(_)))
                    if self.s.alert_text().await?.is_some() =>
                {
                    self.on_alert_during_step(screen).await?
                }
                other => return other,
            }
        }
        Err(Drift::at_step(
            &screen.label,
            &st.label,
            "alerts kept opening while the answer was typed",
        )
        .into())
    }

    /// Clicks a renewal control, then waits for the page to reload or, in
    /// place, for `image` (with its old address) to show a new picture.
    async fn renew(
        &mut self,
        screen: &Screen,
        st: &Step,
        control: &Targets,
        image: Option<(&Targets, String)>,
    ) -> Result<(), StepErr> {
        tracing::info!(screen = %screen.id, step = %st.label, "asking the portal for a new one");
        let token = self.s.mark();
        let prep = Prep {
            click: true,
            nav: token.clone(),
            ..Prep::default()
        };
        let (hit, _) = self
            .find_with(screen, st, control, Need::Click, prep)
            .await?;
        self.click_through_alerts(screen, st, &hit, "").await?;
        let clicked = Instant::now();
        let deadline = clicked + self.step_timeout(st);
        until!(deadline, async {
            if self.s.alert_text().await?.is_some() {
                return Ok(Some(())); // the next lookup sorts it
            }
            let Some(p) = self.s.probe_once(&[], &token).await? else {
                return Ok(None);
            };
            if !p.marked {
                return Ok((p.ready == "complete").then_some(()));
            }
            let settled = match &image {
                Some((img, before)) => self.image_changed(img, before).await?,
                None => clicked.elapsed() >= IN_PLACE,
            };
            Ok::<_, StepErr>(settled.then_some(()))
        })?;
        Ok(())
    }

    /// The captcha as the screen shows it (an element screenshot).
    async fn captcha_shot(
        &self,
        mark: &str,
        el: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, StepErr> {
        Ok(self.s.element(mark, el).await?.screenshot().await?)
    }

    /// Whether the image of `t` now has another address and has loaded.
    async fn image_changed(&mut self, t: &Targets, before: &str) -> Result<bool, StepErr> {
        let mark = self.s.mark();
        let found = self
            .s
            .find_once(t, Need::See, &mark, &Prep::default())
            .await?;
        if found.matched.is_none() {
            return Ok(false);
        }
        let now = page::src_of(self.s.scripts(), &mark).await?;
        Ok(now != before && page::image_loaded(self.s.scripts(), &mark).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn seconds_left_counts_down_within_each_period() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let p = Duration::from_secs(30);
        assert_eq!(seconds_left(p, at(1_800_000_000)), 30);
        assert_eq!(seconds_left(p, at(1_800_000_001)), 29);
        assert_eq!(seconds_left(p, at(1_800_000_029)), 1);
        assert_eq!(seconds_left(p, at(1_800_000_030)), 30);
    }
}
