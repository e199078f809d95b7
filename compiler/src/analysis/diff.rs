//! Semantic diff of two versions of a policy: every region of the ticket
//! space whose enforced decision (destination, priority, escalation) is not
//! the same under both, each with a witness ticket that the reference engine
//! runs through both versions. `routec diff` (routec-analytics) renders it.
//!
//! The two versions are first put over one vocabulary ([`Merge`]): fields,
//! enum values, keyword sets, patterns, destinations and priorities are
//! matched by name, and what only the new version has is added. A keyword
//! set or pattern that keeps its name but changes its phrases becomes two
//! atoms (`billing (old)`, `billing (new)`); when one's phrases are a subset
//! of the other's, the implication between them is part of the question, so
//! a witness never matches the smaller list without the larger.
//!
//! Both versions' conditions are then read in one ticket space
//! ([`super::space`]). `priority` and `threshold` are expanded first into the
//! conditions that compute them in each version (the versions may compute
//! them differently, so they cannot share one variable). Each version cuts
//! the space into cells, one per (deciding branch, source of the priority);
//! the diff is every non-empty intersection of an old and a new cell whose
//! decisions differ.
//!
//! The space's limits carry over (see `space`): text atoms are independent
//! apart from the subset implications, so a region may need a text no
//! real ticket has; a region that depends on a comparison between two
//! values gets concrete numbers where they can be found. Each witness is
//! run through both lowered versions by `interp::decide`, and marked
//! `confirmed` when both give the decisions the region claims. Fallbacks,
//! schedules, SLA targets and actions are not part of the decision compared.

use super::example::{concretize, unverified, Example};
use super::mdd::{Node, Res, FALSE, TRUE};
use super::space::{Key, Space};
use crate::hir::{
    self, DestId, EnumId, Expr, ExprKind, FieldId, KeywordSetId, Named, Operand, Policy, PriorityId, RegexId, Signal,
    Stage, TextScope, Ty,
};
use crate::interp;
use crate::ir::{self, compare, Program, RawOutcome, SlotSource};
use crate::source::Span;
use crate::syntax::ast::CompareOp;

/// Regions reported at most; a diff longer than this is cut (and says so).
const MAX_CHANGES: usize = 2_000;

/// Everything that differs between two versions of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDiff {
    /// The regions whose decision changes, ordered by the old version's
    /// deciding branch, then the new one's.
    pub changes: Vec<Change>,
    /// False when the analysis ran out of budget or hit its cap of 2,000 regions:
    /// regions may be missing. Every region listed is still a real one.
    pub complete: bool,
    /// How the vocabularies differ (keyword sets whose phrases changed,
    /// fields, destinations and priorities only one version has).
    pub notes: Vec<String>,
}

impl PolicyDiff {
    /// Whether some ticket is decided differently (or the analysis could not tell).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// One region: the tickets one old cell and one new cell share.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub old: Side,
    pub new: Side,
    /// What differs: the destination, the priority, whether it escalates.
    pub destination_changed: bool,
    pub priority_changed: bool,
    pub escalation_changed: bool,
    pub witness: Witness,
}

/// How one version decides the tickets of a region.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// The branch that decides; `None` when none does (no destination).
    pub branch: Option<BranchRef>,
    /// Where the priority comes from.
    pub priority_from: PrioritySource,
    pub destination: Option<String>,
    pub priority: String,
    /// The escalation's name, when an escalation decides.
    pub escalation: Option<String>,
}

/// A branch of one version, for display. Its span is in that version's sources.
#[derive(Clone, Debug, PartialEq)]
pub struct BranchRef {
    pub stage: Stage,
    /// The rule's or escalation's name, `matrix row N`, or `otherwise`.
    pub name: String,
    pub span: Span,
}

/// Where a decision's priority comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum PrioritySource {
    /// The `index`th priority rule (0-based) of the `priority` block.
    Rule { index: usize, span: Span },
    /// No priority rule holds: the default.
    Default,
    /// The deciding branch sets it.
    Branch,
}

/// One ticket of a region.
#[derive(Clone, Debug, PartialEq)]
pub struct Witness {
    /// The constraints that put it in the region, in policy syntax.
    pub described: Vec<String>,
    /// Constraints with no syntax of their own (rollout buckets).
    pub notes: Vec<String>,
    /// Whether the reference engine, run on this ticket in both versions,
    /// gives the two decisions the region claims.
    pub confirmed: bool,
}

/// Why two versions cannot be compared.
#[derive(Clone, Debug, PartialEq)]
pub enum DiffError {
    /// A field has another type in the new version.
    FieldType { path: String, old: String, new: String },
}

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiffError::FieldType { path, old, new } => write!(
                f,
                "field `{path}` is `{old}` in the old version and `{new}` in the new one; \
                 the diff compares versions whose fields keep their types"
            ),
        }
    }
}

impl std::error::Error for DiffError {}

/// The regions whose enforced decision differs between `old` and `new`,
/// both checked policies without errors.
pub fn diff(old: &Policy, new: &Policy) -> Result<PolicyDiff, DiffError> {
    let merge = Merge::new(old, new)?;
    let notes = merge.notes.clone();
    let old_version = Version::new(&merge.union, old_routing(old, &merge.union));
    let new_version = Version::new(&merge.union, merge.routing());
    let survey = survey(&merge.union, &old_version, &new_version);
    let mut space = Space::new(&survey);
    let mut search = Search { space: &mut space, survey: &survey, complete: true };
    let changes = search.changes(&old_version, &new_version, &merge);
    Ok(PolicyDiff { changes, complete: search.complete, notes })
}

fn ex(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

fn or(parts: Vec<Expr>) -> Expr {
    match parts.len() {
        0 => ex(ExprKind::Const(false)),
        1 => parts.into_iter().next().unwrap_or_else(|| ex(ExprKind::Const(false))),
        _ => ex(ExprKind::Or(parts)),
    }
}

fn not(e: Expr) -> Expr {
    ex(ExprKind::Not(Box::new(e)))
}

fn enum_of(ty: &Ty) -> Option<EnumId> {
    match ty {
        Ty::Enum(e) => Some(*e),
        Ty::List(inner) => enum_of(inner),
        _ => None,
    }
}

/// The routing part of a version: what the tables of the merged vocabulary
/// do not hold.
struct Routing {
    priority_rules: Vec<hir::PriorityRule>,
    default_priority: PriorityId,
    escalations: Vec<hir::Rule>,
    rules: Vec<hir::Rule>,
    matrices: Vec<hir::Matrix>,
    otherwise: Option<hir::Outcome>,
    /// Per label of the merged classifier, this version's threshold.
    thresholds: Vec<f64>,
}

fn old_routing(old: &Policy, union: &Policy) -> Routing {
    let last = old.priorities.len().saturating_sub(1) as u32;
    let labels = union.classifier.as_ref().map(|c| union.enum_def(c.labels).values.len()).unwrap_or(0);
    let thresholds = match &old.classifier {
        Some(c) => (0..labels).map(|l| c.thresholds.get(l).copied().unwrap_or(c.default_threshold)).collect(),
        None => vec![f64::NAN; labels],
    };
    Routing {
        priority_rules: old.priority_rules.clone(),
        default_priority: old.default_priority.unwrap_or(PriorityId(last)),
        escalations: old.escalations.clone(),
        rules: old.rules.clone(),
        matrices: old.matrices.clone(),
        otherwise: old.otherwise.clone(),
        thresholds,
    }
}

/// The new version's ids mapped into the merged vocabulary, which starts as
/// the old version's (so the old version's ids are valid in it unchanged).
struct Merge<'a> {
    union: Policy,
    new: &'a Policy,
    fields: Vec<FieldId>,
    enums: Vec<EnumId>,
    /// Per enum of the new version: its value ids in the merged enum.
    values: Vec<Vec<u32>>,
    sets: Vec<KeywordSetId>,
    regexes: Vec<RegexId>,
    dests: Vec<DestId>,
    priorities: Vec<PriorityId>,
    notes: Vec<String>,
}

impl<'a> Merge<'a> {
    fn new(old: &Policy, new: &'a Policy) -> Result<Merge<'a>, DiffError> {
        let mut union = old.clone();
        union.priority_rules.clear();
        union.escalations.clear();
        union.rules.clear();
        union.matrices.clear();
        union.otherwise = None;
        union.slas.clear();
        union.tests.clear();
        union.allows.clear();
        let mut m = Merge {
            union,
            new,
            fields: Vec::new(),
            enums: Vec::new(),
            values: Vec::new(),
            sets: Vec::new(),
            regexes: Vec::new(),
            dests: Vec::new(),
            priorities: Vec::new(),
            notes: Vec::new(),
        };
        m.merge_enums(old);
        m.merge_priorities();
        m.merge_fields()?;
        m.merge_keyword_sets();
        m.merge_regexes();
        m.merge_destinations();
        m.merge_classifier(old);
        Ok(m)
    }

    fn merge_enums(&mut self, old: &Policy) {
        let new = self.new;
        let mut map: Vec<Option<EnumId>> = vec![None; new.enums.len()];
        let pin = |map: &mut Vec<Option<EnumId>>, from: EnumId, to: EnumId| {
            if let Some(slot) = map.get_mut(from.index()) {
                slot.get_or_insert(to);
            }
        };
        pin(&mut map, new.priority_enum, old.priority_enum);
        pin(&mut map, new.language_enum, old.language_enum);
        if let (Some(n), Some(o)) = (&new.classifier, &old.classifier) {
            pin(&mut map, n.labels, o.labels);
        }
        for field in &new.fields {
            let Some(e) = enum_of(&field.ty) else { continue };
            if let Some(o) = old.field_by_path(&field.path).and_then(|f| enum_of(&old.field(f).ty)) {
                pin(&mut map, e, o);
            }
        }
        for (i, def) in new.enums.iter().enumerate() {
            if map[i].is_some() {
                continue;
            }
            let same_name = self.union.enums.iter().position(|u| u.name == def.name);
            map[i] = Some(match same_name {
                Some(u) => EnumId(u as u32),
                None => {
                    self.union.enums.push(hir::EnumDef { name: def.name.clone(), values: Vec::new() });
                    EnumId(self.union.enums.len() as u32 - 1)
                }
            });
        }
        for (i, def) in new.enums.iter().enumerate() {
            let target = map[i].unwrap_or_default();
            let mut ids = Vec::with_capacity(def.values.len());
            for value in &def.values {
                let values = &mut self.union.enums[target.index()].values;
                let id = match values.iter().position(|v| v.name == value.name) {
                    Some(p) => p,
                    None => {
                        values.push(Named { name: value.name.clone(), span: Span::default() });
                        values.len() - 1
                    }
                };
                ids.push(id as u32);
            }
            self.enums.push(target);
            self.values.push(ids);
        }
    }

    /// Priorities follow the merged priority enum, so a level's index is
    /// its value id everywhere.
    fn merge_priorities(&mut self) {
        let names: Vec<String> =
            self.union.enum_def(self.union.priority_enum).values.iter().map(|v| v.name.clone()).collect();
        for name in names.iter().skip(self.union.priorities.len()) {
            self.union.priorities.push(Named { name: name.clone(), span: Span::default() });
            self.notes.push(format!("priority `{name}` only in the new version"));
        }
        let position = |n: &str| self.union.priorities.iter().position(|p| p.name == n).unwrap_or(0) as u32;
        self.priorities = self.new.priorities.iter().map(|p| PriorityId(position(&p.name))).collect();
    }

    fn map_ty(&self, ty: &Ty) -> Ty {
        match ty {
            Ty::Enum(e) => Ty::Enum(self.enums.get(e.index()).copied().unwrap_or(*e)),
            Ty::List(inner) => Ty::List(Box::new(self.map_ty(inner))),
            other => other.clone(),
        }
    }

    fn merge_fields(&mut self) -> Result<(), DiffError> {
        for field in &self.new.fields {
            let ty = self.map_ty(&field.ty);
            match self.union.field_by_path(&field.path) {
                Some(id) => {
                    let existing = &self.union.fields[id.index()];
                    if existing.ty != ty {
                        return Err(DiffError::FieldType {
                            path: field.path.clone(),
                            old: crate::ide::describe::ty(&self.union, &existing.ty),
                            new: crate::ide::describe::ty(&self.union, &ty),
                        });
                    }
                    // Absent is a value only where some version allows it.
                    self.union.fields[id.index()].optional |= field.optional;
                    self.fields.push(id);
                }
                None => {
                    self.notes.push(format!("field `{}` only in the new version", field.path));
                    self.union.fields.push(hir::Field { ty, ..field.clone() });
                    self.fields.push(FieldId(self.union.fields.len() as u32 - 1));
                }
            }
        }
        Ok(())
    }

    fn merge_keyword_sets(&mut self) {
        for set in &self.new.keyword_sets {
            let phrases = phrase_set(&set.phrases);
            // Same phrases, same atom, whatever the name: a rename changes nothing.
            let same = self.union.keyword_sets.iter().position(|u| phrase_set(&u.phrases) == phrases);
            let id = match same {
                Some(u) => u,
                None => {
                    let mut added = set.clone();
                    let renamed = set.name.as_ref().and_then(|n| {
                        self.union.keyword_sets.iter().position(|u| u.name.as_ref() == Some(n)).map(|u| (n, u))
                    });
                    if let Some((name, u)) = renamed {
                        let before = &self.union.keyword_sets[u].phrases;
                        let plus: Vec<&String> = set.phrases.iter().filter(|p| !before.contains(p)).collect();
                        let minus: Vec<&String> = before.iter().filter(|p| !set.phrases.contains(p)).collect();
                        self.notes.push(format!(
                            "keyword set `{name}` changed: {} phrase(s) added {plus:?}, {} removed {minus:?}",
                            plus.len(),
                            minus.len()
                        ));
                        self.union.keyword_sets[u].name = Some(format!("{name} (old)"));
                        added.name = Some(format!("{name} (new)"));
                    }
                    self.union.keyword_sets.push(added);
                    self.union.keyword_sets.len() - 1
                }
            };
            self.sets.push(KeywordSetId(id as u32));
        }
    }

    fn merge_regexes(&mut self) {
        for regex in &self.new.regexes {
            let same = self.union.regexes.iter().position(|u| u.pattern == regex.pattern);
            let id = match same {
                Some(u) => u,
                None => {
                    let mut added = regex.clone();
                    let renamed = regex.name.as_ref().and_then(|n| {
                        self.union.regexes.iter().position(|u| u.name.as_ref() == Some(n)).map(|u| (n, u))
                    });
                    if let Some((name, u)) = renamed {
                        self.notes.push(format!(
                            "pattern `{name}` changed: \"{}\" → \"{}\"",
                            self.union.regexes[u].pattern, regex.pattern
                        ));
                        self.union.regexes[u].name = Some(format!("{name} (old)"));
                        added.name = Some(format!("{name} (new)"));
                    }
                    self.union.regexes.push(added);
                    self.union.regexes.len() - 1
                }
            };
            self.regexes.push(RegexId(id as u32));
        }
    }

    fn merge_destinations(&mut self) {
        for dest in &self.new.destinations {
            let id = match self.union.destinations.iter().position(|u| u.name == dest.name) {
                Some(u) => u,
                None => {
                    self.notes.push(format!("destination `{}` only in the new version", dest.name));
                    // Its schedule and fallbacks are the new version's
                    // business: the merged tables keep only its name.
                    self.union.destinations.push(hir::Destination {
                        schedule: None,
                        fallbacks: Vec::new(),
                        ..dest.clone()
                    });
                    self.union.destinations.len() - 1
                }
            };
            self.dests.push(DestId(id as u32));
        }
    }

    fn merge_classifier(&mut self, old: &Policy) {
        if old.classifier.is_none() {
            if let Some(c) = &self.new.classifier {
                let labels = self.enums.get(c.labels.index()).copied().unwrap_or(c.labels);
                self.union.classifier = Some(hir::Classifier { labels, ..c.clone() });
            }
        }
        if let Some(c) = &mut self.union.classifier {
            let count = self.union.enums[c.labels.index()].values.len();
            let default = c.default_threshold;
            c.thresholds.resize(count, default);
        }
    }

    /// The new version's routing in merged ids.
    fn routing(&self) -> Routing {
        let new = self.new;
        let last = new.priorities.len().saturating_sub(1) as u32;
        let default = new.default_priority.unwrap_or(PriorityId(last));
        let labels: Vec<String> = self
            .union
            .classifier
            .as_ref()
            .map(|c| self.union.enum_def(c.labels).values.iter().map(|v| v.name.clone()).collect())
            .unwrap_or_default();
        let thresholds = match &new.classifier {
            Some(c) => {
                let names = &new.enum_def(c.labels).values;
                labels
                    .iter()
                    .map(|l| {
                        names
                            .iter()
                            .position(|v| &v.name == l)
                            .and_then(|i| c.thresholds.get(i).copied())
                            .unwrap_or(c.default_threshold)
                    })
                    .collect()
            }
            None => vec![f64::NAN; labels.len()],
        };
        Routing {
            priority_rules: new
                .priority_rules
                .iter()
                .map(|r| hir::PriorityRule { level: self.priority(r.level), when: self.expr(&r.when), span: r.span })
                .collect(),
            default_priority: self.priority(default),
            escalations: new.escalations.iter().map(|r| self.rule(r)).collect(),
            rules: new.rules.iter().map(|r| self.rule(r)).collect(),
            matrices: new.matrices.iter().map(|m| self.matrix(m)).collect(),
            otherwise: new.otherwise.as_ref().map(|o| self.outcome(o)),
            thresholds,
        }
    }

    fn priority(&self, p: PriorityId) -> PriorityId {
        self.priorities.get(p.index()).copied().unwrap_or(p)
    }

    fn field(&self, f: FieldId) -> FieldId {
        self.fields.get(f.index()).copied().unwrap_or(f)
    }

    fn rule(&self, r: &hir::Rule) -> hir::Rule {
        hir::Rule { when: self.expr(&r.when), outcome: self.outcome(&r.outcome), ..r.clone() }
    }

    fn outcome(&self, o: &hir::Outcome) -> hir::Outcome {
        hir::Outcome {
            destination: self.dests.get(o.destination.index()).copied().unwrap_or(o.destination),
            priority: o.priority.map(|p| self.priority(p)),
            handoff: o.handoff.iter().map(|f| self.field(*f)).collect(),
            ..o.clone()
        }
    }

    fn matrix(&self, m: &hir::Matrix) -> hir::Matrix {
        let dims: Vec<Option<EnumId>> =
            m.dimensions.iter().map(|(d, _)| self.new.operand_ty(d).as_ref().and_then(enum_of)).collect();
        hir::Matrix {
            span: m.span,
            dimensions: m.dimensions.iter().map(|(d, s)| (self.operand(d, None), *s)).collect(),
            rows: m
                .rows
                .iter()
                .map(|row| hir::MatrixRow {
                    cells: row
                        .cells
                        .iter()
                        .zip(&dims)
                        .map(|(cell, e)| cell.as_ref().map(|values| self.enum_values(*e, values)))
                        .collect(),
                    outcome: self.outcome(&row.outcome),
                    span: row.span,
                })
                .collect(),
        }
    }

    fn enum_value(&self, e: Option<EnumId>, value: u32) -> u32 {
        e.and_then(|e| self.values.get(e.index())).and_then(|ids| ids.get(value as usize)).copied().unwrap_or(value)
    }

    fn enum_values(&self, e: Option<EnumId>, values: &[u32]) -> Vec<u32> {
        values.iter().map(|v| self.enum_value(e, *v)).collect()
    }

    /// An operand in merged ids; a constant compared with an enum is a value id.
    fn operand(&self, o: &Operand, e: Option<EnumId>) -> Operand {
        match o {
            Operand::Field(f) => Operand::Field(self.field(*f)),
            Operand::Signal(s) => Operand::Signal(*s),
            Operand::Const(c) if e.is_some() && c.fract() == 0.0 && *c >= 0.0 => {
                Operand::Const(self.enum_value(e, *c as u32) as f64)
            }
            Operand::Const(c) => Operand::Const(*c),
        }
    }

    fn expr(&self, e: &Expr) -> Expr {
        let kind = match &e.kind {
            ExprKind::Const(b) => ExprKind::Const(*b),
            ExprKind::And(parts) => ExprKind::And(parts.iter().map(|p| self.expr(p)).collect()),
            ExprKind::Or(parts) => ExprKind::Or(parts.iter().map(|p| self.expr(p)).collect()),
            ExprKind::Not(inner) => ExprKind::Not(Box::new(self.expr(inner))),
            ExprKind::Compare { lhs, op, rhs } => {
                let e = [lhs, rhs].iter().find_map(|o| self.new.operand_ty(o).as_ref().and_then(enum_of));
                ExprKind::Compare { lhs: self.operand(lhs, e), op: *op, rhs: self.operand(rhs, e) }
            }
            ExprKind::OneOf { value, values, negated } => {
                let e = self.new.operand_ty(value).as_ref().and_then(enum_of);
                ExprKind::OneOf {
                    value: self.operand(value, None),
                    values: self.enum_values(e, values),
                    negated: *negated,
                }
            }
            ExprKind::Keywords { scope, set } => ExprKind::Keywords {
                scope: match scope {
                    TextScope::AllText => TextScope::AllText,
                    TextScope::Field(f) => TextScope::Field(self.field(*f)),
                },
                set: self.sets.get(set.index()).copied().unwrap_or(*set),
            },
            ExprKind::Regex { field, regex } => ExprKind::Regex {
                field: self.field(*field),
                regex: self.regexes.get(regex.index()).copied().unwrap_or(*regex),
            },
            ExprKind::StringTest { field, test, value } => {
                ExprKind::StringTest { field: self.field(*field), test: *test, value: value.clone() }
            }
        };
        Expr { kind, span: e.span }
    }
}

/// One version over the merged vocabulary: its branches in the order the
/// engines try them, its priority rules, and its lowered program (for
/// running witnesses).
struct Version {
    branches: Vec<Branch>,
    /// Priority rules with `threshold` expanded: (level, condition, span).
    priority_rules: Vec<(u32, Expr, Span)>,
    default_priority: u32,
    /// Per priority level: the tickets this version gives it, as a condition.
    priority_is: Vec<Expr>,
    priorities: Vec<String>,
    thresholds: Vec<f64>,
    program: Program,
}

struct Branch {
    reference: BranchRef,
    /// Its condition with `priority` and `threshold` expanded (rollout apart).
    when: Expr,
    outcome: hir::Outcome,
    destination: String,
}

impl Version {
    fn new(union: &Policy, routing: Routing) -> Version {
        let mut policy = union.clone();
        let canonical_rule = |r: hir::Rule| hir::Rule { when: canonical(union, &r.when), ..r };
        policy.priority_rules = routing
            .priority_rules
            .into_iter()
            .map(|r| hir::PriorityRule { when: canonical(union, &r.when), ..r })
            .collect();
        policy.default_priority = Some(routing.default_priority);
        policy.escalations = routing.escalations.into_iter().map(canonical_rule).collect();
        policy.rules = routing.rules.into_iter().map(canonical_rule).collect();
        policy.matrices = routing.matrices;
        policy.otherwise = routing.otherwise;
        if let Some(c) = &mut policy.classifier {
            c.thresholds = routing.thresholds.clone();
        }
        let program = ir::lower(&policy);
        let thresholds = routing.thresholds;
        let priorities: Vec<String> = policy.priorities.iter().map(|p| p.name.clone()).collect();
        let default_priority = routing.default_priority.0;
        let mut version = Version {
            branches: Vec::new(),
            priority_rules: Vec::new(),
            default_priority,
            priority_is: Vec::new(),
            priorities,
            thresholds,
            program,
        };
        let rules: Vec<(u32, Expr, Span)> = policy
            .priority_rules
            .iter()
            .map(|r| (r.level.0, version.expand(&policy, &r.when, false), r.span))
            .collect();
        version.priority_rules = rules;
        version.priority_is =
            (0..version.priorities.len() as u32).map(|level| version.level_condition(level)).collect();
        let dest = |o: &hir::Outcome| union.destinations.get(o.destination.index()).map(|d| d.name.clone());
        let mut branches = Vec::new();
        for r in &policy.escalations {
            branches.push((Stage::Escalation, r.name.clone(), r.name_span, r.when.clone(), r.outcome.clone()));
        }
        for r in &policy.rules {
            branches.push((Stage::Rule, r.name.clone(), r.name_span, r.when.clone(), r.outcome.clone()));
        }
        let many = policy.matrices.len() > 1;
        for (m, matrix) in policy.matrices.iter().enumerate() {
            for (r, row) in matrix.rows.iter().enumerate() {
                let cells: Vec<Expr> = row
                    .cells
                    .iter()
                    .zip(&matrix.dimensions)
                    .filter_map(|(cell, (dim, _))| {
                        cell.as_ref().map(|values| {
                            ex(ExprKind::OneOf { value: dim.clone(), values: values.clone(), negated: false })
                        })
                    })
                    .collect();
                let name =
                    if many { format!("matrix {} row {}", m + 1, r + 1) } else { format!("matrix row {}", r + 1) };
                branches.push((Stage::Matrix, name, row.span, ex(ExprKind::And(cells)), row.outcome.clone()));
            }
        }
        if let Some(o) = &policy.otherwise {
            branches.push((Stage::Otherwise, "otherwise".into(), o.span, ex(ExprKind::Const(true)), o.clone()));
        }
        for (stage, name, span, when, outcome) in branches {
            let when = version.expand(&policy, &when, true);
            let destination = dest(&outcome).unwrap_or_default();
            version.branches.push(Branch { reference: BranchRef { stage, name, span }, when, outcome, destination });
        }
        version
    }

    /// The tickets this version gives priority `level`: the first priority
    /// rule that holds, else the default.
    fn level_condition(&self, level: u32) -> Expr {
        let mut parts = Vec::new();
        for (k, (l, when, _)) in self.priority_rules.iter().enumerate() {
            if *l == level {
                let earlier: Vec<Expr> = self.priority_rules[..k].iter().map(|(_, w, _)| w.clone()).collect();
                parts.push(ex(ExprKind::And(vec![when.clone(), not(or(earlier))])));
            }
        }
        if level == self.default_priority {
            parts.push(not(or(self.priority_rules.iter().map(|(_, w, _)| w.clone()).collect())));
        }
        or(parts)
    }

    /// `e` with `threshold` replaced by this version's thresholds per intent
    /// and, if `priority` is set, `priority` by the conditions that compute it.
    fn expand(&self, policy: &Policy, e: &Expr, priority: bool) -> Expr {
        let kind = match &e.kind {
            ExprKind::And(parts) => ExprKind::And(parts.iter().map(|p| self.expand(policy, p, priority)).collect()),
            ExprKind::Or(parts) => ExprKind::Or(parts.iter().map(|p| self.expand(policy, p, priority)).collect()),
            ExprKind::Not(inner) => ExprKind::Not(Box::new(self.expand(policy, inner, priority))),
            ExprKind::Compare { lhs, op, rhs }
                if is_signal(lhs, Signal::Threshold) || is_signal(rhs, Signal::Threshold) =>
            {
                return self.threshold(policy, lhs, *op, rhs);
            }
            ExprKind::Compare { lhs, op, rhs }
                if priority && (is_signal(lhs, Signal::Priority) || is_signal(rhs, Signal::Priority)) =>
            {
                let value = |o: &Operand, level: u32| match o {
                    Operand::Signal(Signal::Priority) => Some(level as f64),
                    Operand::Const(c) => Some(*c),
                    _ => None,
                };
                let mut levels = Vec::new();
                for level in 0..self.priorities.len() as u32 {
                    match (value(lhs, level), value(rhs, level)) {
                        (Some(a), Some(b)) => {
                            if compare(a, *op, b) {
                                levels.push(level);
                            }
                        }
                        // Priority against a field: keep the comparison.
                        _ => return e.clone(),
                    }
                }
                return self.levels(&levels);
            }
            ExprKind::OneOf { value: Operand::Signal(Signal::Priority), values, negated } if priority => {
                let levels: Vec<u32> =
                    (0..self.priorities.len() as u32).filter(|l| values.contains(l) != *negated).collect();
                return self.levels(&levels);
            }
            _ => return e.clone(),
        };
        Expr { kind, span: e.span }
    }

    fn levels(&self, levels: &[u32]) -> Expr {
        or(levels.iter().filter_map(|l| self.priority_is.get(*l as usize).cloned()).collect())
    }

    /// `lhs op rhs` where a side is `threshold`: per intent label, the
    /// comparison with that label's threshold. Without an intent the
    /// runtime's threshold is NaN, which only `!=` accepts.
    fn threshold(&self, policy: &Policy, lhs: &Operand, op: CompareOp, rhs: &Operand) -> Expr {
        let intent = Operand::Signal(Signal::Intent);
        let labels = self.thresholds.len() as u32;
        let with = |t: f64| {
            let sub = |o: &Operand| if is_signal(o, Signal::Threshold) { Operand::Const(t) } else { o.clone() };
            ex(ExprKind::Compare { lhs: sub(lhs), op, rhs: sub(rhs) })
        };
        let mut parts: Vec<Expr> = (0..labels)
            .map(|label| {
                let is_label = ex(ExprKind::OneOf { value: intent.clone(), values: vec![label], negated: false });
                let t = self.thresholds[label as usize];
                ex(ExprKind::And(vec![is_label, with(t)]))
            })
            .collect();
        if compare(0.0, op, f64::NAN) && policy.classifier.is_some() {
            let all: Vec<u32> = (0..labels).collect();
            parts.push(ex(ExprKind::OneOf { value: intent, values: all, negated: true }));
        }
        or(parts)
    }

    /// The decision of branch `branch` (`None`: no branch) at priority `level`.
    fn decision(&self, branch: Option<usize>, level: u32) -> (Option<String>, String, Option<String>) {
        let priority_name = |l: u32| self.priorities.get(l as usize).cloned().unwrap_or_default();
        match branch.and_then(|b| self.branches.get(b)) {
            None => (None, priority_name(level), None),
            Some(b) => {
                let level = b.outcome.priority.map(|p| p.0).unwrap_or(level);
                let escalation = (b.reference.stage == Stage::Escalation).then(|| b.reference.name.clone());
                (Some(b.destination.clone()), priority_name(level), escalation)
            }
        }
    }

    /// What the reference engine decides for `example`.
    fn run(&self, example: &Example) -> Option<(Option<String>, String, Option<String>)> {
        let mut block = example.signal_block(&self.program);
        // The example's threshold is the merged classifier's; this version has its own.
        let intent = example.slots.iter().find(|(s, _)| *s == SlotSource::Signal(Signal::Intent)).map(|(_, v)| *v);
        for (slot, source) in self.program.slots.iter().enumerate() {
            if *source == SlotSource::Signal(Signal::Threshold) {
                let t = intent
                    .filter(|i| !i.is_nan())
                    .and_then(|i| self.thresholds.get(i as usize).copied())
                    .unwrap_or(f64::NAN);
                block[slot] = t;
            }
        }
        let raw = interp::decide(&self.program, &block).ok()?;
        let branch = (raw.enforced_branch != RawOutcome::NONE).then_some(raw.enforced_branch as usize);
        Some(self.decision(branch, raw.priority))
    }
}

/// Keyword matching ignores case and order: the phrases as a set.
fn phrase_set(phrases: &[String]) -> Vec<String> {
    let mut set: Vec<String> = phrases.iter().map(|p| p.to_lowercase()).collect();
    set.sort();
    set.dedup();
    set
}

/// `e` with every keyword set and pattern replaced by the first one of the
/// merged tables that matches the same texts: two inline lists with the
/// same phrases are one atom, not two independent ones.
fn canonical(union: &Policy, e: &Expr) -> Expr {
    let kind = match &e.kind {
        ExprKind::And(parts) => ExprKind::And(parts.iter().map(|p| canonical(union, p)).collect()),
        ExprKind::Or(parts) => ExprKind::Or(parts.iter().map(|p| canonical(union, p)).collect()),
        ExprKind::Not(inner) => ExprKind::Not(Box::new(canonical(union, inner))),
        ExprKind::Keywords { scope, set } => {
            let phrases = phrase_set(&union.keyword_sets[set.index()].phrases);
            let first = union.keyword_sets.iter().position(|k| phrase_set(&k.phrases) == phrases);
            ExprKind::Keywords { scope: *scope, set: first.map_or(*set, |i| KeywordSetId(i as u32)) }
        }
        ExprKind::Regex { field, regex } => {
            let pattern = &union.regexes[regex.index()].pattern;
            let first = union.regexes.iter().position(|r| &r.pattern == pattern);
            ExprKind::Regex { field: *field, regex: first.map_or(*regex, |i| RegexId(i as u32)) }
        }
        other => other.clone(),
    };
    Expr { kind, span: e.span }
}

fn is_signal(o: &Operand, s: Signal) -> bool {
    matches!(o, Operand::Signal(x) if *x == s)
}

/// A policy whose conditions are both versions' (expanded), so the ticket
/// space has a variable for every value either reads.
fn survey(union: &Policy, old: &Version, new: &Version) -> Policy {
    let mut survey = union.clone();
    for version in [old, new] {
        for (level, when, span) in &version.priority_rules {
            survey.priority_rules.push(hir::PriorityRule {
                level: PriorityId(*level),
                when: when.clone(),
                span: *span,
            });
        }
        for b in &version.branches {
            survey.rules.push(hir::Rule {
                name: b.reference.name.clone(),
                name_span: b.reference.span,
                span: b.reference.span,
                when: b.when.clone(),
                outcome: b.outcome.clone(),
            });
        }
    }
    survey
}

/// One version's cells: for each deciding branch (and `None`, no branch),
/// its tickets; for each priority source, its tickets.
struct Cells {
    branches: Vec<(Option<usize>, Node)>,
    priorities: Vec<(PrioritySource, u32, Node)>,
}

struct Search<'s> {
    space: &'s mut Space,
    survey: &'s Policy,
    complete: bool,
}

impl Search<'_> {
    fn cells(&mut self, version: &Version) -> Res<Cells> {
        let mut priorities = Vec::new();
        let mut remaining = TRUE;
        for (index, (level, when, span)) in version.priority_rules.iter().enumerate() {
            let c = self.space.cond(when)?;
            let set = self.space.mdd.and(remaining, c)?;
            remaining = self.space.mdd.and_not(remaining, c)?;
            priorities.push((PrioritySource::Rule { index, span: *span }, *level, set));
        }
        priorities.push((PrioritySource::Default, version.default_priority, remaining));
        let mut branches = Vec::new();
        let mut taken = FALSE;
        for (i, b) in version.branches.iter().enumerate() {
            // A shadow branch decides nothing the enforced decision shows.
            if b.outcome.shadow {
                continue;
            }
            let own = self.space.cond(&b.when)?;
            let own = self.space.branch(own, &b.outcome)?;
            let region = self.space.mdd.and_not(own, taken)?;
            taken = self.space.mdd.or(taken, own)?;
            branches.push((Some(i), region));
        }
        let nowhere = self.space.mdd.not(taken)?;
        branches.push((None, nowhere));
        Ok(Cells { branches, priorities })
    }

    /// What a text atom implies about another: a keyword set whose phrases
    /// are all in a second set (in the same text, or in all text for a
    /// text field) cannot match without it.
    fn implications(&mut self, union: &Policy) -> Res<Node> {
        let atoms: Vec<(u32, TextScope, KeywordSetId)> = self
            .space
            .vars
            .iter()
            .enumerate()
            .filter_map(|(v, var)| match &var.key {
                Key::Atom(SlotSource::Keywords { scope, set }) => Some((v as u32, *scope, *set)),
                _ => None,
            })
            .collect();
        let mut valid = TRUE;
        for &(a, scope_a, set_a) in &atoms {
            for &(b, scope_b, set_b) in &atoms {
                let inside = scope_a == scope_b
                    || (scope_b == TextScope::AllText
                        && matches!(scope_a, TextScope::Field(f) if union.field(f).ty == Ty::Text));
                let (pa, pb) = (&union.keyword_sets[set_a.index()].phrases, &union.keyword_sets[set_b.index()].phrases);
                if a == b || !inside || !pa.iter().all(|p| pb.contains(p)) {
                    continue;
                }
                let has_a = self.space.mdd.leaf(a, |v| v == 1)?;
                let has_b = self.space.mdd.leaf(b, |v| v == 1)?;
                let violated = self.space.mdd.and_not(has_a, has_b)?;
                valid = self.space.mdd.and_not(valid, violated)?;
            }
        }
        Ok(valid)
    }

    fn prepare(&mut self, old: &Version, new: &Version, union: &Policy) -> Res<(Cells, Cells, Node)> {
        Ok((self.cells(old)?, self.cells(new)?, self.implications(union)?))
    }

    fn changes(&mut self, old: &Version, new: &Version, merge: &Merge) -> Vec<Change> {
        let (old_cells, new_cells, valid) = match self.prepare(old, new, &merge.union) {
            Ok(p) => p,
            Err(_) => {
                self.complete = false;
                return Vec::new();
            }
        };
        let mut changes = Vec::new();
        for &(ob, oregion) in &old_cells.branches {
            for &(nb, nregion) in &new_cells.branches {
                if !self.space.mdd.intersects(oregion, nregion) {
                    continue;
                }
                match self.pair(old, new, (ob, oregion), (nb, nregion), (&old_cells, &new_cells), valid) {
                    Ok(found) => changes.extend(found),
                    Err(_) => self.complete = false,
                }
                if changes.len() >= MAX_CHANGES {
                    changes.truncate(MAX_CHANGES);
                    self.complete = false;
                    return changes;
                }
            }
        }
        changes
    }

    /// The changes among the tickets old branch `ob` and new branch `nb` share.
    fn pair(
        &mut self,
        old: &Version,
        new: &Version,
        (ob, oregion): (Option<usize>, Node),
        (nb, nregion): (Option<usize>, Node),
        (old_cells, new_cells): (&Cells, &Cells),
        valid: Node,
    ) -> Res<Vec<Change>> {
        let both = self.space.mdd.and(oregion, nregion)?;
        let both = self.space.mdd.and(both, valid)?;
        if both == FALSE {
            return Ok(Vec::new());
        }
        let old_levels = priority_cells(old, ob, old_cells);
        let new_levels = priority_cells(new, nb, new_cells);
        let mut out = Vec::new();
        for (osource, olevel, onode) in &old_levels {
            let before = old.decision(ob, *olevel);
            for (nsource, nlevel, nnode) in &new_levels {
                let after = new.decision(nb, *nlevel);
                let destination_changed = before.0 != after.0;
                let priority_changed = before.1 != after.1;
                let escalation_changed = before.2.is_some() != after.2.is_some();
                if !(destination_changed || priority_changed || escalation_changed) {
                    continue;
                }
                let x = self.space.mdd.and(both, *onode)?;
                let x = self.space.mdd.and(x, *nnode)?;
                let Some(path) = self.space.mdd.shortest_path(x) else { continue };
                let example = concretize(self.space, self.survey, &path)
                    .unwrap_or_else(|| unverified(self.space, self.survey, &path));
                let confirmed =
                    old.run(&example).as_ref() == Some(&before) && new.run(&example).as_ref() == Some(&after);
                let side = |version: &Version,
                            branch: Option<usize>,
                            source: &PrioritySource,
                            d: &(Option<String>, String, Option<String>)| Side {
                    branch: branch.and_then(|b| version.branches.get(b)).map(|b| b.reference.clone()),
                    priority_from: source.clone(),
                    destination: d.0.clone(),
                    priority: d.1.clone(),
                    escalation: d.2.clone(),
                };
                out.push(Change {
                    old: side(old, ob, osource, &before),
                    new: side(new, nb, nsource, &after),
                    destination_changed,
                    priority_changed,
                    escalation_changed,
                    witness: Witness { described: example.described, notes: example.notes, confirmed },
                });
            }
        }
        Ok(out)
    }
}

/// The priority cells of a branch: its own priority when it sets one, else
/// the version's priority sources.
fn priority_cells(version: &Version, branch: Option<usize>, cells: &Cells) -> Vec<(PrioritySource, u32, Node)> {
    match branch.and_then(|b| version.branches.get(b)).and_then(|b| b.outcome.priority) {
        Some(p) => vec![(PrioritySource::Branch, p.0, TRUE)],
        None => cells.priorities.clone(),
    }
}
