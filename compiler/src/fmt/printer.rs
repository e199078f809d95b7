//! The line printer the formatter writes through. It owns indentation,
//! blank lines and the placement of comments; it knows nothing about the
//! language.
//!
//! Every printed line is tied to the source: `start_line` names the source
//! offset where the line's code begins and `token` records where the code
//! printed so far ends. That is enough to place every comment, in order and
//! exactly once:
//! - a comment before a line's start is printed on its own line above it,
//!   at the line's indentation (a *leading* comment);
//! - a comment right after a line's last token, with only spaces or commas
//!   between, is appended to that line (a *trailing* comment);
//! - a comment inside code that is printed on one line (say, inside a list
//!   that now fits) cannot stay where it was, so it moves above that line.
//!
//! A blank line is printed where the source had at least one, unless the
//! caller suppresses it where the canonical style forbids one (after `{`,
//! before `}`, inside a rule), and where the caller requires one between
//! two items (`ensure_blank_at`).

use crate::syntax::Comment;

use super::scan;

pub(super) struct Printer<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    next_comment: usize,
    out: String,
    /// The line being built, indentation included; committed by `end_line`.
    line: String,
    line_indent: usize,
    open: bool,
    /// Source offset just past the last code printed on the open line.
    code_end: usize,
    /// Source offset where the gap since the last printed thing begins; a
    /// blank line in the source gap becomes a blank line in the output.
    gap_start: usize,
    suppress_blank: bool,
    /// Code lines committed so far.
    lines: usize,
    /// Offsets in `out` where a blank line goes, applied by `finish` in one
    /// pass (inserting as we go would copy the output once per item).
    blanks_at: Vec<usize>,
}

impl<'s> Printer<'s> {
    pub(super) fn new(src: &'s str, comments: Vec<Comment>) -> Printer<'s> {
        Printer {
            src,
            comments,
            next_comment: 0,
            out: String::new(),
            line: String::new(),
            line_indent: 0,
            open: false,
            code_end: 0,
            gap_start: 0,
            // Blank lines at the top of the file are dropped.
            suppress_blank: true,
            lines: 0,
            blanks_at: Vec::new(),
        }
    }

    /// True when a comment not printed yet starts inside `start..end`.
    pub(super) fn comments_in(&self, start: usize, end: usize) -> bool {
        let pending = self.comments.get(self.next_comment..).unwrap_or_default();
        let first = pending.partition_point(|c| c.start < start);
        pending.get(first).is_some_and(|c| c.start < end)
    }

    /// The next line (comment or code) gets no blank line before it, even if
    /// the source has one there.
    pub(super) fn suppress_blank(&mut self) {
        self.suppress_blank = true;
    }

    /// Prints every pending comment that starts before `before` on its own
    /// line at `indent`. No line may be open.
    pub(super) fn flush_comments(&mut self, before: usize, indent: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.start >= before {
                break;
            }
            let (start, end) = (comment.start, comment.end);
            let text = comment.text.clone();
            self.next_comment += 1;
            self.blank_line_before(start);
            push_indent(&mut self.out, indent);
            self.out.push_str(&text);
            self.out.push('\n');
            self.gap_start = end;
        }
    }

    /// Starts a line at `indent` for code that begins at source offset `at`,
    /// printing the comments before it first.
    pub(super) fn start_line(&mut self, indent: usize, at: usize) {
        self.flush_comments(at, indent);
        self.blank_line_before(at);
        self.line.clear();
        push_indent(&mut self.line, indent);
        self.line_indent = indent;
        self.open = true;
        self.code_end = at;
    }

    /// Appends text that has no place of its own in the source (spaces,
    /// keywords whose offset the AST does not keep).
    pub(super) fn push(&mut self, text: &str) {
        self.line.push_str(text);
    }

    /// Appends code whose source ends at `end`.
    pub(super) fn token(&mut self, text: &str, end: usize) {
        self.line.push_str(text);
        self.code_end = self.code_end.max(self.trimmed(end));
    }

    /// `end` moved back over whitespace and comments. pest's implicit
    /// whitespace makes the span of a rule that ends in `x*` or `x?` (a
    /// rule with no clauses, a type with no `?`) run on over the trivia
    /// after it, up to the next token; the code really ends earlier.
    pub(super) fn trimmed(&self, end: usize) -> usize {
        let bytes = self.src.as_bytes();
        let mut end = end.min(bytes.len());
        loop {
            while end > 0 && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
                end -= 1;
            }
            let before = self.comments.partition_point(|c| c.start < end);
            match before.checked_sub(1).and_then(|i| self.comments.get(i)) {
                Some(comment) if end <= comment.end => end = comment.start,
                _ => return end,
            }
        }
    }

    /// Number of code lines committed so far (comment lines and blank
    /// lines do not count), to tell whether a layout broke.
    pub(super) fn line_count(&self) -> usize {
        self.lines
    }

    /// Indentation of the open line.
    pub(super) fn indent(&self) -> usize {
        self.line_indent
    }

    /// Width of the open line so far, in characters.
    pub(super) fn column(&self) -> usize {
        self.line.chars().count()
    }

    /// Commits the open line, with the comment that trails its last token.
    pub(super) fn end_line(&mut self) {
        if !self.open {
            return;
        }
        // Comments inside the code of this line go above it.
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.start >= self.code_end {
                break;
            }
            push_indent(&mut self.out, self.line_indent);
            self.out.push_str(&comment.text);
            self.out.push('\n');
            self.next_comment += 1;
        }
        let mut line = std::mem::take(&mut self.line);
        line.truncate(line.trim_end().len());
        self.gap_start = self.code_end;
        if let Some(comment) = self.comments.get(self.next_comment) {
            let between = self.src.get(self.code_end..comment.start).unwrap_or("\n");
            if between.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b',')) {
                line.push(' ');
                line.push_str(&comment.text);
                self.gap_start = comment.end;
                self.next_comment += 1;
            }
        }
        self.out.push_str(&line);
        self.out.push('\n');
        self.lines += 1;
        self.open = false;
        self.suppress_blank = false;
    }

    fn blank_line_before(&mut self, at: usize) {
        let blank = !self.suppress_blank && !self.out.is_empty() && scan::has_blank_line(self.src, self.gap_start, at);
        if blank {
            self.out.push('\n');
        }
        self.suppress_blank = false;
    }

    /// Length of the output so far, to mark a place for `ensure_blank_at`.
    pub(super) fn mark(&self) -> usize {
        self.out.len()
    }

    /// Makes sure a blank line sits at `mark` (a line start), the place
    /// between two items where the style requires one.
    pub(super) fn ensure_blank_at(&mut self, mark: usize) {
        let already = self.out.get(mark..).is_some_and(|s| s.starts_with('\n'));
        if mark > 0 && mark <= self.out.len() && !already {
            self.blanks_at.push(mark);
        }
    }

    /// The finished text: remaining comments, exactly one final newline.
    pub(super) fn finish(mut self) -> String {
        self.end_line();
        self.flush_comments(usize::MAX, 0);
        let mut text = String::with_capacity(self.out.len() + self.blanks_at.len());
        let mut copied = 0;
        // Marks only grow, so one pass in order inserts them all.
        for &mark in &self.blanks_at {
            text.push_str(self.out.get(copied..mark).unwrap_or(""));
            text.push('\n');
            copied = mark;
        }
        text.push_str(self.out.get(copied..).unwrap_or(""));
        text.truncate(text.trim_end().len());
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}
