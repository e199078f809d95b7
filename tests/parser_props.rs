//! The parser and checker never panic: random bytes, random token soup, and
//! mutations of the shipped policies all come back as diagnostics.

use proptest::prelude::*;
use routec_compiler::{analyze, NoImports, SourceDb};

fn check_text(text: &str) {
    let mut db = SourceDb::new();
    let root = db.add("fuzz.route", text);
    let analysis = analyze(db, root, &NoImports);
    for d in &analysis.diagnostics {
        if let Some(span) = d.span() {
            let len = analysis.db.text(span.file).len() as u32;
            assert!(span.start <= span.end && span.end <= len, "span {span:?} outside the text");
        }
    }
}

fn seeds() -> Vec<String> {
    ["examples/saas-b2b/policy.route", "examples/it-helpdesk/policy.route", "tests/cli/failing-test.route"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).ok())
        .collect()
}

const TOKENS: &[&str] = &[
    "policy",
    "\"acme\"",
    "ticket",
    "{",
    "}",
    "rule",
    "when",
    "->",
    "and",
    "or",
    "not",
    "==",
    "<",
    "in",
    "[",
    "]",
    ",",
    "has",
    "matrix",
    "_",
    "|",
    "team",
    "schedule",
    "24x7",
    "mon-fri",
    "09:00-17:00",
    "sla",
    "P1",
    ":",
    "15m",
    "escalate",
    "priority",
    "default",
    "test",
    "expect",
    "subject",
    "tier",
    "pro",
    "text",
    "0.7",
    "@allow(route::unused)",
    "\n",
    " ",
    "#",
    "\"",
    "keywords",
    "classifier",
    "from",
    "labels",
    "threshold",
    "otherwise",
    "rollout",
    "25%",
    "shadow",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80)) {
        check_text(&tokens.join(" "));
    }

    #[test]
    fn mutated_policies_never_panic(
        seed in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4, proptest::sample::select(TOKENS)), 1..6),
    ) {
        let seeds = seeds();
        let Some(base) = seeds.get(seed % seeds.len().max(1)) else { return Ok(()) };
        let mut text = base.clone();
        for (at, kind, token) in edits {
            let mut i = at.index(text.len().max(1));
            while i > 0 && !text.is_char_boundary(i) {
                i -= 1;
            }
            let end = text[i..].char_indices().nth(5).map(|(j, _)| i + j).unwrap_or(text.len());
            match kind {
                0 => text.insert_str(i, token),
                1 => text.replace_range(i..end, ""),
                2 => text.replace_range(i..end, token),
                _ => text.truncate(i),
            }
        }
        check_text(&text);
    }
}
