//! The look that sees a screen arrive. One round trip asks the page for
//! the candidates' recognition elements and, with them, the outcomes'
//! elements: those the screen may show on arrival and those that may
//! show while the walk waits. A page load's wait takes the same look of
//! the new page, so the walk recognises the next screen without another.

use super::page::Probe;
use super::Runner;
use crate::flow::{Screen, StepKind, Targets};
use std::borrow::Cow;

/// One screen look: what it asks the page for, and where each part lies.
pub(super) struct ScreenLook<'a> {
    /// The screen awaited and, when it is optional, those that may come instead.
    pub(super) cands: Vec<usize>,
    pub(super) groups: Vec<Cow<'a, Targets>>,
    pub(super) parts: Parts,
}

impl ScreenLook<'_> {
    pub(super) fn refs(&self) -> Vec<&Targets> {
        self.groups.iter().map(|g| g.as_ref()).collect()
    }
}

/// Where a look's groups lie: the candidates' recognition elements
/// first, then (when looked for) the arrival outcomes', then the
/// outcomes' that may show while waiting.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parts {
    recognition: usize,
    /// How many arrival outcome elements follow; `None`: not looked for.
    arrival: Option<usize>,
}

impl Parts {
    /// The probe as the outcomes that may show while waiting see it.
    pub(super) fn waiting(&self, p: &Probe) -> Probe {
        let from = self.recognition + self.arrival.unwrap_or(0);
        with_groups(p, from..p.groups.len())
    }
}

/// A probe with only the groups in `range`.
fn with_groups(p: &Probe, range: std::ops::Range<usize>) -> Probe {
    Probe {
        groups: p.groups.get(range).map(<[_]>::to_vec).unwrap_or_default(),
        ..p.clone()
    }
}

/// The look that recognised the screen just entered, for the outcomes
/// it may show on arrival.
#[derive(Debug)]
pub(super) struct Arrival {
    probe: Probe,
    /// The probe's groups are the arrival outcomes' elements.
    outcomes: bool,
}

impl Arrival {
    /// From `look`, which recognised screen `recognised`.
    pub(super) fn of(p: &Probe, look: &ScreenLook, recognised: usize) -> Arrival {
        let parts = look.parts;
        let mine = look.cands == [recognised];
        match parts.arrival.filter(|_| mine) {
            Some(n) => Arrival {
                probe: with_groups(p, parts.recognition..parts.recognition + n),
                outcomes: true,
            },
            None => Arrival {
                probe: with_groups(p, 0..0),
                outcomes: false,
            },
        }
    }

    /// The probe for the arrival outcomes: when it looked for their
    /// elements, or when they have none.
    pub(super) fn for_outcomes(self, no_elements: bool) -> Option<Probe> {
        (self.outcomes || no_elements).then_some(self.probe)
    }
}

/// A look a page load's wait took of the new page, kept for the walk's
/// wait for the screen that comes next.
#[derive(Debug)]
pub(super) struct Fresh {
    screen: usize,
    groups: Vec<Targets>,
    probe: Probe,
}

impl<'a> Runner<'a> {
    /// The look that awaits screen `idx` (or, when it is optional, a later one).
    pub(super) fn screen_look(&self, idx: usize) -> ScreenLook<'a> {
        let cands = self.candidates_from(idx);
        // A repaired list leads with the target a repair put first.
        let mut groups: Vec<Cow<'a, Targets>> = cands
            .iter()
            .flat_map(|&c| self.flow().screens[c].recognise.elements.iter())
            .map(|g| self.repaired(g))
            .collect();
        let mut parts = Parts {
            recognition: groups.len(),
            arrival: None,
        };
        if self.mode().watches_outcomes() {
            if cands.len() == 1 {
                let on = self.outcome_groups_on(Some(idx), true);
                parts.arrival = Some(on.len());
                groups.extend(on.into_iter().map(Cow::Borrowed));
            }
            groups.extend(self.outcome_groups(false).into_iter().map(Cow::Borrowed));
        }
        ScreenLook {
            cands,
            groups,
            parts,
        }
    }

    /// The look a page load's wait takes of the new page: the next
    /// screen's, when the walk goes there straight from this one, else
    /// only the outcomes that may show now.
    pub(super) fn load_look(&self) -> ScreenLook<'a> {
        if let Some(next) = self.next_screen() {
            return self.screen_look(next);
        }
        let groups = match self.mode().watches_outcomes() {
            true => self.outcome_groups(false),
            false => vec![],
        };
        ScreenLook {
            cands: vec![],
            groups: groups.into_iter().map(Cow::Borrowed).collect(),
            parts: Parts {
                recognition: 0,
                arrival: None,
            },
        }
    }

    /// The screen the walk awaits after the current one, when no page
    /// load runs between (no leading `goto`, unless one that loads only
    /// a page not at its address already).
    fn next_screen(&self) -> Option<usize> {
        let screens = &self.flow().screens;
        let cur = self.at.current?;
        let next = (cur + 1..screens.len()).find(|&j| self.holds(&screens[j].when))?;
        (!leads_with_a_load(&screens[next])).then_some(next)
    }

    /// Whether the page is at `url` already: as the kept look of the last
    /// page load saw it, else as the browser says.
    pub(super) async fn already_at(&self, url: &str) -> bool {
        if let Some(f) = &self.at.fresh {
            return f.probe.url == url;
        }
        match self.s.c.current_url().await {
            Ok(now) => now.as_str() == url,
            Err(e) => {
                tracing::debug!("reading the page's address: {e}");
                false
            }
        }
    }

    /// The look that saw where a step led: kept for the walk; its
    /// outcomes' part comes back (what may show while waiting).
    pub(super) fn arrived(&mut self, look: &ScreenLook, p: &Probe) -> Probe {
        self.keep_fresh(look, p);
        look.parts.waiting(p)
    }

    /// Keeps the look a page load's wait took, when it was a screen's.
    fn keep_fresh(&mut self, look: &ScreenLook, p: &Probe) {
        self.at.fresh = look.cands.first().map(|&screen| Fresh {
            screen,
            groups: look.groups.iter().map(|g| g.as_ref().clone()).collect(),
            probe: p.clone(),
        });
    }

    /// The kept look, when it was taken for `look` and shows one of its
    /// screens: the walk's first look at the page.
    pub(super) fn take_fresh(&mut self, look: &ScreenLook) -> Option<Probe> {
        let f = self.at.fresh.take()?;
        let same = look.cands.first() == Some(&f.screen)
            && look.groups.len() == f.groups.len()
            && look
                .groups
                .iter()
                .zip(&f.groups)
                .all(|(a, b)| a.as_ref() == b);
        let shown = self.first_shown(&look.cands, &f.probe).is_some();
        (same && shown).then_some(f.probe)
    }
}

/// Whether a screen's leading `goto` steps may load a page.
fn leads_with_a_load(screen: &Screen) -> bool {
    let gotos = screen.steps.iter().map_while(|s| match s.kind {
        StepKind::Goto { reload, .. } => Some(reload),
        _ => None,
    });
    gotos.into_iter().any(|reload| reload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(groups: &[&str]) -> Probe {
        Probe {
            text: "page".into(),
            groups: groups.iter().map(|g| Some((0, g.to_string()))).collect(),
            ..Probe::default()
        }
    }

    fn look(cands: Vec<usize>, recognition: usize, arrival: Option<usize>) -> ScreenLook<'static> {
        ScreenLook {
            cands,
            groups: vec![],
            parts: Parts {
                recognition,
                arrival,
            },
        }
    }

    fn texts(p: &Probe) -> Vec<String> {
        p.groups
            .iter()
            .map(|g| g.as_ref().unwrap().1.clone())
            .collect()
    }

    #[test]
    fn each_part_of_a_screen_look_sees_only_its_own_groups() {
        // two recognition elements, one arrival outcome, two while waiting
        let p = probe(&["rec1", "rec2", "arrive", "wait1", "wait2"]);
        let l = look(vec![4], 2, Some(1));
        assert_eq!(texts(&l.parts.waiting(&p)), ["wait1", "wait2"]);
        let a = Arrival::of(&p, &l, 4).for_outcomes(false).unwrap();
        assert_eq!(texts(&a), ["arrive"]);
        assert_eq!(a.text, "page", "the page's text goes with it");
    }

    #[test]
    fn an_arrival_not_looked_for_serves_only_outcomes_without_elements() {
        let p = probe(&["rec1", "wait1"]);
        // several candidates: the arrival outcomes were not looked for
        let l = look(vec![4, 5], 1, None);
        assert_eq!(texts(&l.parts.waiting(&p)), ["wait1"]);
        assert!(Arrival::of(&p, &l, 5).for_outcomes(false).is_none());
        let a = Arrival::of(&p, &l, 5).for_outcomes(true).unwrap();
        assert!(
            a.groups.is_empty(),
            "no recognition group passes for an outcome's"
        );
        // the screen recognised is not the one the arrival part was for
        let l = look(vec![4], 1, Some(0));
        assert!(Arrival::of(&p, &l, 5).for_outcomes(false).is_none());
    }

    #[test]
    fn a_load_look_with_no_screen_is_all_outcomes() {
        let p = probe(&["o1", "o2"]);
        let l = look(vec![], 0, None);
        assert_eq!(texts(&l.parts.waiting(&p)), ["o1", "o2"]);
    }
}
