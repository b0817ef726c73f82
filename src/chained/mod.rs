//! Chained flows (`einvreg run A,B`): the flows run in order for one
//! GSTIN, each after the one before ended registered or already
//! registered, and what a flow created (a new login's username and
//! password) becomes the next flows' inputs of the same names.
//!
//! Inputs are resolved for every flow before any browser starts. A secret
//! a later flow needs and nobody gave is taken from the earlier flow that
//! makes it (its generated password); if that flow then finds the
//! credential already there, nothing was made, and the chain stops saying
//! which secret to give.

use crate::events::RunStatus;
use crate::flow::inputs::{self, Given, InputProblem, Resolved};
use crate::flow::Flow;
use crate::redact::Secret;
use std::sync::Arc;

/// The flows a `FLOW` argument names: `A,B` is a chain, anything else one.
pub fn split(arg: &str) -> Vec<&str> {
    arg.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// One flow of a chain and its inputs.
#[derive(Debug, Clone)]
pub struct Link {
    pub flow: Arc<Flow>,
    pub resolved: Resolved,
    /// Secrets no one gave, taken from what an earlier flow will create.
    pub handed: Vec<String>,
}

/// Why two flows cannot be chained.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("`{first}` is for the {a} portal and `{other}` for the {b} portal: chained flows run on one portal")]
    Portals {
        first: String,
        a: &'static str,
        other: String,
        b: &'static str,
    },
}

/// The flows must share a portal: they run on one base URL.
pub fn check(flows: &[Arc<Flow>]) -> Result<(), ChainError> {
    let first = &flows[0];
    match flows.iter().find(|f| f.portal != first.portal) {
        Some(other) => Err(ChainError::Portals {
            first: first.name.clone(),
            a: first.portal.as_str(),
            other: other.name.clone(),
            b: other.portal.as_str(),
        }),
        None => Ok(()),
    }
}

/// Resolves every flow's inputs from the same `given` values (each flow
/// takes the ones it has; a value no flow has is a problem) and secrets
/// from `secret_of(flow, name, needed)`, which is asked as not needed when
/// an earlier flow holds that secret (no one is prompted for it).
pub fn resolve(
    flows: &[Arc<Flow>],
    given: &[Given],
    mut secret_of: impl FnMut(&Flow, &str, bool) -> Option<Secret>,
) -> Result<Vec<Link>, Vec<InputProblem>> {
    if let [flow] = flows {
        let resolved = inputs::resolve(flow, given, |n, need| secret_of(flow, n, need))?;
        let handed = vec![];
        let flow = flow.clone();
        return Ok(vec![Link {
            flow,
            resolved,
            handed,
        }]);
    }
    let mut links: Vec<Link> = vec![];
    let mut problems = vec![];
    let nobody = given
        .iter()
        .filter(|g| flows.iter().all(|f| f.input(&g.name).is_none()));
    for g in nobody {
        let names: Vec<&str> = flows
            .iter()
            .flat_map(|f| f.inputs.iter().map(|i| i.name.as_str()))
            .collect();
        problems.push(InputProblem {
            source: g.source.clone(),
            input: g.name.clone(),
            message: "is not an input of any of these flows".into(),
            fix: crate::flow::suggest::hint(&g.name, &names),
        });
    }
    for flow in flows {
        let mine: Vec<Given> = given
            .iter()
            .filter(|g| flow.input(&g.name).is_some())
            .cloned()
            .collect();
        let mut handed = vec![];
        let resolved = inputs::resolve(flow, &mine, |name, needed| {
            let earlier = links
                .iter()
                .find_map(|l| l.resolved.secrets.get(name).map(|s| (l, s)));
            if let Some(s) = secret_of(flow, name, needed && earlier.is_none()) {
                return Some(s);
            }
            let (link, s) = earlier?;
            // Given there only if made there: handed on from what it creates.
            let makes = link.flow.credentials.as_ref().map(|c| c.password.as_str());
            if makes == Some(name) || link.handed.iter().any(|h| h == name) {
                handed.push(name.to_string());
            }
            Some(s.clone())
        });
        match resolved {
            Ok(resolved) => links.push(Link {
                flow: flow.clone(),
                resolved,
                handed,
            }),
            Err(p) => problems.extend(p),
        }
    }
    match problems.is_empty() {
        true => Ok(links),
        false => Err(problems),
    }
}

/// What the chain does after a flow ended with `status`.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Run the next flow.
    Run,
    /// Stop: the flow did not end registered or already registered.
    Stop,
    /// Stop: the next flow needs secrets only the earlier flow's creation
    /// would have given, and it created nothing.
    Missing(Missing),
}

/// Which secrets a flow lacks because the flow before it made nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Missing {
    /// The flow that found its credential already there.
    pub done: String,
    /// The flow that lacks them.
    pub next: String,
    /// The secrets' input names.
    pub secrets: Vec<String>,
}

impl Missing {
    /// The message, each secret named with where to give it (`give`: how
    /// the command in use takes a secret).
    pub fn explain(&self, give: impl Fn(&str) -> String) -> String {
        let names: Vec<String> = self.secrets.iter().map(|n| give(n)).collect();
        format!(
            "{} found the credential already there, so it made none for {}: give its {}, then run again",
            self.done,
            self.next,
            names.join(" and ")
        )
    }
}

/// Whether `next` runs after `done` ended with `status`; when it made its
/// credentials, they become `next`'s inputs of the same names.
pub fn hand_on(done: &Link, status: RunStatus, next: &mut Link) -> Next {
    match status {
        RunStatus::Registered => {
            take_created(done, next);
            Next::Run
        }
        RunStatus::AlreadyRegistered if next.handed.is_empty() => Next::Run,
        RunStatus::AlreadyRegistered => Next::Missing(Missing {
            done: done.flow.name.clone(),
            next: next.flow.name.clone(),
            secrets: next.handed.clone(),
        }),
        _ => Next::Stop,
    }
}

/// The username and password `done` created, as `next`'s inputs.
fn take_created(done: &Link, next: &mut Link) {
    let Some(c) = &done.flow.credentials else {
        return;
    };
    if let Some(u) = done.resolved.vars.get(&c.username) {
        if next.flow.input(&c.username).is_some() {
            next.resolved.vars.insert(c.username.clone(), u.clone());
        }
    }
    if let Some(p) = done.resolved.secrets.get(&c.password) {
        if next.flow.input(&c.password).is_some() {
            next.resolved.secrets.insert(c.password.clone(), p.clone());
        }
    }
}

#[cfg(test)]
mod tests;
