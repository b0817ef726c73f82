//! `${name}` templating. `$${` writes a literal `${`.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub raw: String,
    pub parts: Vec<Part>,
}

impl Template {
    /// Parses a template; the error names the byte offset inside the string.
    pub fn parse(raw: &str) -> Result<Template, (usize, String)> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = raw;
        let mut offset = 0;
        while let Some(i) = rest.find('$') {
            lit.push_str(&rest[..i]);
            let after = &rest[i..];
            if let Some(r) = after.strip_prefix("$${") {
                lit.push_str("${");
                rest = r;
                offset += i + 3;
            } else if let Some(body) = after.strip_prefix("${") {
                let Some(end) = body.find('}') else {
                    return Err((offset + i, "`${` is never closed: write `${name}`".into()));
                };
                let name = &body[..end];
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err((
                        offset + i,
                        format!("`${{{name}}}` is not a variable name: use letters, digits and _"),
                    ));
                }
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Var(name.to_string()));
                rest = &body[end + 1..];
                offset += i + 2 + end + 1;
            } else {
                lit.push('$');
                rest = &after[1..];
                offset += i + 1;
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template {
            raw: raw.to_string(),
            parts,
        })
    }

    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Renders with `vars`; each value goes through `escape` (identity for
    /// text, `regex::escape` for patterns). Unknown names are an error.
    pub fn render_with(
        &self,
        vars: &HashMap<String, String>,
        escape: impl Fn(&str) -> String,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => out.push_str(&escape(
                    vars.get(v)
                        .ok_or_else(|| TemplateError::Unbound(v.clone()))?,
                )),
            }
        }
        Ok(out)
    }

    /// Renders with `vars`, values as they are.
    pub fn render(&self, vars: &HashMap<String, String>) -> Result<String, TemplateError> {
        self.render_with(vars, |s| s.to_string())
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${name}` has no value yet.
    #[error("variable `{0}` has no value")]
    Unbound(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_and_renders() {
        let t = Template::parse("OTP sent to ${mobile} for $${x} $5").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["mobile"]);
        let vars = HashMap::from([("mobile".to_string(), "9876543210".to_string())]);
        assert_eq!(
            t.render(&vars).unwrap(),
            "OTP sent to 9876543210 for ${x} $5"
        );
        assert!(Template::parse("${oops").is_err());
        assert_eq!(Template::parse("a ${bad name}").unwrap_err().0, 2);
        let r = Template::parse("(${p})")
            .unwrap()
            .render_with(&HashMap::from([("p".into(), "A(B)".into())]), regex::escape)
            .unwrap();
        assert_eq!(r, r"(A\(B\))");
    }
}
