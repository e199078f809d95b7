//! pest pairs → AST. This is the one place where `pest::Span` becomes a
//! `source::Span`. The grammar guarantees the shapes matched here; a shape
//! that does not match is skipped rather than panicking.

use super::ast::*;
use super::Rule;
use crate::source::{FileId, Span};
use pest::iterators::{Pair, Pairs};

struct Ctx {
    file: FileId,
    offset: usize,
}

impl Ctx {
    /// The pair's span without the whitespace and comments pest swallows
    /// before an optional part that turned out to be absent: it ends at the
    /// last token, plus any punctuation literal right after it (`)`).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let mut end = last_token_end(pair).max(s.start());
        let rest = &s.get_input()[end..s.end()];
        end += rest.find(|c: char| c.is_whitespace() || c == '#').unwrap_or(rest.len());
        Span::new(self.file, s.start() + self.offset, end + self.offset)
    }
    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }
    fn path(&self, pair: Pair<'_, Rule>) -> Path {
        let span = self.span(&pair);
        let segments = if pair.as_rule() == Rule::path {
            pair.into_inner().map(|p| self.ident(p)).collect()
        } else {
            vec![self.ident(pair)]
        };
        Path { segments, span }
    }
    fn string(&self, pair: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        StrLit { value: unescape(raw), span }
    }
    fn number(&self, pair: Pair<'_, Rule>) -> Number {
        Number { text: pair.as_str().to_string(), span: self.span(&pair) }
    }
}

fn last_token_end(pair: &Pair<'_, Rule>) -> usize {
    // `next_back` jumps straight to the last child; `last` would walk them all.
    match pair.clone().into_inner().next_back() {
        Some(child) => last_token_end(&child),
        None => pair.as_span().end(),
    }
}

/// `\"`, `\\`, `\n` and `\t` are escapes; any other backslash is kept, so
/// regex patterns like `"\d+"` mean what they say.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(c @ ('"' | '\\')) => out.push(c),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Children that carry content: keywords and punctuation are dropped.
fn content<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_noise(p.as_rule()))
}

fn is_noise(rule: Rule) -> bool {
    matches!(rule, Rule::arrow | Rule::lbrace | Rule::rbrace | Rule::comma | Rule::rbracket | Rule::EOI)
        || is_keyword(rule)
}

/// Whether a rule is one of the grammar's `k_…` keyword rules. Asked for
/// every pair, so the answer is worked out once per rule, not by
/// formatting its name each time.
fn is_keyword(rule: Rule) -> bool {
    thread_local! {
        static KEYWORD: std::cell::RefCell<Vec<Option<bool>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let index = rule as usize;
    KEYWORD.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() <= index {
            known.resize(index + 1, None);
        }
        *known[index].get_or_insert_with(|| format!("{rule:?}").starts_with("k_"))
    })
}

pub fn items(file: FileId, offset: usize, pairs: Pairs<'_, Rule>) -> Vec<Item> {
    let ctx = Ctx { file, offset };
    pairs.filter(|p| p.as_rule() != Rule::EOI).filter_map(|p| item(&ctx, p)).collect()
}

fn take_allows(ctx: &Ctx, pairs: &mut Vec<Pair<'_, Rule>>) -> Vec<Allow> {
    let mut out = Vec::new();
    while pairs.first().is_some_and(|p| p.as_rule() == Rule::allow_attr) {
        let attr = pairs.remove(0);
        for code in attr.into_inner() {
            out.push(Allow { code: code.as_str().to_string(), span: ctx.span(&code) });
        }
    }
    out
}

fn item(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<Item> {
    let span = ctx.span(&pair);
    let rule = pair.as_rule();
    let mut parts: Vec<Pair<'_, Rule>> = content(pair.clone()).collect();
    let allows = take_allows(ctx, &mut parts);
    let mut it = parts.into_iter();
    let kind = match rule {
        Rule::policy_decl => {
            let name = ctx.string(it.next()?);
            let version = it.next().map(|v| (v.as_str().parse().unwrap_or(0), ctx.span(&v)));
            ItemKind::Policy(PolicyDecl { name, version })
        }
        Rule::import_decl => ItemKind::Import(ctx.string(it.next()?)),
        Rule::mode_decl => {
            let m = it.next()?;
            let mode = if m.as_str() == "shadow" { Mode::Shadow } else { Mode::Enforce };
            ItemKind::Mode(ModeDecl { mode, span: ctx.span(&m) })
        }
        Rule::ticket_decl => ItemKind::Ticket(TicketDecl { fields: it.map(|f| field_decl(ctx, f)).collect() }),
        Rule::schedule_decl => {
            let name = ctx.ident(it.next()?);
            ItemKind::Schedule(ScheduleDecl { name, entries: it.filter_map(|e| schedule_entry(ctx, e)).collect() })
        }
        Rule::dest_decl => {
            let kind_pair = it.next()?;
            let kind = match kind_pair.as_str() {
                "team" => DestinationKind::Team,
                "queue" => DestinationKind::Queue,
                "role" => DestinationKind::Role,
                _ => DestinationKind::Ai,
            };
            let name = ctx.ident(it.next()?);
            let body = it.next().map(|b| content(b).filter_map(|e| dest_entry(ctx, e)).collect());
            ItemKind::Destination(DestinationDecl { kind, name, body })
        }
        Rule::keywords_decl => {
            let name = ctx.ident(it.next()?);
            let phrases = it.next().map(|l| string_list(ctx, l)).unwrap_or_default();
            ItemKind::Keywords(KeywordsDecl { name, phrases })
        }
        Rule::regex_decl => {
            let name = ctx.ident(it.next()?);
            ItemKind::Regex(RegexDecl { name, pattern: ctx.string(it.next()?) })
        }
        Rule::classifier_decl => {
            let name = ctx.ident(it.next()?);
            let model = ctx.string(it.next()?);
            let entries = it.filter_map(|e| classifier_entry(ctx, e)).collect();
            ItemKind::Classifier(ClassifierDecl { name, model, entries })
        }
        Rule::priorities_decl => ItemKind::Priorities(it.map(|p| ctx.ident(p)).collect()),
        Rule::priority_decl => {
            let mut rules = Vec::new();
            let mut default = None;
            for p in it {
                match p.as_rule() {
                    Rule::priority_rule => {
                        let span = ctx.span(&p);
                        let mut parts: Vec<_> = content(p).collect();
                        let allows = take_allows(ctx, &mut parts);
                        let mut parts = parts.into_iter();
                        let level = ctx.ident(parts.next()?);
                        let when = expr(ctx, parts.next()?);
                        rules.push(PriorityRule { level, when, allows, span });
                    }
                    Rule::priority_default => default = content(p).next().map(|i| ctx.ident(i)),
                    _ => {}
                }
            }
            ItemKind::Priority(PriorityDecl { rules, default })
        }
        Rule::sla_decl => {
            let name = ctx.ident(it.next()?);
            let mut per = None;
            let mut entries = Vec::new();
            for p in it {
                match p.as_rule() {
                    Rule::path => per = Some(ctx.path(p)),
                    Rule::sla_target => entries.push(SlaEntry::Target(sla_target(ctx, p)?)),
                    Rule::sla_override => {
                        let span = ctx.span(&p);
                        let mut parts = content(p);
                        let tier = ctx.ident(parts.next()?);
                        let targets = parts.filter_map(|t| sla_target(ctx, t)).collect();
                        entries.push(SlaEntry::Override { tier, targets, span });
                    }
                    _ => {}
                }
            }
            ItemKind::Sla(SlaDecl { name, per, entries })
        }
        Rule::escalate_decl | Rule::rule_decl => {
            let name = ctx.ident(it.next()?);
            let when = expr(ctx, it.next()?);
            let rest: Vec<_> = it.collect();
            let decl = RuleDecl { name, when, outcome: outcome(ctx, rest)? };
            if rule == Rule::rule_decl {
                ItemKind::Rule(decl)
            } else {
                ItemKind::Escalate(decl)
            }
        }
        Rule::matrix_decl => {
            let mut dimensions = Vec::new();
            let mut rows = Vec::new();
            for p in it {
                match p.as_rule() {
                    Rule::path => dimensions.push(ctx.path(p)),
                    Rule::matrix_row => rows.push(matrix_row(ctx, p)?),
                    _ => {}
                }
            }
            ItemKind::Matrix(MatrixDecl { dimensions, rows })
        }
        Rule::otherwise_decl => ItemKind::Otherwise(outcome(ctx, it.collect())?),
        Rule::test_decl => ItemKind::Test(test_decl(ctx, it)?),
        _ => return None,
    };
    Some(Item { kind, allows, span })
}

fn field_decl(ctx: &Ctx, pair: Pair<'_, Rule>) -> FieldDecl {
    let span = ctx.span(&pair);
    let mut it = content(pair);
    let name = it.next().map(|p| ctx.ident(p)).unwrap_or(Ident { name: String::new(), span });
    let ty = match it.next() {
        Some(body) if body.as_rule() == Rule::record_body => {
            let ty_span = ctx.span(&body);
            TypeExpr {
                kind: TypeKind::Record(content(body).map(|f| field_decl(ctx, f)).collect()),
                optional: false,
                span: ty_span,
            }
        }
        Some(ty) => type_expr(ctx, ty),
        None => TypeExpr { kind: TypeKind::Record(Vec::new()), optional: false, span },
    };
    FieldDecl { name, ty, span }
}

fn type_expr(ctx: &Ctx, pair: Pair<'_, Rule>) -> TypeExpr {
    let span = ctx.span(&pair);
    let mut kind = TypeKind::Record(Vec::new());
    let mut optional = false;
    for p in content(pair) {
        match p.as_rule() {
            Rule::named_type => {
                if let Some(i) = content(p).next() {
                    kind = TypeKind::Named(ctx.ident(i));
                }
            }
            Rule::list_type => {
                if let Some(i) = content(p).next() {
                    kind = TypeKind::List(ctx.ident(i));
                }
            }
            Rule::enum_type => kind = TypeKind::Enum(content(p).map(|i| ctx.ident(i)).collect()),
            Rule::optional_mark => optional = true,
            _ => {}
        }
    }
    TypeExpr { kind, optional, span }
}

fn schedule_entry(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<ScheduleEntry> {
    let span = ctx.span(&pair);
    Some(match pair.as_rule() {
        Rule::sched_tz => ScheduleEntry::TimeZone(ctx.string(content(pair).next()?)),
        Rule::sched_always => ScheduleEntry::AlwaysOpen(span),
        Rule::sched_holidays => ScheduleEntry::Holidays(string_list(ctx, content(pair).next()?)),
        Rule::sched_hours => {
            let mut days = Vec::new();
            let mut times = Vec::new();
            for p in content(pair) {
                let pspan = ctx.span(&p);
                match p.as_rule() {
                    Rule::day_range => {
                        let mut ids = content(p);
                        let from = ctx.ident(ids.next()?);
                        let to = ids.next().map(|i| ctx.ident(i));
                        days.push(DayRange { from, to, span: pspan });
                    }
                    Rule::time_range => {
                        let mut cs = content(p);
                        let clock = |c: Pair<'_, Rule>| StrLit { value: c.as_str().to_string(), span: ctx.span(&c) };
                        let from = clock(cs.next()?);
                        let to = clock(cs.next()?);
                        times.push(TimeRange { from, to, span: pspan });
                    }
                    _ => {}
                }
            }
            ScheduleEntry::Hours(HoursLine { days, times, span })
        }
        _ => return None,
    })
}

fn dest_entry(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<DestinationEntry> {
    let span = ctx.span(&pair);
    let rule = pair.as_rule();
    let mut it = content(pair);
    Some(match rule {
        Rule::dest_hours => DestinationEntry::Hours(ctx.ident(it.next()?)),
        Rule::dest_capacity => {
            let n = it.next()?;
            DestinationEntry::Capacity(n.as_str().parse().unwrap_or(u64::MAX), ctx.span(&n))
        }
        Rule::dest_skills => DestinationEntry::Skills(string_list(ctx, it.next()?)),
        Rule::dest_fallback => {
            let reason = if it.next()?.as_str() == "closed" { FallbackReason::Closed } else { FallbackReason::Full };
            DestinationEntry::Fallback { reason, target: ctx.ident(it.next()?), span }
        }
        Rule::sla_clause => DestinationEntry::Sla(it.filter_map(|s| sla_setting(ctx, s)).collect(), span),
        _ => return None,
    })
}

fn string_list(ctx: &Ctx, pair: Pair<'_, Rule>) -> Vec<StrLit> {
    content(pair).filter(|p| p.as_rule() == Rule::string).map(|p| ctx.string(p)).collect()
}

fn classifier_entry(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<ClassifierEntry> {
    let rule = pair.as_rule();
    let it = content(pair);
    Some(match rule {
        Rule::cls_labels => ClassifierEntry::Labels(it.map(|p| ctx.ident(p)).collect()),
        Rule::cls_features => ClassifierEntry::Features(it.map(|p| ctx.path(p)).collect()),
        Rule::cls_threshold => {
            let parts: Vec<_> = it.collect();
            let (label, value) = match parts.as_slice() {
                [n] => (None, ctx.number(n.clone())),
                [l, n] => (Some(ctx.ident(l.clone())), ctx.number(n.clone())),
                _ => return None,
            };
            ClassifierEntry::Threshold { label, value }
        }
        _ => return None,
    })
}

fn sla_target(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<SlaTarget> {
    let span = ctx.span(&pair);
    let mut it = content(pair);
    let priority = ctx.ident(it.next()?);
    let d = it.next()?;
    let duration = DurationLit { text: d.as_str().to_string(), span: ctx.span(&d) };
    let business = it.next().is_some();
    Some(SlaTarget { priority, duration, business, span })
}

fn sla_setting(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<SlaSetting> {
    let span = ctx.span(&pair);
    let mut it = content(pair);
    let sla = ctx.ident(it.next()?);
    let d = it.next()?;
    let duration = DurationLit { text: d.as_str().to_string(), span: ctx.span(&d) };
    let business = it.next().is_some();
    Some(SlaSetting { sla, duration, business, span })
}

fn outcome(ctx: &Ctx, parts: Vec<Pair<'_, Rule>>) -> Option<Outcome> {
    let mut it = parts.into_iter();
    let dest = it.next()?;
    let mut span = ctx.span(&dest);
    let destination = ctx.ident(dest);
    let mut clauses = Vec::new();
    for p in it {
        span = span.to(ctx.span(&p));
        if let Some(c) = clause(ctx, p) {
            clauses.push(c);
        }
    }
    Some(Outcome { destination, clauses, span })
}

fn clause(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<Clause> {
    let span = ctx.span(&pair);
    let rule = pair.as_rule();
    let mut it = content(pair.clone());
    Some(match rule {
        Rule::set_priority => Clause::Priority(ctx.ident(it.next()?)),
        Rule::shadow_flag => Clause::Shadow(span),
        Rule::rollout => {
            let p = it.next()?;
            let pspan = ctx.span(&p);
            Clause::Rollout { percent: Number { text: p.as_str().trim_end_matches('%').to_string(), span: pspan } }
        }
        Rule::handoff => Clause::Handoff(it.map(|p| ctx.path(p)).collect()),
        Rule::sla_clause => Clause::Sla(it.filter_map(|s| sla_setting(ctx, s)).collect(), span),
        Rule::notify => {
            let channel = if it.next()?.as_str() == "slack" { NotifyChannel::Slack } else { NotifyChannel::Email };
            Clause::Notify { channel, target: ctx.string(it.next()?), span }
        }
        Rule::create_issue => {
            let tracker = if it.next()?.as_str() == "jira" { Tracker::Jira } else { Tracker::Linear };
            let project = ctx.string(it.next()?);
            let mut severity = None;
            let mut area = None;
            for opt in it {
                let opt_text = opt.as_str();
                if let Some(v) = content(opt).next() {
                    if opt_text.starts_with("severity") {
                        severity = Some(ctx.ident(v));
                    } else {
                        area = Some(ctx.string(v));
                    }
                }
            }
            Clause::CreateIssue { tracker, project, severity, area, span }
        }
        Rule::tag_action => Clause::Tag(ctx.string(it.next()?)),
        Rule::set_action => {
            let field = ctx.path(it.next()?);
            Clause::Set { field, value: literal(ctx, it.next()?), span }
        }
        _ => return None,
    })
}

fn matrix_row(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<MatrixRow> {
    let span = ctx.span(&pair);
    let mut parts: Vec<_> = content(pair).collect();
    let allows = take_allows(ctx, &mut parts);
    let mut cells = Vec::new();
    let mut rest = Vec::new();
    for p in parts {
        if p.as_rule() == Rule::cell {
            let cspan = ctx.span(&p);
            let inner: Vec<_> = content(p).collect();
            if inner.first().is_some_and(|c| c.as_rule() == Rule::wildcard) {
                cells.push(Cell::Wildcard(cspan));
            } else {
                let values = inner
                    .into_iter()
                    .filter_map(|v| content(v).next())
                    .map(|v| {
                        let vspan = ctx.span(&v);
                        let kind = if v.as_rule() == Rule::bool_lit {
                            LiteralKind::Bool(v.as_str() == "true")
                        } else {
                            LiteralKind::Name(v.as_str().to_string())
                        };
                        Literal { kind, span: vspan }
                    })
                    .collect();
                cells.push(Cell::Values(values, cspan));
            }
        } else {
            rest.push(p);
        }
    }
    Some(MatrixRow { cells, outcome: outcome(ctx, rest)?, allows, span })
}

fn test_decl<'i>(ctx: &Ctx, mut it: impl Iterator<Item = Pair<'i, Rule>>) -> Option<TestDecl> {
    let name = ctx.string(it.next()?);
    let mut test = TestDecl {
        name,
        ticket: Vec::new(),
        signals: Vec::new(),
        at: None,
        load: Vec::new(),
        expect: None,
        repeated: Vec::new(),
    };
    let mut seen: Vec<Rule> = Vec::new();
    for p in it {
        let span = ctx.span(&p);
        if seen.contains(&p.as_rule()) {
            let word = p.as_str().split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("").to_string();
            test.repeated.push((word, span));
            continue;
        }
        seen.push(p.as_rule());
        match p.as_rule() {
            Rule::test_ticket => test.ticket = content(p).filter_map(|f| field_value(ctx, f)).collect(),
            Rule::test_signals => test.signals = content(p).filter_map(|f| field_value(ctx, f)).collect(),
            Rule::test_at => test.at = content(p).next().map(|s| ctx.string(s)),
            Rule::test_load => {
                for entry in content(p) {
                    let mut e = content(entry);
                    if let (Some(name), Some(n)) = (e.next(), e.next()) {
                        test.load.push((ctx.ident(name), n.as_str().parse().unwrap_or(u64::MAX)));
                    }
                }
            }
            Rule::test_expect => {
                let mut parts = content(p);
                let destination = ctx.ident(parts.next()?);
                let mut exp =
                    Expectation { destination, priority: None, escalated: None, shadow: false, fallback: false, span };
                for e in parts {
                    match e.as_rule() {
                        Rule::set_priority => exp.priority = content(e).next().map(|i| ctx.ident(i)),
                        Rule::escalated => exp.escalated = Some(true),
                        Rule::not_escalated => exp.escalated = Some(false),
                        Rule::shadow_flag => exp.shadow = true,
                        Rule::via_fallback => exp.fallback = true,
                        _ => {}
                    }
                }
                test.expect = Some(exp);
            }
            _ => {}
        }
    }
    Some(test)
}

fn field_value(ctx: &Ctx, pair: Pair<'_, Rule>) -> Option<FieldValue> {
    let span = ctx.span(&pair);
    let mut it = content(pair);
    let path = ctx.path(it.next()?);
    let value = literal(ctx, it.next()?);
    Some(FieldValue { path, value, span })
}

fn literal(ctx: &Ctx, pair: Pair<'_, Rule>) -> Literal {
    let span = ctx.span(&pair);
    let inner = if pair.as_rule() == Rule::literal || pair.as_rule() == Rule::operand {
        match pair.into_inner().next() {
            Some(p) => p,
            None => return Literal { kind: LiteralKind::Str(String::new()), span },
        }
    } else {
        pair
    };
    let kind = match inner.as_rule() {
        Rule::string => LiteralKind::Str(ctx.string(inner).value),
        Rule::number => LiteralKind::Number(inner.as_str().to_string()),
        Rule::duration => LiteralKind::Duration(inner.as_str().to_string()),
        Rule::bool_lit => LiteralKind::Bool(inner.as_str() == "true"),
        Rule::list_literal => LiteralKind::List(content(inner).map(|l| literal(ctx, l)).collect()),
        _ => LiteralKind::Name(inner.as_str().to_string()),
    };
    Literal { kind, span }
}

fn operand(ctx: &Ctx, pair: Pair<'_, Rule>) -> Operand {
    let span = ctx.span(&pair);
    match pair.into_inner().next() {
        Some(p) if p.as_rule() == Rule::path => Operand::Path(ctx.path(p)),
        Some(p) => Operand::Literal(literal(ctx, p)),
        None => Operand::Literal(Literal { kind: LiteralKind::Bool(false), span }),
    }
}

fn expr(ctx: &Ctx, pair: Pair<'_, Rule>) -> Expr {
    let span = ctx.span(&pair);
    match pair.as_rule() {
        Rule::expr => match pair.into_inner().next() {
            Some(p) => expr(ctx, p),
            None => Expr { kind: ExprKind::And(Vec::new()), span },
        },
        Rule::or_expr | Rule::and_expr => {
            let is_or = pair.as_rule() == Rule::or_expr;
            let mut parts: Vec<Expr> = content(pair).map(|p| expr(ctx, p)).collect();
            if parts.len() == 1 {
                parts.remove(0)
            } else if is_or {
                Expr { kind: ExprKind::Or(parts), span }
            } else {
                Expr { kind: ExprKind::And(parts), span }
            }
        }
        Rule::not_expr => match pair.into_inner().next() {
            Some(p) => expr(ctx, p),
            None => Expr { kind: ExprKind::And(Vec::new()), span },
        },
        Rule::negation => match content(pair).next() {
            Some(p) => Expr { kind: ExprKind::Not(Box::new(expr(ctx, p))), span },
            None => Expr { kind: ExprKind::And(Vec::new()), span },
        },
        Rule::predicate => predicate(ctx, pair),
        _ => Expr { kind: ExprKind::And(Vec::new()), span },
    }
}

fn predicate(ctx: &Ctx, pair: Pair<'_, Rule>) -> Expr {
    let span = ctx.span(&pair);
    let mut it = content(pair);
    let Some(first) = it.next() else {
        return Expr { kind: ExprKind::And(Vec::new()), span };
    };
    if first.as_rule() == Rule::expr {
        return Expr { kind: ExprKind::Paren(Box::new(expr(ctx, first))), span };
    }
    let lhs = operand(ctx, first);
    let Some(tail) = it.next() else {
        return Expr { kind: ExprKind::Truthy(lhs), span };
    };
    let tail_rule = tail.as_rule();
    let mut parts: Vec<_> = content(tail).collect();
    let kind = match tail_rule {
        Rule::compare => {
            let op = match parts.first().map(|p| p.as_str()) {
                Some("==") => CompareOp::Eq,
                Some("!=") => CompareOp::Ne,
                Some("<") => CompareOp::Lt,
                Some("<=") => CompareOp::Le,
                Some(">") => CompareOp::Gt,
                _ => CompareOp::Ge,
            };
            let rhs = match parts.pop() {
                Some(p) => operand(ctx, p),
                None => Operand::Literal(Literal { kind: LiteralKind::Bool(false), span }),
            };
            ExprKind::Compare { lhs, op, rhs }
        }
        Rule::in_list => {
            let negated = parts.iter().any(|p| p.as_rule() == Rule::negated_in);
            let list_pair = parts.into_iter().find(|p| p.as_rule() == Rule::list_literal);
            let list_span = list_pair.as_ref().map(|p| ctx.span(p)).unwrap_or(span);
            let list = list_pair.map(|p| content(p).map(|l| literal(ctx, l)).collect()).unwrap_or_default();
            ExprKind::In { lhs, negated, list, list_span }
        }
        Rule::has => {
            let target = match parts.pop() {
                Some(p) if p.as_rule() == Rule::string_list => {
                    let lspan = ctx.span(&p);
                    HasTarget::Inline(string_list(ctx, p), lspan)
                }
                Some(p) => HasTarget::Set(ctx.ident(p)),
                None => HasTarget::Inline(Vec::new(), span),
            };
            ExprKind::Has { lhs, target }
        }
        Rule::matches => {
            let target = match parts.pop() {
                Some(p) if p.as_rule() == Rule::string => MatchTarget::Inline(ctx.string(p)),
                Some(p) => MatchTarget::Named(ctx.ident(p)),
                None => MatchTarget::Inline(StrLit { value: String::new(), span }),
            };
            ExprKind::Matches { lhs, target }
        }
        Rule::string_test => {
            let op = match parts.first().map(|p| p.as_str()) {
                Some("starts_with") => StringOp::StartsWith,
                Some("ends_with") => StringOp::EndsWith,
                _ => StringOp::Contains,
            };
            let value = match parts.pop() {
                Some(p) => ctx.string(p),
                None => StrLit { value: String::new(), span },
            };
            ExprKind::StringTest { lhs, op, value }
        }
        _ => ExprKind::Truthy(lhs),
    };
    Expr { kind, span }
}
