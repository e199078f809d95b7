//! `routec report`: how routing performed, from `routec serve`'s decision
//! log and the outcomes helpdesks reported afterwards. Owns the
//! definitions (written down in `docs/analytics.md`; the code and that page
//! must agree): which decision and which outcome speak for a ticket,
//! misroute, reassignment, time to first assignment, resolution time,
//! shadow divergence, classifier accuracy at close, spikes.
//!
//! The input is a [`Log`] — rows of the store's `decisions` and `outcomes`
//! tables, read from the store ([`Log::read_store`]) or from a JSON Lines
//! export ([`LogRecord`], one row per line) — and the output a
//! [`Document`], which the CLI prints as text, JSON or HTML and
//! `routec serve` shows at `/dashboard`. Times are UTC; "now" is passed in.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use jiff::Timestamp;
use routec_store::{Store, StoreError, StoreOptions, StoredDecision, StoredOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::render::{
    format_number, group_thousands, Bar, Cell, Chart, Document, Figure, Mark, Section, Series, Table, Unit,
};
use crate::spike::{SpikeRule, HOURS_PER_WEEK};

/// One row of the decision log, as a line of a `--log` export:
/// `{"decision": {…}}` or `{"outcome": {…}}` with the store's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogRecord {
    /// A `decisions` row.
    Decision(Box<StoredDecision>),
    /// An `outcomes` row.
    Outcome(Box<StoredOutcome>),
}

/// The rows a report reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Log {
    /// Decisions, any order.
    pub decisions: Vec<StoredDecision>,
    /// Outcomes, any order.
    pub outcomes: Vec<StoredOutcome>,
}

impl Log {
    /// Adds one row.
    pub fn push(&mut self, record: LogRecord) {
        match record {
            LogRecord::Decision(decision) => self.decisions.push(*decision),
            LogRecord::Outcome(outcome) => self.outcomes.push(*outcome),
        }
    }

    /// The decisions of `[from, to)` and the outcomes of their tickets, from
    /// an open store.
    pub async fn from_store(store: &Store, from: Timestamp, to: Timestamp) -> Result<Log, StoreError> {
        let decisions = store.decisions_between(from, to).await?;
        let outcomes = store.outcomes_of_decisions_between(from, to).await?;
        Ok(Log { decisions, outcomes })
    }

    /// Opens the store at `url` (`sqlite:PATH`, `postgres://…`) and reads
    /// [`Log::from_store`] on a runtime of its own, for callers without one.
    pub fn read_store(url: &str, from: Timestamp, to: Timestamp) -> Result<Log, ReadStoreError> {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ReadStoreError::Runtime)?;
        let log = runtime.block_on(async {
            let store = Store::open(url, StoreOptions::default()).await?;
            let log = Log::from_store(&store, from, to).await;
            store.close().await;
            log
        })?;
        Ok(log)
    }
}

/// Why [`Log::read_store`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadStoreError {
    /// The runtime the store needs could not start.
    #[error("cannot start the runtime that reads the decision log: {0}")]
    Runtime(std::io::Error),
    /// The store cannot be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a report covers and how it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The end of the period (the clock's now).
    pub now: Timestamp,
    /// The start of the period; `None` reads the whole log.
    pub since: Option<Timestamp>,
    /// Where the log came from, for the subtitle (`sqlite:routec.db`).
    pub source: String,
    /// Misrouted examples listed for review, at most.
    pub examples: usize,
    /// The spike rule.
    pub spikes: SpikeRule,
}

impl ReportOptions {
    /// The defaults for a log read from `source` at `now`.
    pub fn new(source: impl Into<String>, now: Timestamp) -> ReportOptions {
        ReportOptions { now, since: None, source: source.into(), examples: 10, spikes: SpikeRule::default() }
    }
}

/// A decided ticket joined with what became of it.
struct Ticket<'a> {
    id: Option<&'a str>,
    /// The ticket's first decision in the period: where routec sent it.
    decision: &'a StoredDecision,
    /// `created_at` of the ticket, else the decision time.
    created: Timestamp,
    intent: Option<&'a str>,
    confidence: Option<f64>,
    /// The intent came from the policy's classifier (not from the ticket).
    classified: bool,
    tier: Option<&'a str>,
    /// The enforced branch that decided (the first matched non-shadow step).
    rule: Option<&'a str>,
    /// The ticket's latest outcome.
    outcome: Option<&'a StoredOutcome>,
}

impl Ticket<'_> {
    fn destination(&self) -> Option<&str> {
        self.decision.destination.as_deref()
    }

    /// The final destination, when the ticket is resolved and it is known.
    fn final_destination(&self) -> Option<&str> {
        self.outcome.filter(|outcome| outcome.outcome.resolved)?.outcome.final_destination.as_deref()
    }

    /// Judged (resolved with a final destination) and sent elsewhere by routec.
    fn misrouted(&self) -> Option<bool> {
        self.final_destination().map(|destination| self.destination() != Some(destination))
    }

    fn seconds_to(&self, time: Option<Timestamp>) -> Option<f64> {
        let millis = time?.as_millisecond() - self.created.as_millisecond();
        (millis >= 0).then(|| millis as f64 / 1000.0)
    }

    fn first_assignment(&self) -> Option<f64> {
        self.seconds_to(self.outcome?.outcome.first_assigned_at)
    }

    fn resolution(&self) -> Option<f64> {
        let outcome = self.outcome.filter(|outcome| outcome.outcome.resolved)?;
        self.seconds_to(outcome.outcome.resolved_at)
    }

    fn reassignments(&self) -> Option<u32> {
        self.outcome?.outcome.reassignments
    }
}

fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |value, key| value.get(key))?.as_str()
}

/// Joins each ticket's first decision of the period with its latest outcome.
fn tickets<'a>(log: &'a Log, options: &ReportOptions) -> Vec<Ticket<'a>> {
    let in_period = |decision: &&StoredDecision| {
        decision.decided_at <= options.now && options.since.is_none_or(|since| decision.decided_at >= since)
    };
    let mut decisions: Vec<&StoredDecision> = log.decisions.iter().filter(in_period).collect();
    decisions.sort_by(|a, b| (a.decided_at, &a.id).cmp(&(b.decided_at, &b.id)));
    let mut latest_outcome: HashMap<&str, &StoredOutcome> = HashMap::new();
    for outcome in &log.outcomes {
        let slot = latest_outcome.entry(outcome.outcome.ticket_id.as_str()).or_insert(outcome);
        if (outcome.outcome.recorded_at, &outcome.id) > (slot.outcome.recorded_at, &slot.id) {
            *slot = outcome;
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut tickets = Vec::new();
    for decision in decisions {
        let id = decision.ticket_id.as_deref();
        if let Some(id) = id {
            if !seen.insert(id) {
                continue;
            }
        }
        let created = text_at(&decision.ticket, &["created_at"])
            .and_then(|text| text.parse::<Timestamp>().ok())
            .unwrap_or(decision.decided_at);
        let signals = &decision.decision["signals"];
        let rule = decision.decision["trace"].as_array().and_then(|steps| {
            steps
                .iter()
                .find(|step| step["matched"].as_bool() == Some(true) && step["shadow"].as_bool() != Some(true))
                .and_then(|step| step["name"].as_str())
        });
        tickets.push(Ticket {
            id,
            decision,
            created,
            intent: signals["intent"].as_str(),
            confidence: signals["confidence"].as_f64(),
            classified: signals["source"].as_str() == Some("model"),
            tier: text_at(&decision.ticket, &["customer", "tier"]),
            rule,
            outcome: id.and_then(|id| latest_outcome.get(id).copied()),
        });
    }
    tickets
}

/// The figures of a group of tickets.
#[derive(Default)]
struct Tally {
    tickets: u64,
    resolved: u64,
    judged: u64,
    misrouted: u64,
    reassignments_known: u64,
    reassigned: u64,
    reassignments: u64,
    first_assignment: Vec<f64>,
    resolution: Vec<f64>,
}

impl Tally {
    fn add(&mut self, ticket: &Ticket<'_>) {
        self.tickets += 1;
        if ticket.outcome.is_some_and(|outcome| outcome.outcome.resolved) {
            self.resolved += 1;
        }
        if let Some(misrouted) = ticket.misrouted() {
            self.judged += 1;
            self.misrouted += u64::from(misrouted);
        }
        if let Some(count) = ticket.reassignments() {
            self.reassignments_known += 1;
            self.reassigned += u64::from(count > 0);
            self.reassignments += u64::from(count);
        }
        self.first_assignment.extend(ticket.first_assignment());
        self.resolution.extend(ticket.resolution());
    }

    fn misroute_rate(&self) -> Option<f64> {
        ratio(self.misrouted, self.judged)
    }

    fn reassignment_rate(&self) -> Option<f64> {
        ratio(self.reassigned, self.reassignments_known)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The `q` quantile (nearest rank) of `values`; sorts them.
fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

/// ISO week of a time, `2026-W07` (UTC).
fn week_of(time: Timestamp) -> String {
    let week = time.to_zoned(TimeZone::UTC).date().iso_week_date();
    format!("{}-W{:02}", week.year(), week.week())
}

fn day_of(time: Timestamp) -> String {
    time.to_zoned(TimeZone::UTC).date().to_string()
}

fn hour_index(time: Timestamp) -> i64 {
    time.as_second().div_euclid(3600)
}

/// Builds the report.
pub fn report(log: &Log, options: &ReportOptions) -> Document {
    let tickets = tickets(log, options);
    let mut document = Document::new("routec report").with_subtitle(subtitle(&tickets, options));
    if tickets.is_empty() {
        document
            .push(Section::new("summary", "Summary").with_text("No decision in the period: nothing to report yet."));
        return document;
    }
    document.push(summary(&tickets));
    document.push(breakdowns(&tickets));
    document.push(weekly(&tickets));
    document.push(misroutes(&tickets));
    document.push(shadow(&tickets));
    document.push(drift(&tickets));
    document.push(volume(&tickets, options));
    document.push(review(&tickets, options.examples));
    document
}

fn subtitle(tickets: &[Ticket<'_>], options: &ReportOptions) -> String {
    let from = options
        .since
        .map(day_of)
        .or_else(|| tickets.iter().map(|ticket| ticket.decision.decided_at).min().map(day_of))
        .unwrap_or_else(|| day_of(options.now));
    format!(
        "{} · {from} → {} (UTC) · {} tickets decided",
        options.source,
        day_of(options.now),
        group_thousands(i64::try_from(tickets.len()).unwrap_or(i64::MAX))
    )
}

fn summary(tickets: &[Ticket<'_>]) -> Section {
    let mut all = Tally::default();
    for ticket in tickets {
        all.add(ticket);
    }
    let shadowed = tickets.iter().filter(|ticket| ticket.decision.shadow.is_some()).count();
    let resolved_note = format!("of {} resolved with a final destination", group_thousands(all.judged as i64));
    Section::new("summary", "Summary")
        .with_figures(vec![
            Figure::new("tickets", "tickets decided", all.tickets, Unit::Count),
            Figure::new("resolved", "resolved", all.resolved, Unit::Count),
            Figure::new("misroute_rate", "misroute rate", all.misroute_rate(), Unit::Ratio).with_note(resolved_note),
            Figure::new("reassignment_rate", "reassignment rate", all.reassignment_rate(), Unit::Ratio)
                .with_note(format!("{} reassignments in all", group_thousands(all.reassignments as i64))),
            Figure::new(
                "first_assignment_median",
                "time to first assignment (median)",
                quantile(&mut all.first_assignment, 0.5),
                Unit::Seconds,
            )
            .with_note(format!(
                "p90 {}",
                quantile(&mut all.first_assignment, 0.9).map_or("–".to_owned(), |v| format_number(v, Unit::Seconds))
            )),
            Figure::new(
                "resolution_median",
                "resolution time (median)",
                quantile(&mut all.resolution, 0.5),
                Unit::Seconds,
            )
            .with_note(format!(
                "p90 {}",
                quantile(&mut all.resolution, 0.9).map_or("–".to_owned(), |v| format_number(v, Unit::Seconds))
            )),
            Figure::new("shadow_decisions", "decisions with a shadow rule", shadowed, Unit::Count),
        ])
        .with_text(
            "A ticket counts once, with its first decision in the period and its latest outcome. \
             Misrouted: resolved, and its final destination is not the one routec chose. Reassigned: \
             the helpdesk reported at least one change of group or assignee after the first assignment. \
             Times run from the ticket's created_at. Definitions: docs/analytics.md.",
        )
}

/// One table row per group: tickets, resolved, misroute and reassignment
/// rates, median times.
fn tally_table(key: &str, dimension: &str, groups: BTreeMap<String, Tally>) -> Table {
    let mut table = Table::new(key)
        .with_column(dimension, dimension, Unit::Text)
        .with_column("tickets", "tickets", Unit::Count)
        .with_column("resolved", "resolved", Unit::Count)
        .with_column("misroute_rate", "misrouted", Unit::Ratio)
        .with_column("reassignment_rate", "reassigned", Unit::Ratio)
        .with_column("first_assignment_median", "first assignment (median)", Unit::Seconds)
        .with_column("resolution_median", "resolution (median)", Unit::Seconds);
    let mut groups: Vec<(String, Tally)> = groups.into_iter().collect();
    groups.sort_by(|(a_name, a), (b_name, b)| b.tickets.cmp(&a.tickets).then_with(|| a_name.cmp(b_name)));
    for (name, mut tally) in groups {
        table.push_row(tally_row(name, &mut tally));
    }
    table
}

/// One row of a [`tally_table`]: the group's name and its figures.
fn tally_row(name: String, tally: &mut Tally) -> Vec<Cell> {
    vec![
        name.into(),
        tally.tickets.into(),
        tally.resolved.into(),
        tally.misroute_rate().into(),
        tally.reassignment_rate().into(),
        quantile(&mut tally.first_assignment, 0.5).into(),
        quantile(&mut tally.resolution, 0.5).into(),
    ]
}

fn group_by<'a>(tickets: &[Ticket<'a>], key: impl Fn(&Ticket<'a>) -> String) -> BTreeMap<String, Tally> {
    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    for ticket in tickets {
        groups.entry(key(ticket)).or_default().add(ticket);
    }
    groups
}

const NONE: &str = "(none)";

fn breakdowns(tickets: &[Ticket<'_>]) -> Section {
    let by_destination = group_by(tickets, |ticket| ticket.destination().unwrap_or(NONE).to_owned());
    let bars: Vec<Bar> = {
        let mut rates: Vec<(&String, f64, u64)> = by_destination
            .iter()
            .filter_map(|(name, tally)| tally.misroute_rate().map(|rate| (name, rate, tally.judged)))
            .collect();
        rates.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        rates.into_iter().map(|(name, rate, _)| Bar::new(name.clone(), rate)).collect()
    };
    Section::new("breakdown", "By destination, intent and tier")
        .with_table(tally_table("by_destination", "destination", by_destination).with_title("By routec's destination"))
        .with_chart(Chart::bar("misroute_by_destination", "Misroute rate by routec's destination", Unit::Ratio, bars))
        .with_table(
            tally_table("by_intent", "intent", group_by(tickets, |ticket| ticket.intent.unwrap_or(NONE).to_owned()))
                .with_title("By intent (the decision's signals)"),
        )
        .with_table(
            tally_table("by_tier", "tier", group_by(tickets, |ticket| ticket.tier.unwrap_or(NONE).to_owned()))
                .with_title("By customer tier"),
        )
}

fn weekly(tickets: &[Ticket<'_>]) -> Section {
    let weeks = group_by(tickets, |ticket| week_of(ticket.created));
    let x: Vec<String> = weeks.keys().cloned().collect();
    let misroute =
        Series { name: "misroute rate".to_owned(), values: weeks.values().map(Tally::misroute_rate).collect() };
    let reassignment =
        Series { name: "reassignment rate".to_owned(), values: weeks.values().map(Tally::reassignment_rate).collect() };
    let mut table = tally_table("by_week", "week", BTreeMap::new());
    for (week, mut tally) in weeks {
        table.push_row(tally_row(week, &mut tally));
    }
    Section::new("weekly", "By week")
        .with_chart(Chart::line(
            "rates_by_week",
            "Misroute and reassignment rate per week",
            Unit::Ratio,
            x,
            vec![misroute, reassignment],
        ))
        .with_table(table.with_note("weeks are ISO weeks of the tickets' creation, UTC"))
}

/// At most this many destinations get their own row in the confusion matrix.
const CONFUSION_LABELS: usize = 12;

fn misroutes(tickets: &[Ticket<'_>]) -> Section {
    let judged: Vec<(&str, &str)> = tickets
        .iter()
        .filter_map(|ticket| Some((ticket.destination().unwrap_or(NONE), ticket.final_destination()?)))
        .collect();
    let mut pairs: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut frequency: BTreeMap<&str, u64> = BTreeMap::new();
    for &(routed, final_destination) in &judged {
        if routed != final_destination {
            *pairs.entry((routed, final_destination)).or_default() += 1;
        }
        *frequency.entry(routed).or_default() += 1;
        *frequency.entry(final_destination).or_default() += 1;
    }
    let mut labels: Vec<(&str, u64)> = frequency.into_iter().collect();
    labels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let other = labels.len() > CONFUSION_LABELS;
    let mut names: Vec<String> = labels
        .iter()
        .take(if other { CONFUSION_LABELS - 1 } else { CONFUSION_LABELS })
        .map(|(n, _)| (*n).to_owned())
        .collect();
    if other {
        names.push("(other)".to_owned());
    }
    let index = |name: &str| names.iter().position(|known| known == name).unwrap_or(names.len().saturating_sub(1));
    let mut counts = vec![vec![0u64; names.len()]; names.len()];
    for &(routed, final_destination) in &judged {
        counts[index(final_destination)][index(routed)] += 1;
    }
    let mut table = Table::new("misroute_pairs")
        .with_title("Most common misroutes")
        .with_column("routed", "routec sent it to", Unit::Text)
        .with_column("final", "it ended at", Unit::Text)
        .with_column("tickets", "tickets", Unit::Count)
        .with_column("share", "share of misroutes", Unit::Ratio);
    let total: u64 = pairs.values().sum();
    let mut pairs: Vec<((&str, &str), u64)> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for ((routed, final_destination), count) in pairs.into_iter().take(10) {
        table.push_row(vec![routed.into(), final_destination.into(), count.into(), ratio(count, total).into()]);
    }
    Section::new("misroutes", "Misroutes").with_table(table).with_chart(Chart::confusion(
        "destination_confusion",
        "Final destination against routec's",
        "final destination",
        "routec's destination",
        names,
        counts,
    ))
}

fn shadow(tickets: &[Ticket<'_>]) -> Section {
    #[derive(Default)]
    struct ShadowTally {
        decisions: u64,
        diverged: u64,
        judged: u64,
        shadow_right: u64,
        enforced_right: u64,
    }
    let mut rules: BTreeMap<String, ShadowTally> = BTreeMap::new();
    for ticket in tickets {
        let Some(shadow) = &ticket.decision.shadow else { continue };
        let rule = shadow["rule"].as_str().unwrap_or(NONE).to_owned();
        let shadow_destination = text_at(shadow, &["destination", "name"]);
        let tally = rules.entry(rule).or_default();
        tally.decisions += 1;
        tally.diverged += u64::from(shadow_destination != ticket.destination());
        if let Some(final_destination) = ticket.final_destination() {
            tally.judged += 1;
            tally.shadow_right += u64::from(shadow_destination == Some(final_destination));
            tally.enforced_right += u64::from(ticket.destination() == Some(final_destination));
        }
    }
    let section = Section::new("shadow", "Shadow rules");
    if rules.is_empty() {
        return section.with_text("No decision in the period carries a shadow decision.");
    }
    let mut table = Table::new("shadow_rules")
        .with_column("rule", "shadow rule", Unit::Text)
        .with_column("decisions", "decisions", Unit::Count)
        .with_column("divergence", "diverged from enforced", Unit::Ratio)
        .with_column("judged", "resolved", Unit::Count)
        .with_column("shadow_agreement", "shadow = final", Unit::Ratio)
        .with_column("enforced_agreement", "enforced = final", Unit::Ratio);
    for (rule, tally) in rules {
        table.push_row(vec![
            rule.into(),
            tally.decisions.into(),
            ratio(tally.diverged, tally.decisions).into(),
            tally.judged.into(),
            ratio(tally.shadow_right, tally.judged).into(),
            ratio(tally.enforced_right, tally.judged).into(),
        ]);
    }
    section.with_table(table).with_text(
        "Divergence: the shadow rule's destination differs from the enforced one. On resolved tickets, \
         a shadow rule that agrees with the final destination more often than the enforced decision is \
         a candidate to enforce.",
    )
}

fn drift(tickets: &[Ticket<'_>]) -> Section {
    let mut weeks: BTreeMap<String, (u64, u64, f64, u64)> = BTreeMap::new();
    for ticket in tickets.iter().filter(|ticket| ticket.classified) {
        let entry = weeks.entry(week_of(ticket.created)).or_default();
        if let Some(misrouted) = ticket.misrouted() {
            entry.0 += 1;
            entry.1 += u64::from(!misrouted);
        }
        if let Some(confidence) = ticket.confidence.filter(|c| c.is_finite()) {
            entry.2 += confidence;
            entry.3 += 1;
        }
    }
    let section = Section::new("drift", "Classifier at close");
    if weeks.is_empty() {
        return section.with_text("No decision in the period used the policy's classifier.");
    }
    let x: Vec<String> = weeks.keys().cloned().collect();
    let accuracy = weeks.values().map(|(judged, right, _, _)| ratio(*right, *judged)).collect();
    let confidence = weeks.values().map(|(_, _, sum, count)| (*count > 0).then(|| sum / *count as f64)).collect();
    section
        .with_chart(Chart::line(
            "classifier_by_week",
            "Classifier accuracy at close and mean confidence",
            Unit::Ratio,
            x,
            vec![
                Series { name: "accuracy at close".to_owned(), values: accuracy },
                Series { name: "mean confidence".to_owned(), values: confidence },
            ],
        ))
        .with_text(
            "Accuracy at close: among resolved tickets whose intent came from the classifier, the share \
             that ended where routec sent them. A falling line while confidence holds is drift: retrain \
             with `routec train --from-log`.",
        )
}

/// Series of their own in the volume chart, at most; the rest is `(other)`.
const VOLUME_SERIES: usize = 6;

fn volume(tickets: &[Ticket<'_>], options: &ReportOptions) -> Section {
    let mut hourly: HashMap<(&str, i64), u64> = HashMap::new();
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    let mut arrivals = [[0u64; 24]; 7];
    for ticket in tickets {
        let intent = ticket.intent.unwrap_or(NONE);
        *hourly.entry((intent, hour_index(ticket.created))).or_default() += 1;
        *totals.entry(intent).or_default() += 1;
        let zoned = ticket.created.to_zoned(TimeZone::UTC);
        let weekday = usize::try_from(zoned.date().weekday().to_monday_zero_offset()).unwrap_or(0);
        let hour = usize::try_from(zoned.hour()).unwrap_or(0);
        arrivals[weekday.min(6)][hour.min(23)] += 1;
    }
    let first_hour = tickets.iter().map(|ticket| hour_index(ticket.created)).min().unwrap_or(0);
    let last_hour = tickets.iter().map(|ticket| hour_index(ticket.created)).max().unwrap_or(0);

    // Spikes: every hour with tickets, against the same hour of previous weeks in the data.
    let mut spikes = Vec::new();
    for (&(intent, hour), &count) in &hourly {
        let previous: Vec<u64> = (1..=options.spikes.weeks as i64)
            .map(|weeks| hour - weeks * HOURS_PER_WEEK)
            .take_while(|earlier| *earlier >= first_hour)
            .map(|earlier| hourly.get(&(intent, earlier)).copied().unwrap_or(0))
            .collect();
        let verdict = options.spikes.judge(count, &previous);
        if verdict.spike {
            spikes.push((hour, intent, verdict));
        }
    }
    spikes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    // Daily volume per intent, the largest intents on their own.
    let mut ranked: Vec<(&str, u64)> = totals.iter().map(|(name, count)| (*name, *count)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let shown: Vec<&str> = ranked.iter().take(VOLUME_SERIES).map(|(name, _)| *name).collect();
    let first_day = first_hour.div_euclid(24);
    let days = usize::try_from(last_hour.div_euclid(24) - first_day + 1).unwrap_or(1).max(1);
    let mut daily: Vec<Vec<f64>> = vec![vec![0.0; days]; shown.len() + usize::from(ranked.len() > shown.len())];
    for (&(intent, hour), &count) in &hourly {
        let series = shown.iter().position(|name| *name == intent).unwrap_or(shown.len());
        let day = usize::try_from(hour.div_euclid(24) - first_day).unwrap_or(0);
        if let Some(cell) = daily.get_mut(series).and_then(|values| values.get_mut(day)) {
            *cell += count as f64;
        }
    }
    let x: Vec<String> = (0..days)
        .map(|day| {
            let seconds = (first_day + day as i64) * 86_400;
            Timestamp::from_second(seconds).map_or_else(|_| String::new(), day_of)
        })
        .collect();
    let mut names: Vec<String> = shown.iter().map(|name| (*name).to_owned()).collect();
    if daily.len() > names.len() {
        names.push("(other)".to_owned());
    }
    let series: Vec<Series> = names
        .into_iter()
        .zip(daily)
        .map(|(name, values)| Series { name, values: values.into_iter().map(Some).collect() })
        .collect();
    let marks: Vec<Mark> = spikes
        .iter()
        .filter_map(|(hour, intent, verdict)| {
            let series = shown.iter().position(|name| name == intent)?;
            let index = usize::try_from(hour.div_euclid(24) - first_day).ok()?;
            let label = format!("spike {:02}:00 UTC: {:.1}× usual", hour.rem_euclid(24), verdict.ratio);
            Some(Mark { series, index, label })
        })
        .collect();

    let mut spike_table = Table::new("spikes")
        .with_title("Spikes: hours far above the same hour of previous weeks")
        .with_column("hour", "hour (UTC)", Unit::Text)
        .with_column("intent", "intent", Unit::Text)
        .with_column("tickets", "tickets", Unit::Count)
        .with_column("baseline", "usual", Unit::Number)
        .with_column("weeks", "weeks compared", Unit::Count)
        .with_column("ratio", "× usual", Unit::Number);
    for (hour, intent, verdict) in &spikes {
        let start = Timestamp::from_second(hour * 3600)
            .map_or_else(|_| String::new(), |time| time.to_zoned(TimeZone::UTC).strftime("%Y-%m-%d %H:00").to_string());
        spike_table.push_row(vec![
            start.into(),
            (*intent).into(),
            verdict.count.into(),
            verdict.baseline.into(),
            verdict.weeks_seen.into(),
            verdict.ratio.into(),
        ]);
    }
    let rule = options.spikes;
    let bars = ranked
        .iter()
        .map(|(name, count)| {
            Bar::new(*name, *count as f64).highlighted(spikes.iter().any(|(_, intent, _)| intent == name))
        })
        .collect();
    Section::new("volume", "Volume and spikes")
        .with_chart(Chart::bar("volume_by_intent", "Tickets per intent", Unit::Count, bars))
        .with_chart(Chart::line("daily_volume", "Tickets per day and intent", Unit::Count, x, series).with_marks(marks))
        .with_table(spike_table.with_note(format!(
            "a spike: at least {} tickets in the hour and {}× the mean of the same hour in up to {} previous weeks",
            rule.min_count,
            format_number(rule.factor, Unit::Number),
            rule.weeks
        )))
        .with_chart(
            Chart::hour_of_week("arrivals", "Arrivals by hour of week", &arrivals)
                .with_note("ticket creation times, UTC"),
        )
}

fn review(tickets: &[Ticket<'_>], examples: usize) -> Section {
    let mut misrouted: Vec<&Ticket<'_>> = tickets.iter().filter(|ticket| ticket.misrouted() == Some(true)).collect();
    misrouted.sort_by(|a, b| {
        b.reassignments()
            .cmp(&a.reassignments())
            .then_with(|| b.resolution().unwrap_or(0.0).total_cmp(&a.resolution().unwrap_or(0.0)))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut table = Table::new("misrouted_examples")
        .with_column("ticket", "ticket", Unit::Text)
        .with_column("subject", "subject", Unit::Text)
        .with_column("routed", "routec", Unit::Text)
        .with_column("final", "final", Unit::Text)
        .with_column("rule", "rule", Unit::Text)
        .with_column("intent", "intent", Unit::Text)
        .with_column("confidence", "confidence", Unit::Ratio)
        .with_column("reassignments", "reassignments", Unit::Count)
        .with_column("resolution", "resolution", Unit::Seconds);
    for ticket in misrouted.iter().take(examples) {
        table.push_row(vec![
            ticket.id.into(),
            text_at(&ticket.decision.ticket, &["subject"])
                .map(|subject| subject.chars().take(60).collect::<String>())
                .into(),
            ticket.destination().unwrap_or(NONE).into(),
            ticket.final_destination().into(),
            ticket.rule.into(),
            ticket.intent.into(),
            ticket.confidence.into(),
            ticket.reassignments().into(),
            ticket.resolution().into(),
        ]);
    }
    let shown = misrouted.len().min(examples);
    Section::new("review", "Misrouted tickets to review").with_table(table.with_note(format!(
        "{shown} of {} misrouted tickets, most reassigned first, then slowest to resolve",
        group_thousands(i64::try_from(misrouted.len()).unwrap_or(i64::MAX))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decision(id: &str, ticket: &str, at: &str, destination: Option<&str>, intent: &str) -> String {
        json!({"decision": {
            "id": id, "ticket_id": ticket, "dedup_key": id, "content_hash": "h", "policy_hash": "p",
            "policy_name": "t", "policy_version": 1, "decided_at": at, "destination": destination,
            "priority": "P3", "escalation": null, "shadow": null,
            "decision": {"signals": {"intent": intent, "confidence": 0.9, "source": "model"},
                         "trace": [{"name": "first", "matched": false}, {"name": "second", "matched": true}]},
            "ticket": {"id": ticket, "created_at": "2026-02-02T10:00:00Z", "subject": "s", "customer": {"tier": "pro"}},
        }})
        .to_string()
    }

    fn outcome(id: &str, ticket: &str, recorded: &str, final_destination: &str, resolved: bool, moves: u32) -> String {
        json!({"outcome": {
            "id": id, "ticket_id": ticket, "decision_id": null, "final_destination": final_destination,
            "reassignments": moves, "first_assigned_at": "2026-02-02T10:30:00Z", "first_response_at": null,
            "resolved_at": if resolved { Some("2026-02-02T12:00:00Z") } else { None }, "resolved": resolved,
            "recorded_at": recorded, "source": "api",
        }})
        .to_string()
    }

    fn log(lines: &[String]) -> Log {
        let mut log = Log::default();
        for line in lines {
            log.push(serde_json::from_str(line).expect("a log row"));
        }
        log
    }

    fn figure(document: &Document, key: &str) -> Value {
        let json = serde_json::to_value(document).expect("JSON");
        json["sections"][0]["blocks"][0]["figures"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|figure| figure["key"] == key)
            .map(|figure| figure["value"].clone())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn a_ticket_counts_once_with_its_first_decision_and_latest_outcome() {
        let log = log(&[
            // T1: routed to billing, re-decided to tech later: the first decision counts.
            decision("dec_1", "T1", "2026-02-02T10:00:01Z", Some("billing"), "billing"),
            decision("dec_2", "T1", "2026-02-02T11:00:00Z", Some("tech"), "technical"),
            // Its outcomes: first unresolved at tech, then resolved at billing (the latest wins).
            outcome("out_1", "T1", "2026-02-02T11:00:00Z", "tech", false, 1),
            outcome("out_2", "T1", "2026-02-02T12:00:00Z", "billing", true, 1),
            // T2: routed to billing, resolved at tech: misrouted.
            decision("dec_3", "T2", "2026-02-02T10:00:02Z", Some("billing"), "billing"),
            outcome("out_3", "T2", "2026-02-02T12:00:00Z", "tech", true, 0),
            // T3: no outcome: not judged.
            decision("dec_4", "T3", "2026-02-02T10:00:03Z", Some("billing"), "billing"),
        ]);
        let options = ReportOptions::new("test", "2026-02-03T00:00:00Z".parse().expect("time"));
        let document = report(&log, &options);
        assert_eq!(figure(&document, "tickets"), json!(3));
        assert_eq!(figure(&document, "resolved"), json!(2));
        assert_eq!(figure(&document, "misroute_rate"), json!(0.5));
        assert_eq!(figure(&document, "reassignment_rate"), json!(0.5));
        // Created 10:00, first assigned 10:30, resolved 12:00.
        assert_eq!(figure(&document, "first_assignment_median"), json!(1800.0));
        assert_eq!(figure(&document, "resolution_median"), json!(7200.0));
        let json = serde_json::to_value(&document).expect("JSON");
        let review = &json["sections"][7]["blocks"][0];
        assert_eq!(review["rows"].as_array().map(Vec::len), Some(1));
        assert_eq!(review["rows"][0][0], "T2");
        assert_eq!(review["rows"][0][4], "second", "the rule is the first matched step");
    }

    #[test]
    fn the_period_excludes_later_and_earlier_decisions() {
        let log = log(&[
            decision("dec_1", "T1", "2026-01-01T10:00:00Z", Some("billing"), "billing"),
            decision("dec_2", "T2", "2026-02-02T10:00:00Z", Some("billing"), "billing"),
            decision("dec_3", "T3", "2026-03-01T10:00:00Z", Some("billing"), "billing"),
        ]);
        let mut options = ReportOptions::new("test", "2026-02-03T00:00:00Z".parse().expect("time"));
        options.since = Some("2026-01-20T00:00:00Z".parse().expect("time"));
        assert_eq!(figure(&report(&log, &options), "tickets"), json!(1));
        options.since = Some("2026-02-03T00:00:00Z".parse().expect("time"));
        let empty = report(&log, &options);
        assert_eq!(empty.sections.len(), 1);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut values = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&mut values, 0.5), Some(3.0));
        assert_eq!(quantile(&mut values, 0.9), Some(5.0));
        assert_eq!(quantile(&mut [], 0.5), None);
    }
}
