//! Tests of the IDE queries at their boundary: a fixture (one or more
//! virtual files, `$0` marking the cursor), a query, and a snapshot that
//! shows the source with the cursor and the answer.
//!
//! Fixtures: text before the first `### name` line is `main.route`; each
//! `### name` line starts another file that `main.route` may import.

use super::{CompletionKind, Snapshot};
use crate::source::{FileId, SourceDb, Span};
use crate::{analyze, Loader};

const CURSOR: &str = "$0";

/// The policy most tests use; `$0` goes where the test puts it.
const ACME: &str = r#"policy "acme" version 1

ticket {
  subject: text
  body: text
  page: string?
  customer {
    tier: free | pro | enterprise
    vip: bool
  }
}

schedule us_business {
  timezone "America/New_York"
  mon-fri 09:00-18:00
  sat 10:00-14:00
}

team billing {
  hours us_business
  capacity 40
  when closed -> oncall
}
team oncall
queue human_review

keywords refunds = ["refund", "money back"]

classifier intent from "models/intent.model" {
  labels billing, technical
  threshold 0.7
  threshold technical 0.85
}

escalate angry when sentiment < -0.6 -> human_review
  priority P1

rule refund_requests when text has refunds and customer.tier != free -> billing

matrix intent, customer.tier {
  billing,   _   -> billing
  technical, pro -> oncall
}

otherwise -> human_review
"#;

struct Files(Vec<(String, String)>);

impl Loader for Files {
    fn load(&self, _importer: &str, path: &str) -> Result<(String, String), String> {
        self.0.iter().find(|(n, _)| n == path).map(|(n, t)| (n.clone(), t.clone())).ok_or("no such file".to_string())
    }
}

/// Analyse a fixture; returns the snapshot, the file with the cursor and the offset.
fn fixture(text: &str) -> (Snapshot, FileId, usize) {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut current = ("main.route".to_string(), String::new());
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("### ") {
            files.push(std::mem::replace(&mut current, (name.trim().to_string(), String::new())));
        } else {
            current.1.push_str(line);
        }
    }
    files.push(current);
    let cursor = files.iter().find_map(|(n, t)| t.find(CURSOR).map(|o| (n.clone(), o)));
    for (_, t) in &mut files {
        *t = t.replace(CURSOR, "");
    }
    let mut db = SourceDb::new();
    let root = db.add("main.route", files[0].1.clone());
    let snap = Snapshot::new(analyze(db, root, &Files(files.clone())));
    let (file, offset) = match cursor {
        Some((name, o)) => (snap.file_id(&name).unwrap_or(root), o),
        None => (root, 0),
    };
    (snap, file, offset)
}

/// `source` with a `↑` under the cursor's column.
fn show_cursor(snap: &Snapshot, file: FileId, offset: usize) -> String {
    let text = snap.text(file);
    let line_start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |n| offset + n);
    let column = text[line_start..offset].chars().count();
    format!("{}\n{}↑", &text[line_start..line_end], " ".repeat(column))
}

fn show_span(snap: &Snapshot, span: Span) -> String {
    let lc = snap.analysis.db.file(span.file).lines.line_col(span.start as usize);
    format!("{}:{}:{} `{}`", snap.file_name(span.file), lc.line + 1, lc.col_chars, snap.analysis.db.slice(span))
}

/// ACME with the cursor at the `|` of `marker` (which must occur in ACME without it).
fn with_cursor(marker: &str) -> String {
    let plain = marker.replace('|', "");
    assert!(ACME.contains(&plain), "`{plain}` is not in the fixture");
    ACME.replacen(&plain, &marker.replace('|', CURSOR), 1)
}

fn hover(marker: &str) -> String {
    let (snap, file, offset) = fixture(&with_cursor(marker));
    let shown = show_cursor(&snap, file, offset);
    match snap.hover(file, offset) {
        Some(h) => format!("{shown}\n----- HOVER {}\n{}", show_span(&snap, h.span), h.markdown),
        None => format!("{shown}\n----- NO HOVER"),
    }
}

#[test]
fn hover_shows_what_a_name_is() {
    let cases = [
        "customer.ti|er != free",
        "hours us_bus|iness",
        "-> bil|ling",
        "has ref|unds",
        "billi|ng,   _   -> billing",
        "rule refund_req|uests",
        "escalate an|gry",
        "threshold tech|nical",
        "sentim|ent",
        "mat|rix intent",
        "tier != fr|ee",
    ];
    let shown: Vec<String> = cases.iter().map(|c| hover(c)).collect();
    insta::assert_snapshot!(shown.join("\n\n=====\n\n"));
}

#[test]
fn hover_explains_a_loose_keyword_phrase() {
    let source = ACME
        .replace(r#"["refund", "money back"]"#, r#"["refund*", "money ~2 back", "plain words"]"#)
        .replace("text has refunds", r#"text has refunds or body has ["subscription~"]"#);
    let cases = [
        ("money ~2 back", "money ~2 $0back"),
        ("refund*", "refun$0d*"),
        ("subscription~", "subscri$0ption~"),
        ("plain words", "plain w$0ords"),
    ];
    let shown: Vec<String> = cases
        .iter()
        .map(|(plain, marked)| {
            let (snap, file, offset) = fixture(&source.replacen(plain, marked, 1));
            let shown = show_cursor(&snap, file, offset);
            match snap.hover(file, offset) {
                Some(h) => format!("{shown}\n----- HOVER {}\n{}", show_span(&snap, h.span), h.markdown),
                None => format!("{shown}\n----- NO HOVER"),
            }
        })
        .collect();
    insta::assert_snapshot!(shown.join("\n\n=====\n\n"));
}

fn complete(source: &str) -> String {
    let (snap, file, offset) = fixture(source);
    let text = snap.text(file).to_string();
    let items = snap.completions(&text, offset);
    let shown: Vec<String> = items
        .iter()
        .map(|i| {
            let kind = format!("{:?}", i.kind);
            let detail = i.detail.as_deref().map(|d| format!("  ({d})")).unwrap_or_default();
            let body = if i.kind == CompletionKind::Snippet {
                format!("\n    {}", i.insert.replace('\n', "\n    "))
            } else {
                String::new()
            };
            format!("  {kind:<12}{}{detail}{body}", i.label)
        })
        .collect();
    format!("{}\n{}", show_cursor(&snap, file, offset), shown.join("\n"))
}

/// ACME followed by `extra` (which holds the cursor).
fn acme_plus(extra: &str) -> String {
    format!("{ACME}{extra}")
}

#[test]
fn completion_offers_what_fits_the_cursor() {
    let cases = [
        "rule r when customer.$0",
        "rule r when customer.tier == $0",
        "rule r when customer.tier in [pro, $0",
        "rule r when page == \"x\" -> $0",
        "rule r when text has $0",
        "rule r when intent == $0",
        "rule r when $0",
        "rule r when subject has refunds -> billing\n  $0",
        "matrix intent, customer.tier {\n  technical, $0",
        "test \"t\" {\n  ticket { customer.tier: $0 }\n}",
        "team t {\n  hours $0",
        "team t {\n  when $0",
        "rule r when body contains \"# $0",
        "$0",
    ];
    let shown: Vec<String> = cases.iter().map(|c| complete(&acme_plus(&format!("\n{c}\n")))).collect();
    insta::assert_snapshot!(shown.join("\n\n=====\n\n"));
}

#[test]
fn completion_works_while_the_file_does_not_parse() {
    // The snapshot is the analysis of the file without the half-typed rule;
    // the text the editor shows has it.
    let (snap, _, _) = fixture(ACME);
    let text = format!("{ACME}\nrule half when customer.tier == ");
    let items = snap.completions(&text, text.len());
    let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["free", "pro", "enterprise"]);
}

const MULTI: &str = r#"policy "acme" version 1
import "teams.route"
ticket { subject: text }
rule r1 when subject contains "invoice" -> bil$0ling
rule r2 when subject contains "refund" -> billing
otherwise -> oncall
### teams.route
team billing { when closed -> oncall }
team oncall
"#;

#[test]
fn definition_and_references_cross_files() {
    let (snap, file, offset) = fixture(MULTI);
    let def = snap.definition(file, offset).map(|d| show_span(&snap, d.name_span));
    let key = snap.def_key_at(file, offset);
    let refs: Vec<String> = key
        .as_ref()
        .map(|k| snap.references(k, true))
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{}{}", show_span(&snap, r.span), if r.is_definition { " (definition)" } else { "" }))
        .collect();
    insta::assert_snapshot!(format!(
        "{}\n----- DEFINITION\n{}\n----- KEY\n{key:?}\n----- REFERENCES\n{}",
        show_cursor(&snap, file, offset),
        def.unwrap_or_default(),
        refs.join("\n")
    ));
}

fn rename(source: &str, new_name: &str) -> String {
    let (snap, file, offset) = fixture(source);
    let prepared = snap.prepare_rename(file, offset);
    let result = match (prepared, snap.def_key_at(file, offset)) {
        (Err(e), _) => format!("refused: {e}"),
        (Ok(_), None) => "no key".to_string(),
        (Ok(span), Some(key)) => match snap.rename(&key, new_name) {
            Err(e) => format!("prepared {} but refused: {e}", show_span(&snap, span)),
            Ok(edits) => {
                let edits: Vec<String> =
                    edits.iter().map(|e| format!("{} -> {}", show_span(&snap, e.span), e.new_text)).collect();
                edits.join("\n")
            }
        },
    };
    format!("{}\n----- RENAME TO {new_name}\n{result}", show_cursor(&snap, file, offset))
}

#[test]
fn rename_changes_every_reference_or_says_why_not() {
    let shown = [
        rename(MULTI, "finance"),
        rename(MULTI, "oncall"),
        rename(MULTI, "when"),
        rename(&with_cursor("has ref|unds"), "money"),
        rename(&with_cursor("hours us_bus|iness"), "office"),
        rename(&with_cursor("customer.ti|er != free"), "plan"),
        rename(&with_cursor("rule refund_req|uests"), "refunds_rule"),
    ];
    insta::assert_snapshot!(shown.join("\n\n=====\n\n"));
}

fn render_symbols(snap: &Snapshot, symbols: &[super::Symbol], depth: usize, out: &mut Vec<String>) {
    for s in symbols {
        let detail = s.detail.as_deref().map(|d| format!("  ({d})")).unwrap_or_default();
        out.push(format!("{}{:?} {}{detail}  {}", "  ".repeat(depth), s.kind, s.name, show_span(snap, s.name_span)));
        render_symbols(snap, &s.children, depth + 1, out);
    }
}

#[test]
fn document_symbols_outline_the_file() {
    let (snap, file, _) = fixture(ACME);
    let mut out = Vec::new();
    render_symbols(&snap, &snap.document_symbols(file), 0, &mut out);
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn workspace_symbols_match_fuzzily_across_files() {
    let (snap, _, _) = fixture(MULTI);
    let found: Vec<String> = snap
        .workspace_symbols("bl")
        .iter()
        .map(|s| format!("{:?} {} in {:?}  {}", s.kind, s.name, s.container, show_span(&snap, s.name_span)))
        .collect();
    insta::assert_snapshot!(found.join("\n"));
}

#[test]
fn semantic_tokens_classify_names_by_what_they_refer_to() {
    let (snap, file, _) = fixture(ACME);
    let text = snap.text(file).to_string();
    let tokens = snap.semantic_tokens(file, &text);
    let lines: Vec<String> = tokens
        .iter()
        .filter(|t| text[..t.start].matches('\n').count() >= 34)
        .map(|t| {
            format!("{:?}{} `{}`", t.kind, if t.declaration { " (declaration)" } else { "" }, &text[t.start..t.end])
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn folding_ranges_cover_blocks_items_and_comments() {
    let text =
        "# one\n# two\npolicy \"p\"\nticket {\n  a: text\n}\nrule r when a has [\n  \"x\",\n] -> t\n  tag \"y\"\n";
    let folds: Vec<String> =
        super::folding_ranges(text).iter().map(|f| format!("{:?} {}..={}", f.kind, f.start_line, f.end_line)).collect();
    insta::assert_snapshot!(format!("{text}----- FOLDS\n{}", folds.join("\n")));
}

fn assists(source: &str) -> String {
    let (snap, file, offset) = fixture(source);
    let range = Span::new(file, offset, offset);
    let mut out = vec![show_cursor(&snap, file, offset)];
    for a in snap.assists(file, range) {
        let d = a.diagnostic.and_then(|i| snap.diagnostic(i));
        let fixes = d.map(|d| format!("{}: {}", d.code, d.message)).unwrap_or_default();
        out.push(format!(
            "----- {}{}
(fixes {fixes})",
            a.title,
            if a.preferred { " (preferred)" } else { "" }
        ));
        for e in &a.edits {
            let at = show_span(&snap, e.span);
            out.push(format!("at {at}:\n{}", e.new_text));
        }
    }
    out.join("\n")
}

#[test]
fn code_actions_fix_the_analysis_findings() {
    let shown = [
        assists(&acme_plus("rule typo when customer.vip -> bil$0lling\n")),
        assists(&acme_plus("rule new_team when customer.vip -> vip_$0desk\n")),
        assists(&acme_plus("rule new_set when text has leg$0al -> billing\n")),
        assists(&ACME.replace("otherwise -> human_review\n", "").replace("matrix intent", "matrix $0intent")),
    ];
    insta::assert_snapshot!(shown.join("\n\n=====\n\n"));
}

#[test]
fn matrix_rows_are_listed_from_the_hir_when_the_message_is_cut_short() {
    let source = r#"policy "p" version 1
ticket {
  a: a1 | a2 | a3 | a4 | a5
  b: b1 | b2 | b3 | b4 | b5
}
team t
matrix $0a, b {
  a1, b1 -> t
  a2, b2 -> t
  a3, b3 -> t
  a4, b4 -> t
  a5, b5 -> t
}
"#;
    insta::assert_snapshot!(assists(source));
}

#[test]
fn the_two_step_pipeline_reports_what_analyze_reports() {
    let sources =
        [ACME.to_string(), ACME.replace("otherwise -> human_review\n", ""), acme_plus("rule broken when ->\n")];
    for source in sources {
        let db = || {
            let mut db = SourceDb::new();
            let root = db.add("main.route", source.clone());
            (db, root)
        };
        let (full_db, root) = db();
        let full = analyze(full_db, root, &crate::NoImports);
        let (fast_db, root) = db();
        let fast = super::analyze_without_proofs(fast_db, root, &crate::NoImports);
        let mut both = fast.diagnostics.clone();
        both.extend(super::proofs(&fast));
        let mut expected = full.diagnostics.clone();
        both.sort_by_key(|d| format!("{d:?}"));
        expected.sort_by_key(|d| format!("{d:?}"));
        assert_eq!(both, expected);
    }
}

/// The words `grammar/route.pest` makes keywords (`k_*` rules, reserved words, booleans).
fn pest_keywords() -> Vec<String> {
    let pest = include_str!("../../../grammar/route.pest");
    let mut words = Vec::new();
    for line in pest.lines() {
        let rule = line.split('=').next().unwrap_or("").trim();
        if !(rule.starts_with("k_") || rule == "reserved" || rule == "bool_lit") {
            continue;
        }
        for (i, part) in line.split('"').enumerate() {
            if i % 2 == 1
                && part.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && !words.contains(&part.to_string())
            {
                words.push(part.to_string());
            }
        }
    }
    words
}

#[test]
fn the_editor_tools_know_every_keyword_of_the_grammar() {
    // Semantic tokens colour them, and the TextMate grammar (checked in full
    // by `editors/vscode`'s `npm run check-grammar`) lists them.
    let textmate = include_str!("../../../grammar/route.tmLanguage.json");
    let words = pest_keywords();
    assert!(words.len() > 60, "the keyword rules of route.pest were not found");
    let mut missing = Vec::new();
    for word in &words {
        let tokens = super::tokens::semantic_tokens_of_keyword(word);
        if !tokens {
            missing.push(format!("{word}: not a keyword for semantic tokens"));
        }
        let listed = [format!("|{word}|"), format!("({word}|"), format!("|{word})")];
        if !listed.iter().any(|l| textmate.contains(l.as_str())) {
            missing.push(format!("{word}: not in grammar/route.tmLanguage.json"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

/// A policy with SLA settings and a `url` field, for the editor queries on them.
const SLA_AND_URL: &str = r#"policy "acme" version 1

ticket {
  page: url
  tier: free | pro
}

team billing {
  sla first_response 4h business
}
team support

sla first_response {
  P1: 1h
}
sla resolution {}

rule r when page.host == "app.example.com" -> billing sla first_response 30m
otherwise -> support
"#;

#[test]
fn sla_settings_and_url_parts_are_completed_hovered_and_coloured() {
    let mut shown: Vec<String> = [
        "rule s when tier == pro -> support sla $0",
        "rule s when tier == pro -> support\n  $0",
        "rule s when page.$0",
        "rule s when $0",
    ]
    .iter()
    .map(|c| complete(&format!("{SLA_AND_URL}{c}\n")))
    .collect();
    for marker in ["billing sla first_resp", "rule r when page.ho"] {
        let (snap, file, offset) = fixture(&SLA_AND_URL.replacen(marker, &format!("{marker}{CURSOR}"), 1));
        let answer = match snap.hover(file, offset) {
            Some(h) => format!("----- HOVER {}\n{}", show_span(&snap, h.span), h.markdown),
            None => "----- NO HOVER".to_string(),
        };
        shown.push(format!("{}\n{answer}", show_cursor(&snap, file, offset)));
    }
    let (snap, file, _) = fixture(SLA_AND_URL);
    let text = snap.text(file).to_string();
    let settings: Vec<String> = snap
        .semantic_tokens(file, &text)
        .iter()
        .filter(|t| text[..t.start].matches('\n').count() >= 7)
        .map(|t| format!("{:?} `{}`", t.kind, &text[t.start..t.end]))
        .collect();
    shown.push(format!("----- SEMANTIC TOKENS from line 8\n{}", settings.join("\n")));
    insta::assert_snapshot!(shown.join("\n\n=====\n\n"));
}
