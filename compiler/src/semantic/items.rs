//! Checking of declarations other than the schema: schedules, destinations,
//! keyword sets, the classifier, priorities, SLAs, routing items and tests.

use super::expr::parse_duration;
use super::hir::*;
use super::schema::describe;
use super::{duplicate, suggest, Checker};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, LiteralKind};
use std::collections::HashMap;

const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun", "daily"];

impl Checker<'_> {
    pub(super) fn schedules(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Schedule(s) = &item.kind else { continue };
            let Some(&id) = self.schedule_ids.get(&s.name.name) else { continue };
            if self.policy.schedules[id.index()].span != s.name.span {
                continue; // a duplicate, already reported
            }
            let mut schedule = self.policy.schedules[id.index()].clone();
            let mut has_hours = false;
            for entry in &s.entries {
                match entry {
                    ast::ScheduleEntry::TimeZone(tz) => {
                        if schedule.timezone.is_some() {
                            self.error(
                                Diagnostic::error(Code::BadSchedule, "the schedule has two time zones")
                                    .primary(tz.span, "second `timezone`")
                                    .help("keep one `timezone` per schedule"),
                            );
                        } else if jiff::tz::TimeZone::get(&tz.value).is_err() {
                            let known: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
                            let close =
                                suggest::closest(&tz.value, known.iter().map(String::as_str)).map(str::to_string);
                            let hint = if let Some(c) = &close {
                                format!("did you mean \"{c}\"?")
                            } else if tz.value.contains('/') {
                                "use an IANA name such as \"America/New_York\" or \"Europe/Berlin\"".to_string()
                            } else {
                                format!(
                                    "use an IANA name such as \"Europe/Berlin\", not an abbreviation like \"{}\"",
                                    tz.value
                                )
                            };
                            self.error(
                                Diagnostic::error(Code::BadSchedule, format!("unknown time zone `{}`", tz.value))
                                    .primary(tz.span, "not in the time zone database")
                                    .help(hint),
                            );
                        } else {
                            schedule.timezone = Some(tz.value.clone());
                        }
                    }
                    ast::ScheduleEntry::AlwaysOpen(_) => schedule.always_open = true,
                    ast::ScheduleEntry::Holidays(dates) => {
                        for d in dates {
                            match d.value.parse::<jiff::civil::Date>() {
                                Ok(date) => schedule.holidays.push(date),
                                Err(_) => self.error(
                                    Diagnostic::error(Code::BadSchedule, format!("`{}` is not a date", d.value))
                                        .primary(d.span, "expected YYYY-MM-DD")
                                        .help("write holidays as dates, e.g. \"2026-12-25\""),
                                ),
                            }
                        }
                    }
                    ast::ScheduleEntry::Hours(line) => {
                        has_hours = true;
                        self.hours_line(line, &mut schedule);
                    }
                }
            }
            if schedule.always_open && has_hours {
                self.error(
                    Diagnostic::error(Code::BadSchedule, "a `24x7` schedule cannot also list hours")
                        .primary(s.name.span, "both `24x7` and opening hours")
                        .help("remove `24x7` or the hours"),
                );
            }
            if !schedule.always_open && !has_hours {
                self.error(
                    Diagnostic::error(Code::BadSchedule, format!("schedule `{}` is never open", s.name.name))
                        .primary(s.name.span, "no opening hours")
                        .help("add hours like `mon-fri 09:00-17:00`, or write `24x7`"),
                );
            }
            if has_hours
                && schedule.timezone.is_none()
                && !s.entries.iter().any(|e| matches!(e, ast::ScheduleEntry::TimeZone(_)))
            {
                self.error(
                    Diagnostic::error(
                        Code::BadSchedule,
                        format!("schedule `{}` has hours but no time zone", s.name.name),
                    )
                    .primary(s.name.span, "which time zone are these hours in?")
                    .help("add `timezone \"America/New_York\"` (an IANA name)"),
                );
            }
            for day in schedule.weekly.iter_mut() {
                day.sort_unstable();
            }
            self.policy.schedules[id.index()] = schedule;
        }
    }

    fn hours_line(&mut self, line: &ast::HoursLine, schedule: &mut Schedule) {
        let mut days = Vec::new();
        for range in &line.days {
            let Some(from) = self.day(&range.from) else { continue };
            match &range.to {
                None if from == 7 => days.extend(0..7),
                None => days.push(from),
                Some(to_ident) => {
                    let Some(to) = self.day(to_ident) else { continue };
                    if from == 7 || to == 7 {
                        self.error(
                            Diagnostic::error(Code::BadSchedule, "`daily` cannot be part of a range")
                                .primary(range.span, "a range of days is written `mon-fri`")
                                .help("write `daily` alone"),
                        );
                        continue;
                    }
                    let mut d = from;
                    loop {
                        days.push(d);
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
            }
        }
        for t in &line.times {
            let (Some(open), Some(close)) = (self.clock(&t.from), self.clock(&t.to)) else { continue };
            if open == close {
                self.error(
                    Diagnostic::error(Code::BadSchedule, "opening hours of zero length")
                        .primary(t.span, "opens and closes at the same time")
                        .help("for a whole day write `00:00-24:00`"),
                );
                continue;
            }
            for &d in &days {
                if open < close {
                    schedule.weekly[d].push((open, close));
                } else {
                    // Overnight: open until midnight, then from midnight on the next day.
                    schedule.weekly[d].push((open, 1440));
                    if close > 0 {
                        schedule.weekly[(d + 1) % 7].push((0, close));
                    }
                }
            }
        }
    }

    fn day(&mut self, ident: &ast::Ident) -> Option<usize> {
        if let Some(i) = DAYS.iter().position(|d| *d == ident.name.to_lowercase()) {
            return Some(i);
        }
        let (help, suggestion) = suggest::help_for("day", &ident.name, DAYS);
        let mut d = Diagnostic::error(Code::BadSchedule, format!("`{}` is not a day", ident.name))
            .primary(ident.span, "expected mon, tue, wed, thu, fri, sat, sun or daily")
            .help(help);
        if let Some(s) = suggestion {
            d = d.suggest(s);
        }
        self.error(d);
        None
    }

    fn clock(&mut self, lit: &ast::StrLit) -> Option<u16> {
        let parsed = lit.value.split_once(':').and_then(|(h, m)| {
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let h: u16 = h.parse().ok()?;
            let m: u16 = m.parse().ok()?;
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        });
        if parsed.is_none() {
            self.error(
                Diagnostic::error(Code::BadSchedule, format!("`{}` is not a time of day", lit.value))
                    .primary(lit.span, "expected HH:MM between 00:00 and 24:00")
                    .help("write times as two-digit hours and minutes, e.g. `09:00-17:30`"),
            );
        }
        parsed
    }

    pub(super) fn destinations(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Destination(d) = &item.kind else { continue };
            let Some(&id) = self.dest_ids.get(&d.name.name) else { continue };
            if self.policy.destinations[id.index()].span != d.name.span {
                continue;
            }
            let mut dest = self.policy.destinations[id.index()].clone();
            for entry in d.body.iter().flatten() {
                match entry {
                    ast::DestinationEntry::Hours(name) => match self.schedule_ids.get(&name.name) {
                        Some(s) => dest.schedule = Some(*s),
                        None => {
                            let names: Vec<&str> = self.schedule_ids.keys().map(String::as_str).collect();
                            let (help, suggestion) = suggest::help_for("schedule", &name.name, &names);
                            let mut diag =
                                Diagnostic::error(Code::UnknownName, format!("unknown schedule `{}`", name.name))
                                    .primary(name.span, "no `schedule` with this name")
                                    .help(help);
                            if let Some(s) = suggestion {
                                diag = diag.suggest(s);
                            }
                            self.error(diag);
                        }
                    },
                    ast::DestinationEntry::Capacity(n, span) => {
                        if *n == 0 {
                            self.error(
                                Diagnostic::error(Code::BadValue, "a capacity of 0 means always full")
                                    .primary(*span, "capacity 0")
                                    .help("give the number of tickets the team can hold, or remove `capacity`"),
                            );
                        }
                        dest.capacity = Some(*n);
                    }
                    ast::DestinationEntry::Skills(skills) => dest.skills.extend(skills.iter().map(|s| s.value.clone())),
                    ast::DestinationEntry::Fallback { reason, target, span } => {
                        if let Some(existing) = dest.fallbacks.iter().find(|f| f.reason == *reason) {
                            let first = existing.span;
                            self.error(duplicate("fallback", reason_word(*reason), *span, first));
                            continue;
                        }
                        if target.name == d.name.name {
                            self.error(
                                Diagnostic::error(
                                    Code::FallbackCycle,
                                    format!("`{}` falls back to itself", d.name.name),
                                )
                                .primary(target.span, "the fallback is the destination itself")
                                .help("fall back to another destination, such as an always-open on-call team"),
                            );
                            continue;
                        }
                        if let Some(t) = self.resolve_destination(target) {
                            dest.fallbacks.push(Fallback { reason: *reason, target: t, span: target.span });
                        }
                    }
                }
            }
            if dest.capacity.is_none() {
                if let Some(f) = dest.fallbacks.iter().find(|f| f.reason == ast::FallbackReason::Full) {
                    let span = f.span;
                    self.error(
                        Diagnostic::warning(
                            Code::BadValue,
                            format!("`{}` has a `when full` fallback but no capacity", d.name.name),
                        )
                        .primary(span, "this fallback can never be taken")
                        .help("add `capacity N` to the destination"),
                    );
                }
            }
            self.policy.destinations[id.index()] = dest;
        }
    }

    pub(super) fn keyword_sets(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Keywords(k) = &item.kind else { continue };
            if k.phrases.is_empty() {
                self.error(
                    Diagnostic::error(Code::EmptyKeywords, format!("keyword set `{}` is empty", k.name.name))
                        .primary(k.name.span, "matches nothing")
                        .help("list the words or phrases to look for"),
                );
            }
            let mut seen: HashMap<String, Span> = HashMap::new();
            for p in &k.phrases {
                let norm = p.value.trim().to_lowercase();
                if norm.is_empty() {
                    self.error(
                        Diagnostic::error(Code::EmptyKeywords, "empty phrase")
                            .primary(p.span, "an empty phrase")
                            .help("remove it"),
                    );
                } else if let Some(first) = seen.get(&norm) {
                    let first = *first;
                    self.error(
                        Diagnostic::warning(Code::Duplicate, format!("phrase `{}` is listed twice", p.value))
                            .primary(p.span, "listed again")
                            .secondary(first, "first listed here")
                            .help("matching ignores case; remove the repeat"),
                    );
                } else {
                    seen.insert(norm, p.span);
                }
            }
        }
    }

    pub(super) fn classifier(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut first: Option<Span> = None;
        for (file, item) in items {
            let ast::ItemKind::Classifier(c) = &item.kind else { continue };
            if let Some(first) = first {
                self.error(duplicate("classifier", &c.name.name, c.name.span, first));
                continue;
            }
            first = Some(c.name.span);
            let mut labels: Vec<ast::Ident> = Vec::new();
            let mut features = Vec::new();
            for e in &c.entries {
                match e {
                    ast::ClassifierEntry::Labels(ls) => labels.extend(ls.iter().cloned()),
                    ast::ClassifierEntry::Features(fs) => {
                        for f in fs {
                            let dotted = f.dotted();
                            let known = self.policy.field_by_path(&dotted).is_some()
                                || self.policy.fields.iter().any(|x| x.path.starts_with(&format!("{dotted}.")));
                            if known {
                                features.push(dotted);
                            } else {
                                let names: Vec<&str> = self.policy.fields.iter().map(|x| x.path.as_str()).collect();
                                let (help, suggestion) = suggest::help_for("field", &dotted, &names);
                                let mut d =
                                    Diagnostic::error(Code::UnknownField, format!("unknown feature field `{dotted}`"))
                                        .primary(f.span, "not in the ticket schema")
                                        .help(help);
                                if let Some(s) = suggestion {
                                    d = d.suggest(s);
                                }
                                self.error(d);
                            }
                        }
                    }
                    ast::ClassifierEntry::Threshold { .. } => {}
                }
            }
            if labels.is_empty() {
                self.error(
                    Diagnostic::error(Code::MissingItem, "the classifier declares no labels")
                        .primary(c.name.span, "which intents does it predict?")
                        .help("add `labels billing, technical, …`"),
                );
            }
            let labels_enum = match self.enum_type(&c.name.name, &labels) {
                Ty::Enum(e) => e,
                _ => continue,
            };
            let n_labels = self.policy.enum_def(labels_enum).values.len();
            let mut default_threshold = None;
            let mut thresholds: Vec<Option<f64>> = vec![None; n_labels];
            for e in &c.entries {
                let ast::ClassifierEntry::Threshold { label, value } = e else { continue };
                let Some(v) = self.threshold_value(value) else { continue };
                match label {
                    None => default_threshold = Some(v),
                    Some(l) => match self.policy.enum_def(labels_enum).position(&l.name) {
                        Some(i) => thresholds[i as usize] = Some(v),
                        None => {
                            let names: Vec<String> =
                                self.policy.enum_def(labels_enum).values.iter().map(|v| v.name.clone()).collect();
                            let names: Vec<&str> = names.iter().map(String::as_str).collect();
                            let (help, suggestion) = suggest::help_for("label", &l.name, &names);
                            let mut d = Diagnostic::error(
                                Code::UnknownName,
                                format!("threshold for unknown label `{}`", l.name),
                            )
                            .primary(l.span, "not one of the classifier's labels")
                            .help(help);
                            if let Some(s) = suggestion {
                                d = d.suggest(s);
                            }
                            self.error(d);
                        }
                    },
                }
            }
            let default_threshold = default_threshold.unwrap_or(0.5);
            self.policy.classifier = Some(Classifier {
                name: c.name.name.clone(),
                model: c.model.value.clone(),
                labels: labels_enum,
                features,
                default_threshold,
                thresholds: thresholds.into_iter().map(|t| t.unwrap_or(default_threshold)).collect(),
                span: c.name.span,
                model_span: c.model.span,
            });
            let importer = self.db.file(file.file).name.clone();
            if let Some(result) = self.loader.model_labels(&importer, &c.model.value) {
                self.model_labels(result, labels_enum, c);
            }
        }
    }

    fn model_labels(&mut self, result: Result<Vec<String>, String>, labels_enum: EnumId, c: &ast::ClassifierDecl) {
        match result {
            Err(reason) => self.error(
                Diagnostic::error(Code::ClassifierLabels, format!("cannot read the model `{}`", c.model.value))
                    .primary(c.model.span, reason)
                    .help("train one with `routec train`, or fix the path (relative to this file)"),
            ),
            Ok(model_labels) => {
                let declared: Vec<(String, Span)> =
                    self.policy.enum_def(labels_enum).values.iter().map(|v| (v.name.clone(), v.span)).collect();
                let missing: Vec<&String> =
                    model_labels.iter().filter(|m| !declared.iter().any(|(d, _)| d == *m)).collect();
                for (name, span) in &declared {
                    if !model_labels.contains(name) {
                        self.error(
                            Diagnostic::error(Code::ClassifierLabels, format!("the model never predicts `{name}`"))
                                .primary(*span, "declared here but not a label of the model")
                                .secondary(c.model.span, "model file")
                                .help(format!("the model's labels are: {}", model_labels.join(", "))),
                        );
                    }
                }
                if !missing.is_empty() {
                    let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
                    self.error(
                        Diagnostic::error(
                            Code::ClassifierLabels,
                            format!("the model predicts labels the policy does not declare: {list}"),
                        )
                        .primary(c.name.span, "missing labels")
                        .secondary(c.model.span, "model file")
                        .help("add them to `labels`, or retrain the model without them"),
                    );
                }
            }
        }
    }

    fn threshold_value(&mut self, value: &ast::Number) -> Option<f64> {
        match value.text.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Some(v),
            _ => {
                let hint = match value.text.parse::<f64>() {
                    Ok(v) if v > 1.0 && v <= 100.0 => format!("write it as a fraction: `{}`", v / 100.0),
                    _ => "a threshold is a probability between 0 and 1, e.g. `0.7`".to_string(),
                };
                self.error(
                    Diagnostic::error(Code::BadThreshold, format!("threshold `{}` is outside 0..1", value.text))
                        .primary(value.span, "not a probability")
                        .help(hint),
                );
                None
            }
        }
    }

    pub(super) fn priority_block(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut first: Option<Span> = None;
        for (_, item) in items {
            let ast::ItemKind::Priority(p) = &item.kind else { continue };
            if let Some(first) = first {
                self.error(duplicate("priority block", "priority", item.span, first));
                continue;
            }
            first = Some(item.span);
            for rule in &p.rules {
                let level = self.resolve_priority(&rule.level);
                let when = self.condition(&rule.when, true);
                if let Some(level) = level {
                    self.policy.priority_rules.push(PriorityRule { level, when, span: rule.span });
                }
            }
            match &p.default {
                Some(d) => {
                    self.policy.default_priority = self.resolve_priority(d);
                    self.policy.default_priority_span = Some(d.span);
                }
                None => self.error(
                    Diagnostic::error(Code::MissingItem, "the priority block has no `default`")
                        .primary(item.span, "tickets that match no rule get no priority")
                        .help(format!(
                            "end the block with `default {}`",
                            self.policy.priorities.last().map(|p| p.name.as_str()).unwrap_or("P3")
                        )),
                ),
            }
        }
        if first.is_none() {
            // No priority block: every ticket gets the least urgent priority.
            self.policy.default_priority = Some(PriorityId(self.policy.priorities.len().saturating_sub(1) as u32));
        }
    }

    pub(super) fn slas(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut names: HashMap<String, Span> = HashMap::new();
        for (_, item) in items {
            let ast::ItemKind::Sla(s) = &item.kind else { continue };
            if let Some(first) = names.get(&s.name.name) {
                let first = *first;
                self.error(duplicate("sla", &s.name.name, s.name.span, first));
                continue;
            }
            names.insert(s.name.name.clone(), s.name.span);
            let per = s.per.as_ref().and_then(|p| {
                let id = self.policy.field_by_path(&p.dotted());
                match id.map(|i| self.policy.field(i).ty.clone()) {
                    Some(Ty::Enum(_)) => id,
                    Some(other) => {
                        let shown = describe(&self.policy, &other);
                        self.error(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("an SLA can only vary by an enum field; `{}` is {shown}", p.dotted()),
                            )
                            .primary(p.span, "not an enum")
                            .help("use a field like `customer.tier: free | pro | enterprise`"),
                        );
                        None
                    }
                    None => {
                        let fields: Vec<&str> = self.policy.fields.iter().map(|f| f.path.as_str()).collect();
                        let (help, suggestion) = suggest::help_for("field", &p.dotted(), &fields);
                        let mut d = Diagnostic::error(Code::UnknownField, format!("unknown field `{}`", p.dotted()))
                            .primary(p.span, "not in the ticket schema")
                            .help(help);
                        if let Some(x) = suggestion {
                            d = d.suggest(x);
                        }
                        self.error(d);
                        None
                    }
                }
            });
            let mut sla = Sla {
                name: s.name.name.clone(),
                span: s.name.span,
                per,
                targets: vec![None; self.policy.priorities.len()],
                overrides: Vec::new(),
            };
            for entry in &s.entries {
                match entry {
                    ast::SlaEntry::Target(t) => {
                        if let Some((p, target)) = self.sla_target(t) {
                            if let Some(existing) = sla.targets[p.index()] {
                                self.error(duplicate("target for", &t.priority.name, t.span, existing.span));
                            }
                            sla.targets[p.index()] = Some(target);
                        }
                    }
                    ast::SlaEntry::Override { tier, targets, span } => {
                        let Some(per_field) = sla.per else {
                            if s.per.is_none() {
                                self.error(
                                    Diagnostic::error(
                                        Code::MissingItem,
                                        format!("`{}:` overrides need `per FIELD` on the sla", tier.name),
                                    )
                                    .primary(*span, "which field holds this value?")
                                    .help(format!("write `sla {} per customer.tier {{ … }}`", s.name.name)),
                                );
                            }
                            continue;
                        };
                        let Ty::Enum(e) = self.policy.field(per_field).ty.clone() else { continue };
                        let Some(value) = self.policy.enum_def(e).position(&tier.name) else {
                            let path = ast::Path { segments: vec![tier.clone()], span: tier.span };
                            let per_path = s.per.clone().unwrap_or(path);
                            self.unknown_value(e, &tier.name, tier.span, &per_path);
                            continue;
                        };
                        for t in targets {
                            if let Some((p, target)) = self.sla_target(t) {
                                sla.overrides.push((value, p, target));
                            }
                        }
                    }
                }
            }
            self.policy.slas.push(sla);
        }
    }

    fn sla_target(&mut self, t: &ast::SlaTarget) -> Option<(PriorityId, SlaTarget)> {
        let p = self.resolve_priority(&t.priority);
        let secs = parse_duration(&t.duration.text);
        if secs.is_none() {
            self.bad_duration(t.duration.span, &t.duration.text);
        }
        Some((p?, SlaTarget { minutes: secs? / 60.0, business: t.business, span: t.span }))
    }

    pub(super) fn routing(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
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
                        Rule { name: r.name.name.clone(), name_span: r.name.span, span: item.span, when, outcome };
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

    fn matrix(&mut self, m: &ast::MatrixDecl, span: Span) -> Option<Matrix> {
        let mut dims = Vec::new();
        let mut ok = true;
        for d in &m.dimensions {
            match self.operand_path(d, false) {
                Some((op, Ty::Enum(_) | Ty::Bool)) => dims.push((op, d.span)),
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
                        let ty = self.policy.operand_ty(&op).unwrap_or(Ty::Bool);
                        let dim_path = &m.dimensions[i];
                        let ids: Vec<u32> = values
                            .iter()
                            .filter_map(|v| {
                                let lit = match &v.kind {
                                    LiteralKind::Name(n) if ty == Ty::Bool && (n == "true" || n == "false") => {
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
            rows.push(MatrixRow { cells, outcome, span: row.span });
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
        Some(Matrix { span, dimensions: dims, rows })
    }

    pub(super) fn outcome(&mut self, o: &ast::Outcome) -> Option<Outcome> {
        let destination = self.resolve_destination(&o.destination);
        let mut out = Outcome {
            destination: destination.unwrap_or(DestId(0)),
            destination_span: o.destination.span,
            priority: None,
            shadow: false,
            rollout: None,
            handoff: Vec::new(),
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
                        Some(Ty::String | Ty::Int) => {}
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
                        let matching: Vec<FieldId> = self
                            .policy
                            .fields
                            .iter()
                            .enumerate()
                            .filter(|(_, f)| f.path == dotted || f.path.starts_with(&format!("{dotted}.")))
                            .map(|(i, _)| FieldId(i as u32))
                            .collect();
                        if matching.is_empty() {
                            self.unknown_path(p);
                        }
                        out.handoff.extend(matching);
                    }
                }
                ast::Clause::Notify { channel, target, .. } => {
                    if *channel == ast::NotifyChannel::Email && !target.value.contains('@') {
                        self.error(
                            Diagnostic::error(Code::BadValue, format!("`{}` is not an e-mail address", target.value))
                                .primary(target.span, "no `@`")
                                .help("write an address like \"support-leads@example.com\""),
                        );
                    }
                    out.actions.push(Action::Notify { channel: *channel, target: target.value.clone() });
                }
                ast::Clause::CreateIssue { tracker, project, severity, area, .. } => {
                    out.actions.push(Action::CreateIssue {
                        tracker: *tracker,
                        project: project.value.clone(),
                        severity: severity.as_ref().map(|s| s.name.clone()),
                        area: area.as_ref().map(|a| a.value.clone()),
                    })
                }
                ast::Clause::Tag(t) => out.actions.push(Action::Tag { tag: t.value.clone() }),
                ast::Clause::Set { field, value, .. } => {
                    if let Some(json) = self.field_value_json(field, value) {
                        out.actions.push(Action::Set { field: field.dotted(), value: json });
                    }
                }
            }
        }
        destination.map(|_| out)
    }

    /// A literal for a ticket field, as the JSON the runtime would receive.
    fn field_value_json(&mut self, path: &ast::Path, value: &ast::Literal) -> Option<serde_json::Value> {
        let Some(field) = self.policy.field_by_path(&path.dotted()) else {
            self.unknown_path(path);
            return None;
        };
        let ty = self.policy.field(field).ty.clone();
        self.literal_json(&ty, value, path)
    }

    fn literal_json(&mut self, ty: &Ty, value: &ast::Literal, path: &ast::Path) -> Option<serde_json::Value> {
        use serde_json::Value;
        match (ty, &value.kind) {
            (Ty::Text | Ty::String, LiteralKind::Str(s)) => Some(Value::String(s.clone())),
            (Ty::Duration, LiteralKind::Duration(d)) => {
                self.literal_const(ty, value, path)?;
                Some(Value::String(d.clone()))
            }
            (Ty::Time, LiteralKind::Str(s)) => {
                self.literal_const(ty, value, path)?;
                Some(Value::String(s.clone()))
            }
            (Ty::Enum(e), _) => {
                let v = self.literal_const(ty, value, path)?;
                Some(Value::String(self.policy.enum_def(*e).values[v as usize].name.clone()))
            }
            (Ty::Bool, _) => Some(Value::Bool(self.literal_const(ty, value, path)? == 1.0)),
            (Ty::Int, _) => Some(Value::from(self.literal_const(ty, value, path)? as i64)),
            (Ty::Number, _) => serde_json::Number::from_f64(self.literal_const(ty, value, path)?).map(Value::Number),
            (Ty::List(inner), LiteralKind::List(items)) => {
                let items: Vec<Value> = items.iter().filter_map(|i| self.literal_json(inner, i, path)).collect();
                Some(Value::Array(items))
            }
            _ => {
                let shown = describe(&self.policy, ty);
                self.error(
                    Diagnostic::error(Code::TypeMismatch, format!("`{}` is {shown}", path.dotted()))
                        .primary(value.span, "a value of another type")
                        .help(format!("give {shown}")),
                );
                None
            }
        }
    }

    pub(super) fn tests(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut names: HashMap<String, Span> = HashMap::new();
        for (_, item) in items {
            let ast::ItemKind::Test(t) = &item.kind else { continue };
            if let Some(first) = names.get(&t.name.value) {
                let first = *first;
                self.error(duplicate("test", &t.name.value, t.name.span, first));
            }
            names.insert(t.name.value.clone(), t.name.span);
            for (word, span) in &t.repeated {
                self.error(
                    Diagnostic::error(Code::Duplicate, format!("test `{}` has a second `{word}`", t.name.value))
                        .primary(*span, "written again here")
                        .help(format!("merge the two `{word}` entries into one")),
                );
            }
            let mut ticket = serde_json::Map::new();
            for fv in &t.ticket {
                if let Some(v) = self.field_value_json(&fv.path, &fv.value) {
                    insert_path(&mut ticket, &fv.path.dotted(), v);
                }
            }
            // Fields the test leaves out get neutral defaults, so tests stay short.
            for f in self.policy.fields.clone() {
                if f.optional || get_path(&ticket, &f.path) {
                    continue;
                }
                insert_path(&mut ticket, &f.path, default_json(&self.policy, &f.ty));
            }
            let mut signals = serde_json::Map::new();
            for fv in &t.signals {
                if let Some((key, v)) = self.signal_value(fv) {
                    signals.insert(key, v);
                }
            }
            let at = t.at.as_ref().and_then(|s| match s.value.parse::<jiff::Timestamp>() {
                Ok(ts) => Some(ts),
                Err(_) => {
                    self.error(
                        Diagnostic::error(Code::BadValue, format!("`{}` is not a time", s.value))
                            .primary(s.span, "expected an RFC 3339 time with an offset")
                            .help("write e.g. \"2026-11-29T03:00:00-05:00\""),
                    );
                    None
                }
            });
            let load = t.load.iter().filter_map(|(d, n)| self.resolve_destination(d).map(|id| (id, *n))).collect();
            let expect = t.expect.as_ref().and_then(|e| {
                let destination = self.resolve_destination(&e.destination);
                let priority = e.priority.as_ref().and_then(|p| self.resolve_priority(p));
                Some(Expect {
                    destination: destination?,
                    priority,
                    escalated: e.escalated,
                    shadow: e.shadow,
                    fallback: e.fallback,
                    span: e.span,
                })
            });
            if t.expect.is_none() {
                self.error(
                    Diagnostic::error(Code::MissingItem, format!("test `{}` expects nothing", t.name.value))
                        .primary(t.name.span, "no `expect` line")
                        .help("add `expect DESTINATION` (optionally `priority P1`, `escalated`)"),
                );
            }
            self.policy.tests.push(Test {
                name: t.name.value.clone(),
                span: item.span,
                ticket: serde_json::Value::Object(ticket),
                signals: serde_json::Value::Object(signals),
                at,
                load,
                expect,
            });
        }
    }

    fn signal_value(&mut self, fv: &ast::FieldValue) -> Option<(String, serde_json::Value)> {
        let key = fv.path.dotted();
        let classifier = self.policy.classifier.as_ref().map(|c| (c.name.clone(), c.labels));
        let ty = match key.as_str() {
            "confidence" => Ty::Number,
            "sentiment" => Ty::Number,
            "language" => Ty::Enum(self.policy.language_enum),
            name if classifier.as_ref().is_some_and(|(n, _)| n == name) => Ty::Enum(classifier.as_ref()?.1),
            _ => {
                let mut known: Vec<String> = vec!["confidence".into(), "sentiment".into(), "language".into()];
                if let Some((n, _)) = &classifier {
                    known.push(n.clone());
                }
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                let (help, suggestion) = suggest::help_for("signal", &key, &names);
                let mut d = Diagnostic::error(Code::UnknownName, format!("unknown signal `{key}`"))
                    .primary(fv.path.span, "not a signal")
                    .help(help);
                if let Some(s) = suggestion {
                    d = d.suggest(s);
                }
                self.error(d);
                return None;
            }
        };
        let v = self.literal_json(&ty, &fv.value, &fv.path)?;
        if let Some(n) = v.as_f64() {
            let range = if key == "confidence" { 0.0..=1.0 } else { -1.0..=1.0 };
            if !range.contains(&n) {
                self.error(
                    Diagnostic::error(Code::BadValue, format!("`{key}` {n} is out of range"))
                        .primary(fv.value.span, format!("{key} lies in {}..{}", range.start(), range.end()))
                        .help("give a value in range"),
                );
                return None;
            }
        }
        Some((key, v))
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn reason_word(reason: ast::FallbackReason) -> &'static str {
    match reason {
        ast::FallbackReason::Closed => "when closed",
        ast::FallbackReason::Full => "when full",
    }
}

fn insert_path(obj: &mut serde_json::Map<String, serde_json::Value>, path: &str, value: serde_json::Value) {
    match path.split_once('.') {
        None => {
            obj.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = obj.entry(head.to_string()).or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let serde_json::Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

fn get_path(obj: &serde_json::Map<String, serde_json::Value>, path: &str) -> bool {
    match path.split_once('.') {
        None => obj.contains_key(path),
        Some((head, rest)) => match obj.get(head) {
            Some(serde_json::Value::Object(inner)) => get_path(inner, rest),
            _ => false,
        },
    }
}

fn default_json(policy: &Policy, ty: &Ty) -> serde_json::Value {
    use serde_json::Value;
    match ty {
        Ty::Text | Ty::String => Value::String(String::new()),
        Ty::Int | Ty::Number => Value::from(0),
        Ty::Bool => Value::Bool(false),
        Ty::Time => Value::String("1970-01-01T00:00:00Z".into()),
        Ty::Duration => Value::from(0),
        Ty::Enum(e) => Value::String(policy.enum_def(*e).values.first().map(|v| v.name.clone()).unwrap_or_default()),
        Ty::List(_) => Value::Array(Vec::new()),
    }
}
