//! [`crate::analyze`] in two steps, for an editor: names and types first
//! (fast: what the user needs while typing), then the proofs of
//! [`crate::analysis`], which can take much longer on a large policy and so
//! run where they cannot delay the first step. Together they report exactly
//! what `analyze` reports.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{FileId, SourceDb};
use crate::{analysis, semantic, Analysis, Loader};

/// `analyze` without the proofs: syntax, names, types, `@allow`s applied.
pub fn analyze_without_proofs(mut db: SourceDb, root: FileId, loader: &dyn Loader) -> Analysis {
    let mut diagnostics = Diagnostics::new();
    let parsed = semantic::parse_all(&mut db, root, loader, &mut diagnostics);
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
    if !needs_proofs(analysis) {
        return Vec::new();
    }
    let mut diagnostics = Diagnostics::new();
    analysis::run(&analysis.hir, &mut diagnostics);
    diagnostics.retain(|d| d.span().is_none_or(|s| !analysis.hir.is_allowed(d.code, s)));
    diagnostics.into_sorted()
}
