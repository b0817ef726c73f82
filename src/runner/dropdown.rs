//! `select`: a native `<select>`'s option clicked as a person's pick is
//! made; or a dropdown widget (a box that opens a list of items, with or
//! without a search field, over a hidden `<select>` or over none) opened,
//! typed into where it can be, the item that reads the wanted option
//! clicked, and the pick checked.

use super::error::{Drift, StepErr};
use super::leads::Lead;
use super::lookup::Hit;
use super::page::widget::{self, Marks, Opened};
use super::page::{self, Found};
use super::Runner;
use crate::flow::{OptionChoice, Screen, Step};
use std::time::{Duration, Instant};

/// The longest a widget's list may take to open or to filter.
const LIST_WAIT: Duration = Duration::from_secs(5);
/// How long a pick may take to show in the `<select>` or the box.
const TAKE_WAIT: Duration = Duration::from_secs(2);

impl Runner<'_> {
    /// Picks `want` in the tagged dropdown; a missing option is drift
    /// naming the closest label. `read`: its options as the find read
    /// them (else they are read now).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn pick(
        &mut self,
        screen: &Screen,
        st: &Step,
        mark: &str,
        option: &OptionChoice,
        want: &str,
        (lead, token): (Lead<'_>, &str),
        read: Option<Vec<(String, String, serde_json::Value)>>,
    ) -> Result<(), StepErr> {
        let (mut options, mut els) = match read.filter(|r| !r.is_empty()) {
            Some(r) => r.into_iter().map(|(v, l, e)| ((v, l), e)).unzip(),
            None => page::select_options(self.s.scripts(), mark).await?,
        };
        // A dialog opening as the options are read leaves none: sort it, read again.
        for _ in 0..2 {
            if !options.is_empty() || !self.interrupt_alert().await? {
                break;
            }
            (options, els) = page::select_options(self.s.scripts(), mark).await?;
        }
        let Some(pos) = option_position(&options, option, want) else {
            let what = missing_option(&options, want);
            return Err(Drift::at_step(&screen.label, &st.label, what).into());
        };
        // Element Click on an <option> selects it as a person's pick does.
        let opt = self.s.element(mark, els.get(pos)).await?;
        opt.clone().click().await?;
        // An interrupt opening just then may take the click: pick again.
        for _ in 0..2 {
            let picked = match page::selected_index(self.s.scripts(), mark).await {
                Err(e) if page::is_alert_open(&e) => match self.interrupt_alert().await? {
                    true => page::selected_index(self.s.scripts(), mark).await?,
                    false => break,
                },
                r => r?,
            };
            match picked {
                Some(i) if i != pos => {}
                _ => break, // picked, or the page moved on
            }
            self.uncover().await?;
            opt.clone().click().await?;
        }
        self.after_lead(st, lead, token).await.map(|_| ())
    }

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
        let (options, _) = page::select_options(self.s.scripts(), mark).await?;
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
        self.click_through_alerts(screen, st, &hit, "").await
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
                Some(p) => page::selected_index(self.s.scripts(), mark).await? == Some(p),
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

/// Where `want` sits among a dropdown's (value, label) options.
pub(super) fn option_position(
    options: &[(String, String)],
    choice: &OptionChoice,
    want: &str,
) -> Option<usize> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let by_value = || options.iter().position(|(v, _)| v == want);
    match choice {
        // A label first; a `fill` on a dropdown may give the value instead.
        OptionChoice::Label(_) => options
            .iter()
            .position(|(_, l)| norm(l) == norm(want))
            .or_else(by_value),
        OptionChoice::Value(_) => by_value(),
    }
}

/// "the dropdown has no option ..." with the closest label.
pub(super) fn missing_option(options: &[(String, String)], want: &str) -> String {
    let labels: Vec<&str> = options
        .iter()
        .filter(|(v, l)| !v.is_empty() && !l.is_empty())
        .map(|(_, l)| l.as_str())
        .collect();
    let close = crate::flow::suggest::did_you_mean(want, labels.iter().copied())
        .map(|c| format!("; did you mean \"{c}\"?"))
        .unwrap_or_default();
    format!(
        "the dropdown has no option \"{want}\" ({} options{close})",
        labels.len()
    )
}
