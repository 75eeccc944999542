//! Located spec errors and their rendering as `file:line:col` reports.

use std::fmt::Write as _;
use std::path::PathBuf;

/// A position in a source file (1-based line and column, in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// How many characters the offending text spans on that line (at least 1).
    pub len: usize,
}

/// One problem found in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given to the loader (relative paths stay relative).
    pub file: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// A short machine-friendly code (`undefined-param`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The offending text.
    pub offending: String,
    /// How to fix it.
    pub hint: String,
}

impl Diagnostic {
    /// Renders the diagnostic with the source line it points at.
    ///
    /// `source` is the whole file's text; it is only used to quote the line.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let Location { line, col, len } = self.location;
        let _ = writeln!(
            out,
            "{}:{}:{}: error[{}]: {}",
            self.file.display(),
            line,
            col,
            self.code,
            self.message
        );
        let quoted = source.and_then(|s| s.lines().nth(line.saturating_sub(1)));
        if let Some(text) = quoted {
            let gutter = line.to_string().len();
            let pad = " ".repeat(gutter);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{line} | {text}");
            let caret_pad: String = text
                .chars()
                .take(col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} | {caret_pad}{}", "^".repeat(len.max(1)));
        }
        if !self.offending.is_empty() {
            let _ = writeln!(out, "  = offending text: {}", self.offending);
        }
        let _ = writeln!(out, "  = hint: {}", self.hint);
        out
    }
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Edit distance over characters, counting a swap of two neighbours as one
/// edit (optimal string alignment), since `rnage` for `range` is a typical typo.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["connectID", "timeout", "access_mode"];
        assert_eq!(did_you_mean("conectID", names), Some("connectID"));
        assert_eq!(did_you_mean("acces_mode", names), Some("access_mode"));
        assert_eq!(did_you_mean("payload", names), None);
        assert_eq!(
            did_you_mean("rnage", ["name", "range", "unit"]),
            Some("range")
        );
    }

    #[test]
    fn renders_location_line_and_caret() {
        let d = Diagnostic {
            file: "spec/x.yaml".into(),
            location: Location {
                line: 2,
                col: 9,
                len: 3,
            },
            code: "test",
            message: "bad".into(),
            offending: "abc".into(),
            hint: "fix it".into(),
        };
        let text = d.render(Some("a: 1\nb:      abc\n"));
        assert!(text.starts_with("spec/x.yaml:2:9: error[test]: bad\n"));
        assert!(text.contains("2 | b:      abc\n  |         ^^^\n"));
        assert!(text.contains("= hint: fix it"));
    }
}
