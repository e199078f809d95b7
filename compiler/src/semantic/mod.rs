//! Names and types: AST → `hir::Policy`.
//!
//! Imports are loaded through the [`Loader`] trait (the compiler does no IO)
//! and parsed; declarations from every file are collected into one symbol
//! table; then every item is checked. Checking never stops at the first
//! problem: a bad expression becomes `Const(false)` and checking goes on, so
//! one run reports every error in every file.

mod expr;
pub mod hir;
pub use expr::parse_duration;
mod items;
mod schema;
pub mod suggest;
mod url;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, SourceDb, Span};
use crate::syntax::{self, ast};
use hir::*;
use std::collections::HashMap;

/// Where sources and model files come from. The CLI reads the file system;
/// tests and the language server can serve from memory.
pub trait Loader {
    /// Read `path` as written in an `import` of the file `importer`.
    /// Returns the resolved name (used to spot repeated and cyclic imports) and the text.
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String>;
    /// Labels of the classifier model at `path`, if the model file exists.
    fn model_labels(&self, importer: &str, path: &str) -> Option<Result<Vec<String>, String>> {
        let _ = (importer, path);
        None
    }
    /// Whether the loader reads models and no model file is at `path`
    /// (then every ticket without its own signals goes unclassified).
    fn model_missing(&self, importer: &str, path: &str) -> bool {
        let _ = (importer, path);
        false
    }
}

/// A loader for single-file checks: every import fails.
pub struct NoImports;

impl Loader for NoImports {
    fn load(&self, _importer: &str, path: &str) -> Result<(String, String), String> {
        Err(format!("cannot import `{path}` here"))
    }
}

/// Parsed files of one compilation, root last (imports come first).
pub struct Parsed {
    pub files: Vec<ast::Policy>,
    pub root: FileId,
}

/// Parse `root` and everything it imports, in import order.
pub fn parse_all(db: &mut SourceDb, root: FileId, loader: &dyn Loader, diagnostics: &mut Diagnostics) -> Parsed {
    let mut files = Vec::new();
    let mut stack = Vec::new();
    let mut done = Vec::new();
    visit(db, root, loader, diagnostics, &mut files, &mut stack, &mut done, None);
    Parsed { files, root }
}

/// [`parse_all`], re-parsing only the chunks of text not in `cache` (see
/// [`syntax::parse_cached`]); the same result.
pub fn parse_all_cached(
    db: &mut SourceDb,
    root: FileId,
    loader: &dyn Loader,
    diagnostics: &mut Diagnostics,
    cache: &mut syntax::ParseCache,
) -> Parsed {
    let mut files = Vec::new();
    let mut stack = Vec::new();
    let mut done = Vec::new();
    visit(db, root, loader, diagnostics, &mut files, &mut stack, &mut done, Some(cache));
    Parsed { files, root }
}

#[allow(clippy::too_many_arguments)]
fn visit(
    db: &mut SourceDb,
    file: FileId,
    loader: &dyn Loader,
    diagnostics: &mut Diagnostics,
    files: &mut Vec<ast::Policy>,
    stack: &mut Vec<FileId>,
    done: &mut Vec<FileId>,
    mut cache: Option<&mut syntax::ParseCache>,
) {
    stack.push(file);
    let text = db.text(file).to_string();
    let importer = db.file(file).name.clone();
    let ast = match cache.as_deref_mut() {
        Some(cache) => syntax::parse_cached(file, &text, diagnostics, cache),
        None => syntax::parse(file, &text, diagnostics),
    };
    for item in &ast.items {
        let ast::ItemKind::Import(path) = &item.kind else { continue };
        match loader.load(&importer, &path.value) {
            Err(reason) => diagnostics.push(
                Diagnostic::error(Code::Import, format!("cannot import `{}`", path.value))
                    .primary(path.span, reason)
                    .help("the path is relative to the importing file; check its spelling"),
            ),
            Ok((name, imported_text)) => {
                if let Some(existing) = db.find(&name) {
                    if stack.contains(&existing) {
                        diagnostics.push(
                            Diagnostic::error(Code::Import, format!("import cycle through `{}`", path.value))
                                .primary(path.span, "this import leads back to a file that is importing it")
                                .help("move the shared declarations into a third file that both import"),
                        );
                    }
                    // Already loaded through another import: declarations are shared, not repeated.
                    continue;
                }
                let id = db.add(name, imported_text);
                visit(db, id, loader, diagnostics, files, stack, done, cache.as_deref_mut());
            }
        }
    }
    stack.pop();
    done.push(file);
    files.push(ast);
}

/// Check parsed files into a policy. Always returns the best policy it can;
/// `diagnostics.has_errors()` says whether it may be used.
pub fn check(db: &SourceDb, parsed: &Parsed, loader: &dyn Loader, diagnostics: &mut Diagnostics) -> Policy {
    let mut checker = Checker::new(db, loader, diagnostics);
    checker.run(parsed);
    checker.policy
}

pub(crate) struct Checker<'a> {
    pub db: &'a SourceDb,
    pub loader: &'a dyn Loader,
    pub diags: &'a mut Diagnostics,
    pub policy: Policy,
    pub schedule_ids: HashMap<String, ScheduleId>,
    pub dest_ids: HashMap<String, DestId>,
    pub keyword_ids: HashMap<String, KeywordSetId>,
    pub regex_ids: HashMap<String, RegexId>,
    /// The `priority` enum as names, for lookups.
    pub priority_ids: HashMap<String, PriorityId>,
    /// Names declared by items that failed to parse: not reported again as unknown.
    pub broken_names: Vec<String>,
    /// The `ticket` block failed to parse: unknown fields are not reported.
    pub schema_broken: bool,
}

impl<'a> Checker<'a> {
    fn new(db: &'a SourceDb, loader: &'a dyn Loader, diags: &'a mut Diagnostics) -> Checker<'a> {
        Checker {
            db,
            loader,
            diags,
            policy: Policy::default(),
            schedule_ids: HashMap::new(),
            dest_ids: HashMap::new(),
            keyword_ids: HashMap::new(),
            regex_ids: HashMap::new(),
            priority_ids: HashMap::new(),
            broken_names: Vec::new(),
            schema_broken: false,
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        let cascade = match d.code {
            Code::UnknownField => self.schema_broken,
            Code::UnknownName => self.broken_names.iter().any(|n| d.message.contains(&format!("`{n}`"))),
            _ => false,
        };
        if !cascade {
            self.diags.push(d);
        }
    }

    fn run(&mut self, parsed: &Parsed) {
        for file in &parsed.files {
            for (keyword, name) in &file.broken {
                if keyword == "ticket" {
                    self.schema_broken = true;
                } else if !name.is_empty() {
                    self.broken_names.push(name.clone());
                }
                if keyword == "classifier" {
                    // The signals a classifier brings are as broken as its name.
                    self.broken_names.extend(["confidence", "threshold"].map(String::from));
                }
            }
        }
        let items: Vec<(&ast::Policy, &ast::Item)> =
            parsed.files.iter().flat_map(|f| f.items.iter().map(move |i| (f, i))).collect();
        self.collect_allows(&items);
        self.policy_header(parsed, &items);
        self.priorities(&items);
        self.language_enum();
        self.ticket_schema(parsed, &items);
        self.declare_names(&items);
        self.schedules(&items);
        self.destinations(&items);
        self.keyword_sets(&items);
        self.classifier(&items);
        self.priority_block(&items);
        self.slas(&items);
        self.routing(&items);
        self.tests(&items);
    }

    fn collect_allows(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let push_allows = |checker: &mut Checker<'_>, span: Span, allows: &[ast::Allow]| {
            if allows.is_empty() {
                return;
            }
            for a in allows {
                if Code::from_name(&a.code).is_none() {
                    let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
                    let d = Diagnostic::warning(Code::UnknownAllow, format!("unknown diagnostic code `{}`", a.code))
                        .primary(a.span, "not a routec diagnostic code")
                        .did_you_mean("code", &a.code, &names);
                    checker.error(d);
                }
            }
            checker.policy.allows.push((span, allows.iter().map(|a| a.code.clone()).collect()));
        };
        for (_, item) in items {
            push_allows(self, item.span, &item.allows);
            match &item.kind {
                ast::ItemKind::Matrix(m) => {
                    for row in &m.rows {
                        push_allows(self, row.span, &row.allows);
                    }
                }
                ast::ItemKind::Priority(p) => {
                    for rule in &p.rules {
                        push_allows(self, rule.span, &rule.allows);
                    }
                }
                _ => {}
            }
        }
    }

    fn policy_header(&mut self, parsed: &Parsed, items: &[(&ast::Policy, &ast::Item)]) {
        let mut seen: Option<Span> = None;
        let mut mode_seen: Option<Span> = None;
        let root_has_error_items = items.iter().any(|(_, i)| matches!(i.kind, ast::ItemKind::Error));
        for (file, item) in items {
            match &item.kind {
                ast::ItemKind::Policy(decl) => {
                    if file.file != parsed.root {
                        self.error(
                            Diagnostic::error(Code::Import, "an imported file cannot declare a policy")
                                .primary(item.span, "`policy` in an imported file")
                                .help("keep the `policy` line in the root file only"),
                        );
                    } else if let Some(first) = seen {
                        self.error(duplicate("policy", "policy", item.span, first));
                    } else {
                        seen = Some(item.span);
                        self.policy.name = decl.name.value.clone();
                        self.policy.version = decl.version.map(|(v, _)| v).unwrap_or(1);
                    }
                }
                ast::ItemKind::Mode(m) => {
                    if let Some(first) = mode_seen {
                        self.error(duplicate("mode", "mode", item.span, first));
                    } else {
                        mode_seen = Some(item.span);
                        self.policy.mode = Some(m.mode);
                    }
                }
                _ => {}
            }
        }
        if seen.is_none() && !root_has_error_items {
            self.error(
                Diagnostic::error(Code::MissingItem, "the policy has no `policy` line")
                    .primary(Span::new(parsed.root, 0, 0), "expected `policy \"name\" version 1` here")
                    .help("start the file with `policy \"my-team\" version 1`"),
            );
        }
    }

    fn priorities(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut declared: Option<(Span, Vec<ast::Ident>)> = None;
        for (_, item) in items {
            if let ast::ItemKind::Priorities(levels) = &item.kind {
                if let Some((first, _)) = &declared {
                    let first = *first;
                    self.error(duplicate("priorities", "priority list", item.span, first));
                } else {
                    declared = Some((item.span, levels.clone()));
                }
            }
        }
        let mut values = Vec::new();
        match declared {
            Some((_, levels)) => {
                for level in levels {
                    if let Some(first) = values.iter().find(|v: &&Named| v.name == level.name) {
                        let first_span = first.span;
                        self.error(duplicate("priority", &level.name, level.span, first_span));
                        continue;
                    }
                    values.push(Named { name: level.name.clone(), span: level.span });
                }
            }
            None => {
                values =
                    DEFAULT_PRIORITIES.iter().map(|p| Named { name: p.to_string(), span: Span::default() }).collect();
            }
        }
        for (i, v) in values.iter().enumerate() {
            self.priority_ids.insert(v.name.clone(), PriorityId(i as u32));
        }
        self.policy.priorities = values.clone();
        self.policy.priority_enum = EnumId(self.policy.enums.len() as u32);
        self.policy.enums.push(EnumDef { name: "priority".into(), values });
    }

    fn language_enum(&mut self) {
        self.policy.language_enum = EnumId(self.policy.enums.len() as u32);
        let values = LANGUAGES.iter().map(|l| Named { name: l.to_string(), span: Span::default() }).collect();
        self.policy.enums.push(EnumDef { name: "language".into(), values });
    }

    fn declare_names(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            match &item.kind {
                ast::ItemKind::Schedule(s) => {
                    if let Some(first) =
                        self.schedule_ids.get(&s.name.name).map(|id| self.policy.schedules[id.index()].span)
                    {
                        self.error(duplicate("schedule", &s.name.name, s.name.span, first));
                        continue;
                    }
                    let id = ScheduleId(self.policy.schedules.len() as u32);
                    self.schedule_ids.insert(s.name.name.clone(), id);
                    self.policy.schedules.push(Schedule {
                        name: s.name.name.clone(),
                        span: s.name.span,
                        always_open: false,
                        timezone: None,
                        weekly: Default::default(),
                        holidays: Vec::new(),
                    });
                }
                ast::ItemKind::Destination(d) => {
                    if let Some(first) =
                        self.dest_ids.get(&d.name.name).map(|id| self.policy.destinations[id.index()].span)
                    {
                        self.error(duplicate("destination", &d.name.name, d.name.span, first));
                        continue;
                    }
                    let id = DestId(self.policy.destinations.len() as u32);
                    self.dest_ids.insert(d.name.name.clone(), id);
                    self.policy.destinations.push(Destination {
                        name: d.name.name.clone(),
                        kind: d.kind,
                        span: d.name.span,
                        schedule: None,
                        capacity: None,
                        skills: Vec::new(),
                        fallbacks: Vec::new(),
                        slas: Vec::new(),
                    });
                }
                ast::ItemKind::Keywords(k) => {
                    if let Some(first) =
                        self.keyword_ids.get(&k.name.name).map(|id| self.policy.keyword_sets[id.index()].span)
                    {
                        self.error(duplicate("keyword set", &k.name.name, k.name.span, first));
                        continue;
                    }
                    let id = KeywordSetId(self.policy.keyword_sets.len() as u32);
                    self.keyword_ids.insert(k.name.name.clone(), id);
                    self.policy.keyword_sets.push(KeywordSet {
                        name: Some(k.name.name.clone()),
                        phrases: k.phrases.iter().map(|p| p.value.clone()).collect(),
                        span: k.name.span,
                    });
                }
                ast::ItemKind::Regex(r) => {
                    if let Some(first) = self.regex_ids.get(&r.name.name).map(|id| self.policy.regexes[id.index()].span)
                    {
                        self.error(duplicate("regex", &r.name.name, r.name.span, first));
                        continue;
                    }
                    if let Err(e) = regex::Regex::new(&r.pattern.value) {
                        self.error(bad_regex(r.pattern.span, &e));
                    }
                    let id = RegexId(self.policy.regexes.len() as u32);
                    self.regex_ids.insert(r.name.name.clone(), id);
                    self.policy.regexes.push(RegexDef {
                        name: Some(r.name.name.clone()),
                        pattern: r.pattern.value.clone(),
                        span: r.name.span,
                    });
                }
                _ => {}
            }
        }
    }

    /// Resolve a destination name, reporting unknown ones.
    pub fn resolve_destination(&mut self, ident: &ast::Ident) -> Option<DestId> {
        if let Some(id) = self.dest_ids.get(&ident.name) {
            return Some(*id);
        }
        let names: Vec<&str> = self.dest_ids.keys().map(String::as_str).collect();
        let d = Diagnostic::error(Code::UnknownName, format!("unknown destination `{}`", ident.name))
            .primary(ident.span, "no team, queue, role or ai handler has this name")
            .did_you_mean("destination", &ident.name, &names);
        self.error(d);
        None
    }

    pub fn resolve_priority(&mut self, ident: &ast::Ident) -> Option<PriorityId> {
        if let Some(id) = self.priority_ids.get(&ident.name) {
            return Some(*id);
        }
        let names: Vec<&str> = self.policy.priorities.iter().map(|p| p.name.as_str()).collect();
        let d = Diagnostic::error(Code::UnknownName, format!("unknown priority `{}`", ident.name))
            .primary(ident.span, "not a declared priority")
            .did_you_mean("priority", &ident.name, &names);
        self.error(d);
        None
    }
}

pub(crate) fn duplicate(kind: &str, name: &str, span: Span, first: Span) -> Diagnostic {
    let mut d = Diagnostic::error(Code::Duplicate, format!("{kind} `{name}` is declared twice"))
        .primary(span, "declared again here")
        .help(format!("rename one of them or remove the second {kind}"));
    if first != Span::default() {
        d = d.secondary(first, "first declared here");
    }
    d
}

pub(crate) fn bad_regex(span: Span, error: &regex::Error) -> Diagnostic {
    let detail = error.to_string();
    let last = detail.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("invalid pattern").trim().to_string();
    Diagnostic::error(Code::BadRegex, "this regular expression does not compile")
        .primary(span, last.trim_start_matches("error: ").to_string())
        .help("patterns use Rust regex syntax, e.g. \"INV-[0-9]{6}\"; a backslash is kept as written (`\\d`), `\\\"` is a quote")
}
