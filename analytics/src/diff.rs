//! `routec diff OLD NEW`: the semantic diff of two versions of a policy,
//! without data. The compiler's analysis (`routec_compiler::analysis::diff`)
//! finds every region of the ticket space whose destination, priority or
//! escalation changes, each with a witness ticket the reference engine runs
//! through both versions; this module loads the two files, names each
//! region's deciding branches by `file:line:column`, sums the regions up
//! (destination moves, counts per kind of change) and renders the result.

use crate::render::{Bar, Cell, Chart, Document, Figure, Section, Table, Unit};
use routec_compiler::analysis::{self, BranchRef, Change, PolicyDiff, PrioritySource, Side};
use routec_compiler::{compile, Analysis, Compiled, SourceDb, Span};
use routec_runtime::{DiskFs, FsLoader};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why a version cannot be diffed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The policy file or its directory cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The policy does not compile; its diagnostics are in the analysis.
    #[error("`{}` does not compile", path.display())]
    NotCompiled { path: PathBuf, analysis: Box<Analysis> },
    /// The two versions cannot be put in one ticket space.
    #[error(transparent)]
    Incomparable(#[from] analysis::DiffError),
}

/// One compiled version of a policy and the file it was read from.
#[derive(Debug)]
pub struct PolicyFile {
    pub file: String,
    pub compiled: Compiled,
}

/// Compile one version of a policy (imports and model labels read inside
/// `root`, by default the policy's directory).
pub fn load(path: &Path, root: Option<&Path>) -> Result<PolicyFile, DiffError> {
    use routec_compiler::io::FileSystem as _;
    let read = |source| DiffError::Read { path: path.to_path_buf(), source };
    let loader = FsLoader::for_policy(path, root).map_err(read)?;
    let text = DiskFs.read_to_string(path).map_err(read)?;
    let mut db = SourceDb::new();
    let id = db.add(path.display().to_string(), text);
    let compiled =
        compile(db, id, &loader).map_err(|analysis| DiffError::NotCompiled { path: path.to_path_buf(), analysis })?;
    Ok(PolicyFile { file: path.display().to_string(), compiled })
}

/// Diff two policy files.
pub fn diff_files(old: &Path, new: &Path, root: Option<&Path>) -> Result<DiffReport, DiffError> {
    let before = load(old, root)?;
    let after = load(new, root)?;
    diff(&before, &after)
}

/// Diff two compiled versions.
pub fn diff(old: &PolicyFile, new: &PolicyFile) -> Result<DiffReport, DiffError> {
    let found = analysis::diff(&old.compiled.hir, &new.compiled.hir)?;
    Ok(DiffReport::new(old, new, &found))
}

/// The diff as `routec diff --json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DiffReport {
    pub old: Version,
    pub new: Version,
    /// Whether some ticket is decided differently.
    pub changed: bool,
    /// False when the analysis ran out of budget: regions may be missing.
    pub complete: bool,
    pub summary: Summary,
    /// Destination changes summed up: from, to, how many regions.
    pub moves: Vec<Move>,
    pub regions: Vec<Region>,
    /// How the vocabularies differ (changed keyword sets, new fields…).
    pub notes: Vec<String>,
}

/// One version: its file, its `policy` line.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Version {
    pub file: String,
    pub policy: String,
    pub version: u64,
}

/// Counts of regions.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Summary {
    pub regions: usize,
    /// Regions whose destination changes.
    pub destination: usize,
    pub priority: usize,
    pub escalation: usize,
    /// Regions whose witness the engine confirmed in both versions.
    pub confirmed: usize,
}

/// Tickets that went to `from` and now go to `to` (`null`: no destination).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Move {
    pub from: Option<String>,
    pub to: Option<String>,
    pub regions: usize,
}

/// One region of tickets whose decision changes.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Region {
    /// What changes: `destination`, `priority`, `escalation`.
    pub changes: Vec<&'static str>,
    pub old: Decided,
    pub new: Decided,
    pub witness: Witness,
}

/// How one version decides a region.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Decided {
    /// The deciding branch; `null` when none matches.
    pub branch: Option<Branch>,
    pub destination: Option<String>,
    pub priority: String,
    /// `rule N of the priority block (file:line:column)`, `default`, or `the branch`.
    pub priority_from: String,
    pub escalation: Option<String>,
}

/// A branch of a version, located in its source.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Branch {
    pub stage: routec_compiler::hir::Stage,
    pub name: String,
    pub location: String,
}

/// A ticket of the region.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Witness {
    /// The constraints that put it in the region, in policy syntax.
    pub conditions: Vec<String>,
    pub notes: Vec<String>,
    /// Whether the reference engine gives this ticket both decisions.
    pub confirmed: bool,
}

fn location(db: &SourceDb, span: Span) -> String {
    let file = db.file(span.file);
    let lc = file.lines.line_col(span.start as usize);
    format!("{}:{}:{}", file.name, lc.line + 1, lc.col_chars)
}

fn decided(compiled: &Compiled, side: &Side) -> Decided {
    let branch = side.branch.as_ref().map(|BranchRef { stage, name, span }| Branch {
        stage: *stage,
        name: name.clone(),
        location: location(&compiled.db, *span),
    });
    let priority_from = match &side.priority_from {
        PrioritySource::Rule { index, span } => {
            format!("rule {} of the priority block ({})", index + 1, location(&compiled.db, *span))
        }
        PrioritySource::Default => "default".into(),
        PrioritySource::Branch => "the branch".into(),
    };
    Decided {
        branch,
        destination: side.destination.clone(),
        priority: side.priority.clone(),
        priority_from,
        escalation: side.escalation.clone(),
    }
}

fn region(old: &Compiled, new: &Compiled, change: &Change) -> Region {
    let mut changes = Vec::new();
    if change.destination_changed {
        changes.push("destination");
    }
    if change.priority_changed {
        changes.push("priority");
    }
    if change.escalation_changed {
        changes.push("escalation");
    }
    Region {
        changes,
        old: decided(old, &change.old),
        new: decided(new, &change.new),
        witness: Witness {
            conditions: change.witness.described.clone(),
            notes: change.witness.notes.clone(),
            confirmed: change.witness.confirmed,
        },
    }
}

impl DiffReport {
    fn new(old: &PolicyFile, new: &PolicyFile, found: &PolicyDiff) -> DiffReport {
        let version = |p: &PolicyFile| Version {
            file: p.file.clone(),
            policy: p.compiled.hir.name.clone(),
            version: p.compiled.hir.version,
        };
        let regions: Vec<Region> = found.changes.iter().map(|c| region(&old.compiled, &new.compiled, c)).collect();
        let count = |kind: &str| regions.iter().filter(|r| r.changes.contains(&kind)).count();
        let summary = Summary {
            regions: regions.len(),
            destination: count("destination"),
            priority: count("priority"),
            escalation: count("escalation"),
            confirmed: regions.iter().filter(|r| r.witness.confirmed).count(),
        };
        let mut moves: BTreeMap<(Option<String>, Option<String>), usize> = BTreeMap::new();
        for r in regions.iter().filter(|r| r.changes.contains(&"destination")) {
            *moves.entry((r.old.destination.clone(), r.new.destination.clone())).or_default() += 1;
        }
        let mut moves: Vec<Move> = moves.into_iter().map(|((from, to), regions)| Move { from, to, regions }).collect();
        moves.sort_by(|a, b| b.regions.cmp(&a.regions).then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to))));
        DiffReport {
            old: version(old),
            new: version(new),
            changed: !regions.is_empty(),
            complete: found.complete,
            summary,
            moves,
            regions,
            notes: found.notes.clone(),
        }
    }

    /// The terminal summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let name = |v: &Version| format!("{} ({} v{})", v.file, v.policy, v.version);
        let _ = writeln!(out, "diff {} → {}", name(&self.old), name(&self.new));
        let s = &self.summary;
        if !self.changed {
            let _ = writeln!(
                out,
                "no ticket changes decision: destination, priority and escalation are the same for every ticket"
            );
        } else {
            let confirmed = if s.confirmed == s.regions {
                "every witness confirmed by the engine".to_string()
            } else {
                format!("{} of {} witnesses confirmed by the engine", s.confirmed, s.regions)
            };
            let _ = writeln!(
                out,
                "{} region{} of tickets change decision: {} destination, {} priority, {} escalation ({confirmed})",
                s.regions,
                plural(s.regions),
                s.destination,
                s.priority,
                s.escalation
            );
        }
        if !self.complete {
            let _ = writeln!(out, "warning: the analysis ran out of budget; regions may be missing");
        }
        if !self.moves.is_empty() {
            let _ = writeln!(out, "\ndestination moves");
            let width = self.moves.iter().map(|m| dest(&m.from).chars().count()).max().unwrap_or(0);
            for m in &self.moves {
                let from = dest(&m.from);
                let pad = width - from.chars().count();
                let _ = writeln!(
                    out,
                    "  {from}{} → {}  {} region{}",
                    " ".repeat(pad),
                    dest(&m.to),
                    m.regions,
                    plural(m.regions)
                );
            }
        }
        for (i, r) in self.regions.iter().enumerate() {
            let _ = writeln!(out);
            let mut what = Vec::new();
            if r.changes.contains(&"destination") {
                what.push(format!("destination {} → {}", dest(&r.old.destination), dest(&r.new.destination)));
            }
            if r.changes.contains(&"priority") {
                what.push(format!("priority {} → {}", r.old.priority, r.new.priority));
            }
            if r.changes.contains(&"escalation") {
                let esc = |e: &Option<String>| e.as_ref().map_or("none".to_string(), |n| format!("`{n}`"));
                what.push(format!("escalation {} → {}", esc(&r.old.escalation), esc(&r.new.escalation)));
            }
            let _ = writeln!(out, "{:>3}. {}", i + 1, what.join("; "));
            let _ = writeln!(out, "     old: {}", side_text(&r.old));
            let _ = writeln!(out, "     new: {}", side_text(&r.new));
            let mut parts: Vec<String> = r.witness.conditions.iter().map(|c| format!("`{c}`")).collect();
            parts.extend(r.witness.notes.iter().cloned());
            let ticket = if parts.is_empty() { "any ticket".to_string() } else { parts.join(", ") };
            let confirmed = if r.witness.confirmed { "" } else { " (not confirmed by the engine)" };
            let _ = writeln!(out, "     e.g. {ticket}{confirmed}");
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nnotes");
            for n in &self.notes {
                let _ = writeln!(out, "  {n}");
            }
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn dest(d: &Option<String>) -> String {
    d.clone().unwrap_or_else(|| "(no destination)".into())
}

fn side_text(d: &Decided) -> String {
    let branch = match &d.branch {
        Some(b) => match stage_word(b.stage) {
            Some(word) => format!("{word} `{}` ({})", b.name, b.location),
            None => format!("{} ({})", b.name, b.location),
        },
        None => "no branch matches".into(),
    };
    let priority = match d.priority_from.as_str() {
        "the branch" => format!("{} set by the branch", d.priority),
        "default" => format!("{} by default", d.priority),
        from => format!("{} from {from}", d.priority),
    };
    format!("{branch} → {}, {priority}", dest(&d.destination))
}

/// The word before a branch's name; matrix rows and `otherwise` name themselves.
fn stage_word(stage: routec_compiler::hir::Stage) -> Option<&'static str> {
    use routec_compiler::hir::Stage;
    match stage {
        Stage::Priority => Some("priority rule"),
        Stage::Escalation => Some("escalation"),
        Stage::Rule => Some("rule"),
        Stage::Matrix | Stage::Otherwise => None,
    }
}

impl DiffReport {
    /// The diff as a document, for `--html`: the counts, a chart of the
    /// destination moves, and every region with its witness.
    pub fn document(&self) -> Document {
        let title = format!(
            "routec diff: {} v{} → {} v{}",
            self.old.policy, self.old.version, self.new.policy, self.new.version
        );
        let subtitle = format!("{} → {}", self.old.file, self.new.file);
        let s = &self.summary;
        let mut summary = Section::new("summary", "Regions of tickets whose decision changes").with_figures(vec![
            Figure::new("regions", "regions", s.regions as i64, Unit::Count),
            Figure::new("destination", "destination changes", s.destination as i64, Unit::Count),
            Figure::new("priority", "priority changes", s.priority as i64, Unit::Count),
            Figure::new("escalation", "escalation changes", s.escalation as i64, Unit::Count),
            Figure::new("confirmed", "witnesses confirmed by the engine", s.confirmed as i64, Unit::Count),
        ]);
        if !self.changed {
            summary = summary.with_text(
                "No ticket changes decision: destination, priority and escalation are the same for every ticket.",
            );
        }
        if !self.complete {
            summary = summary.with_text("The analysis ran out of budget: regions may be missing.");
        }
        let mut doc = Document::new(title).with_subtitle(subtitle).with_section(summary);
        if !self.moves.is_empty() {
            let bars = self
                .moves
                .iter()
                .map(|m| Bar::new(format!("{} → {}", dest(&m.from), dest(&m.to)), m.regions as f64))
                .collect();
            doc.push(Section::new("moves", "Destination moves").with_chart(Chart::bar(
                "moves",
                "Regions per destination move",
                Unit::Count,
                bars,
            )));
        }
        if !self.regions.is_empty() {
            let mut table = Table::new("regions")
                .with_column("n", "#", Unit::Count)
                .with_column("changes", "changes", Unit::Text)
                .with_column("old", "old decision", Unit::Text)
                .with_column("new", "new decision", Unit::Text)
                .with_column("witness", "e.g. a ticket with", Unit::Text)
                .with_column("confirmed", "confirmed", Unit::Text);
            for (i, r) in self.regions.iter().enumerate() {
                let mut parts: Vec<String> = r.witness.conditions.clone();
                parts.extend(r.witness.notes.iter().cloned());
                table.push_row(vec![
                    Cell::Int(i as i64 + 1),
                    Cell::Text(r.changes.join(", ")),
                    Cell::Text(side_text(&r.old)),
                    Cell::Text(side_text(&r.new)),
                    Cell::Text(if parts.is_empty() { "any ticket".into() } else { parts.join(", ") }),
                    Cell::Text(if r.witness.confirmed { "yes" } else { "no" }.into()),
                ]);
            }
            doc.push(Section::new("regions", "Regions").with_table(table));
        }
        if !self.notes.is_empty() {
            doc.push(Section::new("notes", "How the vocabularies differ").with_text(self.notes.join("\n")));
        }
        doc
    }
}
