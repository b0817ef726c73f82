//! One `[[screens]]` table and its steps.

use super::step::step;
use super::*;

/// Which list a screen table is in: the walk's screens, or the interrupts
/// that may show anywhere (the same shape, fewer keys).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Screens,
    Interrupts,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Screens => "screens",
            Section::Interrupts => "interrupts",
        }
    }
}

pub(super) fn screen(p: &mut P, section: Section, n: usize, v: &Sv) -> Option<Screen> {
    let list = section.name();
    let o = Obj::of(p, v, format!("{list}[{n}]"))?;
    let keys = match section {
        Section::Screens => SCREEN_KEYS,
        Section::Interrupts => INTERRUPT_KEYS,
    };
    o.check_keys(p, keys, &[]);
    let id = o
        .req_str(p, "id", "give every screen a short id, e.g. id = \"login\"")
        .map(|x| x.0)
        .unwrap_or_else(|| format!("#{n}"));
    let what = match section {
        Section::Screens => format!("screen `{id}`"),
        Section::Interrupts => format!("interrupt `{id}`"),
    };
    let label = o
        .req_str(
            p,
            "label",
            "add label = \"...\" naming the page as a person sees it",
        )
        .map(|x| x.0)
        .unwrap_or_default();
    let optional = o.bool(p, "optional");
    let when = o.get("when").and_then(|v| condition(p, v, &what));
    let timeout = duration(p, &o, "timeout");
    let recognise = match o.get("recognise") {
        Some(rv) => match Obj::of(p, rv, format!("{list}[{n}].recognise")) {
            Some(r) => {
                r.check_keys(p, RECOGNISE_KEYS, &[]);
                let url = r.str(p, "url").map(|x| x.0);
                let elements = match r.get("elements") {
                    Some(ev) => match ev.get_ref() {
                        DeValue::Array(a) => a
                            .iter()
                            .filter_map(|e| targets(p, e, &format!("recognise.elements of {what}")))
                            .collect(),
                        _ => targets(p, ev, &format!("recognise.elements of {what}"))
                            .into_iter()
                            .collect(),
                    },
                    None => vec![],
                };
                let texts = r.strings(p, "texts").into_iter().map(|x| x.0).collect();
                let alert = r.str(p, "alert").map(|x| Pattern::new(x.0));
                Recognise {
                    url,
                    elements,
                    texts,
                    alert,
                }
            }
            None => Recognise {
                url: None,
                elements: vec![],
                texts: vec![],
                alert: None,
            },
        },
        None => {
            p.err(
                &o.span,
                format!("{what} has no [{list}.recognise]"),
                "say how to know the page: recognise = { url = \"/path\", elements = [\"#id\"] }",
            );
            Recognise {
                url: None,
                elements: vec![],
                texts: vec![],
                alert: None,
            }
        }
    };
    let mut steps = vec![];
    if let Some(sv) = o.get("steps") {
        for (i, s) in array_of_tables(p, sv, &format!("{list}.steps"))
            .into_iter()
            .enumerate()
        {
            if let Some(s) = step(p, &id, i, s) {
                steps.push(s);
            }
        }
    }
    Some(Screen {
        id,
        label,
        loc: p.loc(&v.span()),
        optional,
        when,
        timeout,
        recognise,
        steps,
    })
}
