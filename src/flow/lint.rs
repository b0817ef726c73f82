//! Checks on a parsed flow: what is well-formed TOML but cannot work.

use super::diag::{Diagnostic, Loc};
use super::model::*;
use super::suggest::hint;
use super::Template;
use std::collections::HashSet;

struct L<'f> {
    flow: &'f Flow,
    out: Vec<Diagnostic>,
    /// Variables captured by the steps seen so far.
    known: HashSet<String>,
    /// Steps marked `submits`.
    submits: usize,
    /// The first step that types a generated secret.
    fills_generated: Option<(Loc, String)>,
    /// Screen ids, looked up once per `then` (a scan each made checking quadratic).
    screen_ids: HashSet<&'f str>,
}

impl L<'_> {
    fn err(&mut self, loc: Loc, msg: impl Into<String>, help: impl Into<String>) {
        self.out
            .push(Diagnostic::error(&self.flow.file, loc, msg, help));
    }
    fn warn(&mut self, loc: Loc, msg: impl Into<String>, help: impl Into<String>) {
        self.out
            .push(Diagnostic::warning(&self.flow.file, loc, msg, help));
    }

    fn input_names(&self) -> Vec<&str> {
        self.flow.inputs.iter().map(|i| i.name.as_str()).collect()
    }

    fn condition(&mut self, c: &Condition, what: &str) {
        for cl in &c.clauses {
            match self.flow.input(&cl.input) {
                None => {
                    let names = self.input_names();
                    self.err(
                        cl.loc,
                        format!(
                            "`when` of {what} names `{}`, which is not a declared input",
                            cl.input
                        ),
                        format!(
                            "{} (declare it under [inputs.{}])",
                            hint(&cl.input, &names),
                            cl.input
                        ),
                    );
                }
                Some(i) if i.is_secret() => self.err(
                    cl.loc,
                    format!("`when` of {what} tests secret `{}`", cl.input),
                    "conditions may not depend on secrets; test a choice or text input",
                ),
                Some(Input {
                    ty: InputType::Choice { values },
                    ..
                }) => {
                    for v in &cl.any_of {
                        if !values.contains(v) {
                            let vals: Vec<&str> = values.iter().map(String::as_str).collect();
                            self.err(cl.loc, format!("`when` of {what} compares `{}` with \"{v}\", a value it never takes, so it can never hold", cl.input), hint(v, &vals));
                        }
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// Every `${var}` must be a non-secret input or captured by an earlier step.
    fn template(&mut self, t: &Template, loc: Loc, what: &str) {
        for v in t.vars() {
            match self.flow.input(v) {
                Some(i) if i.is_secret() => {
                    self.err(loc, format!("{what} uses secret `{v}` in text"), format!("secrets are typed only by fill_secret: use fill_secret with secret = \"{v}\""));
                }
                Some(_) => {}
                None if self.known.contains(v) => {}
                None => {
                    let mut cands: Vec<&str> = self.input_names();
                    cands.extend(self.known.iter().map(String::as_str));
                    let help = format!(
                        "{} (declare [inputs.{v}] or capture it in an earlier step)",
                        hint(v, &cands)
                    );
                    self.err(loc, format!("{what} uses `${{{v}}}`, which is neither an input nor captured before this step"), help);
                }
            }
        }
    }
}

pub fn lint(flow: &Flow) -> Vec<Diagnostic> {
    let mut l = L {
        flow,
        out: vec![],
        known: HashSet::new(),
        submits: 0,
        fills_generated: None,
        screen_ids: flow.screens.iter().map(|s| s.id.as_str()).collect(),
    };
    l.inputs();
    l.credentials();
    l.screens();
    l.interrupts();
    l.cleanup();
    l.outcomes();
    l.roles();
    l.out
}

impl<'f> L<'f> {
    /// A role the earlier language gave by type that no input can be
    /// given now: two inputs fit and none names the role. (A role given by
    /// name or by the one input of its type is kept: `check` notes it.)
    fn roles(&mut self) {
        let flow = self.flow;
        for role in [Role::Gstin, Role::Mobile] {
            let fitting: Vec<&crate::flow::Input> =
                flow.inputs.iter().filter(|i| role.fits(&i.ty)).collect();
            if flow.input_for(role).is_some() || fitting.len() < 2 {
                continue;
            }
            let names: Vec<String> = fitting.iter().map(|i| format!("`{}`", i.name)).collect();
            let what = match role {
                Role::Gstin => "which GSTIN prompts, the vault and reports name",
                _ => "which number the OTP goes to (answer commands get an empty EINVREG_MOBILE)",
            };
            self.warn(
                fitting[0].loc,
                format!(
                    "inputs {} are all of type {r} and none has role = \"{r}\": einvreg cannot tell {what}",
                    names.join(", "),
                    r = role.as_str()
                ),
                format!("add role = \"{}\" to the one that plays it", role.as_str()),
            );
        }
    }

    fn inputs(&mut self) {
        let flow = self.flow;
        let l = self;
        let mut roles: Vec<(Role, &str)> = vec![];
        for i in &flow.inputs {
            if let Some(c) = &i.required_when {
                l.condition(c, &format!("input `{}`", i.name));
            }
            let Some(role) = i.role else { continue };
            match roles.iter().find(|(r, _)| *r == role) {
                Some((_, first)) => l.err(
                    i.loc,
                    format!(
                        "inputs `{first}` and `{}` both play role `{}`",
                        i.name,
                        role.as_str()
                    ),
                    "give the role to one input only",
                ),
                None => roles.push((role, &i.name)),
            }
            if i.is_secret() {
                l.err(
                    i.loc,
                    format!("secret input `{}` cannot play a role", i.name),
                    "roles name what prompts and the vault may show; remove `role`",
                );
            }
        }
    }

    fn credentials(&mut self) {
        let flow = self.flow;
        if let Some((loc, v)) = flow
            .credentials
            .as_ref()
            .and_then(|c| c.created.as_ref().map(|v| (c.loc, v)))
        {
            if !captured(flow, v) {
                self.err(
                    loc,
                    format!("credentials.created names `{v}`, which no outcome or step captures"),
                    format!("capture it with a named group, e.g. alert = \"Api user (?P<{v}>API_\\\\S+) has been created\""),
                );
            }
        }
        let l = self;
        if let Some(c) = &flow.credentials {
            for (what, name) in [
                ("username", Some(&c.username)),
                ("password", Some(&c.password)),
                ("provider", c.provider.as_ref()),
            ] {
                let Some(name) = name else { continue };
                match flow.input(name) {
                    None => {
                        let names = l.input_names();
                        l.err(
                            c.loc,
                            format!(
                                "credentials.{what} names `{name}`, which is not a declared input"
                            ),
                            hint(name, &names),
                        );
                    }
                    Some(i) if what == "password" && !i.is_secret() => l.err(
                        c.loc,
                        format!("credentials.password names `{name}`, which is not a secret input"),
                        "make it type = \"secret\"",
                    ),
                    Some(i) if what != "password" && i.is_secret() => l.err(
                        c.loc,
                        format!("credentials.{what} names secret `{name}`"),
                        "only the password is a secret",
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    fn screens(&mut self) {
        let flow = self.flow;
        let mut seen = HashSet::new();
        for s in &flow.screens {
            self.screen(s, &mut seen);
            for st in &s.steps {
                self.step(&format!("screen `{}`", s.id), st);
            }
        }
        let l = self;
        if let Some((loc, secret)) = l.fills_generated.clone() {
            if l.submits == 0 {
                l.err(loc, format!("the flow types generated secret `{secret}` but no step has `submits = true`"), "mark the click that creates the credentials with submits = true, so the vault is written before it");
            }
        }
    }

    fn screen(&mut self, s: &'f Screen, seen: &mut HashSet<&'f str>) {
        let l = self;
        if !seen.insert(s.id.as_str()) {
            l.err(
                s.loc,
                format!("screen id `{}` is used twice", s.id),
                "give each screen its own id; retries and outcomes refer to screens by id",
            );
        }
        if let Some(c) = &s.when {
            l.condition(c, &format!("screen `{}`", s.id));
        }
        let r = &s.recognise;
        if r.url.is_none() && r.elements.is_empty() && r.texts.is_empty() && r.alert.is_none() {
            l.err(
                s.loc,
                format!("screen `{}` has nothing to recognise it by", s.id),
                "add recognise.url, recognise.elements or recognise.texts",
            );
        }
        if let Some(a) = &r.alert {
            if let Some(e) = a.error() {
                l.err(
                    s.loc,
                    format!(
                        "recognise.alert of screen `{}` is not a valid regex: {}",
                        s.id,
                        super::diag::regex_error(e)
                    ),
                    "escape ( ) . ? * + with a backslash",
                );
            }
        }
    }

    fn step(&mut self, owner: &str, st: &Step) {
        let flow = self.flow;
        let l = self;
        let what = format!("step \"{}\" of {owner}", st.label);
        if let Some(c) = &st.when {
            l.condition(c, &what);
        }
        l.then(st, &what);
        if let StepKind::Fill {
            keep_prefix: Some(p),
            ..
        } = &st.kind
        {
            if p.is_empty() {
                l.err(st.loc, format!("`keep_prefix` of {what} is empty"), "write the text the page puts in the box, e.g. keep_prefix = \"API_\", or remove it");
            }
        }
        if st.submits {
            l.submits += 1;
        }
        match &st.kind {
            StepKind::Goto { url, .. } => l.template(url, st.loc, &what),
            StepKind::Fill { value, .. } => l.template(value, st.loc, &what),
            StepKind::Select { option: OptionChoice::Label(t) | OptionChoice::Value(t), .. } => l.template(t, st.loc, &what),
            StepKind::Otp { prompt, .. } => l.template(prompt, st.loc, &what),
            StepKind::Expect { text: Some(t), .. } => l.template(t, st.loc, &what),
            StepKind::FillSecret { secret, .. } => match flow.input(secret) {
                None => {
                    let secrets: Vec<&str> = flow.inputs.iter().filter(|i| i.is_secret()).map(|i| i.name.as_str()).collect();
                    l.err(st.loc, format!("{what} fills secret `{secret}`, which is not a declared input"), format!("{} (declare [inputs.{secret}] with type = \"secret\")", hint(secret, &secrets)));
                }
                Some(i) if !i.is_secret() => l.err(st.loc, format!("{what} uses fill_secret for `{secret}`, which is a {} input", i.ty.name()), "use fill with value = \"${...}\" for ordinary inputs, or make the input type = \"secret\""),
                Some(Input { ty: InputType::Secret { generate: true }, .. }) => l.fills_generated = l.fills_generated.clone().or(Some((st.loc, secret.clone()))),
                Some(_) => {}
            },
            StepKind::Capture { into, pattern, .. } => {
                if flow.input(into).is_some() {
                    l.err(st.loc, format!("{what} captures into `{into}`, which is an input"), "capture into a new name; inputs are never overwritten");
                }
                if let Some(p) = pattern {
                    if let Some(e) = p.error() {
                        l.err(st.loc, format!("`pattern` of {what} is not a valid regex: {}", super::diag::regex_error(e)), "fix the regular expression");
                    }
                }
                l.known.insert(into.clone());
            }
            StepKind::Alert { pattern, capture: Some(into), .. } => {
                if flow.input(into).is_some() {
                    l.err(st.loc, format!("{what} captures into `{into}`, which is an input"), "capture into a new name; inputs are never overwritten");
                }
                if pattern.regex().is_some_and(|r| r.captures_len() < 2) {
                    l.err(st.loc, format!("{what} captures `{into}` but its pattern has no ( ) group"), "put the part to keep in parentheses, e.g. \"user (API_\\\\w+) has been created\"");
                }
                l.known.insert(into.clone());
            }
            _ => {}
        }
    }

    /// `then` names a screen of the walk, and is not given with `navigates`.
    fn then(&mut self, st: &Step, what: &str) {
        let Some(to) = st.kind.then() else { return };
        let navigates = matches!(
            &st.kind,
            StepKind::Click {
                navigates: true,
                ..
            } | StepKind::Choose {
                navigates: true,
                ..
            } | StepKind::Select {
                navigates: true,
                ..
            }
        );
        if navigates {
            self.err(
                st.loc,
                format!("{what} has both `navigates` and `then`"),
                "keep `then`: it waits for that screen whether or not a page loads",
            );
        }
        if !self.screen_ids.contains(to) {
            let ids: Vec<&str> = self.flow.screens.iter().map(|s| s.id.as_str()).collect();
            self.err(
                st.loc,
                format!("`then` of {what} names screen `{to}`, which does not exist"),
                hint(to, &ids),
            );
        }
    }

    /// Interrupts: recognisable by something that is not always there,
    /// and made of steps that can run anywhere.
    fn interrupts(&mut self) {
        let flow = self.flow;
        let mut seen: HashSet<&str> = flow.screens.iter().map(|s| s.id.as_str()).collect();
        for s in &flow.interrupts {
            let what = format!("interrupt `{}`", s.id);
            if !seen.insert(s.id.as_str()) {
                self.err(
                    s.loc,
                    format!("{what} reuses an id"),
                    "give each screen and interrupt its own id",
                );
            }
            if let Some(c) = &s.when {
                self.condition(c, &what);
            }
            let r = &s.recognise;
            if r.elements.is_empty() && r.texts.is_empty() && r.alert.is_none() {
                self.err(s.loc, format!("{what} has nothing to recognise it by but its address"), "an interrupt shows over other pages: recognise it by elements, texts or an alert");
            }
            for st in &s.steps {
                self.step(&what, st);
                self.runs_anywhere(st, &what);
            }
        }
    }

    fn cleanup(&mut self) {
        for st in &self.flow.cleanup {
            self.step("[[cleanup]]", st);
            self.runs_anywhere(st, "[[cleanup]]");
        }
    }

    /// Interrupt and cleanup steps run wherever the walk is: nothing there
    /// may ask a person, type a secret or create the credentials.
    fn runs_anywhere(&mut self, st: &Step, owner: &str) {
        let bad = match &st.kind {
            StepKind::Captcha { .. } | StepKind::Otp { .. } => Some("asks a person"),
            StepKind::FillSecret { .. } => Some("types a secret"),
            _ if st.submits => Some("submits"),
            _ => None,
        };
        if let Some(why) = bad {
            self.err(
                st.loc,
                format!(
                    "step \"{}\" of {owner} {why}, but it may run on any page",
                    st.label
                ),
                "move it into a [[screens]] entry of the walk",
            );
        }
    }

    fn outcomes(&mut self) {
        let flow = self.flow;
        let l = self;
        let screen_ids: Vec<&str> = flow.screens.iter().map(|s| s.id.as_str()).collect();
        let mut seen_outcomes: Vec<&Outcome> = vec![];
        for o in &flow.outcomes {
            let what = format!("outcome `{}`", o.id);
            if let Some(c) = &o.when {
                l.condition(c, &what);
            }
            let has_pattern = o.alert.is_some() || o.text.is_some() || o.element.is_some();
            if !has_pattern {
                if o.retry_from.is_some() {
                    l.err(o.loc, format!("{what} is a retry without a condition: it has no alert, text or element to match"), "add text = \"...\" or alert = \"...\" saying when to retry");
                } else {
                    l.err(
                        o.loc,
                        format!("{what} can never match: it has no alert, text or element"),
                        "add alert = \"regex\" for JS alerts or text = \"regex\" for page text",
                    );
                }
            }
            if o.alert.is_some() && (o.text.is_some() || o.element.is_some()) {
                l.err(o.loc, format!("{what} has both `alert` and `text`/`element`; an alert hides the page, so it can never match"), "split it into two outcomes");
            }
            for sid in &o.screens {
                if !screen_ids.contains(&sid.as_str()) {
                    l.err(o.loc, format!("{what} is limited to screen `{sid}`, which does not exist, so it can never match there"), hint(sid, &screen_ids));
                }
            }
            for t in [&o.alert, &o.text].into_iter().flatten() {
                l.template(t, o.loc, &what);
            }
            match (&o.retry_from, o.kind.may_retry()) {
            (Some(r), true) => {
                if !screen_ids.contains(&r.as_str()) {
                    l.err(o.loc, format!("{what} retries from screen `{r}`, which does not exist"), hint(r, &screen_ids));
                }
                if o.max_retries == 0 {
                    l.warn(o.loc, format!("{what} retries from `{r}` but max_retries = 0"), "set max_retries to how many tries a person gets, e.g. 3");
                }
            }
            (Some(_), false) => l.err(o.loc, format!("{what} has retry_from, but a `{}` result ends the run", o.kind.as_str()), "remove retry_from; only wrong_captcha, wrong_otp, otp_expired and session_expired go back"),
            (None, _) if matches!(o.kind, OutcomeKind::WrongCaptcha | OutcomeKind::WrongOtp) => {
                l.err(o.loc, format!("{what} is {} but does not say where to go back to", o.kind.as_str()), "add retry_from = \"<screen id>\" and max_retries = 3")
            }
            _ => {}
        }
            if let Some(prev) = seen_outcomes.iter().find(|p| {
                p.alert.as_ref().map(|t| &t.raw) == o.alert.as_ref().map(|t| &t.raw)
                    && p.text.as_ref().map(|t| &t.raw) == o.text.as_ref().map(|t| &t.raw)
                    && p.element == o.element
                    && p.when.is_none()
                    && (p.screens.is_empty() || p.screens == o.screens)
                    && has_pattern
            }) {
                l.err(o.loc, format!("{what} can never match: outcome `{}` above has the same pattern and is checked first", prev.id), "remove one, or make their patterns or screens differ");
            }
            seen_outcomes.push(o);
        }
        if !flow
            .outcomes
            .iter()
            .any(|o| o.kind == OutcomeKind::Registered)
        {
            l.warn(Loc { line: 1, col: 1 }, "no outcome of kind `registered`: the run can never report success", "add an [[outcomes]] entry with kind = \"registered\" matching the success alert or page");
        }
    }
}

/// Whether an outcome's named group or a step's `capture`/`into` sets `var`.
fn captured(flow: &Flow, var: &str) -> bool {
    let group = |t: &Template| {
        t.raw.contains(&format!("(?P<{var}>")) || t.raw.contains(&format!("(?<{var}>"))
    };
    let by_outcome = flow
        .outcomes
        .iter()
        .any(|o| [&o.alert, &o.text].into_iter().flatten().any(group));
    let by_step = flow.all_steps().any(|(_, st)| match &st.kind {
        StepKind::Capture { into, .. } => into == var,
        StepKind::Alert { capture, .. } => capture.as_deref() == Some(var),
        _ => false,
    });
    by_outcome || by_step
}
