//! A unified diff of two texts, line by line (longest common
//! subsequence), as `diff -u` prints it: what `--repair` changed.

/// One line of the edit script.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Same(usize, usize),
    Del(usize),
    Add(usize),
}

/// The diff of `old` into `new` with 3 lines of context; empty when equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = script(&a, &b);
    if ops.iter().all(|o| matches!(o, Op::Same(..))) {
        return String::new();
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    for hunk in hunks(&ops, 3) {
        out.push_str(&render(&ops[hunk.0..hunk.1], &a, &b));
    }
    out
}

/// The edit script, from the table of common-subsequence lengths.
fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = match a[i] == b[j] {
                true => l[i + 1][j + 1] + 1,
                false => l[i + 1][j].max(l[i][j + 1]),
            };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, vec![]);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same(i, j));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || l[i + 1][j] >= l[i][j + 1]) {
            // Deletions before additions, as diff -u prints them.
            ops.push(Op::Del(i));
            i += 1;
        } else {
            ops.push(Op::Add(j));
            j += 1;
        }
    }
    ops
}

/// Ranges of `ops` that hold changes, each with up to `ctx` same lines around.
fn hunks(ops: &[Op], ctx: usize) -> Vec<(usize, usize)> {
    let changed: Vec<usize> = (0..ops.len())
        .filter(|&k| !matches!(ops[k], Op::Same(..)))
        .collect();
    let mut out: Vec<(usize, usize)> = vec![];
    for k in changed {
        let (start, end) = (k.saturating_sub(ctx), (k + ctx + 1).min(ops.len()));
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

fn render(ops: &[Op], a: &[&str], b: &[&str]) -> String {
    let first_a = ops.iter().find_map(|o| match o {
        Op::Same(i, _) | Op::Del(i) => Some(*i),
        Op::Add(_) => None,
    });
    let first_b = ops.iter().find_map(|o| match o {
        Op::Same(_, j) | Op::Add(j) => Some(*j),
        Op::Del(_) => None,
    });
    let count_a = ops.iter().filter(|o| !matches!(o, Op::Add(_))).count();
    let count_b = ops.iter().filter(|o| !matches!(o, Op::Del(_))).count();
    // An empty side is numbered by the line before it, as diff -u does.
    let start = |first: Option<usize>, count: usize| match first {
        Some(i) => i + 1,
        None if count == 0 => 0,
        None => 1,
    };
    let mut s = format!(
        "@@ -{},{count_a} +{},{count_b} @@\n",
        start(first_a, count_a),
        start(first_b, count_b)
    );
    for o in ops {
        match o {
            Op::Same(i, _) => s.push_str(&format!(" {}\n", a[*i])),
            Op::Del(i) => s.push_str(&format!("-{}\n", a[*i])),
            Op::Add(j) => s.push_str(&format!("+{}\n", b[*j])),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_line_and_an_added_one_read_as_diff_u_prints_them() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "a\nb\nc\n# note\nD\ne\nf\ng\nh\ni\n";
        let d = unified(old, new, "x.toml", "x.repaired.toml");
        assert_eq!(
            d,
            "--- x.toml\n+++ x.repaired.toml\n@@ -1,7 +1,8 @@\n a\n b\n c\n-d\n+# note\n+D\n e\n f\n g\n"
        );
        assert_eq!(unified(old, old, "a", "b"), "");
    }

    #[test]
    fn changes_far_apart_are_two_hunks() {
        let old: String = (0..20).map(|i| format!("{i}\n")).collect();
        let new: String = (0..20)
            .map(|i| match i {
                2 => "two\n".to_string(),
                17 => "seventeen\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let d = unified(&old, &new, "a", "b");
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("-17\n+seventeen\n"));
    }
}
