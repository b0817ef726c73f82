//! Where a page script runs. In a row's own tab of a shared browser the
//! scripts go over BiDi ([script.callFunction](https://w3c.github.io/webdriver-bidi/#command-script-callFunction)):
//! chromedriver relays it as it is, where classic Execute Script costs
//! four more DevTools round trips (its checks for a pending navigation
//! before and after). Anything BiDi cannot answer as classic would (a
//! dialog open or opening, the page moving on, an exception) is asked
//! again the classic way, which says what happened as the walk knows it.

use crate::driver::bidi::BidiError;
use crate::driver::Scope;
use fantoccini::error::CmdError;
use fantoccini::Client;
use serde_json::Value;

/// The classic element reference's key (<https://www.w3.org/TR/webdriver2/#elements>).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Runs page scripts: over BiDi where `via` is set, else classic.
#[derive(Clone, Copy)]
pub struct Scripts<'a> {
    pub c: &'a Client,
    /// The row's tab, when the walk is in it (not in a frame or a
    /// window a step opened).
    pub via: Option<&'a Scope>,
}

impl<'a> Scripts<'a> {
    /// [Execute Async Script](https://www.w3.org/TR/webdriver2/#execute-async-script)'s
    /// answer for `js` (a function body whose last argument is `done`).
    pub async fn execute_async(&self, js: &str, args: Vec<Value>) -> Result<Value, CmdError> {
        if let Some(v) = self.over_bidi(js, &args, true).await {
            return Ok(v);
        }
        self.c.execute_async(js, args).await
    }

    /// [Execute Script](https://www.w3.org/TR/webdriver2/#execute-script)'s
    /// answer for `js` (a function body that returns).
    pub async fn execute(&self, js: &str, args: Vec<Value>) -> Result<Value, CmdError> {
        if let Some(v) = self.over_bidi(js, &args, false).await {
            return Ok(v);
        }
        self.c.execute(js, args).await
    }

    /// The answer over BiDi, or `None` to ask the classic way.
    async fn over_bidi(&self, js: &str, args: &[Value], done_arg: bool) -> Option<Value> {
        let scope = self.via?;
        let arg = serde_json::to_string(args).ok()?;
        match scope.call_function(&wrapped(js, done_arg), &arg).await {
            Ok(Some(v)) => answer_of(&v),
            Ok(None) => None,
            Err(e) => {
                // The code only: an exception's text may quote the page
                // or the arguments (a value being checked).
                let code = match &e {
                    BidiError::Command { error, .. } => error.clone(),
                    other => other.to_string(),
                };
                tracing::trace!(
                    code,
                    "page script over BiDi failed; asked again the classic way"
                );
                None
            }
        }
    }
}

/// `js` as a function of one JSON string (its arguments) whose promise
/// gives `[json, node...]`: the answer as JSON with every element in it
/// replaced by its index among the nodes after it (BiDi hands nodes over
/// as references that classic commands take).
fn wrapped(js: &str, done_arg: bool) -> String {
    let call = if done_arg {
        "args.push(give); (function(){\n".to_string() + js + "\n}).apply(window, args);"
    } else {
        "give((function(){\n".to_string() + js + "\n}).apply(window, args));"
    };
    format!(
        "function(a){{ return new Promise(done => {{ const args = JSON.parse(a); \
         const give = v => {{ const nodes = []; \
         const s = JSON.stringify(v === undefined ? null : v, (k, x) => (x instanceof Node) ? {{__einvregNode: nodes.push(x) - 1}} : x); \
         done([s, ...nodes]); }};\n{call} }}); }}"
    )
}

/// The answer a [`wrapped`] script gave, as classic would give it.
fn answer_of(v: &Value) -> Option<Value> {
    let items = v["value"].as_array()?;
    let json = items.first()?["value"].as_str()?;
    let nodes: Vec<&str> = items[1..]
        .iter()
        .map(|n| n["sharedId"].as_str())
        .collect::<Option<_>>()?;
    let mut out: Value = serde_json::from_str(json).ok()?;
    put_nodes(&mut out, &nodes)?;
    Some(out)
}

/// Replaces each `{__einvregNode: i}` in `v` with the element reference.
fn put_nodes(v: &mut Value, nodes: &[&str]) -> Option<()> {
    match v {
        Value::Object(m) => {
            if let Some(i) = m.get("__einvregNode").and_then(Value::as_u64) {
                let id = nodes.get(usize::try_from(i).ok()?)?;
                *v = serde_json::json!({ ELEMENT_KEY: id });
                return Some(());
            }
            m.values_mut().try_for_each(|x| put_nodes(x, nodes))
        }
        Value::Array(a) => a.iter_mut().try_for_each(|x| put_nodes(x, nodes)),
        _ => Some(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_with_nodes_comes_back_with_element_references() {
        let v = json!({"type": "array", "value": [
            {"type": "string", "value": "{\"index\":0,\"el\":{\"__einvregNode\":0},\"tag\":\"input\"}"},
            {"type": "node", "sharedId": "f.A.d.B.e.7"},
        ]});
        let got = answer_of(&v).unwrap();
        assert_eq!(got["el"][ELEMENT_KEY], "f.A.d.B.e.7");
        assert_eq!(got["tag"], "input");
    }

    #[test]
    fn a_node_index_with_no_node_is_no_answer() {
        let v = json!({"type": "array", "value": [
            {"type": "string", "value": "{\"el\":{\"__einvregNode\":1}}"},
            {"type": "node", "sharedId": "f.A.d.B.e.7"},
        ]});
        assert_eq!(answer_of(&v), None);
    }

    #[test]
    fn anything_but_the_wrapped_shape_is_no_answer() {
        assert_eq!(answer_of(&json!({"type": "null"})), None);
        assert_eq!(
            answer_of(&json!({"type": "array", "value": [{"type": "number", "value": 1}]})),
            None
        );
    }

    #[test]
    fn null_and_plain_answers_pass_through() {
        let v = json!({"type": "array", "value": [{"type": "string", "value": "null"}]});
        assert_eq!(answer_of(&v), Some(Value::Null));
        let v = json!({"type": "array", "value": [{"type": "string", "value": "[1,\"a\",true]"}]});
        assert_eq!(answer_of(&v), Some(json!([1, "a", true])));
    }
}
