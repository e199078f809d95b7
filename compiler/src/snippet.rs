//! The part of a file a rendered diagnostic shows: the lines around its
//! labels, never the whole file.
//!
//! miette draws a snippet from whatever source it is given, scanning it from
//! the start for every label, and prints every line between two labels whose
//! contexts touch; a diagnostic on a 200,000-character line overflows its
//! column arithmetic (a panic past column 65,535). So before rendering, a
//! [`Snippet`] cuts the file down to short segments: each label's lines plus
//! one line of context, a label longer than [`MAX_LABEL_LINES`] shrunk to its
//! first line, and every line longer than [`MAX_LINE_CHARS`] cut to a window
//! around the labels on it (`…` marks a cut). Segments are separate: labels
//! far apart get one snippet each, with their own line numbers, and nothing
//! in between is read. The cost is linear in the labels' lines, not the file.

use crate::source::{LineIndex, Span};
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// A label spanning more lines than this is drawn on its first line only.
pub const MAX_LABEL_LINES: usize = 12;
/// A source line longer than this (in characters) is cut to a window.
pub const MAX_LINE_CHARS: usize = 160;
/// How much of a cut line precedes its first label.
const LEAD_CHARS: usize = 40;
/// The mark for text that was cut from a line.
const CUT: &str = "…";

/// Source lines for miette, a few segments of one file.
#[derive(Debug)]
pub struct Snippet {
    name: String,
    /// The segments' text, one after the other.
    text: String,
    segments: Vec<Segment>,
    lines: Vec<Line>,
}

/// Consecutive lines of the file, kept together.
#[derive(Debug)]
struct Segment {
    /// Byte range in `Snippet::text`.
    start: usize,
    end: usize,
    /// Zero-based line number of its first line in the file.
    first_line: usize,
}

/// One kept line: where it is in the file, which part of it is kept, and
/// where that part is in the snippet.
#[derive(Debug)]
struct Line {
    /// Byte offsets in the file: the whole line (without its newline) and the kept window.
    file_start: usize,
    keep_start: usize,
    keep_end: usize,
    /// Byte offset of the kept window in `Snippet::text` (after any leading `…`).
    text_start: usize,
    /// Bytes cut before the window, less the `…` standing for them (miette counts columns in bytes).
    cut_bytes: isize,
}

impl Snippet {
    /// The snippet of `text` (with its line index) around `spans`, which
    /// must all be in this file. Returns the snippet and each span mapped into it.
    pub fn new(name: &str, text: &str, index: &LineIndex, spans: &[Span]) -> (Snippet, Vec<SourceSpan>) {
        let last_line = index.line_count().saturating_sub(1);
        let line_range = |line: usize| {
            let start = index.offset(line as u32, 0);
            let end = index.offset(line as u32 + 1, 0);
            let end = if end > start && text.as_bytes().get(end - 1) == Some(&b'\n') { end - 1 } else { end };
            let end = if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') { end - 1 } else { end };
            (start, end)
        };
        // Each span, shrunk to its first line when it is long, with its lines.
        let spans: Vec<(usize, usize, usize, usize)> = spans
            .iter()
            .map(|s| {
                let start = (s.start as usize).min(text.len());
                let end = (s.end as usize).clamp(start, text.len());
                let first = index.line_col(start).line as usize;
                let last = index.line_col(end.saturating_sub(1).max(start)).line as usize;
                if last - first >= MAX_LABEL_LINES {
                    (start, end.min(line_range(first).1).max(start), first, first)
                } else {
                    (start, end, first, last)
                }
            })
            .collect();
        // Line ranges with one line of context, merged where they touch.
        let mut ranges: Vec<(usize, usize)> =
            spans.iter().map(|&(_, _, first, last)| (first.saturating_sub(1), (last + 1).min(last_line))).collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (first, last) in ranges {
            match merged.last_mut() {
                Some(prev) if first <= prev.1 + 1 => prev.1 = prev.1.max(last),
                _ => merged.push((first, last)),
            }
        }
        let mut snippet =
            Snippet { name: name.to_string(), text: String::new(), segments: Vec::new(), lines: Vec::new() };
        for (first, last) in merged {
            let start = snippet.text.len();
            for line in first..=last {
                let (line_start, line_end) = line_range(line);
                let on_line: Vec<(usize, usize)> = spans
                    .iter()
                    .filter(|s| s.0 <= line_end && s.1 >= line_start)
                    .map(|s| (s.0.max(line_start), s.1.min(line_end)))
                    .collect();
                snippet.push_line(&text[line_start..line_end], line_start, &on_line);
                // Each line keeps its newline, as miette shows a last empty line only before one.
                snippet.text.push_str(&text[line_end..index.offset(line as u32 + 1, 0).max(line_end)]);
            }
            snippet.segments.push(Segment { start, end: snippet.text.len(), first_line: first });
        }
        let mapped = spans.iter().map(|&(start, end, _, _)| snippet.map_span(start, end)).collect();
        (snippet, mapped)
    }

    /// Append one line, cut to a window around the labels on it when long.
    fn push_line(&mut self, line: &str, file_start: usize, labels: &[(usize, usize)]) {
        let chars = line.chars().count();
        let (keep_start, keep_end) = if chars <= MAX_LINE_CHARS {
            (0, line.len())
        } else {
            let anchor = labels.iter().map(|l| l.0 - file_start).min().unwrap_or(0);
            let anchor_char = line[..anchor].chars().count();
            let first_char = anchor_char.saturating_sub(LEAD_CHARS).min(chars.saturating_sub(MAX_LINE_CHARS));
            let byte_at = |n: usize| line.char_indices().nth(n).map_or(line.len(), |(i, _)| i);
            (byte_at(first_char), byte_at(first_char + MAX_LINE_CHARS))
        };
        let mut cut_bytes = 0;
        if keep_start > 0 {
            self.text.push_str(CUT);
            cut_bytes = keep_start as isize - CUT.len() as isize;
        }
        let text_start = self.text.len();
        self.text.push_str(&line[keep_start..keep_end]);
        if keep_end < line.len() {
            self.text.push_str(CUT);
        }
        self.lines.push(Line {
            file_start,
            keep_start: file_start + keep_start,
            keep_end: file_start + keep_end,
            text_start,
            cut_bytes,
        });
    }

    /// A file byte offset's place in the snippet, clamped into its line's window.
    fn map_offset(&self, offset: usize) -> usize {
        let at = self.lines.partition_point(|l| l.file_start <= offset).saturating_sub(1);
        match self.lines.get(at) {
            Some(line) => line.text_start + offset.clamp(line.keep_start, line.keep_end) - line.keep_start,
            None => 0,
        }
    }

    fn map_span(&self, start: usize, end: usize) -> SourceSpan {
        let start_in = self.map_offset(start);
        let end_in = self.map_offset(end).max(start_in);
        (start_in, end_in - start_in).into()
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let at = self.segments.partition_point(|s| s.start <= span.offset()).saturating_sub(1);
        let segment = self.segments.get(at).ok_or(MietteError::OutOfBounds)?;
        let local_start = span.offset().saturating_sub(segment.start).min(segment.end - segment.start);
        let local_len = span.len().min(segment.end - segment.start - local_start);
        let segment_text = &self.text[segment.start..segment.end];
        let contents =
            segment_text.read_span(&(local_start, local_len).into(), context_lines_before, context_lines_after)?;
        let first_line = segment.first_line + contents.line();
        // The column miette prints in a snippet's header is the file's, not the window's.
        let line_in_snippet =
            self.lines.partition_point(|l| l.text_start <= segment.start + contents.span().offset()).saturating_sub(1);
        let cut = self.lines.get(line_in_snippet).map_or(0, |l| l.cut_bytes);
        let column = (contents.column() as isize + cut).max(0) as usize;
        let data_start = segment.start + contents.span().offset();
        let data = &self.text.as_bytes()[data_start..data_start + contents.data().len()];
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            (data_start, contents.span().len()).into(),
            first_line,
            column,
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn snippet(text: &str, spans: &[(usize, usize)]) -> (Snippet, Vec<SourceSpan>) {
        let spans: Vec<Span> = spans.iter().map(|&(s, e)| Span::new(FileId(0), s, e)).collect();
        Snippet::new("f", text, &LineIndex::new(text), &spans)
    }

    #[test]
    fn far_apart_labels_keep_only_their_own_lines() {
        let text: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
        let near_end = text.find("line 9000\n").unwrap_or_default();
        let (s, mapped) = snippet(&text, &[(0, 4), (near_end, near_end + 4)]);
        assert_eq!(s.text, "line 0\nline 1\nline 8999\nline 9000\nline 9001\n");
        assert_eq!(s.segments.len(), 2);
        assert_eq!(&s.text[mapped[1].offset()..mapped[1].offset() + mapped[1].len()], "line");
        let contents = s.read_span(&mapped[1], 0, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(contents.line(), 9000);
    }

    #[test]
    fn long_lines_are_cut_around_the_label() {
        let line = format!("{}target{}", "x".repeat(100_000), "y".repeat(100_000));
        let at = line.find("target").unwrap_or_default();
        let (s, mapped) = snippet(&line, &[(at, at + 6)]);
        assert!(s.text.chars().count() <= MAX_LINE_CHARS + 2, "{}", s.text.len());
        assert!(s.text.starts_with(CUT) && s.text.ends_with(CUT));
        assert_eq!(&s.text[mapped[0].offset()..mapped[0].offset() + mapped[0].len()], "target");
        let contents = s.read_span(&mapped[0], 0, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(contents.column(), 100_000, "the header shows the column in the file");
    }

    #[test]
    fn long_labels_shrink_to_their_first_line() {
        let text: String = (0..1000).map(|i| format!("l{i}\n")).collect();
        let (s, mapped) = snippet(&text, &[(0, text.len())]);
        assert_eq!(s.text, "l0\nl1\n");
        assert_eq!(mapped[0].len(), 2);
    }
}
