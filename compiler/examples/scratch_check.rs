//! TEMPORARY scratch driver (analysis work); deleted before hand-off.
use routec_compiler::diagnostic::Rendered;
use routec_compiler::{analyze, Loader, SourceDb};
use std::path::{Path, PathBuf};

struct Fs(PathBuf);
impl Loader for Fs {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        let base = Path::new(importer).parent().map(Path::to_path_buf).unwrap_or_else(|| self.0.clone());
        let p = base.join(path);
        std::fs::read_to_string(&p).map(|t| (p.display().to_string(), t)).map_err(|e| e.to_string())
    }
}

fn main() {
    for arg in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&arg).unwrap_or_default();
        let mut db = SourceDb::new();
        let root = db.add(arg.clone(), text);
        let t = std::time::Instant::now();
        let a = analyze(db, root, &Fs(PathBuf::from(".")));
        let el = t.elapsed();
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
        for d in a.diagnostics.iter().cloned() {
            let r = Rendered::new(d, &a.db);
            let mut s = String::new();
            let _ = handler.render_report(&mut s, &r);
            println!("{s}");
        }
        println!("{arg}: {} diagnostics in {:?}", a.diagnostics.len(), el);
    }
}
