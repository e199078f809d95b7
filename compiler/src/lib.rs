//! The `.route` policy compiler.
//!
//! Pipeline: `syntax` (text → AST, never fails) → `semantic` (names, types →
//! `hir`) → `analysis` (proofs about the checked policy) → `ir` (flat program
//! over a signal block) → `interp` (the reference engine). Every stage pushes
//! diagnostics into one sink; only [`compile`] returns `Result`. The compiler
//! does no IO: sources and model labels come through the [`Loader`] trait,
//! files for the workspace scan through [`io::FileSystem`].

pub mod analysis;
pub mod diagnostic;
pub mod fmt;
pub mod ide;
pub mod interp;
pub mod io;
pub mod ir;
pub mod jit;
pub mod phrase;
pub mod semantic;
pub mod snippet;
pub mod source;
pub mod syntax;
pub mod synthetic;
pub mod workspace;

pub use diagnostic::{Code, Diagnostic, Diagnostics, Severity};
pub use semantic::{hir, Loader, NoImports};
pub use source::{FileId, SourceDb, Span};

/// Everything known about one policy after checking: the tolerant result the
/// CLI's `check` and the language server both use.
#[derive(Debug)]
pub struct Analysis {
    pub db: SourceDb,
    pub root: FileId,
    /// Parsed files, imports first, root last.
    pub asts: Vec<syntax::ast::Policy>,
    pub hir: hir::Policy,
    /// Sorted, with `@allow`ed findings removed.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Whether compiling a policy also proves it (the analyses `routec check`
/// reports: exhaustiveness, shadowing, routes nowhere, closed P1 queues…).
/// The proofs never change the program, only whether it is accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Proofs {
    /// Run the analyses; an error they find fails the compilation.
    #[default]
    Check,
    /// Names and types only: for a service loading a policy that `routec
    /// check` already accepted in CI, where the proofs would only cost time.
    Skip,
}

/// Parse, check and analyse the policy in `root` (and its imports).
pub fn analyze(db: SourceDb, root: FileId, loader: &dyn Loader) -> Analysis {
    analyze_with(db, root, loader, Proofs::Check)
}

/// [`analyze`], with the proofs optional.
pub fn analyze_with(mut db: SourceDb, root: FileId, loader: &dyn Loader, proofs: Proofs) -> Analysis {
    let mut diagnostics = Diagnostics::new();
    let parsed = semantic::parse_all(&mut db, root, loader, &mut diagnostics);
    let hir = semantic::check(&db, &parsed, loader, &mut diagnostics);
    // The proofs need a policy whose names and types are sound.
    if proofs == Proofs::Check && !diagnostics.has_errors() {
        analysis::run(&hir, &mut diagnostics);
    }
    diagnostics.retain(|d| d.span().is_none_or(|s| !hir.is_allowed(d.code, s)));
    Analysis { db, root, asts: parsed.files, hir, diagnostics: diagnostics.into_sorted() }
}

/// A policy ready to run: the checked policy and its lowered program.
#[derive(Debug)]
pub struct Compiled {
    pub hir: hir::Policy,
    pub program: ir::Program,
    pub db: SourceDb,
    /// Warnings found while compiling.
    pub warnings: Vec<Diagnostic>,
}

/// Compile strictly: any error diagnostic fails the compilation.
pub fn compile(db: SourceDb, root: FileId, loader: &dyn Loader) -> Result<Compiled, Box<Analysis>> {
    compile_with(db, root, loader, Proofs::Check)
}

/// [`compile`], with the proofs optional.
pub fn compile_with(
    db: SourceDb,
    root: FileId,
    loader: &dyn Loader,
    proofs: Proofs,
) -> Result<Compiled, Box<Analysis>> {
    let analysis = analyze_with(db, root, loader, proofs);
    if analysis.has_errors() {
        return Err(Box::new(analysis));
    }
    let program = ir::lower(&analysis.hir);
    Ok(Compiled { hir: analysis.hir, program, db: analysis.db, warnings: analysis.diagnostics })
}
