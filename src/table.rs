//! Plain-text tables whose columns are as wide as their widest cell (by
//! display width), so a long provider name or username widens its column
//! instead of pushing the rest of its row out of line. Two spaces between
//! columns; the last column is not padded.

use unicode_width::UnicodeWidthStr;

/// A header and rows of cells.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with this header row.
    pub fn new<S: ToString>(header: &[S]) -> Table {
        Table {
            rows: vec![header.iter().map(S::to_string).collect()],
        }
    }

    /// Adds a row (as many cells as the header).
    pub fn row<S: ToString>(&mut self, cells: &[S]) {
        self.rows.push(cells.iter().map(S::to_string).collect());
    }

    /// Each row on its own line, columns aligned.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let width = |c: usize| {
            let cells = self.rows.iter().filter_map(|r| r.get(c));
            cells.map(|s| s.width()).max().unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let mut out = String::new();
        for row in &self.rows {
            let last = row.len().saturating_sub(1);
            for (c, cell) in row.iter().enumerate() {
                out.push_str(cell);
                if c < last {
                    let pad = widths[c] - cell.width() + 2;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell_whatever_its_script() {
        let mut t = Table::new(&["GSTIN", "provider", "status"]);
        t.row(&[
            "27AAPFU0939F1ZV",
            "CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)",
            "created",
        ]);
        t.row(&["29AAFCC9980MZZT", "Tera", "failed"]);
        t.row(&["05AAACH6188F1ZM", "टेरा सॉफ्टवेयर", "created"]);
        let text = t.render();
        let at: Vec<usize> = text
            .lines()
            .map(|l| {
                let end = l.rfind("  ").unwrap() + 2;
                l[..end].width()
            })
            .collect();
        assert!(
            at.iter().all(|&a| a == at[0]),
            "status columns differ: {at:?}\n{text}"
        );
        assert!(text.lines().all(|l| !l.ends_with(' ')), "{text}");
    }
}
