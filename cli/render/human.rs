//! Human output through miette's graphical renderer.

use routec_compiler::diagnostic::Rendered;
use routec_compiler::{Diagnostic, SourceDb};

/// Render one diagnostic with its source snippet. `color` is off for tests and pipes.
pub fn render(db: &SourceDb, d: &Diagnostic, color: bool) -> String {
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let rendered = Rendered::new(d.clone(), db);
    let mut out = String::new();
    if handler.render_report(&mut out, &rendered).is_err() {
        out = format!("{}: {}\n", d.code, d.message);
    }
    // Labels in other files than the primary one cannot be drawn in the same snippet.
    if let Some(primary) = d.span() {
        for label in d.labels.iter().filter(|l| l.span.file != primary.file) {
            let file = db.file(label.span.file);
            let lc = file.lines.line_col(label.span.start as usize);
            out.push_str(&format!("  note: {} ({}:{}:{})\n", label.text, file.name, lc.line + 1, lc.col_chars));
        }
    }
    out
}

/// `2 errors, 1 warning` style summary.
pub fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}
