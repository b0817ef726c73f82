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
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                top.attrs = attrs(&e)
            }
            Event::Start(e) if e.name().as_ref() == b"testsuite" => suites.push(Suite {
                attrs: attrs(&e),
                cases: vec![],
            }),
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let suite = suites.last_mut().expect("a testcase inside a testsuite");
                suite.cases.push(Case {
                    attrs: attrs(&e),
                    parts: vec![],
                });
            }
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
                    let name = std::str::from_utf8(&r).unwrap();
                    let c = match r.resolve_char_ref().unwrap() {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(name)
                            .expect("a predefined entity")
                            .to_string(),
                    };
                    p.2.push_str(&c);
                }
            }
            Event::End(e) => {
                let tag = e.name().as_ref().to_vec();
                if part.as_ref().is_some_and(|p| p.0.as_bytes() == tag) {
                    let case = suites.last_mut().and_then(|s| s.cases.last_mut());
                    case.expect("a part inside a testcase")
                        .parts
                        .push(part.take().unwrap());
                }
            }
            _ => {}
        }
    }
    (top, suites)
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
