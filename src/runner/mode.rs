//! What the walk is for, as a policy the walk asks by name: does it act
//! on the portal or only look, does it watch for outcomes, how long does
//! it wait. One value decides; no step tests the mode itself.

use crate::flow::{Flow, Screen, Step};
use std::time::Duration;

/// What the walk is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Do every step: register the GSTIN.
    Register,
    /// The smoke check: stop before a captcha, an OTP, a submit or a
    /// barrier; check every target on the way; change nothing. Every wait
    /// uses `timeout` instead of the flow's own.
    Inspect {
        /// The longest wait for any page or element.
        timeout: Duration,
    },
}

/// A portal slow to load a page after a click gets at least this long
/// when the walk acts (a smoke check keeps its own, shorter limit).
const LOAD_AT_LEAST: Duration = Duration::from_secs(5);

impl Mode {
    /// The walk performs steps (types, clicks, submits). Otherwise it
    /// checks each step's targets and goes no further than is harmless.
    pub fn acts(self) -> bool {
        self == Mode::Register
    }

    /// Outcomes (success, a known error) are looked for on arrival and
    /// while waiting: only a walk that acts can cause one.
    pub fn watches_outcomes(self) -> bool {
        self.acts()
    }

    /// Findings are reported as smoke checks.
    pub fn reports_checks(self) -> bool {
        !self.acts()
    }

    /// The flow's `[[cleanup]]` (a log out) runs at the end.
    pub fn cleans_up(self) -> bool {
        self.acts()
    }

    /// The longest wait for a step's target.
    pub fn step_timeout(self, st: &Step, flow: &Flow) -> Duration {
        match self {
            Mode::Inspect { timeout } => timeout,
            Mode::Register => st.timeout.unwrap_or(flow.timeout),
        }
    }

    /// The longest wait for a screen to show.
    pub fn screen_timeout(self, screen: &Screen, flow: &Flow) -> Duration {
        match self {
            Mode::Inspect { timeout } => timeout,
            Mode::Register => screen.timeout.unwrap_or(flow.timeout),
        }
    }

    /// The longest wait for a page a click loads, given the step's.
    pub fn load_wait(self, step: Duration) -> Duration {
        match self {
            Mode::Register => step.max(LOAD_AT_LEAST),
            Mode::Inspect { .. } => step,
        }
    }

    /// WebDriver's page-load limit for the session, when the mode sets one
    /// (an unreachable portal must fail within the smoke timeout).
    pub fn page_load_limit(self) -> Option<Duration> {
        match self {
            Mode::Inspect { timeout } => Some(timeout),
            Mode::Register => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Flow {
        let b = crate::flow::bundled::BUNDLED
            .iter()
            .find(|b| b.name == "sandbox-register")
            .expect("bundled");
        crate::flow::load_str(&b.shown(), b.text).expect("loads").0
    }

    #[test]
    fn registering_acts_watches_and_takes_the_flows_own_times() {
        let f = flow();
        let m = Mode::Register;
        assert!(m.acts() && m.watches_outcomes() && m.cleans_up() && !m.reports_checks());
        let st = &f.screens[0].steps[0];
        assert_eq!(m.step_timeout(st, &f), st.timeout.unwrap_or(f.timeout));
        assert_eq!(m.load_wait(Duration::from_secs(1)), LOAD_AT_LEAST);
        assert_eq!(
            m.load_wait(Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        assert_eq!(m.page_load_limit(), None);
    }

    #[test]
    fn inspecting_only_looks_and_every_wait_is_its_own() {
        let f = flow();
        let t = Duration::from_millis(700);
        let m = Mode::Inspect { timeout: t };
        assert!(!m.acts() && !m.watches_outcomes() && !m.cleans_up() && m.reports_checks());
        assert_eq!(m.step_timeout(&f.screens[0].steps[0], &f), t);
        assert_eq!(m.screen_timeout(&f.screens[0], &f), t);
        assert_eq!(m.load_wait(t), t);
        assert_eq!(m.page_load_limit(), Some(t));
    }
}
