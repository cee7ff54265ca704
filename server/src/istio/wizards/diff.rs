//! Line diffs of two YAML texts (longest common subsequence), for the
//! wizards' previews.

use app::types::DiffLine;

/// Above this many cells the table is not built and the diff is every old
/// line removed and every new one added (objects are far smaller).
const MAX_CELLS: usize = 4_000_000;

/// The lines of `before` and `after`, marked kept (`' '`), removed (`'-'`)
/// or added (`'+'`), in order.
pub fn lines(before: &str, after: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let line = |op: char, text: &str| DiffLine {
        op,
        text: text.to_owned(),
    };
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        return a
            .iter()
            .map(|t| line('-', t))
            .chain(b.iter().map(|t| line('+', t)))
            .collect();
    }
    // lcs[i][j]: length of the longest common subsequence of a[i..], b[j..].
    let width = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(line(' ', a[i]));
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
            out.push(line('-', a[i]));
            i += 1;
        } else {
            out.push(line('+', b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|t| line('-', t)));
    out.extend(b[j..].iter().map(|t| line('+', t)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(d: &[DiffLine]) -> String {
        d.iter().map(|l| format!("{}{}\n", l.op, l.text)).collect()
    }

    #[test]
    fn changed_lines_are_removed_and_added_between_kept_ones() {
        let before = "spec:\n  http:\n  - weight: 90\n  - weight: 10\nend\n";
        let after = "spec:\n  http:\n  - weight: 50\n  - weight: 10\n  - weight: 40\nend\n";
        assert_eq!(
            render(&lines(before, after)),
            " spec:\n   http:\n-  - weight: 90\n+  - weight: 50\n   - weight: 10\n+  - weight: 40\n end\n"
        );
        assert_eq!(render(&lines("", "a\n")), "+a\n");
        assert_eq!(render(&lines("a\n", "")), "-a\n");
        assert!(lines("same\n", "same\n").iter().all(|l| l.op == ' '));
    }
}
