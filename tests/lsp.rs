//! End-to-end tests of `routec lsp`: the real binary, spoken to over stdio
//! as an editor does. One session walks through every feature on the
//! two-file workspace in `tests/lsp/ws/`; another throws garbage at the
//! server and checks that it answers with errors and keeps working.
//!
//! Snapshots are transcripts: `>>>` what the client sent, `<<<` a compact
//! rendering of the answer (positions are LSP's: zero-based line and
//! UTF-16 column). The features themselves are tested at the compiler's
//! `ide` boundary; these tests check the protocol, the wiring and the
//! conversions, so they stay few.

mod client;

use client::Client;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;

fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp/ws")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(workspace().join(name)).expect("the fixture exists")
}

/// Zero-based line and UTF-16 column of `needle` in `text`, plus `offset` characters.
fn pos(text: &str, needle: &str, offset: usize) -> Value {
    let at = text.find(needle).expect("the needle is in the fixture");
    let at = at + needle[..].chars().take(offset).map(char::len_utf8).sum::<usize>();
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    json!({ "line": text[..at].matches('\n').count(), "character": text[line_start..at].encode_utf16().count() })
}

struct Transcript {
    text: String,
    root: String,
}

impl Transcript {
    fn new(client: &Client) -> Transcript {
        Transcript { text: String::new(), root: format!("file://{}/", client.root.display()) }
    }

    fn sent(&mut self, what: &str) {
        let _ = writeln!(self.text, ">>> {what}");
    }

    fn got(&mut self, answer: &str) {
        for line in answer.lines() {
            let _ = writeln!(self.text, "<<< {line}");
        }
        if answer.is_empty() {
            let _ = writeln!(self.text, "<<<");
        }
    }

    fn file(&self, uri: &Value) -> String {
        let uri = uri.as_str().unwrap_or_default();
        uri.strip_prefix(&self.root).unwrap_or(uri).to_string()
    }
}

fn range(r: &Value) -> String {
    format!("{}:{}-{}:{}", r["start"]["line"], r["start"]["character"], r["end"]["line"], r["end"]["character"])
}

fn location(t: &Transcript, l: &Value) -> String {
    format!("{} {}", t.file(&l["uri"]), range(&l["range"]))
}

fn diagnostics(list: &Value) -> String {
    let lines: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let severity = match d["severity"].as_i64() {
                Some(1) => "error",
                Some(2) => "warning",
                _ => "info",
            };
            let message = d["message"].as_str().unwrap_or_default().replace('\n', " / ");
            format!("{} {severity} {}: {message}", range(&d["range"]), d["code"].as_str().unwrap_or("-"))
        })
        .collect();
    if lines.is_empty() {
        "(no diagnostics)".to_string()
    } else {
        lines.join("\n")
    }
}

fn workspace_edit(t: &Transcript, edit: &Value) -> String {
    let mut files: Vec<(String, &Value)> =
        edit["changes"].as_object().into_iter().flatten().map(|(uri, edits)| (t.file(&json!(uri)), edits)).collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (file, edits) in files {
        let mut edits: Vec<&Value> = edits.as_array().into_iter().flatten().collect();
        edits.sort_by_key(|e| (e["range"]["start"]["line"].as_i64(), e["range"]["start"]["character"].as_i64()));
        for e in edits {
            out.push(format!("{file} {} -> {:?}", range(&e["range"]), e["newText"].as_str().unwrap_or_default()));
        }
    }
    out.join("\n")
}

fn error(answer: &Value) -> String {
    format!("error {}: {}", answer["error"]["code"], answer["error"]["message"].as_str().unwrap_or_default())
}

#[test]
fn an_editor_session() {
    let mut c = Client::start(&workspace());
    let mut t = Transcript::new(&c);
    let policy = read("policy.route");
    let teams = read("teams.route");
    let uri = c.uri("policy.route");
    let doc = json!({ "uri": uri });

    let init = c.initialize();
    t.sent("initialize");
    let caps = &init["result"]["capabilities"];
    let mut names: Vec<&String> = caps.as_object().into_iter().flatten().map(|(k, _)| k).collect();
    names.sort();
    t.got(&format!(
        "server {} with {}",
        init["result"]["serverInfo"]["name"],
        names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    ));

    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": policy } }),
    );
    t.sent("didOpen policy.route (v1)");
    let d = c.diagnostics(&uri, 1);
    t.got(&diagnostics(&d));

    // Hover across the emoji: the column counts UTF-16 units.
    let at = pos(&policy, "🎉\" -> billing", 6);
    let hover = c.request("textDocument/hover", json!({ "textDocument": doc, "position": at }));
    t.sent(&format!("hover {} (`billing` after an emoji)", range(&json!({ "start": at, "end": at }))));
    t.got(&format!(
        "{}\n{}",
        range(&hover["result"]["range"]),
        hover["result"]["contents"]["value"].as_str().unwrap_or_default()
    ));

    let at = pos(&policy, "customer.vip ->", 10);
    let hover = c.request("textDocument/hover", json!({ "textDocument": doc, "position": at }));
    t.sent("hover `customer.vip`");
    t.got(hover["result"]["contents"]["value"].as_str().unwrap_or_default());

    // Quick fixes for the misspelt destination.
    let at = pos(&policy, "tech_suport", 3);
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": doc, "range": { "start": at, "end": at }, "context": { "diagnostics": [] } }),
    );
    t.sent("codeAction at `tech_suport`");
    for a in actions["result"].as_array().into_iter().flatten() {
        t.got(&format!(
            "{} (preferred: {})\n{}",
            a["title"].as_str().unwrap_or_default(),
            a["isPreferred"],
            workspace_edit(&t, &a["edit"])
        ));
    }

    // Fix it: the policy has no errors now, so the proofs run.
    let start = pos(&policy, "tech_suport", 0);
    let end = pos(&policy, "tech_suport", 11);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 },
                "contentChanges": [{ "range": { "start": start, "end": end }, "text": "tech_support" }] }),
    );
    t.sent("didChange: `tech_suport` -> `tech_support` (v2)");
    let d = c.diagnostics(&uri, 2);
    t.got(&diagnostics(&d));
    let fixed = policy.replacen("tech_suport", "tech_support", 1);

    let at = pos(&fixed, "matrix customer", 9);
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": doc, "range": { "start": at, "end": at }, "context": { "diagnostics": d } }),
    );
    t.sent("codeAction at the matrix");
    for a in actions["result"].as_array().into_iter().flatten() {
        t.got(&format!("{}\n{}", a["title"].as_str().unwrap_or_default(), workspace_edit(&t, &a["edit"])));
    }

    // Completion: destinations after `->`, values after `==`.
    let line = fixed.lines().count();
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 },
                "contentChanges": [{ "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                                     "text": "rule pro when customer.tier == " }] }),
    );
    t.sent("didChange: append `rule pro when customer.tier == ` (v3)");
    let d = c.diagnostics(&uri, 3);
    t.got(&diagnostics(&d));
    let completion = c.request(
        "textDocument/completion",
        json!({ "textDocument": doc, "position": { "line": line, "character": 31 } }),
    );
    t.sent("completion after `==`");
    let items: Vec<String> = completion["result"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| format!("{} ({})", i["label"].as_str().unwrap_or_default(), i["detail"].as_str().unwrap_or_default()))
        .collect();
    t.got(&items.join("\n"));

    // While the file does not parse, hover is served from the last good analysis.
    let hover =
        c.request("textDocument/hover", json!({ "textDocument": doc, "position": pos(&fixed, "refunds  ->", 2) }));
    t.sent("hover `refunds` while the file has a syntax error");
    t.got(&format!(
        "{}\n{}",
        range(&hover["result"]["range"]),
        hover["result"]["contents"]["value"].as_str().unwrap_or_default()
    ));

    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 },
                "contentChanges": [{ "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 31 } },
                                     "text": "" }] }),
    );
    t.sent("didChange: remove the half-typed rule (v4)");
    let d = c.diagnostics(&uri, 4);
    t.got(&diagnostics(&d));

    // Navigation across files.
    let at = pos(&fixed, "-> billing", 5);
    let def = c.request("textDocument/definition", json!({ "textDocument": doc, "position": at }));
    t.sent("definition of `billing`");
    t.got(&location(&t, &def["result"]));
    let refs = c.request(
        "textDocument/references",
        json!({ "textDocument": doc, "position": at, "context": { "includeDeclaration": true } }),
    );
    t.sent("references of `billing`");
    t.got(&refs["result"].as_array().into_iter().flatten().map(|l| location(&t, l)).collect::<Vec<_>>().join("\n"));
    let prepared = c.request("textDocument/prepareRename", json!({ "textDocument": doc, "position": at }));
    t.sent("prepareRename `billing`");
    t.got(&range(&prepared["result"]));
    let renamed =
        c.request("textDocument/rename", json!({ "textDocument": doc, "position": at, "newName": "finance" }));
    t.sent("rename `billing` to `finance`");
    t.got(&workspace_edit(&t, &renamed["result"]));
    let refused = c.request(
        "textDocument/rename",
        json!({ "textDocument": doc, "position": pos(&fixed, "customer.vip ->", 10), "newName": "important" }),
    );
    t.sent("rename `customer.vip`");
    t.got(&error(&refused));

    let symbols = c.request("textDocument/documentSymbol", json!({ "textDocument": doc }));
    t.sent("documentSymbol");
    let shown: Vec<String> = symbols["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| format!("{} {} {}", s["kind"], s["name"].as_str().unwrap_or_default(), range(&s["selectionRange"])))
        .collect();
    t.got(&shown.join("\n"));
    let found = c.request("workspace/symbol", json!({ "query": "tech" }));
    t.sent("workspace/symbol `tech`");
    t.got(
        &found["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("{} {}", s["name"].as_str().unwrap_or_default(), location(&t, &s["location"])))
            .collect::<Vec<_>>()
            .join("\n"),
    );

    let formatted = c.request(
        "textDocument/formatting",
        json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    t.sent("formatting");
    let edits: Vec<String> = formatted["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{} -> {:?}", range(&e["range"]), e["newText"].as_str().unwrap_or_default()))
        .collect();
    t.got(&edits.join("\n"));

    // The imported file is analysed as part of the policy that imports it.
    let teams_uri = c.uri("teams.route");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": teams_uri, "languageId": "route", "version": 1, "text": teams } }),
    );
    t.sent("didOpen teams.route (v1)");
    let d = c.diagnostics(&teams_uri, 1);
    t.got(&diagnostics(&d));

    let status = c.finish();
    t.sent("shutdown, exit");
    t.got(&format!("exit code {:?}", status.code()));
    insta::assert_snapshot!(t.text);
}

/// The proofs on the prover thread (no `syncProofs`): after an edit, a
/// sound pass publishes at once with what it carried over (here: the rule
/// that shadowed `third` in the version before), then, typing having
/// paused, an exact pass publishes `routec check`'s findings.
#[test]
fn the_prover_confirms_carried_proofs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp/prover");
    let text = std::fs::read_to_string(dir.join("shadowed.route")).expect("the fixture exists");
    let edited = text.replace("rule first when tier == pro", "rule first when tier == free");
    let mut c = Client::start(&dir);
    c.initialize_with(json!({ "debounceMs": 0 }));
    let uri = c.uri("shadowed.route");
    let by = |rule: &str| format!("rule `third` can never match: rule `{rule}` catches all its tickets first");
    let shadowed_by = |rule: String| move |messages: &[String]| messages.iter().any(|m| m.starts_with(&rule));
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": text } }),
    );
    c.diagnostics_until(&uri, 1, shadowed_by(by("first")));
    let change = |c: &mut Client, version: i64, text: &str| {
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        )
    };
    change(&mut c, 2, &edited);
    c.diagnostics_until(&uri, 2, shadowed_by(by("second")));
    // Back to the first text: `second` still covers `third`, and nothing
    // about it changed, so the sound pass names it; the exact pass then
    // names `first`, as `routec check` does.
    change(&mut c, 3, &text);
    let (_, before) = c.diagnostics_until(&uri, 3, shadowed_by(by("first")));
    assert!(
        before.iter().any(|messages| messages.iter().any(|m| m.starts_with(&by("second")))),
        "the sound pass published before the exact one: {before:?}"
    );
    assert!(c.finish().success());
}

#[test]
fn the_server_survives_garbage() {
    let mut c = Client::start(&workspace());
    let mut t = Transcript::new(&c);

    let early = c.request("textDocument/hover", json!({}));
    t.sent("hover before initialize");
    t.got(&error(&early));
    c.initialize();
    t.sent("initialize");

    c.frame("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
    t.sent("truncated JSON");
    t.got(&error(&c.next_response()));
    c.frame("[1, 2, 3]");
    t.sent("a JSON array");
    t.got(&error(&c.next_response()));
    c.raw(b"Content-Length: nope\r\n\r\n");
    t.sent("a bad Content-Length header");
    t.got(&error(&c.next_response()));

    let unknown = c.request("routec/unknown", json!({}));
    t.sent("an unknown method");
    t.got(&error(&unknown));
    let bad_params = c.request("textDocument/hover", json!({ "textDocument": 42 }));
    t.sent("hover with parameters of the wrong shape");
    t.got(&error(&bad_params));
    c.notify("routec/unknownNotification", json!({}));
    t.sent("an unknown notification (ignored)");

    let unopened = c.uri("never-opened.route");
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": unopened }, "position": { "line": 0, "character": 0 } }),
    );
    t.sent("hover in a file that is not open");
    t.got(&error(&hover).replace(&t.root, ""));

    let uri = c.uri("small.route");
    let text = "policy \"p\" version 1\nticket { subject: text }\nqueue triage\notherwise -> triage\n";
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": text } }),
    );
    t.sent("didOpen small.route");
    t.got(&diagnostics(&c.diagnostics(&uri, 1)));
    let past_end = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 999, "character": 0 } }),
    );
    t.sent("hover at line 999");
    t.got(&error(&past_end));
    let past_line = c.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 3, "character": 500 } }),
    );
    t.sent("definition at column 500 of the last line (clamped to its end)");
    t.got(&location(&t, &past_line["result"]));

    // Five megabytes of policy: diagnosed as too large, not analysed.
    let big_uri = c.uri("big.route");
    let rule = "rule r when subject contains \"x\" -> triage\n";
    let big: String = rule.repeat(5 * 1024 * 1024 / rule.len() + 1);
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": big_uri, "languageId": "route", "version": 1, "text": big } }),
    );
    t.sent(&format!("didOpen big.route ({} bytes)", big.len()));
    t.got(&diagnostics(&c.diagnostics(&big_uri, 1)));
    let big_hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": big_uri }, "position": { "line": 2, "character": 3 } }),
    );
    t.sent("hover in big.route");
    t.got(&format!("{}", big_hover["result"]));

    // Still working.
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 3, "character": 15 } }),
    );
    t.sent("hover `triage` in small.route");
    t.got(hover["result"]["contents"]["value"].as_str().unwrap_or_default());

    let status = c.finish();
    t.sent("shutdown, exit");
    t.got(&format!("exit code {:?}", status.code()));
    insta::assert_snapshot!(t.text);
}

/// Nesting thousands of levels deep used to overflow the server's stack and
/// end the process: now the document gets `route::too-deep` and the server
/// answers what comes next, opened whole or reached by an edit.
#[test]
fn deep_nesting_does_not_take_the_server_down() {
    let mut c = Client::start(&workspace());
    c.initialize();
    let uri = c.uri("deep.route");
    let head = "policy \"p\" version 1\nticket { vip: bool }\nqueue triage\notherwise -> triage\n";
    let deep = format!("{head}rule r when {}vip{} -> triage\n", "(".repeat(5_000), ")".repeat(5_000));
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": deep } }),
    );
    let messages = diagnostics(&c.diagnostics(&uri, 1));
    assert!(messages.contains("nesting deeper than"), "{messages}");

    let unclosed = format!("{head}rule r when {}\n", "not (".repeat(20_000));
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": unclosed }] }),
    );
    let messages = diagnostics(&c.diagnostics(&uri, 2));
    assert!(messages.contains("nesting deeper than"), "{messages}");

    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 2, "character": 8 } }),
    );
    assert!(hover.get("result").is_some(), "the server answers after a deep document: {hover}");
    let status = c.finish();
    assert_eq!(status.code(), Some(0));
}

/// After every kind of bad frame the server reads the next one: each bad
/// frame is answered with errors, then the hover after it is answered.
#[test]
fn the_server_resyncs_after_a_bad_frame() {
    let mut c = Client::start(&workspace());
    let mut t = Transcript::new(&c);
    c.initialize();
    let uri = c.uri("small.route");
    let text = "policy \"p\" version 1\nticket { subject: text }\nqueue triage\notherwise -> triage\n";
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": text } }),
    );
    c.diagnostics(&uri, 1);
    let body = r#"{"jsonrpc":"2.0","method":"routec/unknownNotification","params":{}}"#;
    let cases: [(&str, String); 6] = [
        ("a Content-Length too short", format!("Content-Length: 20\r\n\r\n{body}")),
        ("a Content-Length too long", format!("Content-Length: 500\r\n\r\n{body}")),
        ("no Content-Length", format!("Content-Type: application/json\r\n\r\n{body}")),
        ("an oversized Content-Length", format!("Content-Length: 99999999999\r\n\r\n{body}")),
        ("a Content-Length that is not a number", format!("Content-Length: -1\r\n\r\n{body}")),
        ("garbage without a line break", "\u{0}garbage".to_string()),
    ];
    for (what, bytes) in cases {
        c.raw(bytes.as_bytes());
        t.sent(&format!("{what}, then hover `triage`"));
        let (errors, hover) = c.request_noting_others(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 3, "character": 15 } }),
        );
        for e in &errors {
            t.got(&error(e));
        }
        t.got(hover["result"]["contents"]["value"].as_str().unwrap_or("(no hover)"));
    }
    assert!(c.finish().success());
    insta::assert_snapshot!(t.text);
}
