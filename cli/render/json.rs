//! `--format json`: one JSON object per diagnostic per line, for CI annotations.

use super::position;
use routec_compiler::{Diagnostic, SourceDb};
use serde_json::json;

pub fn render(db: &SourceDb, d: &Diagnostic) -> String {
    let pos = position(db, d);
    let related: Vec<serde_json::Value> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .map(|l| {
            let file = db.file(l.span.file);
            let lc = file.lines.line_col(l.span.start as usize);
            json!({ "file": file.name, "line": lc.line + 1, "column": lc.col_chars, "message": l.text })
        })
        .collect();
    let label = d.labels.iter().find(|l| l.primary).map(|l| l.text.clone());
    json!({
        "file": pos.as_ref().map(|p| p.file.clone()),
        "line": pos.as_ref().map(|p| p.line),
        "column": pos.as_ref().map(|p| p.column),
        "end": pos.as_ref().map(|p| json!({ "line": p.end_line, "column": p.end_column })),
        "severity": d.severity,
        "code": d.code.as_str(),
        "message": d.message,
        "label": label,
        "help": d.help,
        "suggestion": d.suggestion,
        "related": related,
    })
    .to_string()
}
