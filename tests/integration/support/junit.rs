//! A JUnit report read back as a CI server reads it: parsed XML, every
//! text and attribute unescaped.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;

/// One `<testsuites>` or `<testsuite>`, with its test cases.
#[derive(Debug, Default)]
pub struct Suite {
    pub attrs: HashMap<String, String>,
    pub cases: Vec<Case>,
    /// Its own `system-out` (not a test case's).
    pub out: String,
}

/// One `<testcase>`: its attributes and what it holds.
#[derive(Debug, Default)]
pub struct Case {
    pub attrs: HashMap<String, String>,
    /// `failure`, `error` or `system-out`: its attributes and its text.
    pub parts: Vec<(String, HashMap<String, String>, String)>,
}

impl Case {
    /// This case's `failure` or `error`, if it has one.
    pub fn problem(&self) -> Option<&(String, HashMap<String, String>, String)> {
        self.parts
            .iter()
            .find(|(tag, _, _)| tag == "failure" || tag == "error")
    }

    /// Its `time` attribute, in seconds.
    pub fn time(&self) -> f64 {
        self.attrs["time"]
            .parse()
            .expect("a testcase's time is a number")
    }
}

/// The report as (the `<testsuites>` element, each `<testsuite>`); panics
/// on XML a CI server would refuse.
pub fn parse(xml: &str) -> (Suite, Vec<Suite>) {
    let mut reader = Reader::from_str(xml);
    let (mut top, mut suites) = (Suite::default(), vec![]);
    let mut part: Option<(String, HashMap<String, String>, String)> = None;
    let mut in_case = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                top.attrs = attrs(&e)
            }
            Event::Start(e) if e.name().as_ref() == b"testsuite" => suites.push(Suite {
                attrs: attrs(&e),
                ..Suite::default()
            }),
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                in_case = true;
                case_in(&mut suites, &e);
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => case_in(&mut suites, &e),
            Event::Start(e) => {
                let tag = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                part = Some((tag, attrs(&e), String::new()));
            }
            Event::Text(t) => {
                if let Some(p) = part.as_mut() {
                    p.2.push_str(&t.decode().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(p) = part.as_mut() {
                    p.2.push_str(&entity(&r));
                }
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => in_case = false,
            Event::End(e) => {
                let tag = e.name().as_ref().to_vec();
                if part.as_ref().is_some_and(|p| p.0.as_bytes() == tag) {
                    let p = part.take().unwrap();
                    let suite = suites.last_mut().expect("a part inside a testsuite");
                    match in_case {
                        true => suite.cases.last_mut().unwrap().parts.push(p),
                        false => suite.out.push_str(&p.2),
                    }
                }
            }
            _ => {}
        }
    }
    (top, suites)
}

fn case_in(suites: &mut [Suite], e: &BytesStart) {
    let suite = suites.last_mut().expect("a testcase inside a testsuite");
    suite.cases.push(Case {
        attrs: attrs(e),
        parts: vec![],
    });
}

/// `&amp;`, `&#10;` and the like, resolved.
fn entity(r: &quick_xml::events::BytesRef) -> String {
    match r.resolve_char_ref().unwrap() {
        Some(c) => c.to_string(),
        None => {
            let name = std::str::from_utf8(r).unwrap();
            let text = quick_xml::escape::resolve_predefined_entity(name);
            text.expect("a predefined entity").to_string()
        }
    }
}

fn attrs(e: &BytesStart) -> HashMap<String, String> {
    e.attributes()
        .map(|a| {
            let a = a.expect("a well-formed attribute");
            let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
            let v = a
                .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                .unwrap();
            (key, v.into_owned())
        })
        .collect()
}
