//! A JSON Schema (draft-07) of the flow language, for TOML editors (taplo,
//! Even Better TOML) to complete and check keys. Built from the parser's own
//! key lists, so the schema and the parser cannot disagree about a key.

use super::keys::{describe, Section};
use super::model::{OUTCOME_KINDS, ROLES};
use super::parse::{
    CREDENTIAL_KEYS, FLOW_KEYS, INPUT_KEYS, INPUT_RULES, INPUT_TYPES, INTERRUPT_KEYS, OUTCOME_KEYS,
    RECOGNISE_KEYS, SCREEN_KEYS, STEP_COMMON, STEP_KINDS,
};
use serde_json::{json, Map, Value};

/// The schema as a JSON value.
pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://einvreg.invalid/flow.schema.json",
        "title": "einvreg flow",
        "description": "A portal's screens: what to expect, fill, click and choose, when to ask a person, and what each outcome looks like (docs/flow-language.md)",
        "type": "object",
        "additionalProperties": false,
        "required": ["flow", "screens"],
        "properties": {
            "flow": titled(
                object(Section::Flow, FLOW_KEYS, &["name", "portal"]),
                "The flow itself: its name, its portal and its defaults"
            ),
            "inputs": {
                "description": "What the flow needs, by name: [inputs.gstin], [inputs.api_password], ...",
                "type": "object",
                "additionalProperties": object(Section::Input, INPUT_KEYS, &["type"])
            },
            "screens": {
                "description": "The portal's screens, in the order a registration meets them",
                "type": "array",
                "items": object(Section::Screen, SCREEN_KEYS, &["id"])
            },
            "interrupts": {
                "description": "Pages that may come up at any moment (notices, popups) and how to close them",
                "type": "array",
                "items": object(Section::Interrupt, INTERRUPT_KEYS, &["id", "recognise"])
            },
            "cleanup": {
                "description": "Steps run after the walk, whatever happened (e.g. log out); best effort",
                "type": "array",
                "items": {"$ref": "#/definitions/step"}
            },
            "outcomes": {
                "description": "What success and each known error look like",
                "type": "array",
                "items": object(Section::Outcome, OUTCOME_KEYS, &["id", "kind"])
            },
        },
        "definitions": {
            "target": {
                "description": "a CSS selector, or xpath:..., text:..., label:..., url:...; a list gives fallbacks tried in order",
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1}
                ]
            },
            "strings": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "duration": {"type": ["string", "integer"], "description": "e.g. 500ms, 20s, 5m, 1m30s"},
            "when": {
                "description": "holds when each named input has one of the given values",
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"$ref": "#/definitions/strings"}
            },
            "step": step(),
        }
    })
}

/// A table with exactly `keys` (each described as `section` has it), of
/// which `required` must be present.
fn object(section: Section, keys: &[&str], required: &[&str]) -> Value {
    let props: Map<String, Value> = keys
        .iter()
        .map(|k| (k.to_string(), described(section, k)))
        .collect();
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
}

/// `v` with a description (draft-07 ignores a `$ref`'s siblings: one is wrapped).
fn titled(mut v: Value, line: &str) -> Value {
    if v.get("$ref").is_some() {
        return json!({"description": line, "allOf": [v]});
    }
    if let Some(map) = v.as_object_mut() {
        map.insert("description".into(), json!(line));
    }
    v
}

/// `key`'s value schema with its line from [`super::keys`].
fn described(section: Section, key: &str) -> Value {
    match describe(section, key) {
        Some(line) => titled(value(key), line),
        None => value(key),
    }
}

/// A step: one kind key (its target or value) plus the common keys and that kind's own.
fn step() -> Value {
    let kinds: Vec<Value> = STEP_KINDS
        .iter()
        .map(|(kind, own)| {
            let mut keys: Vec<&str> = vec![kind];
            keys.extend_from_slice(STEP_COMMON);
            keys.extend_from_slice(own);
            object(Section::Step, &keys, &[kind])
        })
        .collect();
    json!({"oneOf": kinds})
}

/// The schema of a key's value, wherever it appears.
fn value(key: &str) -> Value {
    let r = |d: &str| json!({"$ref": format!("#/definitions/{d}")});
    match key {
        "portal" => json!({"enum": ["sandbox", "production"]}),
        "type" => json!({"enum": INPUT_TYPES}),
        "rule" => json!({"enum": INPUT_RULES}),
        "role" => json!({"enum": ROLES}),
        "kind" => json!({"enum": OUTCOME_KINDS}),
        "action" => json!({"enum": ["accept", "dismiss"]}),
        "timeout" | "rotates" | "settled" => r("duration"),
        "when" | "required_when" => r("when"),
        "optional" | "required" | "strict" | "generate" | "fast" | "barrier" | "submits"
        | "navigates" | "absent" | "reload" => json!({"type": "boolean"}),
        "max_retries" => json!({"type": "integer", "minimum": 0}),
        "language" => json!({"type": "integer", "minimum": 1, "maximum": super::model::LANGUAGE}),
        "origins" | "values" | "screens" | "texts" => r("strings"),
        "credentials" => object(Section::Credentials, CREDENTIAL_KEYS, &[]),
        "recognise" => object(Section::Recognise, RECOGNISE_KEYS, &[]),
        "elements" => json!({"type": "array", "items": r("target")}),
        "steps" => json!({"type": "array", "items": r("step")}),
        "wait_for" | "fill" | "fill_secret" | "click" | "choose" | "select" | "captcha" | "otp"
        | "expect" | "input" | "refresh" | "resend" | "element" | "capture" => r("target"),
        "default" => json!({"type": ["string", "boolean", "integer"]}),
        _ => json!({"type": "string"}),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every property of every table, wherever it sits, has a description.
    fn undescribed(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (k, p) in props {
                        if p.get("description").is_none() {
                            out.push(format!("{path}.{k}"));
                        }
                    }
                }
                for (k, c) in m {
                    undescribed(c, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| undescribed(c, path, out)),
            _ => {}
        }
    }

    #[test]
    fn every_key_has_a_description_for_editors() {
        let mut missing = vec![];
        undescribed(&super::schema(), "", &mut missing);
        assert!(
            missing.is_empty(),
            "keys without a description: {missing:?}"
        );
    }

    #[test]
    fn every_parser_key_is_in_the_schema() {
        let s = super::schema().to_string();
        for (kind, own) in super::STEP_KINDS {
            assert!(s.contains(&format!("\"{kind}\"")), "{kind}");
            for k in *own {
                assert!(s.contains(&format!("\"{k}\"")), "{k}");
            }
        }
    }
}
