//! Helpers over spanned TOML values: typed getters that report what is
//! wrong where, durations, targets, templates and conditions.

use super::*;

pub(super) struct Obj<'a, 'i> {
    pub(super) map: &'a DeTable<'i>,
    pub(super) span: Range<usize>,
    pub(super) what: String,
}

pub(super) fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Obj<'a, 'i> {
    pub(super) fn of(p: &mut P, v: &'a Sv<'i>, what: impl Into<String>) -> Option<Self> {
        let what = what.into();
        match v.get_ref() {
            DeValue::Table(t) => Some(Obj {
                map: t,
                span: v.span(),
                what,
            }),
            other => {
                p.err(
                    &v.span(),
                    format!("{what} must be a table, found {}", type_name(other)),
                    format!("write it as [{what}] with keys below it"),
                );
                None
            }
        }
    }
    pub(super) fn check_keys(&self, p: &mut P, allowed: &[&str], extra_hints: &[&str]) {
        for (k, _) in self.map.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let mut all: Vec<&str> = allowed.to_vec();
                all.extend_from_slice(extra_hints);
                p.err(
                    &k.span(),
                    format!("unknown key `{key}` in {}", self.what),
                    hint(key, &all),
                );
            }
        }
    }
    pub(super) fn get(&self, k: &str) -> Option<&'a Sv<'i>> {
        self.map.get(k)
    }
    pub(super) fn key_span(&self, k: &str) -> Range<usize> {
        self.map
            .get_key_value(k)
            .map(|(k, _)| k.span())
            .unwrap_or(self.span.clone())
    }
    pub(super) fn str(&self, p: &mut P, k: &str) -> Option<(String, Range<usize>)> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            other => {
                p.err(
                    &v.span(),
                    format!(
                        "`{k}` in {} must be a string, found {}",
                        self.what,
                        type_name(other)
                    ),
                    format!("write {k} = \"...\""),
                );
                None
            }
        }
    }
    pub(super) fn req_str(&self, p: &mut P, k: &str, help: &str) -> Option<(String, Range<usize>)> {
        if self.get(k).is_none() {
            p.err(
                &self.span,
                format!("{} is missing `{k}`", self.what),
                help.to_string(),
            );
            return None;
        }
        self.str(p, k)
    }
    pub(super) fn bool(&self, p: &mut P, k: &str) -> bool {
        let Some(v) = self.get(k) else { return false };
        match v.get_ref() {
            DeValue::Boolean(b) => *b,
            other => {
                p.err(
                    &v.span(),
                    format!(
                        "`{k}` in {} must be true or false, found {}",
                        self.what,
                        type_name(other)
                    ),
                    format!("write {k} = true"),
                );
                false
            }
        }
    }
    pub(super) fn int(&self, p: &mut P, k: &str) -> Option<i64> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => Some(n),
                    Err(_) => {
                        p.err(
                            &v.span(),
                            format!("`{k}` is not a whole number"),
                            "write a plain number such as 3",
                        );
                        None
                    }
                }
            }
            other => {
                p.err(
                    &v.span(),
                    format!(
                        "`{k}` in {} must be a whole number, found {}",
                        self.what,
                        type_name(other)
                    ),
                    format!("write {k} = 3"),
                );
                None
            }
        }
    }
    pub(super) fn strings(&self, p: &mut P, k: &str) -> Vec<(String, Range<usize>)> {
        let Some(v) = self.get(k) else { return vec![] };
        strings_of(p, v, &format!("`{k}` in {}", self.what))
    }
}

pub(super) fn strings_of(p: &mut P, v: &Sv, what: &str) -> Vec<(String, Range<usize>)> {
    match v.get_ref() {
        DeValue::String(s) => vec![(s.to_string(), v.span())],
        DeValue::Array(a) => {
            let mut out = vec![];
            for item in a.iter() {
                match item.get_ref() {
                    DeValue::String(s) => out.push((s.to_string(), item.span())),
                    other => p.err(
                        &item.span(),
                        format!("{what} must list strings, found {}", type_name(other)),
                        "quote each entry: [\"a\", \"b\"]",
                    ),
                }
            }
            out
        }
        other => {
            p.err(
                &v.span(),
                format!(
                    "{what} must be a string or a list of strings, found {}",
                    type_name(other)
                ),
                "write \"x\" or [\"x\", \"y\"]",
            );
            vec![]
        }
    }
}

/// `20s`, `500ms`, `1.5s`, `5` (seconds), or any humantime form
/// (`1h`, `1m30s`, `2min`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    simple_duration(s.trim()).or_else(|| {
        humantime::parse_duration(s.trim())
            .ok()
            .filter(|d| !d.is_zero())
    })
}

fn simple_duration(s: &str) -> Option<Duration> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    (secs > 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs))
}

pub(super) fn duration(p: &mut P, o: &Obj, k: &str) -> Option<Duration> {
    let v = o.get(k)?;
    let d = match v.get_ref() {
        DeValue::String(s) => parse_duration(s),
        DeValue::Integer(i) => i
            .as_str()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_secs),
        _ => None,
    };
    if d.is_none() {
        p.err(
            &v.span(),
            format!("`{k}` in {} is not a duration", o.what),
            "write a positive duration such as \"10s\", \"500ms\" or \"2m\"",
        );
    }
    d
}

pub(super) fn targets(p: &mut P, v: &Sv, what: &str) -> Option<Targets> {
    let list = strings_of(p, v, what);
    let mut out = vec![];
    for (s, span) in list {
        match Target::parse(&s) {
            Ok(t) => out.push(t),
            Err(e) => p.err(&span, format!("bad target in {what}: {e}"), "targets are CSS selectors, or xpath:..., text:..., url:... (see docs/flow-language.md)"),
        }
    }
    if out.is_empty() {
        if matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
            p.err(
                &v.span(),
                format!("{what} lists no targets"),
                "give at least one selector, the most specific first",
            );
        }
        return None;
    }
    Some(Targets {
        loc: p.loc(&v.span()),
        list: out,
    })
}

pub(super) fn template(p: &mut P, s: &str, span: &Range<usize>, what: &str) -> Option<Template> {
    match Template::parse(s) {
        Ok(t) => Some(t),
        Err((off, msg)) => {
            // +1 steps over the opening quote of a basic string.
            let span = span.start + 1 + off..span.end;
            p.err(
                &span,
                format!("bad template in {what}: {msg}"),
                "write ${name} for a variable, $${ for a literal ${",
            );
            None
        }
    }
}

pub(super) fn condition(p: &mut P, v: &Sv, what: &str) -> Option<Condition> {
    let DeValue::Table(t) = v.get_ref() else {
        p.err(
            &v.span(),
            format!("`when` in {what} must be a table such as {{ through = \"erp\" }}"),
            "write when = { input = \"value\" } or { input = [\"a\", \"b\"] }",
        );
        return None;
    };
    let mut clauses = vec![];
    for (k, val) in t.iter() {
        let any_of: Vec<String> = strings_of(p, val, &format!("`when.{}` in {what}", k.get_ref()))
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        clauses.push(Clause {
            input: k.get_ref().to_string(),
            loc: p.loc(&k.span()),
            any_of,
        });
    }
    if clauses.is_empty() {
        p.err(
            &v.span(),
            format!("`when` in {what} is empty, so it always holds"),
            "remove it, or name an input: when = { through = \"erp\" }",
        );
        return None;
    }
    Some(Condition {
        loc: p.loc(&v.span()),
        clauses,
    })
}

pub(super) fn array_of_tables<'a, 'i>(p: &mut P, v: &'a Sv<'i>, what: &str) -> Vec<&'a Sv<'i>> {
    match v.get_ref() {
        DeValue::Array(a) => a.iter().collect(),
        other => {
            p.err(
                &v.span(),
                format!(
                    "`{what}` must be an array of tables, found {}",
                    type_name(other)
                ),
                format!("write each entry as [[{what}]]"),
            );
            vec![]
        }
    }
}
