//! `routec replay`: route every ticket of a history as of its own creation
//! time and compare with what humans finally did (agreement, confusion,
//! divergence per rule and intent, SLAs met or breached, load per
//! destination and hour against capacity), and, with an older policy, which
//! decisions change between the two versions and through which rules.
//!
//! Streaming and parallel: one thread reads records in chunks, every core
//! routes chunks, and the calling thread folds each chunk's [`Tally`] in
//! input order, so the report (examples included) is the same for any
//! number of threads, and memory is bounded by the chunks in flight, not by
//! the history's length.

use crate::history::{self, Opened, RawRecord, RecordError, Rejected, Row, TicketShape};
use crate::render::{Bar, Cell, Chart, Document, Figure, Section, Series, Table, Unit, WEEKDAYS};
use routec_runtime::advanced::PolicyInternals;
use routec_runtime::decision::Stage;
use routec_runtime::{Context, Decision, Policy};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::sync::mpsc;

/// How a replay runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Threads routing tickets (at least one).
    pub workers: usize,
    /// Records per chunk handed to a thread.
    pub chunk: usize,
    /// Example tickets kept per group of changed decisions, and rejected rows listed.
    pub examples: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { workers: std::thread::available_parallelism().map_or(1, |n| n.get()), chunk: 2048, examples: 5 }
    }
}

/// Why a replay could not run at all (a bad row only rejects that row).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The history cannot be read.
    #[error("cannot read the history: {0}")]
    Io(#[from] std::io::Error),
    /// The history lacks columns the policy's tickets need.
    #[error(
        "the history has no column for the policy's field{} {}",
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
    )]
    MissingFields(Vec<String>),
    /// The history has no creation time column, so nothing can be routed as of its time.
    #[error("the history has no `{0}` column: replay routes each ticket as of its creation time")]
    NoCreationTime(String),
}

/// What one policy decided for one ticket, reduced to what the report compares.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// The destination after fallbacks.
    pub destination: Option<String>,
    /// The destination the deciding rule chose, before fallbacks.
    pub chosen: Option<String>,
    /// The priority.
    pub priority: String,
    /// The rule, escalation, matrix row or `otherwise` that decided.
    pub rule: String,
    /// Its stage (`escalation`, `rule`, `matrix`, `otherwise`), `none` when nothing matched.
    pub stage: String,
    /// The escalation, when one decided.
    pub escalation: Option<String>,
    /// The intent the classifier (or the ticket's signals) gave.
    pub intent: Option<String>,
}

impl Verdict {
    fn of(decision: &Decision) -> Verdict {
        let decided = decision.trace.iter().rev().find(|s| s.matched && !s.shadow && s.stage != Stage::Priority);
        let destination = decision.destination.as_ref().map(|d| d.name.clone());
        let chosen = decision.fallbacks.first().map(|f| f.from.clone()).or_else(|| destination.clone());
        Verdict {
            destination,
            chosen,
            priority: decision.priority.clone(),
            rule: decided.map_or_else(|| "(no rule matched)".to_string(), |s| s.name.clone()),
            stage: decided.map_or("none", |s| s.stage.as_str()).to_string(),
            escalation: decision.escalation.as_ref().map(|e| e.name.clone()),
            intent: decision.signals.intent.clone(),
        }
    }

    fn same_decision(&self, other: &Verdict) -> bool {
        self.destination == other.destination && self.priority == other.priority && self.escalation == other.escalation
    }
}

/// A changed decision, shown as an example.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChangedTicket {
    /// The line of the history the ticket is on.
    pub line: u64,
    /// Its id.
    pub id: Option<String>,
    /// What the older policy decided.
    pub old: Verdict,
    /// What the policy replayed decides.
    pub new: Verdict,
    /// What humans finally did.
    pub final_destination: Option<String>,
}

/// Agreement of one group of tickets with the humans' final destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// Tickets in the group.
    pub tickets: u64,
    /// Of those, the ones whose final destination the history records.
    pub compared: u64,
    /// Of those, the ones routed where humans finally resolved them.
    pub agreed: u64,
}

impl Agreement {
    fn add(&mut self, compared: bool, agreed: bool) {
        self.tickets += 1;
        self.compared += u64::from(compared);
        self.agreed += u64::from(agreed);
    }

    fn merge(&mut self, other: &Agreement) {
        self.tickets += other.tickets;
        self.compared += other.compared;
        self.agreed += other.agreed;
    }

    /// `agreed / compared`, `None` when nothing was compared.
    pub fn rate(&self) -> Option<f64> {
        ratio(self.agreed, self.compared)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Whether one SLA's due time would have been kept, over all tickets.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SlaTally {
    /// Tickets the policy gave a due time under this SLA.
    pub with_due: u64,
    /// The history's moment for it (its `[sla]` column) is at or before the due time.
    pub met: u64,
    /// The moment is after the due time.
    pub breached: u64,
    /// The history has no moment for it (still open, or not exported).
    pub unknown: u64,
}

/// The counts one chunk of tickets adds to a report; merged in input order.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    records: u64,
    bytes: u64,
    replayed: u64,
    rejected: u64,
    rejected_rows: Vec<Rejected>,
    overall: Agreement,
    before_fallbacks: Agreement,
    human_first: Agreement,
    confusion: BTreeMap<(String, String), u64>,
    rules: BTreeMap<(String, String), Agreement>,
    intents: BTreeMap<String, Agreement>,
    categories: BTreeMap<String, Agreement>,
    classifier: Agreement,
    sla: BTreeMap<String, SlaTally>,
    /// (destination, hour since the epoch) → tickets routed there then.
    hourly: HashMap<(String, i64), u64>,
    against: Option<AgainstTally>,
}

#[derive(Clone, Debug, Default)]
struct AgainstTally {
    rejected_by_old: u64,
    changed: u64,
    destination_changed: u64,
    priority_changed: u64,
    escalation_changed: u64,
    old_agreement: Agreement,
    groups: BTreeMap<(String, String), (u64, Vec<ChangedTicket>)>,
}

impl Tally {
    fn merge(&mut self, other: Tally, examples: usize) {
        self.records += other.records;
        self.bytes += other.bytes;
        self.replayed += other.replayed;
        self.rejected += other.rejected;
        let room = examples.saturating_mul(4).saturating_sub(self.rejected_rows.len());
        self.rejected_rows.extend(other.rejected_rows.into_iter().take(room));
        self.overall.merge(&other.overall);
        self.before_fallbacks.merge(&other.before_fallbacks);
        self.human_first.merge(&other.human_first);
        self.classifier.merge(&other.classifier);
        for (k, v) in other.confusion {
            *self.confusion.entry(k).or_default() += v;
        }
        for (k, v) in other.rules {
            self.rules.entry(k).or_default().merge(&v);
        }
        for (k, v) in other.intents {
            self.intents.entry(k).or_default().merge(&v);
        }
        for (k, v) in other.categories {
            self.categories.entry(k).or_default().merge(&v);
        }
        for (k, v) in other.sla {
            let s = self.sla.entry(k).or_default();
            s.with_due += v.with_due;
            s.met += v.met;
            s.breached += v.breached;
            s.unknown += v.unknown;
        }
        for (k, v) in other.hourly {
            *self.hourly.entry(k).or_default() += v;
        }
        if let Some(o) = other.against {
            let a = self.against.get_or_insert_with(AgainstTally::default);
            a.rejected_by_old += o.rejected_by_old;
            a.changed += o.changed;
            a.destination_changed += o.destination_changed;
            a.priority_changed += o.priority_changed;
            a.escalation_changed += o.escalation_changed;
            a.old_agreement.merge(&o.old_agreement);
            for (k, (n, list)) in o.groups {
                let g = a.groups.entry(k).or_default();
                g.0 += n;
                let room = examples.saturating_sub(g.1.len());
                g.1.extend(list.into_iter().take(room));
            }
        }
    }

    fn reject(&mut self, rejected: Rejected, examples: usize) {
        self.rejected += 1;
        if self.rejected_rows.len() < examples.saturating_mul(4) {
            self.rejected_rows.push(rejected);
        }
    }
}

/// A policy with what replay needs to read tickets for it.
pub struct Replayed<'p> {
    policy: &'p Policy,
    shape: TicketShape,
}

impl<'p> Replayed<'p> {
    /// Prepare `policy` for this history. Err names the fields the history cannot fill.
    pub fn new(policy: &'p Policy, reader: &history::Reader) -> Result<Replayed<'p>, ReplayError> {
        let shape = TicketShape::new(policy.hir(), reader).map_err(ReplayError::MissingFields)?;
        Ok(Replayed { policy, shape })
    }
}

/// Where each SLA of the policy is measured in the history.
fn sla_columns(policy: &Policy, reader: &history::Reader) -> Vec<(String, history::Column)> {
    let mapping = reader.mapping();
    policy
        .hir()
        .slas
        .iter()
        .filter_map(|sla| {
            let name = sla.name.clone();
            let column = match mapping.sla.get(&name) {
                Some(column) => reader.column(column),
                None if name == "resolution" => reader.column(&mapping.columns.resolved_at),
                None => reader.column(&format!("{name}_at")),
            };
            column.exists().then_some((name, column))
        })
        .collect()
}

struct Worker<'a, 'p> {
    reader: &'a history::Reader,
    new: &'a Replayed<'p>,
    old: Option<&'a Replayed<'p>>,
    slas: &'a [(String, history::Column)],
    created_at: &'a str,
    examples: usize,
}

impl Worker<'_, '_> {
    fn chunk(&self, records: Vec<Result<RawRecord, Rejected>>) -> Tally {
        let mut tally = Tally { against: self.old.map(|_| AgainstTally::default()), ..Tally::default() };
        for record in records {
            tally.records += 1;
            match record {
                Err(rejected) => tally.reject(rejected, self.examples),
                Ok(record) => {
                    tally.bytes += record.text.len() as u64 + 1;
                    if let Err(rejected) = self.one(&record, &mut tally) {
                        tally.reject(rejected, self.examples);
                    }
                }
            }
        }
        tally
    }

    fn one(&self, record: &RawRecord, tally: &mut Tally) -> Result<(), Rejected> {
        let line = record.line;
        let row = Row::parse(record, self.reader.header())?;
        if row.is_blank() {
            tally.records -= 1;
            return Ok(());
        }
        let outcome = self.reader.outcome(&row, line)?;
        let created = outcome.created_at.ok_or_else(|| Rejected {
            line,
            reason: format!("no `{}`: the ticket cannot be routed as of its creation time", self.created_at),
        })?;
        let reject = |e: routec_runtime::TicketError| Rejected { line, reason: e.to_string() };
        let ticket = self.new.policy.ticket_from_value(self.new.shape.ticket(self.reader, &row)).map_err(reject)?;
        let ctx = Context::at(created);
        let decision = self.new.policy.route(&ticket, &ctx);
        let verdict = Verdict::of(&decision);
        tally.replayed += 1;

        let final_destination = outcome.final_destination.as_deref();
        let compared = final_destination.is_some();
        let agreed = compared && verdict.destination.as_deref() == final_destination;
        tally.overall.add(compared, agreed);
        tally.before_fallbacks.add(compared, compared && verdict.chosen.as_deref() == final_destination);
        if let (Some(first), Some(last)) = (outcome.first_destination.as_deref(), final_destination) {
            tally.human_first.add(true, first == last);
        }
        if let Some(last) = final_destination {
            let routed = verdict.destination.clone().unwrap_or_else(|| "(none)".into());
            *tally.confusion.entry((routed, last.to_string())).or_default() += 1;
        }
        tally.rules.entry((verdict.stage.clone(), verdict.rule.clone())).or_default().add(compared, agreed);
        let intent = verdict.intent.clone().unwrap_or_else(|| "(none)".into());
        tally.intents.entry(intent).or_default().add(compared, agreed);
        if let Some(category) = &outcome.category {
            tally.categories.entry(category.clone()).or_default().add(compared, agreed);
            if verdict.intent.is_some() {
                tally.classifier.add(true, verdict.intent.as_deref() == Some(category.as_str()));
            }
        }
        for due in &decision.sla {
            let Some((_, column)) = self.slas.iter().find(|(name, _)| *name == due.name) else { continue };
            let Some(due_at) = due.due.as_deref().and_then(history::parse_time) else { continue };
            let s = tally.sla.entry(due.name.clone()).or_default();
            s.with_due += 1;
            match column.text(&row).as_deref().and_then(history::parse_time) {
                Some(at) if at <= due_at => s.met += 1,
                Some(_) => s.breached += 1,
                None => s.unknown += 1,
            }
        }
        if let Some(dest) = &verdict.destination {
            *tally.hourly.entry((dest.clone(), created.as_second().div_euclid(3600))).or_default() += 1;
        }

        if let (Some(old), Some(against)) = (self.old, tally.against.as_mut()) {
            let old_ticket = match old.policy.ticket_from_value(old.shape.ticket(self.reader, &row)) {
                Ok(t) => t,
                Err(_) => {
                    against.rejected_by_old += 1;
                    return Ok(());
                }
            };
            let old_verdict = Verdict::of(&old.policy.route(&old_ticket, &ctx));
            against.old_agreement.add(compared, compared && old_verdict.destination.as_deref() == final_destination);
            if !old_verdict.same_decision(&verdict) {
                against.changed += 1;
                against.destination_changed += u64::from(old_verdict.destination != verdict.destination);
                against.priority_changed += u64::from(old_verdict.priority != verdict.priority);
                against.escalation_changed += u64::from(old_verdict.escalation != verdict.escalation);
                let group = against.groups.entry((old_verdict.rule.clone(), verdict.rule.clone())).or_default();
                group.0 += 1;
                if group.1.len() < self.examples {
                    group.1.push(ChangedTicket {
                        line,
                        id: outcome.id.clone(),
                        old: old_verdict,
                        new: verdict,
                        final_destination: outcome.final_destination.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Progress while replaying: records read so far and their bytes.
pub trait Progress {
    /// Called after each chunk is folded in.
    fn advance(&mut self, records: u64, bytes: u64);
}

impl<F: FnMut(u64, u64)> Progress for F {
    fn advance(&mut self, records: u64, bytes: u64) {
        self(records, bytes)
    }
}

/// Replay `opened` against `policy` (and `against`, the older version).
pub fn replay<R: BufRead + Send>(
    opened: Opened<R>,
    policy: &Policy,
    against: Option<&Policy>,
    options: &Options,
    progress: &mut dyn Progress,
) -> Result<Report, ReplayError> {
    let Opened { reader, records, header_error, format } = opened;
    if format == history::Format::Csv && !reader.column(&reader.mapping().columns.created_at).exists() {
        return Err(ReplayError::NoCreationTime(reader.mapping().columns.created_at.clone()));
    }
    let new = Replayed::new(policy, &reader)?;
    let old = against.map(|p| Replayed::new(p, &reader)).transpose()?;
    let slas = sla_columns(policy, &reader);
    let worker = Worker {
        reader: &reader,
        new: &new,
        old: old.as_ref(),
        slas: &slas,
        created_at: &reader.mapping().columns.created_at,
        examples: options.examples,
    };
    let workers = options.workers.max(1);
    let chunk_size = options.chunk.max(1);
    let mut total = Tally { against: against.map(|_| AgainstTally::default()), ..Tally::default() };
    if let Some(rejected) = header_error {
        total.reject(rejected, options.examples);
    }
    // Two chunks in flight per worker keep every core busy; no more, so
    // memory stays bounded whatever the history's length.
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(u64, Vec<Result<RawRecord, Rejected>>)>(workers * 2);
    let chunk_rx = std::sync::Mutex::new(chunk_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Tally)>(workers * 2);
    let io_error = std::thread::scope(|scope| -> Option<std::io::Error> {
        let reading = scope.spawn(move || {
            let mut seq = 0;
            let mut chunk = Vec::with_capacity(chunk_size);
            for record in records {
                match record {
                    Ok(r) => chunk.push(Ok(r)),
                    Err(RecordError::Rejected(r)) => chunk.push(Err(r)),
                    Err(RecordError::Io(e)) => {
                        let _ = chunk_tx.send((seq, chunk));
                        return Some(e);
                    }
                }
                if chunk.len() == chunk_size {
                    if chunk_tx.send((seq, std::mem::replace(&mut chunk, Vec::with_capacity(chunk_size)))).is_err() {
                        return None;
                    }
                    seq += 1;
                }
            }
            if !chunk.is_empty() {
                let _ = chunk_tx.send((seq, chunk));
            }
            None
        });
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let chunk_rx = &chunk_rx;
            let worker = &worker;
            scope.spawn(move || loop {
                let next = match chunk_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, chunk)) = next else { return };
                if done_tx.send((seq, worker.chunk(chunk))).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        // Fold chunks in input order: a chunk that finishes early waits here.
        let mut waiting = BTreeMap::new();
        let mut next_seq = 0;
        for (seq, tally) in done_rx {
            waiting.insert(seq, tally);
            while let Some(tally) = waiting.remove(&next_seq) {
                total.merge(tally, options.examples);
                next_seq += 1;
                progress.advance(total.records, total.bytes);
            }
        }
        reading.join().unwrap_or(None)
    });
    if let Some(e) = io_error {
        return Err(ReplayError::Io(e));
    }
    Ok(Report::build(policy, against, total))
}

/// Everything `routec replay` reports; its JSON is `--json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// The policy replayed.
    pub policy: PolicyName,
    /// The older policy compared with, when `--against` was given.
    pub against: Option<PolicyName>,
    /// How many records were read, routed and rejected.
    pub tickets: Counts,
    /// The first rejected rows, with their line numbers.
    pub rejected_rows: Vec<Rejected>,
    /// Routed where humans finally resolved the ticket.
    pub agreement: Agreement,
    /// The same, with the destination the deciding rule chose before
    /// fallbacks (closed or full teams): what the rules alone get right.
    pub agreement_before_fallbacks: Agreement,
    /// How often the humans' own first assignment was final: the baseline.
    pub human_first_assignment: Agreement,
    /// Routed (rows) × final (columns).
    pub confusion: Confusion,
    /// Per deciding rule, escalation, matrix row and `otherwise`, most tickets first.
    pub rules: Vec<RuleAgreement>,
    /// Per intent the policy saw (classifier or ticket signals), most tickets first.
    pub intents: Vec<NamedAgreement>,
    /// Per category the history records, most tickets first.
    pub categories: Vec<NamedAgreement>,
    /// The intent the policy saw against the history's category.
    pub classifier_vs_category: Agreement,
    /// Per SLA with a column to measure it by.
    pub sla: Vec<NamedSla>,
    /// Per destination, the tickets routed there by hour.
    pub load: Vec<DestinationLoad>,
    /// With `--against`: the decisions that change.
    pub changes: Option<Changes>,
}

/// A policy's name and version.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PolicyName {
    /// Its name.
    pub name: String,
    /// Its version number.
    pub version: u64,
}

impl PolicyName {
    fn of(policy: &Policy) -> PolicyName {
        PolicyName { name: policy.name().to_string(), version: policy.version() }
    }
}

/// Record counts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Counts {
    /// Records read (blank ones not counted).
    pub read: u64,
    /// Tickets routed.
    pub replayed: u64,
    /// Rows rejected.
    pub rejected: u64,
}

/// A confusion matrix over destinations.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Confusion {
    /// Destinations routed to (rows).
    pub routed: Vec<String>,
    /// Destinations humans resolved in (columns).
    #[serde(rename = "final")]
    pub final_: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
}

/// Agreement of the tickets one rule decided.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RuleAgreement {
    /// `escalation`, `rule`, `matrix`, `otherwise` or `none`.
    pub stage: String,
    /// The rule's name (a matrix row is `row N: cells`).
    pub rule: String,
    /// Its tickets and agreement.
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// Agreement of a named group.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NamedAgreement {
    /// The group's name.
    pub name: String,
    /// Its tickets and agreement.
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// One SLA's outcome.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NamedSla {
    /// The SLA's name in the policy.
    pub name: String,
    /// Its counts.
    #[serde(flatten)]
    pub tally: SlaTally,
}

/// Tickets routed to one destination, by hour.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DestinationLoad {
    /// The destination.
    pub destination: String,
    /// Its declared capacity (open tickets), when it has one.
    pub capacity: Option<u64>,
    /// Tickets routed there.
    pub tickets: u64,
    /// Hours with at least one ticket.
    pub active_hours: u64,
    /// The busiest hour (RFC 3339, UTC) and its tickets.
    pub peak_hour: Option<String>,
    /// Tickets in the busiest hour.
    pub peak_tickets: u64,
    /// Hours in which more tickets arrived than the capacity.
    pub hours_over_capacity: u64,
    /// Tickets per hour of the week (UTC), Monday 00:00 first: 168 numbers.
    pub hour_of_week: Vec<u64>,
}

/// With `--against`: what changes between the two versions.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Changes {
    /// Tickets whose destination, priority or escalation changes.
    pub changed: u64,
    /// Of those, the destination changes.
    pub destination_changed: u64,
    /// Of those, the priority changes.
    pub priority_changed: u64,
    /// Of those, the escalation changes.
    pub escalation_changed: u64,
    /// Tickets the older policy's schema rejects (not compared).
    pub rejected_by_old: u64,
    /// The older policy's agreement with the humans, beside the new one's.
    pub old_agreement: Agreement,
    /// Grouped by the older and the newer deciding rule, most tickets first.
    pub groups: Vec<ChangeGroup>,
}

/// Changed decisions that went from one deciding rule to another.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChangeGroup {
    /// The older policy's deciding rule.
    pub old_rule: String,
    /// The newer policy's deciding rule.
    pub new_rule: String,
    /// Tickets in the group.
    pub tickets: u64,
    /// The first of them, in history order.
    pub examples: Vec<ChangedTicket>,
}

fn by_tickets<T>(mut items: Vec<T>, tickets: impl Fn(&T) -> u64) -> Vec<T> {
    // Stable: ties keep their name order.
    items.sort_by_key(|item| std::cmp::Reverse(tickets(item)));
    items
}

impl Report {
    fn build(policy: &Policy, against: Option<&Policy>, tally: Tally) -> Report {
        let mut routed: Vec<String> = tally.confusion.keys().map(|(r, _)| r.clone()).collect();
        let mut finals: Vec<String> = tally.confusion.keys().map(|(_, f)| f.clone()).collect();
        routed.dedup();
        finals.sort();
        finals.dedup();
        let counts = routed
            .iter()
            .map(|r| {
                finals.iter().map(|f| tally.confusion.get(&(r.clone(), f.clone())).copied().unwrap_or(0)).collect()
            })
            .collect();
        let rules = tally
            .rules
            .into_iter()
            .map(|((stage, rule), agreement)| RuleAgreement { stage, rule, agreement })
            .collect();
        let named = |map: BTreeMap<String, Agreement>| {
            by_tickets(
                map.into_iter().map(|(name, agreement)| NamedAgreement { name, agreement }).collect(),
                |n: &NamedAgreement| n.agreement.tickets,
            )
        };
        let changes = tally.against.map(|a| Changes {
            changed: a.changed,
            destination_changed: a.destination_changed,
            priority_changed: a.priority_changed,
            escalation_changed: a.escalation_changed,
            rejected_by_old: a.rejected_by_old,
            old_agreement: a.old_agreement,
            groups: by_tickets(
                a.groups
                    .into_iter()
                    .map(|((old_rule, new_rule), (tickets, examples))| ChangeGroup {
                        old_rule,
                        new_rule,
                        tickets,
                        examples,
                    })
                    .collect(),
                |g| g.tickets,
            ),
        });
        Report {
            policy: PolicyName::of(policy),
            against: against.map(PolicyName::of),
            tickets: Counts { read: tally.records, replayed: tally.replayed, rejected: tally.rejected },
            rejected_rows: tally.rejected_rows,
            agreement: tally.overall,
            agreement_before_fallbacks: tally.before_fallbacks,
            human_first_assignment: tally.human_first,
            confusion: Confusion { routed, final_: finals, counts },
            rules: by_tickets(rules, |r| r.agreement.tickets),
            intents: named(tally.intents),
            categories: named(tally.categories),
            classifier_vs_category: tally.classifier,
            sla: tally.sla.into_iter().map(|(name, tally)| NamedSla { name, tally }).collect(),
            load: load(policy, &tally.hourly),
            changes,
        }
    }
}

fn load(policy: &Policy, hourly: &HashMap<(String, i64), u64>) -> Vec<DestinationLoad> {
    let mut per: BTreeMap<&str, Vec<(i64, u64)>> = BTreeMap::new();
    for ((dest, hour), n) in hourly {
        per.entry(dest.as_str()).or_default().push((*hour, *n));
    }
    let capacity: HashMap<&str, Option<u64>> =
        policy.hir().destinations.iter().map(|d| (d.name.as_str(), d.capacity)).collect();
    let loads = per
        .into_iter()
        .map(|(dest, mut hours)| {
            hours.sort_unstable();
            let capacity = capacity.get(dest).copied().flatten();
            let peak = hours.iter().copied().max_by_key(|&(hour, n)| (n, std::cmp::Reverse(hour)));
            let mut hour_of_week = vec![0u64; 168];
            for &(hour, n) in &hours {
                // The epoch began on a Thursday: shift so Monday 00:00 is slot 0.
                let slot = (hour + 72).rem_euclid(168) as usize;
                hour_of_week[slot] += n;
            }
            DestinationLoad {
                destination: dest.to_string(),
                capacity,
                tickets: hours.iter().map(|&(_, n)| n).sum(),
                active_hours: hours.len() as u64,
                peak_hour: peak
                    .and_then(|(hour, _)| jiff::Timestamp::from_second(hour * 3600).ok())
                    .map(|t| t.to_string()),
                peak_tickets: peak.map_or(0, |(_, n)| n),
                hours_over_capacity: capacity.map_or(0, |c| hours.iter().filter(|&&(_, n)| n > c).count() as u64),
                hour_of_week,
            }
        })
        .collect();
    by_tickets(loads, |l: &DestinationLoad| l.tickets)
}

fn percent_of(part: u64, whole: u64) -> Cell {
    ratio(part, whole).into()
}

impl Report {
    /// The report as a document: what the terminal summary, `--json` and
    /// `--html` render.
    pub fn document(&self, history: &str) -> Document {
        let p = &self.policy;
        let mut doc = Document::new(format!("routec replay {} v{}", p.name, p.version)).with_subtitle(format!(
            "{history}: {} tickets routed as of their creation time, {} rejected",
            self.tickets.replayed, self.tickets.rejected
        ));
        let agreement = |key: &str, label: &str, a: &Agreement, note: &str| {
            Figure::new(key, label, a.rate(), Unit::Ratio).with_note(format!("{} of {} {note}", a.agreed, a.compared))
        };
        let mut figures = vec![
            Figure::new("replayed", "tickets replayed", self.tickets.replayed, Unit::Count),
            agreement("agreement", "agreement with the final destination", &self.agreement, "with a final destination"),
            agreement(
                "agreement_before_fallbacks",
                "agreement before fallbacks",
                &self.agreement_before_fallbacks,
                "(the rules' choice, before closed or full teams fall back)",
            ),
            agreement(
                "human_first_assignment",
                "humans' first assignment was final",
                &self.human_first_assignment,
                "(the baseline to beat)",
            ),
        ];
        if self.classifier_vs_category.compared > 0 {
            figures.push(agreement(
                "intent_matches_category",
                "intent matches the history's category",
                &self.classifier_vs_category,
                "with a category",
            ));
        }
        doc.push(Section::new("agreement", "Agreement with what humans finally did").with_figures(figures));

        let mut labels: Vec<String> = self.confusion.routed.iter().chain(&self.confusion.final_).cloned().collect();
        labels.sort();
        labels.dedup();
        let position = |name: &str| labels.iter().position(|l| l == name);
        let mut counts = vec![vec![0u64; labels.len()]; labels.len()];
        let mut misses = Vec::new();
        for (r, routed) in self.confusion.routed.iter().enumerate() {
            for (f, fin) in self.confusion.final_.iter().enumerate() {
                let n = self.confusion.counts[r][f];
                if let (Some(ri), Some(fi)) = (position(routed), position(fin)) {
                    counts[fi][ri] += n;
                }
                if n > 0 && routed != fin {
                    misses.push((n, routed.as_str(), fin.as_str()));
                }
            }
        }
        misses.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(b.2)));
        let mut table = Table::new("disagreements")
            .with_title("Most frequent disagreements")
            .with_column("routed", "routec's destination", Unit::Text)
            .with_column("final", "final destination", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count);
        for (n, routed, fin) in misses.iter().take(10) {
            table.push_row(vec![(*routed).into(), (*fin).into(), (*n).into()]);
        }
        doc.push(
            Section::new("confusion", "Where routec and the humans part ways")
                .with_chart(Chart::confusion(
                    "confusion",
                    "Final destination (rows) × routec's destination (columns)",
                    "final destination",
                    "routec's destination",
                    labels,
                    counts,
                ))
                .with_table(table),
        );

        let mut rules = Table::new("rules")
            .with_column("stage", "stage", Unit::Text)
            .with_column("rule", "rule", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count)
            .with_column("agreement", "agreement", Unit::Ratio)
            .with_note("most tickets first; agreement over the tickets with a final destination");
        let mut bars = Vec::new();
        for r in &self.rules {
            rules.push_row(vec![
                r.stage.as_str().into(),
                r.rule.as_str().into(),
                r.agreement.tickets.into(),
                r.agreement.rate().into(),
            ]);
            if r.agreement.compared > 0 {
                let rate = r.agreement.rate().unwrap_or(0.0);
                bars.push(Bar::new(r.rule.clone(), rate).highlighted(rate < 0.5));
            }
        }
        doc.push(
            Section::new("rules", "Divergence per rule and escalation")
                .with_chart(
                    Chart::bar("rule_agreement", "Agreement per deciding rule", Unit::Ratio, bars)
                        .with_note("rules agreeing with the humans less than half the time are highlighted"),
                )
                .with_table(rules),
        );

        let mut intents = Table::new("intents")
            .with_column("intent", "intent", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count)
            .with_column("agreement", "agreement", Unit::Ratio);
        for i in &self.intents {
            intents.push_row(vec![i.name.as_str().into(), i.agreement.tickets.into(), i.agreement.rate().into()]);
        }
        let mut section = Section::new("intents", "Divergence per intent").with_table(intents);
        if !self.categories.is_empty() {
            let mut categories = Table::new("categories")
                .with_title("Per category of the history")
                .with_column("category", "category", Unit::Text)
                .with_column("tickets", "tickets", Unit::Count)
                .with_column("agreement", "agreement", Unit::Ratio);
            for c in &self.categories {
                categories.push_row(vec![
                    c.name.as_str().into(),
                    c.agreement.tickets.into(),
                    c.agreement.rate().into(),
                ]);
            }
            section = section.with_table(categories);
        }
        doc.push(section);

        if !self.sla.is_empty() {
            let mut sla = Table::new("sla")
                .with_column("sla", "SLA", Unit::Text)
                .with_column("with_due", "due times", Unit::Count)
                .with_column("met", "met", Unit::Count)
                .with_column("met_rate", "met rate", Unit::Ratio)
                .with_column("breached", "breached", Unit::Count)
                .with_column("unknown", "unknown", Unit::Count)
                .with_note(
                    "due times computed from each ticket's creation, met when the history's moment is at or before it",
                );
            let mut bars = Vec::new();
            for s in &self.sla {
                let t = &s.tally;
                sla.push_row(vec![
                    s.name.as_str().into(),
                    t.with_due.into(),
                    t.met.into(),
                    percent_of(t.met, t.met + t.breached),
                    t.breached.into(),
                    t.unknown.into(),
                ]);
                bars.push(Bar::new(format!("{} breached", s.name), t.breached as f64).highlighted(true));
                bars.push(Bar::new(format!("{} met", s.name), t.met as f64));
            }
            doc.push(
                Section::new("sla", "SLAs the replayed decisions would have met")
                    .with_chart(Chart::bar("sla_outcomes", "Tickets per SLA outcome", Unit::Count, bars))
                    .with_table(sla),
            );
        }

        let mut load = Table::new("load")
            .with_column("destination", "destination", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count)
            .with_column("capacity", "capacity", Unit::Count)
            .with_column("peak_hour", "busiest hour (UTC)", Unit::Text)
            .with_column("peak_tickets", "tickets then", Unit::Count)
            .with_column("hours_over_capacity", "hours over capacity", Unit::Count)
            .with_note("tickets routed per calendar hour; over capacity: more arrivals in one hour than the destination's capacity");
        let mut by_hour = [[0u64; 24]; 7];
        for l in &self.load {
            load.push_row(vec![
                l.destination.as_str().into(),
                l.tickets.into(),
                l.capacity.into(),
                l.peak_hour.as_deref().into(),
                l.peak_tickets.into(),
                l.capacity.map(|_| l.hours_over_capacity).into(),
            ]);
            for (slot, n) in l.hour_of_week.iter().enumerate() {
                by_hour[slot / 24][slot % 24] += n;
            }
        }
        let mut section = Section::new("load", "Load per destination and hour").with_table(load);
        let x: Vec<String> = (0..168).map(|slot| format!("{} {:02}h", WEEKDAYS[slot / 24], slot % 24)).collect();
        let series = self
            .load
            .iter()
            .filter(|l| l.capacity.is_some())
            .map(|l| Series {
                name: l.destination.clone(),
                values: l.hour_of_week.iter().map(|&n| Some(n as f64)).collect(),
            })
            .collect::<Vec<_>>();
        section = section.with_chart(
            Chart::hour_of_week("arrivals_hour_of_week", "Tickets routed by hour of week (UTC)", &by_hour)
                .with_note("all destinations, summed over the history's weeks"),
        );
        if !series.is_empty() {
            section = section.with_chart(
                Chart::line(
                    "capacity_destinations_by_hour",
                    "Destinations with a capacity: tickets by hour of week (UTC)",
                    Unit::Count,
                    x,
                    series,
                )
                .with_note("summed over the history's weeks"),
            );
        }
        doc.push(section);

        if let (Some(changes), Some(old)) = (&self.changes, &self.against) {
            let mut section = Section::new("changes", format!("Changes against {} v{}", old.name, old.version))
                .with_figures(vec![
                    Figure::new("changed", "decisions that change", changes.changed, Unit::Count),
                    Figure::new("destination_changed", "destination changes", changes.destination_changed, Unit::Count),
                    Figure::new("priority_changed", "priority changes", changes.priority_changed, Unit::Count),
                    Figure::new("escalation_changed", "escalation changes", changes.escalation_changed, Unit::Count),
                    Figure::new("old_agreement", "older policy's agreement", changes.old_agreement.rate(), Unit::Ratio),
                    Figure::new("new_agreement", "this policy's agreement", self.agreement.rate(), Unit::Ratio),
                ]);
            let mut groups = Table::new("change_groups")
                .with_column("old_rule", "decided before by", Unit::Text)
                .with_column("new_rule", "decided now by", Unit::Text)
                .with_column("tickets", "tickets", Unit::Count);
            let mut examples = Table::new("change_examples")
                .with_title("Examples, in history order")
                .with_column("line", "line", Unit::Count)
                .with_column("id", "ticket", Unit::Text)
                .with_column("old", "before", Unit::Text)
                .with_column("new", "now", Unit::Text)
                .with_column("final", "final destination", Unit::Text);
            let show = |v: &Verdict| {
                let mut s = format!("{} {}", v.destination.as_deref().unwrap_or("nowhere"), v.priority);
                if let Some(e) = &v.escalation {
                    s.push_str(&format!(" (escalation {e})"));
                }
                s
            };
            for g in &changes.groups {
                groups.push_row(vec![g.old_rule.as_str().into(), g.new_rule.as_str().into(), g.tickets.into()]);
                for e in &g.examples {
                    examples.push_row(vec![
                        e.line.into(),
                        e.id.as_deref().into(),
                        show(&e.old).into(),
                        show(&e.new).into(),
                        e.final_destination.as_deref().into(),
                    ]);
                }
            }
            section = section.with_table(groups).with_table(examples);
            doc.push(section);
        }

        if !self.rejected_rows.is_empty() {
            let mut rejected = Table::new("rejected").with_column("line", "line", Unit::Count).with_column(
                "reason",
                "reason",
                Unit::Text,
            );
            for r in &self.rejected_rows {
                rejected.push_row(vec![r.line.into(), r.reason.as_str().into()]);
            }
            doc.push(Section::new("rejected", "Rejected rows").with_table(
                rejected.with_note(format!("{} rejected in all; the first are listed", self.tickets.rejected)),
            ));
        }
        doc
    }
}
