//! `--format sarif`: SARIF 2.1.0, so code-scanning tools show findings inline.

use super::position;
use routec_compiler::{Code, Diagnostic, Severity, SourceDb};
use serde_json::json;

pub fn render(files: &[(&SourceDb, Vec<Diagnostic>)]) -> String {
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": { "text": c.summary() },
                "helpUri": format!("https://routec.dev/docs/language#{}", c.as_str().trim_start_matches("route::")),
            })
        })
        .collect();
    let mut results = Vec::new();
    for (db, diagnostics) in files {
        for d in diagnostics {
            let Some(pos) = position(db, d) else { continue };
            let related: Vec<serde_json::Value> = d
                .labels
                .iter()
                .filter(|l| !l.primary)
                .enumerate()
                .map(|(i, l)| {
                    let file = db.file(l.span.file);
                    let s = file.lines.line_col(l.span.start as usize);
                    let e = file.lines.line_col(l.span.end as usize);
                    json!({
                        "id": i,
                        "message": { "text": l.text },
                        "physicalLocation": {
                            "artifactLocation": { "uri": file.name },
                            "region": { "startLine": s.line + 1, "startColumn": s.col_chars, "endLine": e.line + 1, "endColumn": e.col_chars }
                        }
                    })
                })
                .collect();
            let text = match &d.help {
                Some(h) => format!("{}\nhelp: {h}", d.message),
                None => d.message.clone(),
            };
            results.push(json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": pos.file },
                        "region": { "startLine": pos.line, "startColumn": pos.column, "endLine": pos.end_line, "endColumn": pos.end_column }
                    }
                }],
                "relatedLocations": related,
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "routec", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://routec.dev", "rules": rules } },
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
