//! `select` on a dropdown widget: a box that opens a list of items, with
//! or without a search field, over a hidden `<select>` or over none. It
//! is opened, typed into where it can be, the item that reads the wanted
//! option clicked, and the pick checked, as a person would.

use super::error::{Drift, StepErr};
use super::leads::Lead;
use super::lookup::Hit;
use super::page::widget::{self, Marks, Opened};
use super::page::{self, Found};
use super::steps::{missing_option, option_position};
use super::Runner;
use crate::flow::{OptionChoice, Screen, Step};
use std::time::{Duration, Instant};

/// The longest a widget's list may take to open or to filter.
const LIST_WAIT: Duration = Duration::from_secs(5);
/// How long a pick may take to show in the `<select>` or the box.
const TAKE_WAIT: Duration = Duration::from_secs(2);

impl Runner<'_> {
    /// Picks `want` in the widget tagged `boxm` that stands for the
    /// dropdown tagged `mark` (a hidden `<select>`, or the widget itself).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn pick_in_widget(
        &mut self,
        screen: &Screen,
        st: &Step,
        (mark, boxm): (&str, &str),
        option: &OptionChoice,
        want: &str,
        (lead, token): (Lead<'_>, &str),
    ) -> Result<(), StepErr> {
        // The words to look for: the hidden <select>'s label for the option, when there is one.
        let (options, _) = page::select_options(self.s.c, mark).await?;
        let pos = match options.is_empty() {
            true => None,
            false => Some(option_position(&options, option, want).ok_or_else(|| {
                Drift::at_step(&screen.label, &st.label, missing_option(&options, want))
            })?),
        };
        let label = pos.map_or(want.to_string(), |p| options[p].1.clone());
        let (item, search) = (self.s.mark(), self.s.mark());
        let marks = Marks {
            item: &item,
            search: &search,
        };
        self.click_tagged(screen, st, boxm).await?;
        let seen = self.find_item(&label, &marks).await?;
        if !seen.hit {
            let listed: Vec<(String, String)> =
                seen.texts.iter().map(|t| (t.clone(), t.clone())).collect();
            let what = format!("widget: {}", missing_option(&listed, &label));
            return Err(Drift::at_step(&screen.label, &st.label, what).into());
        }
        self.click_tagged(screen, st, &item).await?;
        self.took(screen, st, (mark, boxm), pos, &label).await?;
        self.after_lead(st, lead, token).await.map(|_| ())
    }

    /// The opened list's item reading `label`: looked for once the list
    /// opens, then after typing it into the list's search field where it
    /// has one (or, with none, as the list goes on filling).
    async fn find_item(&mut self, label: &str, marks: &Marks<'_>) -> Result<Opened, StepErr> {
        let seen = widget::opened(self.s.c, label, marks, (LIST_WAIT, false)).await?;
        if seen.hit {
            return Ok(seen);
        }
        if seen.search {
            self.s.type_into(marks.search, label, false, false).await?;
        }
        Ok(widget::opened(self.s.c, label, marks, (LIST_WAIT, true)).await?)
    }

    /// Clicks the element tagged `mark`, as a step's click is made.
    async fn click_tagged(
        &mut self,
        screen: &Screen,
        st: &Step,
        mark: &str,
    ) -> Result<(), StepErr> {
        let hit = Hit {
            mark: mark.to_string(),
            found: Found::default(),
        };
        self.click_through_alerts(screen, st, &hit).await
    }

    /// Whether the pick took: the hidden `<select>` holds the option, or
    /// (a widget over none) the box reads it.
    async fn took(
        &mut self,
        screen: &Screen,
        st: &Step,
        (mark, boxm): (&str, &str),
        pos: Option<usize>,
        label: &str,
    ) -> Result<(), StepErr> {
        let deadline = Instant::now() + TAKE_WAIT;
        loop {
            let ok = match pos {
                Some(p) => page::selected_index(self.s.c, mark).await? == Some(p),
                None => widget::shows(self.s.c, boxm)
                    .await?
                    .is_some_and(|s| s.contains(label)),
            };
            if ok {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let what =
                    format!("picked \"{label}\" in the dropdown widget, but the pick did not take");
                return Err(Drift::at_step(&screen.label, &st.label, what).into());
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
    }
}
