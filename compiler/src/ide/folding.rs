//! Folding ranges from the text alone (it need not parse): bracketed blocks
//! and lists that span lines, items that span lines without brackets (a rule
//! with its clauses), and runs of comment lines.

use super::lexer::{tokens, Lexeme};

/// What a fold hides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
}

/// A foldable range of zero-based lines; `end_line` is the last line hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub start_line: u32,
    pub end_line: u32,
    pub kind: FoldKind,
}

pub(super) fn folding_ranges(text: &str) -> Vec<Fold> {
    let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_of = |offset: usize| (line_starts.partition_point(|&s| s <= offset) - 1) as u32;
    let mut folds = Vec::new();

    // Brackets.
    let mut open: Vec<usize> = Vec::new();
    for t in tokens(text).iter().filter(|t| t.lexeme == Lexeme::Punct) {
        match &text[t.start..t.end] {
            "{" | "[" => open.push(t.start),
            "}" | "]" => {
                if let Some(start) = open.pop() {
                    push(&mut folds, line_of(start), line_of(t.start), FoldKind::Region);
                }
            }
            _ => {}
        }
    }

    // Items: from a line starting in column 0 to the last code line before the next.
    let mut item: Option<u32> = None;
    let mut last_code = 0;
    let mut comment_run: Option<(u32, u32)> = None;
    for (n, &start) in line_starts.iter().enumerate() {
        let n = n as u32;
        let end = line_starts.get(n as usize + 1).map_or(text.len(), |e| e - 1);
        let line = &text[start..end.max(start)];
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            comment_run = Some(comment_run.map_or((n, n), |(s, _)| (s, n)));
            continue;
        }
        if let Some((s, e)) = comment_run.take() {
            push(&mut folds, s, e, FoldKind::Comment);
        }
        if trimmed.is_empty() {
            continue;
        }
        let starts_item = line.chars().next().is_some_and(|c| !(c.is_whitespace() || matches!(c, '}' | ']' | ')')));
        if starts_item {
            if let Some(s) = item {
                push(&mut folds, s, last_code, FoldKind::Region);
            }
            item = Some(n);
        }
        last_code = n;
    }
    if let Some((s, e)) = comment_run {
        push(&mut folds, s, e, FoldKind::Comment);
    }
    if let Some(s) = item {
        push(&mut folds, s, last_code, FoldKind::Region);
    }

    // One fold per start line: the largest.
    folds.sort_by_key(|f| (f.start_line, std::cmp::Reverse(f.end_line)));
    folds.dedup_by_key(|f| f.start_line);
    folds
}

fn push(folds: &mut Vec<Fold>, start_line: u32, end_line: u32, kind: FoldKind) {
    if end_line > start_line {
        folds.push(Fold { start_line, end_line, kind });
    }
}
