//! How far smoke checked each flow: the screens the walk reached, where
//! and why it stopped (a captcha, an OTP or a submit, which smoke never
//! crosses, or a drift), and the screens it could not reach. A green smoke
//! run says nothing of the screens it never saw; this says which those are.

use super::{CheckKind, Class, Finding};
use crate::flow::Flow;
use serde::Serialize;

/// One flow's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub flow: String,
    /// Screens with at least one finding, in the flow's order.
    pub checked: Vec<String>,
    /// The screens the flow describes (optional ones not counted).
    pub screens: usize,
    /// Why the walk ended where it did.
    pub stop: String,
    /// Screens the walk never reached, in the flow's order (optional ones left out).
    pub unreached: Vec<String>,
}

/// `flow`'s coverage in `findings` (every flow's findings may be given).
pub fn of(flow: &Flow, findings: &[Finding]) -> Coverage {
    let mine: Vec<&Finding> = findings.iter().filter(|f| f.flow == flow.name).collect();
    let seen = |label: &str| mine.iter().any(|f| f.screen == label);
    let checked = flow
        .screens
        .iter()
        .filter(|s| seen(&s.label))
        .map(|s| s.label.clone())
        .collect();
    let unreached = flow
        .screens
        .iter()
        .filter(|s| !s.optional && !seen(&s.label))
        .map(|s| s.label.clone())
        .collect();
    Coverage {
        flow: flow.name.clone(),
        checked,
        screens: flow.screens.iter().filter(|s| !s.optional).count(),
        stop: stop(&mine),
        unreached,
    }
}

/// Where the walk stopped, in a person's words. A drift in a step that
/// only fills or reads does not stop it: it goes on to the barrier.
fn stop(mine: &[&Finding]) -> String {
    let at = |f: &Finding| format!("at {} › {}", f.screen, f.step);
    let drifts: Vec<&&Finding> = mine.iter().filter(|f| f.class >= Class::Drift).collect();
    let barrier = mine.iter().find(|f| f.check == CheckKind::Barrier);
    match (barrier, drifts.as_slice()) {
        (Some(b), []) => format!(
            "stopped before a step a person answers or that changes state, {}",
            at(b)
        ),
        (Some(b), ds) => format!(
            "stopped before a step a person answers or that changes state, {}, going on past {} drift(s)",
            at(b),
            ds.len()
        ),
        (None, [first, ..]) => format!("stopped by {} {}", first.class.as_str(), at(first)),
        (None, []) => "walked to its end".to_string(),
    }
}

impl Coverage {
    /// One line: how many screens were checked, where it stopped, what is unseen.
    pub fn line(&self) -> String {
        let mut s = format!(
            "coverage    {}: {} of {} screens checked ({}); {}",
            self.flow,
            self.checked.len(),
            self.screens,
            self.checked.join(" · "),
            self.stop
        );
        if !self.unreached.is_empty() {
            s.push_str(&format!("; not checked: {}", self.unreached.join(" · ")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::bundled::BUNDLED;

    fn finding(screen: &str, check: CheckKind, class: Class) -> Finding {
        Finding {
            flow: "production-api-user".into(),
            screen: screen.into(),
            step: "Login captcha".into(),
            check,
            selector: None,
            class,
            detail: String::new(),
            fix: None,
            time_s: 0.0,
        }
    }

    #[test]
    fn names_the_screens_checked_the_stop_and_the_unseen() {
        let b = BUNDLED
            .iter()
            .find(|b| b.name == "production-api-user")
            .unwrap();
        let (flow, _) = crate::flow::load_str(std::path::Path::new(b.name), b.text)
            .expect("the bundled flow loads");
        let first = flow.screens[0].label.clone();
        let second = flow.screens[1].label.clone();
        let found = [
            finding(&first, CheckKind::Target, Class::Ok),
            finding(&second, CheckKind::Barrier, Class::Ok),
        ];
        let c = of(&flow, &found);
        assert_eq!(c.checked, [first.clone(), second.clone()]);
        assert!(c.screens > 2 && c.unreached.len() + 2 <= c.screens, "{c:?}");
        assert!(!c.unreached.contains(&first));
        assert!(
            c.line()
                .contains(&format!("2 of {} screens checked", c.screens)),
            "{}",
            c.line()
        );
        assert!(c.stop.contains(&format!("stopped before a step a person answers or that changes state, at {second} › Login captcha")), "{}", c.stop);
        let drifted = [finding(&first, CheckKind::Recognise, Class::Drift)];
        assert!(of(&flow, &drifted).stop.starts_with("stopped by drift at"));
        // A drift the walk went past: it still reached the barrier.
        let past = [
            finding(&first, CheckKind::Target, Class::Drift),
            finding(&second, CheckKind::Barrier, Class::Ok),
        ];
        assert!(
            of(&flow, &past).stop.ends_with("going on past 1 drift(s)"),
            "{}",
            of(&flow, &past).stop
        );
    }
}
