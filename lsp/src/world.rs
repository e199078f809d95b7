//! The server's state: open documents, the analyses that cover them, and
//! which file imports which.
//!
//! A document is analysed as part of its *owner*: the policy that imports
//! it (transitively), or itself when nothing does. So opening `teams.route`,
//! which `policy.route` imports, shows the diagnostics `routec check
//! policy.route` reports for `teams.route` — not "no `policy` line". Owners
//! are found from the analyses of open documents and from the compiler's
//! workspace scan (`routec_compiler::workspace::Importers`) of the
//! workspace folders and of each open document's directory for `import`
//! lines, reading files through the [`Overlay`] (open buffers first, then
//! the disk).
//!
//! Every owner keeps its current analysis and its last analysis without
//! syntax errors; requests about a document whose current text does not
//! parse are answered from the latter, with offsets mapped through a
//! [`Shift`]. Changes mark documents dirty; [`World::flush`] re-analyses
//! the owners of dirty documents and of every analysis that includes them,
//! without the proofs, and hands the analyses to the prover; when the proofs
//! of the current analysis arrive, [`World::proved`] publishes again.

use crate::convert::{self, Locate};
use crate::overlay::{Overlay, MAX_ANALYSED_BYTES};
use crate::paths;
use crate::shift::Shift;
use lsp_types as lsp;
use lsp_types::Uri;
use routec_compiler::ide::{self, Snapshot};
use routec_compiler::io::FileSystem;
use routec_compiler::source::LineIndex;
use routec_compiler::workspace::Importers;
use routec_compiler::{FileId, Loader, NoImports, SourceDb, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Workspace files analysed at most for workspace symbols.
const MAX_WORKSPACE_FILES: usize = 2000;
/// Directory levels scanned below a workspace folder.
const MAX_DEPTH: usize = 7;

/// An open document.
pub(crate) struct Document {
    pub uri: Uri,
    pub text: Arc<str>,
    pub version: i32,
    pub lines: LineIndex,
}

impl Document {
    pub(crate) fn new(uri: Uri, text: String, version: i32) -> Document {
        let lines = LineIndex::new(&text);
        Document { uri, text: text.into(), version, lines }
    }
}

/// The analyses of one owner.
struct Root {
    current: Arc<Snapshot>,
    last_good: Option<Arc<Snapshot>>,
}

/// What a flush produced: diagnostics to send, analyses to prove.
pub(crate) struct Flushed {
    pub publishes: Vec<Publish>,
    pub jobs: Vec<crate::prover::Job>,
}

/// Diagnostics to send for one document.
pub(crate) struct Publish {
    pub uri: Uri,
    pub version: Option<i32>,
    pub diagnostics: Vec<lsp::Diagnostic>,
}

pub(crate) struct World {
    pub docs: BTreeMap<String, Document>,
    roots: BTreeMap<String, Root>,
    /// Which scanned file imports which, and the workspace's files.
    importers: Importers,
    folders: Vec<PathBuf>,
    dirty: BTreeSet<String>,
    fallback: Box<dyn Loader>,
    /// Run the proofs during [`World::flush`] instead of on the prover
    /// thread, so every change is published once, complete.
    pub sync_proofs: bool,
    /// What the proofs of each owner keep for its next analysis (with `sync_proofs`).
    proof_caches: HashMap<String, ide::ProofCache>,
    /// The parsed chunks of each owner's files, for its next analysis.
    parse_caches: HashMap<String, ide::ParseCache>,
    /// Single-file analyses of workspace files nothing open includes, by
    /// name, with a hash of their text (for workspace symbols).
    symbol_cache: HashMap<String, (u64, Arc<Snapshot>)>,
    /// Policies dropped that the prover may still keep proofs of.
    closed: Vec<String>,
    /// Snapshots replaced by newer ones, to be freed once the new
    /// diagnostics are out (freeing a large analysis takes milliseconds).
    retired: Vec<Arc<Snapshot>>,
}

impl World {
    pub(crate) fn new(fallback: Box<dyn Loader>) -> World {
        World {
            docs: BTreeMap::new(),
            roots: BTreeMap::new(),
            importers: Importers::default(),
            folders: Vec::new(),
            dirty: BTreeSet::new(),
            fallback,
            sync_proofs: false,
            proof_caches: HashMap::new(),
            parse_caches: HashMap::new(),
            symbol_cache: HashMap::new(),
            closed: Vec::new(),
            retired: Vec::new(),
        }
    }

    pub(crate) fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    // ------------------------------------------------------------ documents

    pub(crate) fn open(&mut self, uri: Uri, text: String, version: i32) {
        let name = paths::uri_to_name(&uri);
        if let Some(dir) = Path::new(&name).parent().filter(|_| uri.as_str().starts_with("file:")) {
            let files = Overlay::new(&self.docs, &*self.fallback);
            self.importers.scan(&files, dir);
        }
        self.docs.insert(name.clone(), Document::new(uri, text, version));
        self.dirty.insert(name);
    }

    /// Apply content changes in order. A range past the end of the text is an error.
    pub(crate) fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    ) -> Result<(), String> {
        let name = paths::uri_to_name(uri);
        let doc = self.docs.get_mut(&name).ok_or_else(|| not_open(uri))?;
        let mut text = doc.text.to_string();
        let mut lines = LineIndex::new(&text);
        for change in changes {
            match change.range {
                None => text = change.text,
                Some(range) => {
                    let start = convert::offset(&lines, range.start)?;
                    let end = convert::offset(&lines, range.end)?.max(start);
                    text.replace_range(start..end, &change.text);
                }
            }
            lines = LineIndex::new(&text);
        }
        *doc = Document { uri: doc.uri.clone(), text: text.into(), version, lines };
        self.dirty.insert(name);
        Ok(())
    }

    /// Forget a document; returns the empty diagnostics to clear it.
    pub(crate) fn close(&mut self, uri: &Uri) -> Publish {
        let name = paths::uri_to_name(uri);
        self.docs.remove(&name);
        // What imported it now sees the file on disk.
        let affected: Vec<String> =
            self.roots.iter().filter(|(_, r)| r.current.file_id(&name).is_some()).map(|(n, _)| n.clone()).collect();
        self.dirty.extend(affected.into_iter().filter(|n| self.docs.contains_key(n)));
        self.prune_roots();
        Publish { uri: uri.clone(), version: None, diagnostics: Vec::new() }
    }

    /// Files changed on disk (not through the editor): imports may have
    /// changed, and every analysis may read the files.
    pub(crate) fn disk_changed(&mut self) {
        let names: Vec<String> = self.docs.keys().cloned().collect();
        self.dirty.extend(names);
        self.symbol_cache.clear();
        self.importers = Importers::default();
        let folders = self.folders.clone();
        self.set_workspace(&folders);
        let files = Overlay::new(&self.docs, &*self.fallback);
        for dir in self.docs.keys().filter_map(|n| Path::new(n).parent()) {
            self.importers.scan(&files, dir);
        }
    }

    // ------------------------------------------------------------ workspace

    /// Find the `.route` files under the workspace folders and their imports.
    pub(crate) fn set_workspace(&mut self, folders: &[PathBuf]) {
        self.folders = folders.to_vec();
        let files = Overlay::new(&self.docs, &*self.fallback);
        for folder in folders {
            self.importers.scan_tree(&files, folder, MAX_DEPTH);
        }
    }

    /// Open documents over the disk (a method borrows all of `self`; where
    /// `self.importers` is written, `Overlay::new` borrows the fields).
    fn files(&self) -> Overlay<'_> {
        Overlay::new(&self.docs, &*self.fallback)
    }

    /// The file that imports `name`: an open analysis including it, else a scanned importer.
    fn importer_of(&self, name: &str) -> Option<String> {
        let open = self.roots.iter().find(|(root, r)| root.as_str() != name && r.current.file_id(name).is_some());
        if let Some((root, _)) = open {
            return Some(root.clone());
        }
        // A scanned importer counts while it is open or still on disk.
        let importers = self.importers.importers_of(name)?;
        let files = self.files();
        importers.iter().find(|i| files.is_file(Path::new(i))).cloned()
    }

    /// The policy `name` is analysed as part of.
    pub(crate) fn owner(&self, name: &str) -> String {
        let mut current = name.to_string();
        let mut seen = BTreeSet::new();
        while seen.insert(current.clone()) {
            match self.importer_of(&current) {
                Some(next) if !seen.contains(&next) => current = next,
                _ => break,
            }
        }
        current
    }

    /// Workspace files that transitively import `name` and that nothing imports.
    fn disk_roots_of(&self, name: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![name.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            match self.importers.importers_of(&n) {
                Some(set) if !set.is_empty() => stack.extend(set.iter().cloned()),
                _ => {
                    out.insert(n);
                }
            }
        }
        out
    }

    // ------------------------------------------------------------ analysis

    fn root_text(&self, root: &str) -> Option<Arc<str>> {
        match self.docs.get(root) {
            Some(doc) => Some(doc.text.clone()),
            None => self.files().read_to_string(Path::new(root)).ok().map(Into::into),
        }
    }

    fn analyse_text(&self, root: &str, text: &str, cache: Option<&mut ide::ParseCache>) -> Arc<Snapshot> {
        let text = if text.len() > MAX_ANALYSED_BYTES { "" } else { text };
        let mut db = SourceDb::new();
        let id = db.add(root, text);
        let overlay = self.files();
        Arc::new(Snapshot::new(match cache {
            Some(cache) => ide::analyze_without_proofs_cached(db, id, &overlay, cache),
            None => ide::analyze_without_proofs(db, id, &overlay),
        }))
    }

    /// Analyse `root` (without the proofs); the snapshot if it needs proofs.
    fn analyse(&mut self, root: &str) -> Option<Arc<Snapshot>> {
        let text = self.root_text(root)?;
        let mut cache = self.parse_caches.remove(root).unwrap_or_default();
        let snap = self.analyse_text(root, &text, Some(&mut cache));
        self.parse_caches.insert(root.to_string(), cache);
        let good = !snap.has_syntax_errors();
        let entry = self.roots.entry(root.to_string());
        let state = entry.or_insert_with(|| Root { current: snap.clone(), last_good: None });
        let mut retired = vec![std::mem::replace(&mut state.current, snap.clone())];
        if good {
            retired.extend(state.last_good.replace(snap.clone()));
        }
        self.retired.extend(retired);
        if self.sync_proofs {
            let cache = self.proof_caches.entry(root.to_string()).or_default();
            snap.set_proofs(ide::proofs_cached(&snap.analysis, cache));
            return None;
        }
        ide::needs_proofs(&snap.analysis).then_some(snap)
    }

    /// Re-analyse what the dirty documents affect; the diagnostics to publish.
    pub(crate) fn flush(&mut self) -> Flushed {
        if self.dirty.is_empty() {
            return Flushed { publishes: Vec::new(), jobs: Vec::new() };
        }
        let dirty = std::mem::take(&mut self.dirty);
        let mut targets = BTreeSet::new();
        for name in &dirty {
            targets.insert(self.owner(name));
            for (root, state) in &self.roots {
                if state.current.file_id(name).is_some() {
                    targets.insert(root.clone());
                }
            }
        }
        let mut analysed = BTreeSet::new();
        let mut jobs = Vec::new();
        // An analysis can change owners (a new import); analyse the new ones too.
        for _ in 0..4 {
            for t in &targets {
                if analysed.insert(t.clone()) {
                    jobs.extend(self.analyse(t).map(|snap| (t.clone(), snap)));
                }
            }
            targets = self
                .docs
                .keys()
                .map(|n| self.owner(n))
                .filter(|o| !analysed.contains(o) && !self.roots.contains_key(o))
                .collect();
            if targets.is_empty() {
                break;
            }
        }
        self.prune_roots();
        jobs.retain(|(root, _)| self.roots.contains_key(root));
        let names: Vec<String> =
            self.docs.keys().filter(|n| dirty.contains(*n) || analysed.contains(&self.owner(n))).cloned().collect();
        Flushed { publishes: names.iter().filter_map(|n| self.diagnostics(n)).collect(), jobs }
    }

    /// Drop what is kept for policies that no open document belongs to.
    fn prune_roots(&mut self) {
        let owners: BTreeSet<String> = self.docs.keys().map(|n| self.owner(n)).collect();
        self.closed.extend(self.roots.keys().filter(|r| !owners.contains(*r)).cloned());
        self.roots.retain(|r, _| owners.contains(r));
        self.proof_caches.retain(|r, _| owners.contains(r));
        self.parse_caches.retain(|r, _| owners.contains(r));
    }

    /// Free the snapshots that newer ones replaced.
    pub(crate) fn free_retired(&mut self) {
        self.retired.clear();
    }

    /// Policies dropped since the last call (for the prover to drop too).
    pub(crate) fn take_closed(&mut self) -> Vec<String> {
        std::mem::take(&mut self.closed)
    }

    /// The proofs of some analysis of `root` are done: if it is the current
    /// one, the diagnostics of its documents, now complete.
    pub(crate) fn proved(&self, root: &str) -> Vec<Publish> {
        let Some(state) = self.roots.get(root).filter(|r| r.current.has_proofs()) else { return Vec::new() };
        let names: Vec<&String> = self
            .docs
            .keys()
            .filter(|n| {
                self.owner(n) == root
                    && state.current.file_id(n).is_some_and(|f| *state.current.text(f) == *self.docs[*n].text)
            })
            .collect();
        names.into_iter().filter_map(|n| self.diagnostics(n)).collect()
    }

    fn diagnostics(&self, name: &str) -> Option<Publish> {
        let doc = self.docs.get(name)?;
        let publish = |diagnostics| Some(Publish { uri: doc.uri.clone(), version: Some(doc.version), diagnostics });
        if doc.text.len() > MAX_ANALYSED_BYTES {
            return publish(vec![too_large(doc)]);
        }
        let owner = self.owner(name);
        let Some(root) = self.roots.get(&owner) else { return publish(Vec::new()) };
        let snap = &root.current;
        let Some(file) = snap.file_id(name) else { return publish(Vec::new()) };
        let locator = Locator::new(self, snap, None);
        let diagnostics = snap
            .diagnostics()
            .filter_map(|d| {
                let span = d.span().unwrap_or(Span::new(snap.analysis.root, 0, 0));
                if span.file != file {
                    return None;
                }
                let range = convert::range(&doc.lines, span.start as usize, span.end as usize);
                Some(convert::diagnostic(d, range, &locator))
            })
            .collect();
        publish(diagnostics)
    }

    // ------------------------------------------------------------ requests

    /// What to answer a request about `uri` from: the last good analysis
    /// while the current one has syntax errors, else the current one.
    pub(crate) fn view(&self, uri: &Uri) -> Result<View<'_>, String> {
        self.view_of(uri, true)
    }

    /// The current analysis of `uri`, syntax errors and all (for edits).
    pub(crate) fn current_view(&self, uri: &Uri) -> Result<View<'_>, String> {
        self.view_of(uri, false)
    }

    fn view_of(&self, uri: &Uri, allow_last_good: bool) -> Result<View<'_>, String> {
        let name = paths::uri_to_name(uri);
        let doc = self.docs.get(&name).ok_or_else(|| not_open(uri))?;
        let owner = self.owner(&name);
        let root = self.roots.get(&owner).ok_or_else(|| format!("{} has not been analysed", uri.as_str()))?;
        if allow_last_good && root.current.has_syntax_errors() {
            if let Some((good, file)) = root.last_good.as_ref().and_then(|g| g.file_id(&name).map(|f| (g, f))) {
                let shift = Shift::between(good.text(file), &doc.text);
                return Ok(View { world: self, doc, snap: good.clone(), file, shift: Some(shift) });
            }
        }
        let file = root.current.file_id(&name).ok_or_else(|| format!("{} has not been analysed", uri.as_str()))?;
        Ok(View { world: self, doc, snap: root.current.clone(), file, shift: None })
    }

    /// Current analyses that include the file `name`: those of open
    /// documents and of workspace policies that import it.
    pub(crate) fn snapshots_including(&self, name: &str) -> Vec<Arc<Snapshot>> {
        let mut out: Vec<Arc<Snapshot>> =
            self.roots.values().filter(|r| r.current.file_id(name).is_some()).map(|r| r.current.clone()).collect();
        for root in self.disk_roots_of(name) {
            if self.roots.contains_key(&root) {
                continue;
            }
            if let Some(text) = self.root_text(&root) {
                let snap = self.analyse_text(&root, &text, None);
                if snap.file_id(name).is_some() {
                    out.push(snap);
                }
            }
        }
        out
    }

    /// Every analysis for workspace symbols: open owners, and each workspace
    /// file no open owner includes (analysed alone, cached).
    pub(crate) fn all_snapshots(&mut self) -> Vec<Arc<Snapshot>> {
        let mut out: Vec<Arc<Snapshot>> = self.roots.values().map(|r| r.current.clone()).collect();
        let files: Vec<String> = self.importers.files().take(MAX_WORKSPACE_FILES).collect();
        for name in files {
            if out.iter().any(|s| s.file_id(&name).is_some()) {
                continue;
            }
            let Ok(text) = self.files().read_to_string(Path::new(&name)) else { continue };
            if text.len() > MAX_ANALYSED_BYTES {
                continue;
            }
            let hash = fnv(&text);
            let cached = self.symbol_cache.get(&name).filter(|(h, _)| *h == hash).map(|(_, s)| s.clone());
            let snap = cached.unwrap_or_else(|| {
                let mut db = SourceDb::new();
                let id = db.add(name.clone(), text);
                let snap = Arc::new(Snapshot::new(ide::analyze_without_proofs(db, id, &NoImports)));
                self.symbol_cache.insert(name.clone(), (hash, snap.clone()));
                snap
            });
            out.push(snap);
        }
        out
    }

    /// A locator for spans of `snap` (not shifted).
    pub(crate) fn locator<'a>(&'a self, snap: &'a Snapshot) -> Locator<'a> {
        Locator::new(self, snap, None)
    }
}

fn not_open(uri: &Uri) -> String {
    format!("{} is not open; send textDocument/didOpen first", uri.as_str())
}

fn too_large(doc: &Document) -> lsp::Diagnostic {
    let mb = |n: usize| n as f64 / (1024.0 * 1024.0);
    lsp::Diagnostic {
        range: lsp::Range::default(),
        severity: Some(lsp::DiagnosticSeverity::WARNING),
        source: Some("routec".to_string()),
        message: format!(
            "this file ({:.1} MB) is too large for the language server (limit {:.0} MB); run `routec check` on it",
            mb(doc.text.len()),
            mb(MAX_ANALYSED_BYTES)
        ),
        ..lsp::Diagnostic::default()
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Turns spans of one analysis into locations; spans in the shifted file
/// are mapped to the document's current text.
pub(crate) struct Locator<'a> {
    world: &'a World,
    snap: &'a Snapshot,
    shifted: Option<(FileId, Shift, &'a Document)>,
    /// Per file of `snap`, whether its open document still has the analysed
    /// text: comparing the whole text for every label of every diagnostic
    /// costs more than the rest of publishing them.
    current: std::cell::RefCell<Vec<(FileId, bool)>>,
}

impl<'a> Locator<'a> {
    fn new(world: &'a World, snap: &'a Snapshot, shifted: Option<(FileId, Shift, &'a Document)>) -> Locator<'a> {
        Locator { world, snap, shifted, current: std::cell::RefCell::new(Vec::new()) }
    }

    /// The open document of `file` if its text is the analysed one.
    fn current_doc(&self, file: FileId) -> Option<&'a Document> {
        let doc = self.world.docs.get(self.snap.file_name(file))?;
        let known = self.current.borrow().iter().find(|(f, _)| *f == file).map(|(_, same)| *same);
        let same = known.unwrap_or_else(|| {
            let same = *doc.text == *self.snap.text(file);
            self.current.borrow_mut().push((file, same));
            same
        });
        same.then_some(doc)
    }
}

impl Locate for Locator<'_> {
    fn location(&self, span: Span) -> Option<lsp::Location> {
        if let Some((file, shift, doc)) = &self.shifted {
            if span.file == *file {
                let start = shift.to_new(span.start as usize)?;
                let end = shift.to_new(span.end as usize)?;
                return Some(lsp::Location { uri: doc.uri.clone(), range: convert::range(&doc.lines, start, end) });
            }
        }
        match self.current_doc(span.file) {
            Some(doc) => Some(lsp::Location {
                uri: doc.uri.clone(),
                range: convert::range(&doc.lines, span.start as usize, span.end as usize),
            }),
            None => {
                convert::location_in(self.snap.file_name(span.file), &self.snap.analysis.db.file(span.file).lines, span)
            }
        }
    }
}

/// A request's document and the analysis that answers it.
pub(crate) struct View<'w> {
    world: &'w World,
    pub doc: &'w Document,
    pub snap: Arc<Snapshot>,
    /// The document's file in `snap`.
    pub file: FileId,
    /// Set when `snap` analysed an older text of the document.
    shift: Option<Shift>,
}

impl View<'_> {
    /// The document offset of a position.
    pub(crate) fn doc_offset(&self, pos: lsp::Position) -> Result<usize, String> {
        convert::offset(&self.doc.lines, pos)
    }

    /// The offset in the analysed text of a position; `None` inside an edit
    /// the analysis has not seen.
    pub(crate) fn offset(&self, pos: lsp::Position) -> Result<Option<usize>, String> {
        let offset = self.doc_offset(pos)?;
        Ok(match &self.shift {
            Some(shift) => shift.to_old(offset),
            None => Some(offset),
        })
    }

    pub(crate) fn locator(&self) -> Locator<'_> {
        Locator::new(self.world, &self.snap, self.shift.map(|s| (self.file, s, self.doc)))
    }

    /// The range in the current document of a span of the analysed file.
    pub(crate) fn range(&self, span: Span) -> Option<lsp::Range> {
        if span.file != self.file {
            return None;
        }
        self.locator().location(span).map(|l| l.range)
    }
}
