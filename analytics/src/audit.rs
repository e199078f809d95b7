//! `routec audit HISTORY`: what a ticket history says before anyone writes
//! a policy. Volume per category, channel and tier; arrivals by hour of
//! week; per category, how often the first assignment was not the final one
//! (misroutes) and the most common wrong → right pairs; categories too small
//! to route on; categories a classifier cannot tell apart (cross-validated
//! confusion); and, when the history has no categories, a proposal of 5–8
//! from k-means over TF-IDF of the text, each named by its top terms.
//!
//! The counts stream over the whole history; the text the classifier and
//! the clustering need is a bounded, deterministic sample of it.

use crate::history::{self, Opened, RecordError, Rejected, Row};
use crate::render::{Bar, Cell, Chart, Document, Figure, Section, Table, Unit, WEEKDAYS};
use crate::terms::TfIdf;
use routec_classifier::{Dataset, TrainOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// How an audit runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The time zone of the hour-of-week heat map.
    pub timezone: jiff::tz::TimeZone,
    /// Folds of the cross-validated confusion (0 or 1: none).
    pub folds: usize,
    /// Tickets kept for the classifier and the clustering.
    pub sample: usize,
    /// A category with fewer tickets than this is too small to route on.
    pub min_tickets: u64,
    /// A category with a smaller share of the history than this is too small.
    pub min_share: f64,
    /// Clusters to propose when the history has no categories; `None`
    /// picks 5 to 8 by the silhouette of each clustering.
    pub clusters: Option<usize>,
    /// Example tickets per cluster and rejected rows listed.
    pub examples: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timezone: jiff::tz::TimeZone::UTC,
            folds: 3,
            sample: 4000,
            min_tickets: 30,
            min_share: 0.01,
            clusters: None,
            examples: 3,
        }
    }
}

/// Why an audit could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The history cannot be read.
    #[error("cannot read the history: {0}")]
    Io(#[from] std::io::Error),
    /// The classifier could not be trained on the sample.
    #[error("cannot cross-validate the categories: {0}")]
    Classifier(#[from] routec_classifier::DataError),
    /// k-means failed.
    #[error("cannot cluster the text: {0}")]
    Clustering(String),
}

/// One group's volume and misroutes.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Volume {
    /// The group (a category, channel or tier).
    pub name: String,
    /// Its tickets.
    pub tickets: u64,
    /// With both a first and a final destination.
    pub assigned: u64,
    /// Of those, first ≠ final.
    pub misrouted: u64,
    /// Reassignments, summed.
    pub reassignments: u64,
    /// Tickets whose reassignment count the history records.
    pub with_reassignments: u64,
}

impl Volume {
    fn add(&mut self, outcome: &history::Outcome) {
        self.tickets += 1;
        if let (Some(first), Some(last)) = (&outcome.first_destination, &outcome.final_destination) {
            self.assigned += 1;
            self.misrouted += u64::from(first != last);
        }
        if let Some(n) = outcome.reassignments {
            self.reassignments += u64::from(n);
            self.with_reassignments += 1;
        }
    }

    /// first ≠ final over tickets with both.
    pub fn misroute_rate(&self) -> Option<f64> {
        (self.assigned > 0).then(|| self.misrouted as f64 / self.assigned as f64)
    }

    /// Mean reassignments per ticket.
    pub fn mean_reassignments(&self) -> Option<f64> {
        (self.with_reassignments > 0).then(|| self.reassignments as f64 / self.with_reassignments as f64)
    }
}

/// A first assignment humans corrected.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Misroute {
    /// The category (empty when the history has none).
    pub category: String,
    /// Where the ticket was first assigned.
    pub wrong: String,
    /// Where it was resolved.
    pub right: String,
    /// Tickets.
    pub tickets: u64,
}

/// Two categories the classifier confuses.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Confusable {
    /// One category.
    pub a: String,
    /// The other.
    pub b: String,
    /// Tickets of `a` predicted as `b`.
    pub a_as_b: u64,
    /// Tickets of `b` predicted as `a`.
    pub b_as_a: u64,
    /// Those, over all tickets of both.
    pub rate: f64,
}

/// The cross-validated confusion of the categories.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CrossValidation {
    /// Folds.
    pub folds: usize,
    /// Tickets evaluated (the sample).
    pub tickets: u64,
    /// Predicted = category.
    pub accuracy: f64,
    /// The categories, rows and columns.
    pub labels: Vec<String>,
    /// `counts[category][predicted]`.
    pub counts: Vec<Vec<u64>>,
    /// Pairs confused in at least 5% of their tickets, worst first.
    pub confusable: Vec<Confusable>,
}

/// A proposed category from clustering.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Cluster {
    /// The proposed name: its top terms joined by `_`.
    pub name: String,
    /// Its top terms, most specific first.
    pub terms: Vec<String>,
    /// Tickets of the sample in it.
    pub tickets: u64,
    /// The tickets nearest its centre: (id or line, text).
    pub examples: Vec<(String, String)>,
}

/// Everything `routec audit` finds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Audit {
    /// Records read.
    pub read: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// The first rejected rows.
    pub rejected_rows: Vec<Rejected>,
    /// The first and last creation time.
    pub period: Option<(String, String)>,
    /// Whether the history has categories.
    pub has_categories: bool,
    /// Per category, most tickets first.
    pub categories: Vec<Volume>,
    /// Per channel.
    pub channels: Vec<Volume>,
    /// Per tier.
    pub tiers: Vec<Volume>,
    /// All tickets together.
    pub overall: Volume,
    /// Arrivals per weekday (Monday first) and hour, in `timezone`.
    pub hour_of_week: [[u64; 24]; 7],
    /// The heat map's time zone.
    pub timezone: String,
    /// The busiest hours of the week: (weekday, hour, tickets), busiest first.
    pub busiest: Vec<(String, u8, u64)>,
    /// The most common wrong → right pairs, most first.
    pub misroutes: Vec<Misroute>,
    /// Categories too small to route on: fewer than `min_tickets` or less than `min_share`.
    pub too_small: Vec<String>,
    /// The cross-validated confusion, when there are categories and text.
    pub cross_validation: Option<CrossValidation>,
    /// Proposed categories, when the history has none.
    pub clusters: Option<Vec<Cluster>>,
}

/// A deterministic sample of at most `cap` items (reservoir sampling with a
/// fixed seed: the same history gives the same sample).
struct Reservoir<T> {
    cap: usize,
    seen: u64,
    items: Vec<T>,
    state: u64,
}

impl<T> Reservoir<T> {
    fn new(cap: usize) -> Reservoir<T> {
        Reservoir { cap, seen: 0, items: Vec::new(), state: 0x9E37_79B9_7F4A_7C15 }
    }

    fn next_random(&mut self) -> u64 {
        // SplitMix64.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn offer(&mut self, item: impl FnOnce() -> T) {
        self.seen += 1;
        if self.items.len() < self.cap {
            self.items.push(item());
        } else if self.cap > 0 {
            let slot = self.next_random() % self.seen;
            if (slot as usize) < self.cap {
                self.items[slot as usize] = item();
            }
        }
    }
}

struct Sampled {
    label: String,
    text: String,
    category: Option<String>,
}

/// Audit `opened`.
pub fn audit<R: BufRead>(opened: Opened<R>, options: &Options) -> Result<Audit, AuditError> {
    let Opened { reader, records, header_error, .. } = opened;
    let mut rejected_rows = Vec::new();
    let mut rejected = 0u64;
    let mut reject = |r: Rejected, rejected_rows: &mut Vec<Rejected>| {
        rejected += 1;
        if rejected_rows.len() < options.examples.max(1) * 4 {
            rejected_rows.push(r);
        }
    };
    if let Some(r) = header_error {
        reject(r, &mut rejected_rows);
    }
    let (mut categories, mut channels, mut tiers) =
        (BTreeMap::<String, Volume>::new(), BTreeMap::<String, Volume>::new(), BTreeMap::<String, Volume>::new());
    let mut overall = Volume::default();
    let mut hour_of_week = [[0u64; 24]; 7];
    let mut pairs: HashMap<(String, String, String), u64> = HashMap::new();
    let (mut first, mut last): (Option<jiff::Timestamp>, Option<jiff::Timestamp>) = (None, None);
    let mut sample = Reservoir::new(options.sample);
    let mut read = 0u64;
    let has_text = !reader.text_columns().is_empty();
    let has_categories = reader.category_column().is_some();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(RecordError::Io(e)) => return Err(AuditError::Io(e)),
            Err(RecordError::Rejected(r)) => {
                read += 1;
                reject(r, &mut rejected_rows);
                continue;
            }
        };
        let row = match Row::parse(&record, reader.header()) {
            Ok(row) if row.is_blank() => continue,
            Ok(row) => row,
            Err(r) => {
                read += 1;
                reject(r, &mut rejected_rows);
                continue;
            }
        };
        read += 1;
        let outcome = match reader.outcome(&row, record.line) {
            Ok(o) => o,
            Err(r) => {
                reject(r, &mut rejected_rows);
                continue;
            }
        };
        overall.add(&outcome);
        let category = outcome.category.clone();
        if let Some(c) = &category {
            categories.entry(c.clone()).or_default().add(&outcome);
        }
        if let Some(c) = &outcome.channel {
            channels.entry(c.clone()).or_default().add(&outcome);
        }
        if let Some(t) = &outcome.tier {
            tiers.entry(t.clone()).or_default().add(&outcome);
        }
        if let Some(at) = outcome.created_at {
            let local = at.to_zoned(options.timezone.clone());
            let day = local.weekday().to_monday_zero_offset() as usize;
            hour_of_week[day][local.hour() as usize] += 1;
            first = Some(first.map_or(at, |f| f.min(at)));
            last = Some(last.map_or(at, |l| l.max(at)));
        }
        if let (Some(wrong), Some(right)) = (&outcome.first_destination, &outcome.final_destination) {
            if wrong != right {
                *pairs.entry((category.clone().unwrap_or_default(), wrong.clone(), right.clone())).or_default() += 1;
            }
        }
        if has_text {
            let label = outcome.id.clone().unwrap_or_else(|| format!("line {}", record.line));
            sample.offer(|| Sampled { label, text: reader.text(&row), category });
        }
    }

    let volumes = |map: BTreeMap<String, Volume>| {
        let mut list: Vec<Volume> = map
            .into_iter()
            .map(|(name, mut v)| {
                v.name = name;
                v
            })
            .collect();
        list.sort_by_key(|v| std::cmp::Reverse(v.tickets));
        list
    };
    let categories = volumes(categories);
    let total = overall.tickets.max(1);
    let too_small = categories
        .iter()
        .filter(|c| c.tickets < options.min_tickets || (c.tickets as f64 / total as f64) < options.min_share)
        .map(|c| c.name.clone())
        .collect();
    let mut busiest: Vec<(String, u8, u64)> = (0..7)
        .flat_map(|d| (0..24).map(move |h| (d, h)))
        .map(|(d, h)| (WEEKDAYS[d].to_string(), h as u8, hour_of_week[d][h]))
        .filter(|b| b.2 > 0)
        .collect();
    busiest.sort_by_key(|b| std::cmp::Reverse(b.2));
    busiest.truncate(5);
    let mut misroutes: Vec<Misroute> = pairs
        .into_iter()
        .map(|((category, wrong, right), tickets)| Misroute { category, wrong, right, tickets })
        .collect();
    misroutes.sort_by(|a, b| {
        b.tickets
            .cmp(&a.tickets)
            .then_with(|| (&a.category, &a.wrong, &a.right).cmp(&(&b.category, &b.wrong, &b.right)))
    });
    misroutes.truncate(15);

    let cross_validation =
        if has_categories && options.folds >= 2 { cross_validate(&sample.items, options.folds)? } else { None };
    let clusters = if has_categories || !has_text { None } else { Some(cluster(&sample.items, options)?) };
    overall.name = "all".into();
    Ok(Audit {
        read,
        rejected,
        rejected_rows,
        period: first.zip(last).map(|(f, l)| (f.to_string(), l.to_string())),
        has_categories,
        categories,
        channels: volumes(channels),
        tiers: volumes(tiers),
        overall,
        hour_of_week,
        timezone: options.timezone.iana_name().unwrap_or("UTC").to_string(),
        busiest,
        misroutes,
        too_small,
        cross_validation,
        clusters,
    })
}

/// k-fold confusion of a classifier trained on the sample's text to predict
/// its category: fold of a ticket = its rank within its category mod k, so
/// every fold holds every category in proportion.
fn cross_validate(sample: &[Sampled], folds: usize) -> Result<Option<CrossValidation>, AuditError> {
    let labelled: Vec<&Sampled> = sample.iter().filter(|s| s.category.is_some() && !s.text.trim().is_empty()).collect();
    let mut labels: Vec<String> = labelled.iter().filter_map(|s| s.category.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 || labelled.len() < folds * labels.len() {
        return Ok(None);
    }
    let index: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let mut rank = vec![0usize; labels.len()];
    let fold_of: Vec<usize> = labelled
        .iter()
        .map(|s| {
            let c = s.category.as_deref().and_then(|c| index.get(c).copied()).unwrap_or(0);
            rank[c] += 1;
            rank[c] % folds
        })
        .collect();
    let mut counts = vec![vec![0u64; labels.len()]; labels.len()];
    for fold in 0..folds {
        let train: Vec<Vec<(&str, &str)>> = labelled
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f != fold)
            .map(|(s, _)| vec![("text", s.text.as_str()), ("category", s.category.as_deref().unwrap_or(""))])
            .collect();
        let data = Dataset::from_records(train);
        let mut opts = TrainOptions::new(vec!["text".into()], Vec::new(), "category".into());
        opts.holdout = 0.0;
        opts.calibrate = false;
        let model = routec_classifier::train(&data, &opts, None)?.model;
        for (s, _) in labelled.iter().zip(&fold_of).filter(|(_, f)| **f == fold) {
            let prediction = model.predict(&|name| (name == "text").then(|| s.text.clone()));
            let predicted = model.info().labels.get(prediction.label).and_then(|l| index.get(l.as_str()).copied());
            let actual = s.category.as_deref().and_then(|c| index.get(c).copied());
            if let (Some(a), Some(p)) = (actual, predicted) {
                counts[a][p] += 1;
            }
        }
    }
    let evaluated: u64 = counts.iter().flatten().sum();
    let correct: u64 = (0..labels.len()).map(|i| counts[i][i]).sum();
    let mut confusable = Vec::new();
    for a in 0..labels.len() {
        for b in a + 1..labels.len() {
            let both: u64 = counts[a].iter().sum::<u64>() + counts[b].iter().sum::<u64>();
            let crossed = counts[a][b] + counts[b][a];
            if both > 0 && crossed as f64 / both as f64 >= 0.05 {
                confusable.push(Confusable {
                    a: labels[a].clone(),
                    b: labels[b].clone(),
                    a_as_b: counts[a][b],
                    b_as_a: counts[b][a],
                    rate: crossed as f64 / both as f64,
                });
            }
        }
    }
    confusable.sort_by(|x, y| y.rate.total_cmp(&x.rate));
    Ok(Some(CrossValidation {
        folds,
        tickets: evaluated,
        accuracy: if evaluated > 0 { correct as f64 / evaluated as f64 } else { 0.0 },
        labels,
        counts,
        confusable,
    }))
}

/// k-means over TF-IDF of the sample's text; `k` from the options, or the
/// one of 5–8 with the best mean simplified silhouette (distance to the
/// nearest other centre against distance to one's own).
fn cluster(sample: &[Sampled], options: &Options) -> Result<Vec<Cluster>, AuditError> {
    use linfa::traits::{Fit, Predict};
    use linfa::DatasetBase;
    use ndarray::Array2;

    let docs: Vec<String> = sample.iter().map(|s| s.text.clone()).collect();
    let tfidf = TfIdf::new(&docs, 1500);
    let dims = tfidf.terms.len();
    let candidates: Vec<usize> = match options.clusters {
        Some(k) => vec![k.max(2)],
        None => (5..=8).collect(),
    };
    if dims == 0 || docs.len() < candidates.iter().copied().max().unwrap_or(2) * 3 {
        return Ok(Vec::new());
    }
    let flat: Vec<f64> = tfidf.rows.iter().flatten().copied().collect();
    let records =
        Array2::from_shape_vec((docs.len(), dims), flat).map_err(|e| AuditError::Clustering(e.to_string()))?;
    let dataset = DatasetBase::from(records.clone());
    let mut best: Option<(f64, Array2<f64>, Vec<usize>)> = None;
    for k in candidates {
        let model = linfa_clustering::KMeans::params(k)
            .max_n_iterations(200)
            .tolerance(1e-4)
            .fit(&dataset)
            .map_err(|e| AuditError::Clustering(e.to_string()))?;
        let assigned: Vec<usize> = model.predict(&records).to_vec();
        let centroids = model.centroids().clone();
        let score = silhouette(&records, &centroids, &assigned);
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, centroids, assigned));
        }
    }
    let Some((_, centroids, assigned)) = best else { return Ok(Vec::new()) };
    let mean: Vec<f64> = (0..dims).map(|j| records.column(j).mean().unwrap_or(0.0)).collect();
    let mut clusters = Vec::new();
    for (c, centre) in centroids.rows().into_iter().enumerate() {
        let members: Vec<usize> = (0..assigned.len()).filter(|&i| assigned[i] == c).collect();
        if members.is_empty() {
            continue;
        }
        let mut weights: Vec<(f64, usize)> = (0..dims).map(|j| (centre[j] - mean[j], j)).collect();
        weights.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let terms: Vec<String> =
            weights.iter().take(4).filter(|w| w.0 > 0.0).map(|w| tfidf.terms[w.1].clone()).collect();
        let mut nearest: Vec<(f64, usize)> = members
            .iter()
            .map(|&i| {
                let d: f64 = records.row(i).iter().zip(centre.iter()).map(|(x, y)| (x - y) * (x - y)).sum();
                (d, i)
            })
            .collect();
        nearest.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let examples = nearest
            .iter()
            .take(options.examples)
            .map(|&(_, i)| (sample[i].label.clone(), history::elide(&sample[i].text.replace('\n', " ")).into_owned()))
            .collect();
        clusters.push(Cluster {
            name: terms.iter().take(2).cloned().collect::<Vec<_>>().join("_"),
            terms,
            tickets: members.len() as u64,
            examples,
        });
    }
    clusters.sort_by_key(|c| std::cmp::Reverse(c.tickets));
    Ok(clusters)
}

fn silhouette(records: &ndarray::Array2<f64>, centroids: &ndarray::Array2<f64>, assigned: &[usize]) -> f64 {
    let mut total = 0.0;
    for (i, row) in records.rows().into_iter().enumerate() {
        let distances: Vec<f64> = centroids
            .rows()
            .into_iter()
            .map(|c| row.iter().zip(c.iter()).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt())
            .collect();
        let own = distances.get(assigned[i]).copied().unwrap_or(0.0);
        let other = distances
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != assigned[i])
            .map(|(_, d)| *d)
            .fold(f64::INFINITY, f64::min);
        let spread = own.max(other);
        if spread > 0.0 && spread.is_finite() {
            total += (other - own) / spread;
        }
    }
    total / records.nrows().max(1) as f64
}

fn rate_cell(v: Option<f64>) -> Cell {
    v.into()
}

impl Audit {
    /// The audit as a document: what the terminal summary, `--json` and `--html` render.
    pub fn document(&self, history: &str) -> Document {
        let period = self.period.as_ref().map_or_else(String::new, |(f, l)| format!(", {f} to {l}"));
        let mut doc = Document::new(format!("routec audit {history}"))
            .with_subtitle(format!("{} tickets{period}, {} rejected", self.overall.tickets, self.rejected));
        doc.push(Section::new("overview", "Overview").with_figures(vec![
                Figure::new("tickets", "tickets", self.overall.tickets, Unit::Count),
                Figure::new("misroute_rate", "first assignment not final", self.overall.misroute_rate(), Unit::Ratio)
                    .with_note(format!("{} of {} assigned tickets", self.overall.misrouted, self.overall.assigned)),
                Figure::new(
                    "mean_reassignments",
                    "reassignments per ticket",
                    self.overall.mean_reassignments(),
                    Unit::Number,
                ),
                Figure::new("categories", "categories", self.categories.len(), Unit::Count),
            ]));

        let volume_section = |key: &str, title: &str, what: &str, list: &[Volume], small: &[String]| {
            let mut table = Table::new(key)
                .with_column("name", what, Unit::Text)
                .with_column("tickets", "tickets", Unit::Count)
                .with_column("share", "share", Unit::Ratio)
                .with_column("misroute_rate", "first ≠ final", Unit::Ratio)
                .with_column("mean_reassignments", "reassignments", Unit::Number);
            let total = self.overall.tickets.max(1) as f64;
            let mut bars = Vec::new();
            for v in list {
                table.push_row(vec![
                    v.name.as_str().into(),
                    v.tickets.into(),
                    (v.tickets as f64 / total).into(),
                    rate_cell(v.misroute_rate()),
                    rate_cell(v.mean_reassignments()),
                ]);
                bars.push(Bar::new(v.name.clone(), v.tickets as f64).highlighted(small.contains(&v.name)));
            }
            Section::new(key, title)
                .with_chart(Chart::bar(format!("{key}_chart"), title, Unit::Count, bars))
                .with_table(table)
        };
        if self.has_categories {
            let mut section =
                volume_section("categories", "Volume per category", "category", &self.categories, &self.too_small);
            if !self.too_small.is_empty() {
                section = section.with_text(format!(
                    "too small to route on (highlighted): {}; merge them into a neighbour or route them with a rule",
                    self.too_small.join(", ")
                ));
            }
            doc.push(section);
        }
        if !self.channels.is_empty() {
            doc.push(volume_section("channels", "Volume per channel", "channel", &self.channels, &[]));
        }
        if !self.tiers.is_empty() {
            doc.push(volume_section("tiers", "Volume per customer tier", "tier", &self.tiers, &[]));
        }

        let busiest =
            self.busiest.iter().map(|(d, h, n)| format!("{d} {h:02}:00 ({n})")).collect::<Vec<_>>().join(", ");
        doc.push(
            Section::new("arrivals", "Arrivals by hour of week")
                .with_chart(
                    Chart::hour_of_week(
                        "arrivals_hour_of_week",
                        "Tickets created per weekday and hour",
                        &self.hour_of_week,
                    )
                    .with_note(format!("hours in {}", self.timezone)),
                )
                .with_text(format!("busiest hours: {busiest}")),
        );

        let mut pairs = Table::new("misroute_pairs")
            .with_column("category", "category", Unit::Text)
            .with_column("wrong", "first assigned to", Unit::Text)
            .with_column("right", "resolved by", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count)
            .with_note("a misroute: the first assignment's destination differs from the final one");
        for m in &self.misroutes {
            pairs.push_row(vec![
                m.category.as_str().into(),
                m.wrong.as_str().into(),
                m.right.as_str().into(),
                m.tickets.into(),
            ]);
        }
        let bars = self
            .categories
            .iter()
            .filter_map(|c| c.misroute_rate().map(|r| Bar::new(c.name.clone(), r).highlighted(r >= 0.15)))
            .collect();
        doc.push(
            Section::new("misroutes", "Misroutes: first assignment ≠ final")
                .with_chart(Chart::bar("misroute_rate", "Misroute rate per category", Unit::Ratio, bars))
                .with_table(pairs),
        );

        if let Some(cv) = &self.cross_validation {
            let mut table = Table::new("confusable")
                .with_column("a", "category", Unit::Text)
                .with_column("b", "confused with", Unit::Text)
                .with_column("a_as_b", "a read as b", Unit::Count)
                .with_column("b_as_a", "b read as a", Unit::Count)
                .with_column("rate", "share of both", Unit::Ratio);
            for c in &cv.confusable {
                table.push_row(vec![
                    c.a.as_str().into(),
                    c.b.as_str().into(),
                    c.a_as_b.into(),
                    c.b_as_a.into(),
                    c.rate.into(),
                ]);
            }
            doc.push(
                Section::new("separability", "Can a classifier tell the categories apart?")
                    .with_figures(vec![Figure::new(
                        "cv_accuracy",
                        "cross-validated accuracy",
                        cv.accuracy,
                        Unit::Ratio,
                    )
                    .with_note(format!("{} folds over {} tickets", cv.folds, cv.tickets))])
                    .with_chart(Chart::confusion(
                        "cv_confusion",
                        "Category (rows) × the classifier's prediction (columns)",
                        "category",
                        "predicted",
                        cv.labels.clone(),
                        cv.counts.clone(),
                    ))
                    .with_table(table.with_note("pairs confused in at least 5% of their tickets")),
            );
        }

        if let Some(clusters) = &self.clusters {
            let mut table = Table::new("clusters")
                .with_column("name", "proposed category", Unit::Text)
                .with_column("tickets", "tickets", Unit::Count)
                .with_column("terms", "top terms", Unit::Text)
                .with_column("examples", "examples", Unit::Text);
            let mut bars = Vec::new();
            for c in clusters {
                let examples =
                    c.examples.iter().map(|(id, text)| format!("{id}: {text}")).collect::<Vec<_>>().join(" | ");
                table.push_row(vec![
                    c.name.as_str().into(),
                    c.tickets.into(),
                    c.terms.join(", ").into(),
                    examples.into(),
                ]);
                bars.push(Bar::new(c.name.clone(), c.tickets as f64));
            }
            doc.push(
                Section::new("clusters", "Proposed categories (the history has none)")
                    .with_chart(Chart::bar("cluster_sizes", "Tickets per proposed category", Unit::Count, bars))
                    .with_table(
                        table.with_note("k-means over TF-IDF of the text; names are the top terms: rename them"),
                    ),
            );
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
            doc.push(Section::new("rejected", "Rejected rows").with_table(rejected));
        }
        doc
    }
}
