//! The batch CSV: columns, per-row validation with line and column, duplicate
//! detection and the provider lists, all before any browser starts.

use crate::flow::inputs::{Given, InputProblem};
use crate::flow::suggest::hint;
use crate::flow::{Flow, Input};
use crate::redact::Secret;
use std::collections::HashMap;
use std::sync::Arc;

/// Columns any bundled flow understands (README); a flow's own inputs are allowed too.
pub const STANDARD_COLUMNS: &[&str] = &[
    "gstin",
    "trade_name",
    "mobile",
    "email",
    "through",
    "provider",
    "client_id",
    "api_username",
    "portal_username",
    "other_gstin",
];

#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub given: Vec<Given>,
    pub values: HashMap<String, String>,
}

impl Row {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.values
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    /// The row's GSTIN, upper case.
    pub fn gstin(&self) -> String {
        self.get("gstin").unwrap_or("").to_uppercase()
    }
    /// One credential per GSTIN per provider (or route).
    pub fn key(&self) -> String {
        let provider = self
            .get("provider")
            .or(self.get("other_gstin"))
            .or(self.get("through"))
            .unwrap_or("");
        format!(
            "{}|{}",
            self.get("gstin").unwrap_or("").to_uppercase(),
            provider.to_lowercase()
        )
    }
}

/// The GSP and ERP names the portal's dropdowns list.
#[derive(Debug, Clone, serde::Deserialize, Default)]
pub struct Providers {
    /// GSPs.
    pub gsp: Vec<String>,
    /// ERPs.
    pub erp: Vec<String>,
}

/// Why the batch's input files could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    /// The provider list is not valid TOML of the expected shape.
    #[error("{file}")]
    Providers {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
    /// The CSV could not be read.
    #[error("{file}")]
    Csv {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// The header names columns no flow understands (one line each).
    #[error("{}", .0.join("\n"))]
    Header(Vec<String>),
}

impl Providers {
    /// Parses a provider list; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Providers, RowsError> {
        toml::from_str(text).map_err(|source| RowsError::Providers {
            file: file.into(),
            source,
        })
    }
}

/// Every row of the CSV, with every problem found.
pub struct Loaded {
    /// All rows, valid or not, in file order.
    pub rows: Vec<Row>,
    /// Every problem, naming file, line and column.
    pub problems: Vec<InputProblem>,
    /// Lines with a problem (for --skip-invalid).
    pub bad_lines: Vec<usize>,
    /// What looks wrong but may not be: a provider the bundled list does
    /// not have (the portal's dropdown is the real check).
    pub warnings: Vec<InputProblem>,
}

/// Parses and validates every row of the CSV text; `file` names it. A
/// provider missing from `providers` is a warning, or with
/// `strict_providers` a problem.
pub fn parse(
    flows: &[Arc<Flow>],
    file: &str,
    text: &str,
    providers: &Providers,
    strict_providers: bool,
) -> Result<Loaded, RowsError> {
    let csv_err = |source| RowsError::Csv {
        file: file.to_string(),
        source,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(normalise_header)
        .collect();
    check_header(flows, file, &headers)?;
    let mut out = Loaded {
        rows: vec![],
        problems: vec![],
        bad_lines: vec![],
        warnings: vec![],
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let starts = line_starts(text);
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        let row = row_of(flows, (file, text), &headers, &rec, &starts);
        let before = out.problems.len();
        out.problems.extend(row_problems(flows, file, &row));
        let unlisted = unlisted_provider(flows, file, &row, providers);
        match strict_providers {
            true => out.problems.extend(unlisted),
            false => out.warnings.extend(unlisted),
        }
        if out.problems.len() == before {
            if let Some(p) = duplicate(&mut seen, file, &row) {
                out.problems.push(p);
            }
        }
        if out.problems.len() > before {
            out.bad_lines.push(row.line);
        }
        out.rows.push(row);
    }
    Ok(out)
}

/// A header as a column name: "Portal Username", "portal-username" and
/// " PORTAL_USERNAME" are all `portal_username`; Excel's byte-order mark goes.
fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// The input `name` of the first of `flows` that has one (a chain's flows
/// share input names: what one makes, the next takes).
fn input_of<'a>(flows: &'a [Arc<Flow>], name: &str) -> Option<&'a Input> {
    flows.iter().find_map(|f| f.input(name))
}

/// Every column must be one a flow understands, and none a secret.
fn check_header(flows: &[Arc<Flow>], file: &str, headers: &[String]) -> Result<(), RowsError> {
    let mut allowed: Vec<&str> = STANDARD_COLUMNS.to_vec();
    for i in flows.iter().flat_map(|f| &f.inputs) {
        if !i.is_secret() && !allowed.contains(&i.name.as_str()) {
            allowed.push(&i.name);
        }
    }
    let mut errors = vec![];
    for (c, h) in headers.iter().enumerate() {
        if input_of(flows, h).is_some_and(|i| i.is_secret()) {
            errors.push(format!("{file}:1: column {} `{h}` is a secret; secrets never go in a CSV. Put API passwords in --secrets FILE under [api_password], or leave them out to have them generated", c + 1));
        } else if !allowed.contains(&h.as_str()) {
            errors.push(format!(
                "{file}:1: unknown column {} `{h}`: {}",
                c + 1,
                hint(h, &allowed)
            ));
        }
    }
    if !headers.iter().any(|h| h == "gstin") {
        errors.push(format!(
            "{file}:1: no `gstin` column; the header must name the columns (gstin, ...)"
        ));
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(RowsError::Header(errors)),
    }
}

/// Where each line starts, whatever ends it (`\n`, `\r\n` as Excel on
/// Windows writes, or a lone `\r`): the csv crate's own line count is off
/// for CRLF files.
fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut v = vec![0];
    for (i, c) in b.iter().enumerate() {
        let ends = *c == b'\n' || (*c == b'\r' && b.get(i + 1) != Some(&b'\n'));
        if ends {
            v.push(i + 1);
        }
    }
    v
}

fn row_of(
    flows: &[Arc<Flow>],
    (file, text): (&str, &str),
    headers: &[String],
    rec: &csv::StringRecord,
    starts: &[usize],
) -> Row {
    // A record's position may be the line ending (or blank lines) before it.
    let from = rec.position().map_or(0, |p| p.byte() as usize);
    let byte = text
        .get(from..)
        .and_then(|t| t.find(|c| c != '\r' && c != '\n'))
        .map_or(from, |skip| from + skip);
    let line = starts.partition_point(|s| *s <= byte);
    let mut values = HashMap::new();
    let mut given = vec![];
    for (h, v) in headers.iter().zip(rec.iter()) {
        values.insert(h.clone(), v.to_string());
        if input_of(flows, h).is_some() && !v.is_empty() {
            given.push(Given {
                name: h.clone(),
                value: v.to_string(),
                source: format!("{file}:{line} column {h}"),
            });
        }
    }
    Row {
        line,
        given,
        values,
    }
}

/// What a run would refuse in this row, for every flow of the chain (no
/// secrets are needed to tell). A column two flows refuse is one problem.
fn row_problems(flows: &[Arc<Flow>], file: &str, row: &Row) -> Vec<InputProblem> {
    let line = row.line;
    let mut problems: Vec<InputProblem> = vec![];
    let no_secrets = |_: &Flow, _: &str, _: bool| Some(Secret::new(String::new()));
    if let Err(ps) = crate::chained::resolve(flows, &row.given, no_secrets) {
        for mut p in ps {
            if p.source == "inputs" {
                p.source = format!("{file}:{line} column {}", p.input);
                p.fix = format!("fill the `{}` column", p.input);
            }
            let same = |q: &InputProblem| q.input == p.input && q.source == p.source;
            if !problems.iter().any(same) {
                problems.push(p);
            }
        }
    }
    problems
}

/// A provider the portal's list for the row's route does not have.
fn unlisted_provider(
    flows: &[Arc<Flow>],
    file: &str,
    row: &Row,
    providers: &Providers,
) -> Option<InputProblem> {
    let p = row.get("provider")?;
    let through = row
        .get("through")
        .map(str::to_lowercase)
        .or_else(|| input_of(flows, "through").and_then(|i| i.default.clone()))
        .unwrap_or_default();
    let list: Vec<&str> = match through.as_str() {
        "gsp" => providers.gsp.iter().map(String::as_str).collect(),
        "erp" => providers.erp.iter().map(String::as_str).collect(),
        _ => vec![],
    };
    if list.is_empty() || list.contains(&p) {
        return None;
    }
    Some(InputProblem {
        source: format!("{file}:{} column provider", row.line),
        input: "provider".into(),
        message: format!("\"{p}\" is not a {} the portal lists", through.to_uppercase()),
        fix: match crate::flow::suggest::did_you_mean(p, list.iter().copied()) {
            Some(c) => format!("did you mean \"{c}\"? (names must match the portal's dropdown exactly; the run checks the dropdown itself)"),
            None => "use the name exactly as the portal's dropdown shows it (fixtures/providers.toml, or --providers FILE); the run checks the dropdown itself".into(),
        },
    })
}

/// The second row for the same GSTIN and provider.
fn duplicate(seen: &mut HashMap<String, usize>, file: &str, row: &Row) -> Option<InputProblem> {
    let key = row.key();
    let Some(first) = seen.get(&key) else {
        seen.insert(key, row.line);
        return None;
    };
    Some(InputProblem {
        source: format!("{file}:{}", row.line),
        input: "gstin".into(),
        message: format!("duplicates line {first} (same GSTIN and provider)"),
        fix: "remove one of the two rows; a GSTIN gets one API user per provider".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Vec<Arc<Flow>> {
        let b = &crate::flow::bundled::BUNDLED[0];
        vec![Arc::new(
            crate::flow::load_str(&b.shown(), b.text).unwrap().0,
        )]
    }

    fn providers() -> Providers {
        Providers::parse("p.toml", include_str!("../../fixtures/providers.toml")).unwrap()
    }

    #[test]
    fn headers_match_ignoring_case_spaces_and_a_bom() {
        for h in [
            "Portal Username",
            "\u{feff}portal-username",
            " PORTAL_USERNAME ",
            "portal  username",
        ] {
            assert_eq!(normalise_header(h), "portal_username", "{h:?}");
        }
        let csv = "\u{feff}GSTIN,Portal Username,Through,Provider,API Username\n27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udaytera\n";
        let l = parse(&flow(), "b.csv", csv, &providers(), false).unwrap();
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(l.rows[0].get("portal_username"), Some("udaytrd01"));
    }

    #[test]
    fn crlf_lines_are_numbered_as_an_editor_shows_them() {
        let csv = "gstin,portal_username,through,provider,api_username\r\n\
                   27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udaytera\r\n\
                   \r\n\
                   27AAPFU0939F1ZX,udaytrd01,gsp,Tera Software Limited,udaytera2\r\n";
        let l = parse(&flow(), "b.csv", csv, &providers(), false).unwrap();
        assert_eq!(
            l.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 4]
        );
        assert_eq!(l.bad_lines, vec![4]);
        let mac = csv.replace("\r\n", "\r");
        let l = parse(&flow(), "b.csv", &mac, &providers(), false).unwrap();
        assert_eq!(
            l.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 4]
        );
        assert!(
            l.problems.iter().all(|p| p.source.starts_with("b.csv:4 ")),
            "{:?}",
            l.problems
        );
    }
}
