//! Routing items: escalations, rules, matrices and `otherwise`, and the
//! outcome they route to (destination, priority, rollout, handoff, actions).

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::schema::describe;
use crate::semantic::{duplicate, hir, Checker};
use crate::source::Span;
use crate::syntax::ast::{self, LiteralKind};
use std::collections::HashMap;

impl Checker<'_> {
    pub(in crate::semantic) fn routing(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut escalation_names: HashMap<String, Span> = HashMap::new();
        let mut rule_names: HashMap<String, Span> = HashMap::new();
        let mut otherwise_span: Option<Span> = None;
        for (_, item) in items {
            match &item.kind {
                ast::ItemKind::Escalate(r) | ast::ItemKind::Rule(r) => {
                    let is_rule = matches!(item.kind, ast::ItemKind::Rule(_));
                    let names = if is_rule { &mut rule_names } else { &mut escalation_names };
                    if let Some(first) = names.get(&r.name.name) {
                        let first = *first;
                        self.error(duplicate(
                            if is_rule { "rule" } else { "escalation" },
                            &r.name.name,
                            r.name.span,
                            first,
                        ));
                    } else {
                        names.insert(r.name.name.clone(), r.name.span);
                    }
                    let when = self.condition(&r.when, false);
                    let Some(outcome) = self.outcome(&r.outcome) else { continue };
                    let rule =
                        hir::Rule { name: r.name.name.clone(), name_span: r.name.span, span: item.span, when, outcome };
                    if is_rule {
                        self.policy.rules.push(rule);
                    } else {
                        self.policy.escalations.push(rule);
                    }
                }
                ast::ItemKind::Matrix(m) => {
                    if let Some(matrix) = self.matrix(m, item.span) {
                        self.policy.matrices.push(matrix);
                    }
                }
                ast::ItemKind::Otherwise(o) => {
                    if let Some(first) = otherwise_span {
                        self.error(duplicate("otherwise", "otherwise", item.span, first));
                        continue;
                    }
                    otherwise_span = Some(item.span);
                    self.policy.otherwise = self.outcome(o);
                }
                _ => {}
            }
        }
    }

    fn matrix(&mut self, m: &ast::MatrixDecl, span: Span) -> Option<hir::Matrix> {
        let mut dims = Vec::new();
        let mut ok = true;
        for d in &m.dimensions {
            match self.operand_path(d, false) {
                Some((op, hir::Ty::Enum(_) | hir::Ty::Bool)) => dims.push((op, d.span)),
                Some((_, ty)) => {
                    ok = false;
                    let shown = describe(&self.policy, &ty);
                    self.error(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!("a matrix dimension must be an enum or bool; `{}` is {shown}", d.dotted()),
                        )
                        .primary(d.span, "not an enum")
                        .help("use ordered `rule`s for conditions on other types"),
                    );
                }
                None => ok = false,
            }
        }
        let mut rows = Vec::new();
        for row in &m.rows {
            if row.cells.len() != m.dimensions.len() {
                let cells_span = row.cells.first().map(|c| c.span()).unwrap_or(row.span);
                let cells_span = row.cells.last().map(|c| cells_span.to(c.span())).unwrap_or(cells_span);
                self.error(
                    Diagnostic::error(
                        Code::BadValue,
                        format!(
                            "this row has {} but the matrix has {}",
                            plural(row.cells.len(), "cell"),
                            plural(m.dimensions.len(), "dimension")
                        ),
                    )
                    .primary(cells_span, "wrong number of cells")
                    .help(format!(
                        "give one cell per dimension ({}), `_` for any value",
                        m.dimensions.iter().map(|d| d.dotted()).collect::<Vec<_>>().join(", ")
                    )),
                );
                self.outcome(&row.outcome);
                continue;
            }
            let mut cells = Vec::new();
            for (i, cell) in row.cells.iter().enumerate() {
                match cell {
                    ast::Cell::Wildcard(_) => cells.push(None),
                    ast::Cell::Values(values, _) => {
                        let Some((op, _)) = dims.get(i).cloned() else {
                            cells.push(None);
                            continue;
                        };
                        let ty = self.policy.operand_ty(&op).unwrap_or(hir::Ty::Bool);
                        let dim_path = &m.dimensions[i];
                        let ids: Vec<u32> = values
                            .iter()
                            .filter_map(|v| {
                                let lit = match &v.kind {
                                    LiteralKind::Name(n) if ty == hir::Ty::Bool && (n == "true" || n == "false") => {
                                        ast::Literal { kind: LiteralKind::Bool(n == "true"), span: v.span }
                                    }
                                    _ => v.clone(),
                                };
                                self.literal_const(&ty, &lit, dim_path).map(|x| x as u32)
                            })
                            .collect();
                        cells.push(Some(ids));
                    }
                }
            }
            let Some(outcome) = self.outcome(&row.outcome) else { continue };
            rows.push(hir::MatrixRow { cells, outcome, span: row.span });
        }
        if !ok {
            return None;
        }
        if m.rows.is_empty() {
            self.error(
                Diagnostic::error(Code::MissingItem, "the matrix has no rows")
                    .primary(span, "routes nothing")
                    .help("add rows like `billing, _ -> billing`"),
            );
        }
        Some(hir::Matrix { span, dimensions: dims, rows })
    }

    pub(super) fn outcome(&mut self, o: &ast::Outcome) -> Option<hir::Outcome> {
        let destination = self.resolve_destination(&o.destination);
        let mut out = hir::Outcome {
            destination: destination.unwrap_or(hir::DestId(0)),
            destination_span: o.destination.span,
            priority: None,
            shadow: false,
            rollout: None,
            handoff: Vec::new(),
            slas: Vec::new(),
            actions: Vec::new(),
            span: o.span,
        };
        for clause in &o.clauses {
            match clause {
                ast::Clause::Priority(p) => out.priority = self.resolve_priority(p),
                ast::Clause::Shadow(_) => out.shadow = true,
                ast::Clause::Rollout { percent } => {
                    match percent.text.parse::<f64>() {
                        Ok(v) if v > 0.0 && v <= 100.0 => out.rollout = Some(v),
                        _ => self.error(
                            Diagnostic::error(Code::BadValue, format!("rollout `{}%` is outside 0..100", percent.text))
                                .primary(percent.span, "not a share of tickets")
                                .help("write a percentage above 0 and at most 100, e.g. `rollout 25%`"),
                        ),
                    }
                    match self.policy.field_by_path("id").map(|f| self.policy.field(f).ty.clone()) {
                        Some(hir::Ty::String | hir::Ty::Int) => {}
                        _ => self.error(
                            Diagnostic::error(Code::MissingItem, "`rollout` needs a ticket `id` field")
                                .primary(percent.span, "tickets are bucketed by a hash of their id")
                                .help("add `id: string` to the `ticket` schema"),
                        ),
                    }
                }
                ast::Clause::Handoff(paths) => {
                    for p in paths {
                        let dotted = p.dotted();
                        let matching: Vec<hir::FieldId> = self
                            .policy
                            .fields
                            .iter()
                            .enumerate()
                            .filter(|(_, f)| f.path == dotted || f.path.starts_with(&format!("{dotted}.")))
                            .filter(|(_, f)| f.url_part.is_none())
                            .map(|(i, _)| hir::FieldId(i as u32))
                            .collect();
                        if matching.is_empty() {
                            self.unknown_path(p);
                        }
                        out.handoff.extend(matching);
                    }
                }
                ast::Clause::Sla(settings, _) => {
                    let resolved = self.sla_settings(settings, &out.slas);
                    out.slas.extend(resolved);
                }
                ast::Clause::Notify { channel, target, .. } => {
                    if *channel == ast::NotifyChannel::Email && !target.value.contains('@') {
                        self.error(
                            Diagnostic::error(Code::BadValue, format!("`{}` is not an e-mail address", target.value))
                                .primary(target.span, "no `@`")
                                .help("write an address like \"support-leads@example.com\""),
                        );
                    }
                    out.actions.push(hir::Action::Notify { channel: *channel, target: target.value.clone() });
                }
                ast::Clause::CreateIssue { tracker, project, severity, area, .. } => {
                    out.actions.push(hir::Action::CreateIssue {
                        tracker: *tracker,
                        project: project.value.clone(),
                        severity: severity.as_ref().map(|s| s.name.clone()),
                        area: area.as_ref().map(|a| a.value.clone()),
                    })
                }
                ast::Clause::Tag(t) => out.actions.push(hir::Action::Tag { tag: t.value.clone() }),
                ast::Clause::Set { field, value, .. } => {
                    if let Some(json) = self.field_value_json(field, value) {
                        out.actions.push(hir::Action::Set { field: field.dotted(), value: json });
                    }
                }
            }
        }
        destination.map(|_| out)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
