//! The last touch on the formatted text: trailing comments on consecutive
//! lines are aligned into one column, two spaces after the longest code
//! of the run, so a commented list of fields or destinations reads as a
//! table. A lone trailing comment gets the same two spaces. A line
//! without a trailing comment (or a blank line) ends a run.

use crate::syntax;

use super::text::width;

pub(super) fn trailing_comments(text: &str) -> String {
    let mut trailing = syntax::comments(text).into_iter().filter(|c| c.trailing).peekable();
    // Each line split into its code and its trailing comment, if any.
    let mut lines: Vec<(&str, Option<&str>)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let end = offset + line.len();
        let line = line.trim_end_matches('\n');
        match trailing.next_if(|c| c.start < end) {
            Some(comment) => {
                let split = comment.start - offset;
                let code = line.get(..split).unwrap_or(line).trim_end();
                let comment_text = line.get(split..).unwrap_or("");
                lines.push((code, Some(comment_text)));
            }
            None => lines.push((line, None)),
        }
        offset = end;
    }
    let mut out = String::with_capacity(text.len());
    let mut run_start = 0;
    while run_start < lines.len() {
        let run_len = lines[run_start..].iter().take_while(|(_, c)| c.is_some()).count();
        if run_len == 0 {
            out.push_str(lines[run_start].0);
            out.push('\n');
            run_start += 1;
            continue;
        }
        let run = &lines[run_start..run_start + run_len];
        let column = run.iter().map(|(code, _)| width(code)).max().unwrap_or(0) + 2;
        for (code, comment) in run {
            out.push_str(code);
            out.extend(std::iter::repeat_n(' ', column - width(code)));
            out.push_str(comment.unwrap_or(""));
            out.push('\n');
        }
        run_start += run_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_align_and_lone_comments_get_two_spaces() {
        let text = "queue a # one\nqueue bbb # two\n\nrule x # three\n";
        let expected = "queue a    # one\nqueue bbb  # two\n\nrule x  # three\n";
        assert_eq!(trailing_comments(text), expected);
    }
}
