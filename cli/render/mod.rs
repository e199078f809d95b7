//! Diagnostic renderers: human (miette), JSON Lines and SARIF 2.1.0. All
//! three read the compiler's one `Diagnostic` model; sources are attached here.

pub mod human;
pub mod json;
pub mod sarif;

use routec_compiler::{Diagnostic, SourceDb};

/// Where a diagnostic points, in the units editors and CI annotate with.
pub struct Position {
    pub file: String,
    /// One-based line and column (Unicode scalar values).
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

pub fn position(db: &SourceDb, d: &Diagnostic) -> Option<Position> {
    let span = d.span()?;
    let file = db.file(span.file);
    let start = file.lines.line_col(span.start as usize);
    let end = file.lines.line_col(span.end as usize);
    Some(Position {
        file: file.name.clone(),
        line: start.line + 1,
        column: start.col_chars,
        end_line: end.line + 1,
        end_column: end.col_chars,
    })
}
