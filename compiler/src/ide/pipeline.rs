//! [`crate::analyze`] in two steps, for an editor: names and types first
//! (fast: what the user needs while typing), then the proofs of
//! [`crate::analysis`], which can take much longer on a large policy and so
//! run where they cannot delay the first step. Together they report exactly
//! what `analyze` reports.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{FileId, SourceDb};
use crate::{analysis, semantic, Analysis, Loader};

pub use crate::syntax::ParseCache;
pub use analysis::{ProofCache, Ran, Reuse, Stop};

/// `analyze` without the proofs: syntax, names, types, `@allow`s applied.
pub fn analyze_without_proofs(db: SourceDb, root: FileId, loader: &dyn Loader) -> Analysis {
    without_proofs(db, root, loader, None)
}

/// [`analyze_without_proofs`], re-parsing only the parts of the text that
/// `cache` has not seen (see [`crate::syntax::parse_cached`]); the same result.
pub fn analyze_without_proofs_cached(
    db: SourceDb,
    root: FileId,
    loader: &dyn Loader,
    cache: &mut ParseCache,
) -> Analysis {
    without_proofs(db, root, loader, Some(cache))
}

fn without_proofs(mut db: SourceDb, root: FileId, loader: &dyn Loader, cache: Option<&mut ParseCache>) -> Analysis {
    let mut diagnostics = Diagnostics::new();
    let parsed = match cache {
        Some(cache) => semantic::parse_all_cached(&mut db, root, loader, &mut diagnostics, cache),
        None => semantic::parse_all(&mut db, root, loader, &mut diagnostics),
    };
    let hir = semantic::check(&db, &parsed, loader, &mut diagnostics);
    diagnostics.retain(|d| d.span().is_none_or(|s| !hir.is_allowed(d.code, s)));
    Analysis { db, root, asts: parsed.files, hir, diagnostics: diagnostics.into_sorted() }
}

/// Whether `analyze` would run the proofs on this analysis (it has no errors).
pub fn needs_proofs(analysis: &Analysis) -> bool {
    !analysis.has_errors()
}

/// The diagnostics the proofs add to an analysis without errors, sorted,
/// `@allow`ed ones removed.
pub fn proofs(analysis: &Analysis) -> Vec<Diagnostic> {
    proofs_cached(analysis, &mut ProofCache::default())
}

/// [`proofs`], reusing what the proofs of an earlier version of the same
/// policy left in `cache` where it still applies (see
/// [`analysis::ProofCache`]); the result is the same.
pub fn proofs_cached(analysis: &Analysis, cache: &mut ProofCache) -> Vec<Diagnostic> {
    match proofs_with(analysis, cache, Reuse::Exact, std::sync::Arc::new(|| false)) {
        Some((diagnostics, _)) => diagnostics,
        None => Vec::new(),
    }
}

/// [`proofs`], reusing what `cache` holds as `reuse` allows, with how the
/// run ended (`Ran::Exact` or `Ran::Sound`); `None` if `stop` stopped it.
pub fn proofs_with(
    analysis: &Analysis,
    cache: &mut ProofCache,
    reuse: Reuse,
    stop: Stop,
) -> Option<(Vec<Diagnostic>, Ran)> {
    if !needs_proofs(analysis) {
        return Some((Vec::new(), Ran::Exact));
    }
    let mut diagnostics = Diagnostics::new();
    let ran = analysis::run_with(&analysis.hir, &mut diagnostics, cache, reuse, stop);
    if ran == Ran::Stopped {
        return None;
    }
    diagnostics.retain(|d| d.span().is_none_or(|s| !analysis.hir.is_allowed(d.code, s)));
    Some((diagnostics.into_sorted(), ran))
}
