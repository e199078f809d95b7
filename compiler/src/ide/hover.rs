//! Hover: what the name under the cursor is, in the words an ops person
//! uses. A field shows its type; a team its kind, opening hours, capacity
//! and fallbacks; a keyword set its phrases; an intent its threshold; a rule
//! its destination and priority. Built-in signals and language keywords get
//! a line of documentation.

use super::describe;
use super::index::{Def, DefKind};
use super::lexer::word_at;
use super::Snapshot;
use crate::hir::{self, Policy, Ty};
use crate::phrase::Phrase;
use crate::source::{FileId, Span};
use crate::syntax::ast;

/// Phrases shown before "and N more".
const SHOWN_PHRASES: usize = 12;

/// Markdown for the thing at a position, and the span it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub span: Span,
    pub markdown: String,
}

pub(super) fn hover(snap: &Snapshot, file: FileId, offset: usize) -> Option<Hover> {
    if let Some((def, span)) = snap.index().at(file, offset) {
        let markdown = describe_def(snap, &snap.index().defs[def]);
        return Some(Hover { span, markdown });
    }
    if let Some(h) = phrase_at(snap, file, offset) {
        return Some(h);
    }
    let text = snap.text(file);
    let (start, end) = word_at(text, offset)?;
    let word = text.get(start..end)?;
    let markdown = builtin(word)?;
    Some(Hover { span: Span::new(file, start, end), markdown })
}

/// A keyword phrase with marks (`~N`, `word*`, `word~`) under the cursor:
/// what it matches, in words.
fn phrase_at(snap: &Snapshot, file: FileId, offset: usize) -> Option<Hover> {
    fn in_expr<'a>(e: &'a ast::Expr, offset: usize, out: &mut Option<&'a ast::StrLit>) {
        if (e.span.start as usize) > offset || offset > e.span.end as usize {
            return;
        }
        match &e.kind {
            ast::ExprKind::Or(parts) | ast::ExprKind::And(parts) => parts.iter().for_each(|p| in_expr(p, offset, out)),
            ast::ExprKind::Not(inner) | ast::ExprKind::Paren(inner) => in_expr(inner, offset, out),
            ast::ExprKind::Has { target: ast::HasTarget::Inline(phrases, _), .. } => in_list(phrases, offset, out),
            _ => {}
        }
    }
    fn in_list<'a>(phrases: &'a [ast::StrLit], offset: usize, out: &mut Option<&'a ast::StrLit>) {
        if let Some(p) = phrases.iter().find(|p| (p.span.start as usize) < offset && offset < p.span.end as usize) {
            *out = Some(p);
        }
    }
    let mut found = None;
    for policy in snap.analysis.asts.iter().filter(|a| a.file == file) {
        for item in policy.items.iter().filter(|i| i.span.start as usize <= offset && offset <= i.span.end as usize) {
            match &item.kind {
                ast::ItemKind::Keywords(k) => in_list(&k.phrases, offset, &mut found),
                ast::ItemKind::Rule(r) | ast::ItemKind::Escalate(r) => in_expr(&r.when, offset, &mut found),
                ast::ItemKind::Priority(p) => p.rules.iter().for_each(|r| in_expr(&r.when, offset, &mut found)),
                _ => {}
            }
        }
    }
    let literal = found?;
    let phrase = Phrase::parse(&literal.value).ok().filter(|p| !p.is_literal())?;
    let markdown = format!(
        "{}\n\nkeyword phrase: {}, on whole words, ignoring case",
        code(&format!("\"{}\"", literal.value)),
        phrase.describe()
    );
    Some(Hover { span: literal.span, markdown })
}

fn code(line: &str) -> String {
    format!("```route\n{line}\n```")
}

/// Markdown for one declaration.
pub(super) fn describe_def(snap: &Snapshot, def: &Def) -> String {
    let policy = &snap.analysis.hir;
    let mut lines = match def.kind {
        DefKind::Field => field(policy, &def.name),
        DefKind::Record => record(policy, &def.name),
        DefKind::EnumValue => enum_value(policy, def),
        DefKind::Intent => intent(policy, &def.name),
        DefKind::Classifier => classifier(policy),
        DefKind::Priority => priority(policy, &def.name),
        DefKind::Schedule => schedule(policy, &def.name),
        DefKind::Destination => destination(policy, def),
        DefKind::KeywordSet => keywords(policy, &def.name),
        DefKind::Regex => regex(policy, &def.name),
        DefKind::Sla => sla(policy, &def.name),
        DefKind::Escalation => rule(policy, &def.name, true),
        DefKind::Rule => rule(policy, &def.name, false),
        DefKind::Test => vec![code(&format!("test \"{}\"", def.name))],
    };
    if lines.is_empty() {
        lines.push(code(&format!("{} {}", def.kind.word(), def.name)));
    }
    lines.join("\n\n")
}

fn field(policy: &Policy, path: &str) -> Vec<String> {
    let Some(id) = policy.field_by_path(path) else { return Vec::new() };
    let f = policy.field(id);
    let optional = if f.optional { "?" } else { "" };
    let mut out = vec![code(&format!("{path}: {}{optional}", describe::ty(policy, &f.ty)))];
    out.push(if let Some((whole, part)) = f.url_part {
        let whole = &policy.field(whole).path;
        format!("the {} of the URL in `{whole}`; absent when the URL has none", part.name())
    } else if f.ty == Ty::Url {
        format!("ticket field: a URL or a path; read its parts as `{path}.host`, `{path}.path`, `{path}.query`")
    } else if f.optional {
        "ticket field, optional: a ticket may leave it out".to_string()
    } else {
        "ticket field".to_string()
    });
    out
}

fn record(policy: &Policy, path: &str) -> Vec<String> {
    let prefix = format!("{path}.");
    let inner: Vec<String> = policy
        .fields
        .iter()
        .filter_map(|f| f.path.strip_prefix(&prefix).map(|rest| format!("  {rest}: {}", describe::ty(policy, &f.ty))))
        .collect();
    vec![code(&format!("{path} {{\n{}\n}}", inner.join("\n"))), "ticket record".to_string()]
}

fn enum_value(policy: &Policy, def: &Def) -> Vec<String> {
    let owner = def.owner.clone().unwrap_or_default();
    let mut out = vec![code(&def.name)];
    if let Some(f) = policy.field_by_path(&owner) {
        out.push(format!("value of `{owner}`: {}", describe::ty(policy, &policy.field(f).ty)));
    }
    out
}

fn intent(policy: &Policy, label: &str) -> Vec<String> {
    let Some(c) = &policy.classifier else { return Vec::new() };
    let labels = policy.enum_def(c.labels);
    let Some(i) = labels.position(label) else { return Vec::new() };
    let threshold = c.thresholds.get(i as usize).copied().unwrap_or(c.default_threshold);
    let how = if (threshold - c.default_threshold).abs() < f64::EPSILON {
        "the classifier's default".to_string()
    } else {
        format!("default {}", describe::fraction(c.default_threshold))
    };
    vec![
        code(&format!("{} == {label}", c.name)),
        format!("intent label of classifier `{}`", c.name),
        format!("threshold: {} ({how}); below it `confidence < threshold` holds", describe::fraction(threshold)),
    ]
}

fn classifier(policy: &Policy) -> Vec<String> {
    let Some(c) = &policy.classifier else { return Vec::new() };
    let labels: Vec<&str> = policy.enum_def(c.labels).values.iter().map(|v| v.name.as_str()).collect();
    let mut out = vec![
        code(&format!("classifier {} from \"{}\"", c.name, c.model)),
        format!("labels: {}", labels.join(", ")),
        format!("default threshold: {}", describe::fraction(c.default_threshold)),
    ];
    if !c.features.is_empty() {
        out.push(format!("features: {}", c.features.join(", ")));
    }
    out
}

fn priority(policy: &Policy, name: &str) -> Vec<String> {
    let Some(i) = policy.priorities.iter().position(|p| p.name == name) else { return Vec::new() };
    let all: Vec<&str> = policy.priorities.iter().map(|p| p.name.as_str()).collect();
    let rank = match i {
        0 => "the most urgent".to_string(),
        i if i + 1 == all.len() => "the least urgent".to_string(),
        i => format!("urgency {} of {}", i + 1, all.len()),
    };
    let mut out = vec![code(&format!("priority {name}")), format!("{rank} of {}", all.join(", "))];
    let targets: Vec<String> = policy
        .slas
        .iter()
        .filter_map(|s| {
            let t = s.targets.get(i)?.as_ref()?;
            let business = if t.business { " business" } else { "" };
            Some(format!("`{}` {}{business}", s.name, describe::minutes(t.minutes)))
        })
        .collect();
    if !targets.is_empty() {
        out.push(format!("SLA targets: {}", targets.join(", ")));
    }
    out
}

fn schedule(policy: &Policy, name: &str) -> Vec<String> {
    let Some(s) = policy.schedules.iter().find(|s| s.name == name) else { return Vec::new() };
    let users: Vec<String> = policy
        .destinations
        .iter()
        .filter(|d| d.schedule.is_some_and(|id| policy.schedules.get(id.index()).is_some_and(|x| x.name == name)))
        .map(|d| format!("`{}`", d.name))
        .collect();
    let mut out = vec![code(&format!("schedule {name}")), describe::schedule(s)];
    if !users.is_empty() {
        out.push(format!("hours of {}", users.join(", ")));
    }
    out
}

fn destination(policy: &Policy, def: &Def) -> Vec<String> {
    let Some(d) = policy.destinations.iter().find(|d| d.name == def.name) else { return Vec::new() };
    let mut out = vec![code(&format!("{} {}", d.kind.keyword(), d.name))];
    let mut facts = Vec::new();
    match d.schedule.and_then(|s| policy.schedules.get(s.index())) {
        Some(s) => facts.push(format!("- hours: `{}`, {}", s.name, describe::schedule(s))),
        None => facts.push("- hours: always open (no schedule)".to_string()),
    }
    if let Some(c) = d.capacity {
        facts.push(format!("- capacity: {c} open tickets"));
    }
    if !d.skills.is_empty() {
        facts.push(format!("- skills: {}", d.skills.join(", ")));
    }
    for f in &d.fallbacks {
        let reason = match f.reason {
            crate::syntax::ast::FallbackReason::Closed => "closed",
            crate::syntax::ast::FallbackReason::Full => "full",
        };
        let target = policy.destinations.get(f.target.index()).map(|t| t.name.as_str()).unwrap_or("?");
        facts.push(format!("- when {reason} → `{target}`"));
    }
    out.push(facts.join("\n"));
    out
}

fn keywords(policy: &Policy, name: &str) -> Vec<String> {
    let Some(k) = policy.keyword_sets.iter().find(|k| k.name.as_deref() == Some(name)) else { return Vec::new() };
    let mut shown: Vec<String> = k.phrases.iter().take(SHOWN_PHRASES).map(|p| format!("\"{p}\"")).collect();
    if k.phrases.len() > SHOWN_PHRASES {
        shown.push(format!("and {} more", k.phrases.len() - SHOWN_PHRASES));
    }
    vec![
        code(&format!("keywords {name}")),
        format!("{} phrases, matched as whole words, ignoring case: {}", k.phrases.len(), shown.join(", ")),
    ]
}

fn regex(policy: &Policy, name: &str) -> Vec<String> {
    let Some(r) = policy.regexes.iter().find(|r| r.name.as_deref() == Some(name)) else { return Vec::new() };
    vec![code(&format!("regex {name} = \"{}\"", r.pattern))]
}

fn sla(policy: &Policy, name: &str) -> Vec<String> {
    let Some(s) = policy.slas.iter().find(|s| s.name == name) else { return Vec::new() };
    let mut out = vec![code(&format!("sla {name}"))];
    if let Some(per) = s.per {
        out.push(format!("targets per `{}`", policy.field(per).path));
    }
    let targets: Vec<String> = s
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let t = t.as_ref()?;
            let business = if t.business { " business" } else { "" };
            Some(format!("- {}: {}{business}", policy.priorities.get(i)?.name, describe::minutes(t.minutes)))
        })
        .collect();
    if !targets.is_empty() {
        out.push(targets.join("\n"));
    }
    let index = policy.slas.iter().position(|x| x.name == name);
    let destinations: Vec<String> = policy
        .destinations
        .iter()
        .filter_map(|d| {
            let setting = d.slas.iter().find(|x| Some(x.sla) == index)?;
            let business = if setting.target.business { " business" } else { "" };
            Some(format!("- `{}`: {}{business}", d.name, describe::minutes(setting.target.minutes)))
        })
        .collect();
    if !destinations.is_empty() {
        out.push(format!(
            "set by destinations (unless the deciding rule or row sets one):\n{}",
            destinations.join("\n")
        ));
    }
    out
}

fn rule(policy: &Policy, name: &str, escalation: bool) -> Vec<String> {
    let list = if escalation { &policy.escalations } else { &policy.rules };
    let Some((i, r)) = list.iter().enumerate().find(|(_, r)| r.name == name) else { return Vec::new() };
    let keyword = if escalation { "escalate" } else { "rule" };
    let dest = policy.destinations.get(r.outcome.destination.index()).map(|d| d.name.as_str()).unwrap_or("?");
    let mut out = vec![code(&format!("{keyword} {name} -> {dest}"))];
    let mut facts = vec![format!("- destination: `{dest}`")];
    facts.push(match r.outcome.priority {
        Some(p) => format!("- priority: {}", policy.priority_name(p)),
        None => "- priority: from the `priority` block".to_string(),
    });
    facts.push(if escalation {
        format!("- escalation {} of {}, checked before every rule", i + 1, list.len())
    } else {
        format!("- rule {} of {}, checked after the escalations", i + 1, list.len())
    });
    if r.outcome.shadow {
        facts.push("- shadow: the decision is recorded, not applied".to_string());
    }
    if let Some(p) = r.outcome.rollout {
        facts.push(format!("- rollout: applies to {p}% of tickets"));
    }
    out.push(facts.join("\n"));
    out
}

/// Documentation of built-in signals and language keywords.
fn builtin(word: &str) -> Option<String> {
    let signal = |ty: &str, doc: &str| Some(format!("{}\n\n{doc}", code(&format!("{word}: {ty}"))));
    match word {
        "sentiment" => signal("number", "built-in signal: the ticket's tone, from -1 (angry) to 1 (happy)"),
        "confidence" => signal("number", "built-in signal: how sure the classifier is of its intent, 0..1"),
        "threshold" => signal("number", "built-in signal: the classifier's threshold for the predicted intent"),
        "language" => signal(&hir::LANGUAGES.join(" | "), "built-in signal: the language the ticket is written in"),
        "text" => Some(format!(
            "{}\n\nevery `text` field at once, with `has`, `matches`, `starts_with`, `ends_with` or `contains`",
            code("text has KEYWORDS")
        )),
        _ => keyword_doc(word).map(|doc| format!("{}\n\n{doc}", code(word))),
    }
}

fn keyword_doc(word: &str) -> Option<&'static str> {
    Some(match word {
        "policy" => "names the policy and its version; one per policy, in the root file",
        "import" => "includes the declarations of another file, relative to this one",
        "mode" => "`enforce` applies decisions; `shadow` only records them",
        "ticket" => "the ticket schema: the fields every ticket carries",
        "schedule" => "opening hours: days and times, a time zone and holidays",
        "team" | "queue" | "role" | "ai" => "declares a destination tickets can be routed to",
        "hours" => "the schedule a destination is open by",
        "capacity" => "open tickets a destination can hold before it is full",
        "skills" => "what a destination is good at (documentation for people)",
        "keywords" => "a set of phrases, matched as whole words ignoring case (`text has NAME`)",
        "regex" => "a named regular expression (`field matches NAME`)",
        "classifier" => "the intent classifier: its model file, labels and thresholds",
        "priorities" => "the priority levels, most urgent first",
        "priority" => "the priority block, a priority clause, or the ticket's computed priority",
        "sla" => "response-time targets per priority; on a destination or after `->`, a target that overrides them",
        "business" => "count only the destination's open hours",
        "escalate" => "checked before every rule: hands the ticket to a human, first match wins",
        "rule" => "a routing rule: `rule NAME when CONDITION -> DESTINATION`; first match wins",
        "matrix" => "a routing table over enum fields; every combination should have a row",
        "otherwise" => "where tickets that match nothing else go",
        "when" => "introduces a condition (or a fallback reason in a destination)",
        "has" => "true when a text field contains a phrase of a keyword set",
        "matches" => "true when a text field matches a regular expression",
        "in" => "true when the value is one of the listed values",
        "shadow" => "record the decision without applying it",
        "rollout" => "apply the branch to a percentage of tickets only",
        "handoff" => "fields passed to the human who takes over",
        "notify" => "send a Slack or email notification",
        "create_issue" => "open an issue in Jira or Linear",
        "tag" => "add a tag to the ticket",
        "set" => "set a ticket field in the decision",
        "test" => "a test: a ticket, its signals, a time, and the expected decision",
        "expect" => "the decision the test expects",
        "fallback" => "the test expects the decision to use a destination's fallback",
        "escalated" => "the test expects an escalation",
        _ => return None,
    })
}
