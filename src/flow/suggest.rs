//! "Did you mean" for unknown keys and names (Levenshtein distance, from `strsim`).

/// The closest candidate within a small edit distance, if any.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lw = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lw, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| {
            *d <= (c.len().max(3) / 3).max(1) + 1 || c.starts_with(&lw) && lw.len() >= 3
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" or a list of the valid choices.
pub fn hint(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("fil", ["fill", "click"]), Some("fill"));
        assert_eq!(did_you_mean("lable", ["label", "timeout"]), Some("label"));
        assert_eq!(did_you_mean("recognize", ["recognise"]), Some("recognise"));
        assert_eq!(did_you_mean("zzzzzz", ["fill", "click"]), None);
    }
}
