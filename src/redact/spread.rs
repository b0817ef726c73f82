//! Secrets laid out with whitespace between their characters (a page may
//! put one character per box or per line). Found by taking the text's
//! whitespace out and searching what is left for each secret as a
//! literal: no regex per secret, whose per-thread caches made a batch with
//! a secrets file of 400 logins hold 20 MiB more than one with 8.

/// Secrets shorter than this (whitespace aside) are not looked for spread
/// out: too likely to match innocent text.
const SHORTEST: usize = 6;

/// The secrets to look for, whitespace taken out, longest first (so one
/// containing another is masked whole).
#[derive(Default)]
pub(super) struct Spread {
    secrets: Vec<String>,
}

impl Spread {
    pub(super) fn add(&mut self, s: &str) {
        let s = squash(s);
        if s.chars().count() < SHORTEST || self.secrets.contains(&s) {
            return;
        }
        self.secrets.push(s);
        self.secrets.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Where in `text` a secret occurs spread out: merged byte ranges.
    pub(super) fn find(&self, text: &str) -> Vec<(usize, usize)> {
        let flat = Flat::of(text);
        let mut spans = vec![];
        for s in &self.secrets {
            for (i, _) in flat.text.match_indices(s.as_str()) {
                spans.push((flat.at[i].0, flat.at[i + s.len() - 1].1));
            }
        }
        merge(spans)
    }

    /// `text` with each spread-out secret replaced by `mask`.
    pub(super) fn mask(&self, text: &str, mask: &str) -> String {
        let spans = self.find(text);
        if spans.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        for (start, end) in spans {
            out.push_str(&text[from..start]);
            out.push_str(mask);
            from = end;
        }
        out.push_str(&text[from..]);
        out
    }
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A text without its whitespace, and for each of its bytes the original
/// byte range of the character it belongs to.
struct Flat {
    text: String,
    at: Vec<(usize, usize)>,
}

impl Flat {
    fn of(text: &str) -> Flat {
        let mut flat = Flat {
            text: String::with_capacity(text.len()),
            at: Vec::with_capacity(text.len()),
        };
        for (i, c) in text.char_indices().filter(|(_, c)| !c.is_whitespace()) {
            flat.text.push(c);
            let range = (i, i + c.len_utf8());
            flat.at.extend(std::iter::repeat_n(range, c.len_utf8()));
        }
        flat
    }
}

/// Sorted, overlapping ranges joined.
fn merge(mut spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    spans.sort();
    let mut out: Vec<(usize, usize)> = vec![];
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_secret_across_whitespace_and_keeps_the_rest() {
        let mut s = Spread::default();
        s.add("Uday@Login2024");
        assert_eq!(s.mask("a U d\na y @ L\to g i n 2 0 2 4 b", "#"), "a # b");
        assert_eq!(s.mask("Uday@Login", "#"), "Uday@Login");
    }

    #[test]
    fn short_secrets_are_not_looked_for_and_overlaps_are_masked_once() {
        let mut s = Spread::default();
        s.add("abc12");
        s.add("x y z 1 2 3");
        s.add("z123w9");
        assert_eq!(s.len(), 2);
        assert_eq!(s.mask("abc12 · x y z 1 2 3 w 9 ·", "#"), "abc12 · # ·");
    }

    #[test]
    fn characters_of_several_bytes_map_back_whole() {
        let mut s = Spread::default();
        s.add("pä ss wörd");
        assert_eq!(s.mask("→ p ä s s w ö r d ←", "#"), "→ # ←");
    }
}
