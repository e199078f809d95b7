//! Conditions and literals: resolve operands, check types, build `hir::Expr`.
//! A condition that does not type-check becomes `Const(false)` after its
//! diagnostic, so checking continues.

use super::hir::*;
use super::schema::describe;
use super::{bad_regex, suggest, Checker};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, CompareOp, LiteralKind, StringOp};

/// Names a condition can read besides ticket fields.
const SIGNALS: &[&str] = &["confidence", "threshold", "sentiment", "language", "priority"];

impl Checker<'_> {
    /// Check a condition. `in_priority` forbids reading `priority` (it is being computed).
    pub(super) fn condition(&mut self, e: &ast::Expr, in_priority: bool) -> Expr {
        let kind = match &e.kind {
            ast::ExprKind::Or(parts) => ExprKind::Or(parts.iter().map(|p| self.condition(p, in_priority)).collect()),
            ast::ExprKind::And(parts) => ExprKind::And(parts.iter().map(|p| self.condition(p, in_priority)).collect()),
            ast::ExprKind::Not(inner) => ExprKind::Not(Box::new(self.condition(inner, in_priority))),
            ast::ExprKind::Paren(inner) => return self.condition(inner, in_priority),
            ast::ExprKind::Truthy(operand) => self.truthy(operand, in_priority),
            ast::ExprKind::Compare { lhs, op, rhs } => self.compare(lhs, *op, rhs, in_priority, e.span),
            ast::ExprKind::In { lhs, negated, list, list_span } => {
                self.in_list(lhs, *negated, list, *list_span, in_priority)
            }
            ast::ExprKind::Has { lhs, target } => self.has(lhs, target),
            ast::ExprKind::Matches { lhs, target } => self.matches(lhs, target, e.span),
            ast::ExprKind::StringTest { lhs, op, value } => self.string_test(lhs, *op, value, e.span),
        };
        Expr { kind, span: e.span }
    }

    /// Resolve a path in a condition to a field or a signal.
    pub(super) fn operand_path(&mut self, path: &ast::Path, in_priority: bool) -> Option<(Operand, Ty)> {
        let dotted = path.dotted();
        if let Some(id) = self.policy.field_by_path(&dotted) {
            return Some((Operand::Field(id), self.policy.field(id).ty.clone()));
        }
        let classifier = self.policy.classifier.as_ref().map(|c| (c.name.clone(), c.labels));
        let signal = match dotted.as_str() {
            "confidence" if classifier.is_some() => Some(Signal::Confidence),
            "threshold" if classifier.is_some() => Some(Signal::Threshold),
            "sentiment" => Some(Signal::Sentiment),
            "language" => Some(Signal::Language),
            "priority" => Some(Signal::Priority),
            name if classifier.as_ref().is_some_and(|(n, _)| n == name) => Some(Signal::Intent),
            _ => None,
        };
        if let Some(signal) = signal {
            if signal == Signal::Priority && in_priority {
                self.error(
                    Diagnostic::error(Code::TypeMismatch, "a priority rule cannot read `priority`")
                        .primary(path.span, "`priority` is what this block computes")
                        .help("use the conditions that decide the priority instead"),
                );
                return None;
            }
            let ty = self.policy.operand_ty(&Operand::Signal(signal))?;
            return Some((Operand::Signal(signal), ty));
        }
        if matches!(dotted.as_str(), "confidence" | "threshold" | "intent") {
            self.error(
                Diagnostic::error(Code::UnknownName, format!("`{dotted}` needs a classifier"))
                    .primary(path.span, "no `classifier` is declared")
                    .help("declare `classifier intent from \"models/intent.model\" { labels … }`"),
            );
            return None;
        }
        if dotted == "text" {
            self.error(
                Diagnostic::error(
                    Code::TypeMismatch,
                    "`text` stands for all text fields and only works with text tests",
                )
                .primary(path.span, "used outside `has`, `matches`, `starts_with`, `ends_with` or `contains`")
                .help("write `text has KEYWORDS` or `text matches \"…\"`, or name one field such as `subject`"),
            );
            return None;
        }
        self.unknown_path(path);
        None
    }

    pub(super) fn unknown_path(&mut self, path: &ast::Path) {
        let dotted = path.dotted();
        let mut candidates: Vec<String> = self.policy.fields.iter().map(|f| f.path.clone()).collect();
        candidates.extend(SIGNALS.iter().map(|s| s.to_string()));
        if let Some(c) = &self.policy.classifier {
            candidates.push(c.name.clone());
        }
        let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let (help, suggestion) = suggest::help_for("field", &dotted, &names);
        let is_record = self.policy.fields.iter().any(|f| f.path.starts_with(&format!("{dotted}.")));
        let message = if is_record {
            format!("`{dotted}` is a record, not a value")
        } else {
            format!("unknown field `{dotted}`")
        };
        let help = if is_record {
            let fields: Vec<&str> = self
                .policy
                .fields
                .iter()
                .filter(|f| f.path.starts_with(&format!("{dotted}.")))
                .map(|f| f.path.as_str())
                .collect();
            format!("use one of its fields: {}", fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))
        } else {
            help
        };
        let mut d = Diagnostic::error(Code::UnknownField, message)
            .primary(path.span, if is_record { "a record" } else { "not in the ticket schema" })
            .help(help);
        if let (Some(s), false) = (suggestion, is_record) {
            d = d.suggest(s);
        }
        self.error(d);
    }

    fn truthy(&mut self, operand: &ast::Operand, in_priority: bool) -> ExprKind {
        match operand {
            ast::Operand::Literal(ast::Literal { kind: LiteralKind::Bool(b), .. }) => ExprKind::Const(*b),
            ast::Operand::Path(path) => {
                let Some((op, ty)) = self.operand_path(path, in_priority) else { return ExprKind::Const(false) };
                if ty == Ty::Bool {
                    ExprKind::OneOf { value: op, values: vec![1], negated: false }
                } else {
                    let shown = describe(&self.policy, &ty);
                    self.error(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!("`{}` is {shown}, not a condition", path.dotted()),
                        )
                        .primary(path.span, "not a bool")
                        .help(format!("compare it, e.g. `{} == …`", path.dotted())),
                    );
                    ExprKind::Const(false)
                }
            }
            ast::Operand::Literal(l) => {
                self.error(
                    Diagnostic::error(Code::TypeMismatch, "a value alone is not a condition")
                        .primary(l.span, "expected a condition")
                        .help("compare a field with it, e.g. `customer.tier == pro`"),
                );
                ExprKind::Const(false)
            }
        }
    }

    fn compare(
        &mut self,
        lhs: &ast::Operand,
        op: CompareOp,
        rhs: &ast::Operand,
        in_priority: bool,
        span: Span,
    ) -> ExprKind {
        // Normalise `LITERAL op path` to `path op' LITERAL`.
        let (lhs, op, rhs) = match (lhs, rhs) {
            (ast::Operand::Literal(_), ast::Operand::Path(_)) => (rhs, flip(op), lhs),
            _ => (lhs, op, rhs),
        };
        let ast::Operand::Path(lpath) = lhs else {
            self.error(
                Diagnostic::error(Code::TypeMismatch, "comparison of two values")
                    .primary(span, "neither side reads the ticket")
                    .help("one side must be a field or signal, e.g. `customer.health < 30`"),
            );
            return ExprKind::Const(false);
        };
        let Some((lop, lty)) = self.operand_path(lpath, in_priority) else { return ExprKind::Const(false) };
        let eq_only = matches!(op, CompareOp::Eq | CompareOp::Ne);
        match &lty {
            Ty::Enum(e) => {
                let e = *e;
                if !eq_only {
                    self.order_on_unordered(lpath, &lty, op, span);
                    return ExprKind::Const(false);
                }
                let Some(value) = self.enum_value_operand(e, rhs, lpath, in_priority) else {
                    return ExprKind::Const(false);
                };
                ExprKind::OneOf { value: lop, values: vec![value], negated: op == CompareOp::Ne }
            }
            Ty::Bool => {
                if !eq_only {
                    self.order_on_unordered(lpath, &lty, op, span);
                    return ExprKind::Const(false);
                }
                let Some(v) = self.rhs_const(&Ty::Bool, rhs, lpath) else { return ExprKind::Const(false) };
                ExprKind::OneOf { value: lop, values: vec![v as u32], negated: op == CompareOp::Ne }
            }
            Ty::Text | Ty::String | Ty::Url => {
                if !eq_only {
                    self.order_on_unordered(lpath, &lty, op, span);
                    return ExprKind::Const(false);
                }
                let Operand::Field(field) = lop else { return ExprKind::Const(false) };
                let value = match rhs {
                    ast::Operand::Literal(ast::Literal { kind: LiteralKind::Str(s), .. }) => s.clone(),
                    other => {
                        self.mismatch(other.span(), &lty, "a string in double quotes", lpath);
                        return ExprKind::Const(false);
                    }
                };
                let test = ExprKind::StringTest { field, test: StringTest::Equals, value };
                if op == CompareOp::Ne {
                    ExprKind::Not(Box::new(Expr { kind: test, span }))
                } else {
                    test
                }
            }
            Ty::List(_) => {
                self.error(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("`{}` is a list and cannot be compared", lpath.dotted()),
                    )
                    .primary(lpath.span, "a list")
                    .help(format!("test an element with `{} contains \"…\"`", lpath.dotted())),
                );
                ExprKind::Const(false)
            }
            numeric => {
                let numeric = numeric.clone();
                let rop = match rhs {
                    ast::Operand::Path(rpath) => {
                        let Some((rop, rty)) = self.operand_path(rpath, in_priority) else {
                            return ExprKind::Const(false);
                        };
                        if !compatible_numeric(&numeric, &rty) {
                            let l = describe(&self.policy, &numeric);
                            let r = describe(&self.policy, &rty);
                            self.error(
                                Diagnostic::error(Code::TypeMismatch, format!("cannot compare {l} with {r}"))
                                    .primary(rpath.span, format!("this is {r}"))
                                    .secondary(lpath.span, format!("this is {l}"))
                                    .help("compare values of the same kind"),
                            );
                            return ExprKind::Const(false);
                        }
                        rop
                    }
                    ast::Operand::Literal(_) => {
                        let Some(v) = self.rhs_const(&numeric, rhs, lpath) else { return ExprKind::Const(false) };
                        Operand::Const(v)
                    }
                };
                ExprKind::Compare { lhs: lop, op, rhs: rop }
            }
        }
    }

    fn order_on_unordered(&mut self, path: &ast::Path, ty: &Ty, op: CompareOp, span: Span) {
        let shown = describe(&self.policy, ty);
        self.error(
            Diagnostic::error(Code::TypeMismatch, format!("`{}` cannot be used on {shown}", op.symbol()))
                .primary(span, format!("`{}` is {shown}", path.dotted()))
                .help("only numbers, durations and times are ordered; use `==`, `!=` or `in [...]`"),
        );
    }

    fn enum_value_operand(
        &mut self,
        e: EnumId,
        rhs: &ast::Operand,
        lpath: &ast::Path,
        in_priority: bool,
    ) -> Option<u32> {
        match rhs {
            ast::Operand::Path(p) if p.segments.len() == 1 => {
                let name = &p.segments[0].name;
                if let Some(v) = self.policy.enum_def(e).position(name) {
                    return Some(v);
                }
                // Not a value of the enum: maybe another operand was meant; report as unknown value.
                let _ = in_priority;
                self.unknown_value(e, name, p.span, lpath);
                None
            }
            ast::Operand::Literal(l) => self.literal_const(&Ty::Enum(e), l, lpath).map(|v| v as u32),
            ast::Operand::Path(p) => {
                self.mismatch(p.span, &Ty::Enum(e), "a value", lpath);
                None
            }
        }
    }

    pub(super) fn unknown_value(&mut self, e: EnumId, name: &str, span: Span, lpath: &ast::Path) {
        let def = self.policy.enum_def(e);
        let names: Vec<&str> = def.values.iter().map(|v| v.name.as_str()).collect();
        let d = Diagnostic::error(Code::UnknownValue, format!("`{}` has no value `{name}`", lpath.dotted()))
            .primary(span, format!("not a value of {}", describe(&self.policy, &Ty::Enum(e))))
            .did_you_mean("value", name, &names);
        self.error(d);
    }

    fn rhs_const(&mut self, ty: &Ty, rhs: &ast::Operand, lpath: &ast::Path) -> Option<f64> {
        match rhs {
            ast::Operand::Literal(l) => self.literal_const(ty, l, lpath),
            ast::Operand::Path(p) => {
                let lit = ast::Literal { kind: LiteralKind::Name(p.dotted()), span: p.span };
                self.literal_const(ty, &lit, lpath)
            }
        }
    }

    fn mismatch(&mut self, span: Span, ty: &Ty, expected: &str, lpath: &ast::Path) {
        let shown = describe(&self.policy, ty);
        self.error(
            Diagnostic::error(
                Code::TypeMismatch,
                format!("`{}` is {shown}, so this must be {expected}", lpath.dotted()),
            )
            .primary(span, format!("expected {expected}"))
            .help(example_for(&self.policy, ty)),
        );
    }

    /// A literal as the number the engines compare, for a value of type `ty`.
    pub(super) fn literal_const(&mut self, ty: &Ty, lit: &ast::Literal, lpath: &ast::Path) -> Option<f64> {
        match (ty, &lit.kind) {
            (Ty::Enum(e), LiteralKind::Name(n)) => match self.policy.enum_def(*e).position(n) {
                Some(v) => Some(v as f64),
                None => {
                    self.unknown_value(*e, n, lit.span, lpath);
                    None
                }
            },
            (Ty::Enum(e), LiteralKind::Str(s)) => {
                let known = self.policy.enum_def(*e).position(s).is_some();
                let mut d =
                    Diagnostic::error(Code::TypeMismatch, format!("enum values are written without quotes: `{s}`"))
                        .primary(lit.span, "a string, not an enum value");
                d = if known {
                    d.help(format!("write `{s}`")).suggest(s.clone())
                } else {
                    d.help(example_for(&self.policy, ty))
                };
                self.error(d);
                None
            }
            (Ty::Bool, LiteralKind::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
            (Ty::Int, LiteralKind::Number(n)) => match n.parse::<i64>() {
                Ok(v) => Some(v as f64),
                Err(_) => {
                    self.error(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!("`{}` is an int, so `{n}` must be a whole number", lpath.dotted()),
                        )
                        .primary(lit.span, "not a whole number")
                        .help("drop the fraction, or declare the field as `number`"),
                    );
                    None
                }
            },
            (Ty::Number, LiteralKind::Number(n)) => n.parse::<f64>().ok(),
            (Ty::Duration, LiteralKind::Duration(d)) => match parse_duration(d) {
                Some(secs) => Some(secs),
                None => {
                    self.bad_duration(lit.span, d);
                    None
                }
            },
            (Ty::Time, LiteralKind::Str(s)) => match s.parse::<jiff::Timestamp>() {
                Ok(t) => Some(t.as_second() as f64),
                Err(_) => {
                    self.error(
                        Diagnostic::error(Code::BadValue, format!("`{s}` is not a time"))
                            .primary(lit.span, "expected an RFC 3339 time")
                            .help("write times like \"2026-11-29T03:00:00-05:00\""),
                    );
                    None
                }
            },
            _ => {
                let expected = match ty {
                    Ty::Enum(_) => "a value",
                    Ty::Bool => "`true` or `false`",
                    Ty::Int => "a whole number",
                    Ty::Number => "a number",
                    Ty::Duration => "a duration",
                    Ty::Time => "a time",
                    _ => "a string",
                };
                self.mismatch(lit.span, ty, expected, lpath);
                None
            }
        }
    }

    pub(super) fn bad_duration(&mut self, span: Span, text: &str) {
        self.error(
            Diagnostic::error(Code::BadDuration, format!("`{text}` is not a duration"))
                .primary(span, "expected a number followed by d, h, m or s")
                .help("write durations like `15m`, `2h`, `1h30m` or `3d`"),
        );
    }

    fn in_list(
        &mut self,
        lhs: &ast::Operand,
        negated: bool,
        list: &[ast::Literal],
        list_span: Span,
        in_priority: bool,
    ) -> ExprKind {
        let ast::Operand::Path(lpath) = lhs else {
            self.error(
                Diagnostic::error(Code::TypeMismatch, "`in` needs a field on its left")
                    .primary(lhs.span(), "a value")
                    .help("write `customer.tier in [pro, enterprise]`"),
            );
            return ExprKind::Const(false);
        };
        let Some((op, ty)) = self.operand_path(lpath, in_priority) else { return ExprKind::Const(false) };
        if list.is_empty() {
            self.error(
                Diagnostic::error(Code::BadValue, "empty list")
                    .primary(list_span, "nothing can be in an empty list")
                    .help("list at least one value"),
            );
            return ExprKind::Const(false);
        }
        let span = lpath.span.to(list_span);
        let kind = match &ty {
            Ty::Enum(_) | Ty::Bool => {
                let values: Vec<u32> =
                    list.iter().filter_map(|l| self.literal_const(&ty, l, lpath)).map(|v| v as u32).collect();
                return ExprKind::OneOf { value: op, values, negated };
            }
            Ty::Text | Ty::String | Ty::Url => {
                let Operand::Field(field) = op else { return ExprKind::Const(false) };
                let mut parts = Vec::new();
                for l in list {
                    match &l.kind {
                        LiteralKind::Str(s) => parts.push(Expr {
                            kind: ExprKind::StringTest { field, test: StringTest::Equals, value: s.clone() },
                            span: l.span,
                        }),
                        _ => self.mismatch(l.span, &ty, "a string in double quotes", lpath),
                    }
                }
                ExprKind::Or(parts)
            }
            Ty::List(_) => {
                self.error(
                    Diagnostic::error(Code::TypeMismatch, format!("`{}` is a list", lpath.dotted()))
                        .primary(lpath.span, "a list")
                        .help(format!("test one element with `{} contains \"…\"`", lpath.dotted())),
                );
                return ExprKind::Const(false);
            }
            numeric => {
                let numeric = numeric.clone();
                let parts = list
                    .iter()
                    .filter_map(|l| {
                        let v = self.literal_const(&numeric, l, lpath)?;
                        Some(Expr {
                            kind: ExprKind::Compare { lhs: op.clone(), op: CompareOp::Eq, rhs: Operand::Const(v) },
                            span: l.span,
                        })
                    })
                    .collect();
                ExprKind::Or(parts)
            }
        };
        if negated {
            ExprKind::Not(Box::new(Expr { kind, span }))
        } else {
            kind
        }
    }

    /// The text scope on the left of `has` / `matches` / string tests.
    fn text_field(&mut self, lhs: &ast::Operand, what: &str) -> Option<TextScope> {
        let ast::Operand::Path(path) = lhs else {
            self.error(
                Diagnostic::error(Code::TypeMismatch, format!("`{what}` needs a text field on its left"))
                    .primary(lhs.span(), "a value")
                    .help(format!("write `subject {what} …`")),
            );
            return None;
        };
        if path.dotted() == "text" && self.policy.field_by_path("text").is_none() {
            return Some(TextScope::AllText);
        }
        let (op, ty) = self.operand_path(path, false)?;
        match (op, ty) {
            (Operand::Field(f), Ty::Text | Ty::String | Ty::Url) => Some(TextScope::Field(f)),
            (_, ty) => {
                let shown = describe(&self.policy, &ty);
                self.error(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("`{what}` works on text, but `{}` is {shown}", path.dotted()),
                    )
                    .primary(path.span, format!("this is {shown}"))
                    .help("use a text or string field, or `text` for all text fields"),
                );
                None
            }
        }
    }

    fn has(&mut self, lhs: &ast::Operand, target: &ast::HasTarget) -> ExprKind {
        let scope = self.text_field(lhs, "has");
        let set = match target {
            ast::HasTarget::Set(name) => match self.keyword_ids.get(&name.name) {
                Some(id) => Some(*id),
                None => {
                    let names: Vec<&str> = self.keyword_ids.keys().map(String::as_str).collect();
                    let d = Diagnostic::error(Code::UnknownName, format!("unknown keyword set `{}`", name.name))
                        .primary(name.span, "no `keywords` with this name")
                        .did_you_mean("keyword set", &name.name, &names);
                    self.error(d);
                    None
                }
            },
            ast::HasTarget::Inline(phrases, span) => {
                if phrases.is_empty() || phrases.iter().any(|p| p.value.trim().is_empty()) {
                    self.error(
                        Diagnostic::error(Code::EmptyKeywords, "empty keyword list")
                            .primary(*span, "a list with no phrase, or an empty phrase, matches nothing")
                            .help("list the words or phrases to look for"),
                    );
                    None
                } else if phrases.iter().filter(|p| !self.phrase_is_valid(p)).count() > 0 {
                    // Every phrase is checked (not only up to the first bad one).
                    None
                } else {
                    let id = KeywordSetId(self.policy.keyword_sets.len() as u32);
                    self.policy.keyword_sets.push(KeywordSet {
                        name: None,
                        phrases: phrases.iter().map(|p| p.value.clone()).collect(),
                        span: *span,
                    });
                    Some(id)
                }
            }
        };
        match (scope, set) {
            (Some(scope), Some(set)) => ExprKind::Keywords { scope, set },
            _ => ExprKind::Const(false),
        }
    }

    fn matches(&mut self, lhs: &ast::Operand, target: &ast::MatchTarget, span: Span) -> ExprKind {
        let scope = self.text_field(lhs, "matches");
        let regex = match target {
            ast::MatchTarget::Named(name) => match self.regex_ids.get(&name.name) {
                Some(id) => Some(*id),
                None => {
                    let names: Vec<&str> = self.regex_ids.keys().map(String::as_str).collect();
                    let d = Diagnostic::error(Code::UnknownName, format!("unknown regex `{}`", name.name))
                        .primary(name.span, "no `regex` with this name")
                        .did_you_mean("regex", &name.name, &names);
                    self.error(d);
                    None
                }
            },
            ast::MatchTarget::Inline(pattern) => match regex::Regex::new(&pattern.value) {
                Ok(_) => {
                    let id = RegexId(self.policy.regexes.len() as u32);
                    self.policy.regexes.push(RegexDef {
                        name: None,
                        pattern: pattern.value.clone(),
                        span: pattern.span,
                    });
                    Some(id)
                }
                Err(e) => {
                    self.error(bad_regex(pattern.span, &e));
                    None
                }
            },
        };
        match (scope, regex) {
            (Some(TextScope::Field(field)), Some(regex)) => ExprKind::Regex { field, regex },
            (Some(TextScope::AllText), Some(regex)) => {
                self.any_text_field(span, |field| ExprKind::Regex { field, regex })
            }
            _ => ExprKind::Const(false),
        }
    }

    fn string_test(&mut self, lhs: &ast::Operand, op: StringOp, value: &ast::StrLit, span: Span) -> ExprKind {
        if let Some(path_prefix) = self.url_path_prefix(lhs, op, value) {
            return path_prefix;
        }
        // `tags contains "x"` tests list membership.
        if op == StringOp::Contains {
            if let ast::Operand::Path(path) = lhs {
                if let Some(field) = self.policy.field_by_path(&path.dotted()) {
                    if matches!(self.policy.field(field).ty, Ty::List(_)) {
                        return ExprKind::StringTest {
                            field,
                            test: StringTest::ListContains,
                            value: value.value.clone(),
                        };
                    }
                }
            }
        }
        let test = |field| ExprKind::StringTest { field, test: StringTest::Op(op), value: value.value.clone() };
        match self.text_field(lhs, op.keyword()) {
            Some(TextScope::Field(field)) => test(field),
            Some(TextScope::AllText) => self.any_text_field(span, test),
            None => ExprKind::Const(false),
        }
    }

    /// `text matches R`, `text contains "x"`…: the test on each `text` field,
    /// joined with `or`. Spelled out in the HIR, so the engines, the trace
    /// and the analyses see only tests they already know (and the analyses
    /// see that `subject matches R` implies `text matches R`).
    fn any_text_field(&mut self, span: Span, test: impl Fn(FieldId) -> ExprKind) -> ExprKind {
        let fields: Vec<FieldId> = (0..self.policy.fields.len() as u32)
            .map(FieldId)
            .filter(|f| self.policy.field(*f).ty == Ty::Text)
            .collect();
        if fields.is_empty() {
            self.error(
                Diagnostic::error(Code::TypeMismatch, "`text` stands for the `text` fields, but the ticket has none")
                    .primary(span, "no field to test")
                    .help("declare free-text fields as `text` (e.g. `body: text`), or name a `string` field"),
            );
            return ExprKind::Const(false);
        }
        ExprKind::Or(fields.into_iter().map(|field| Expr { kind: test(field), span }).collect())
    }
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

fn compatible_numeric(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Int | Ty::Number, Ty::Int | Ty::Number) => true,
        (x, y) => x == y,
    }
}

fn example_for(policy: &Policy, ty: &Ty) -> String {
    match ty {
        Ty::Enum(e) => {
            let def = policy.enum_def(*e);
            let first = def.values.first().map(|v| v.name.as_str()).unwrap_or("value");
            format!("write one of its values without quotes, e.g. `{first}`")
        }
        Ty::Bool => "write `true` or `false`".into(),
        Ty::Int => "write a whole number, e.g. `3`".into(),
        Ty::Number => "write a number, e.g. `0.7`".into(),
        Ty::Duration => "write a duration, e.g. `2h`".into(),
        Ty::Time => "write a time, e.g. \"2026-11-29T03:00:00Z\"".into(),
        _ => "write a string in double quotes, e.g. \"billing\"".into(),
    }
}

/// `1h30m` → seconds. Units: d, h, m, s. `None` for anything else or zero.
pub fn parse_duration(text: &str) -> Option<f64> {
    let mut total = 0u64;
    let mut number = String::new();
    let mut saw_unit = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        saw_unit = true;
    }
    if !number.is_empty() || !saw_unit || total == 0 {
        return None;
    }
    Some(total as f64)
}
