//! What `audit`, `replay` and `init --from` share: the flags that say how
//! to read a ticket history (the mapping file, `--column` overrides), how
//! it is opened, and the `--json` / `--html` output choice.

use crate::exit::CliError;
use crate::output::Output;
use routec_analytics::history::{self, Mapping, MappingError, Opened};
use routec_analytics::render::{Document, HtmlOptions};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// How to read a history.
#[derive(clap::Args, Debug, Clone)]
pub struct HistoryArgs {
    /// The column mapping (TOML: `[columns]`, `[values.COLUMN]`, `[fields]`,
    /// `[defaults]`, `[sla]`); by default `HISTORY` with the extension
    /// `.toml`, when that file exists.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Which column plays a part, over the mapping: `--column category=queue`,
    /// `--column text=title,description`. Parts: id, created_at, text,
    /// category, channel, tier, first_destination, final_destination,
    /// reassignments, first_assigned_at, resolved_at.
    #[arg(long = "column", value_name = "PART=COLUMN")]
    pub columns: Vec<String>,
}

impl HistoryArgs {
    /// The mapping for `history`: the file, then the flags.
    pub fn mapping(&self, history: &Path) -> Result<Mapping, CliError> {
        let file = self.mapping.clone().or_else(|| Mapping::beside(history));
        let mut mapping = match &file {
            Some(path) => Mapping::read(path).map_err(|e| mapping_error(path, e))?,
            None => Mapping::default(),
        };
        for flag in &self.columns {
            mapping.set_column(flag).map_err(|e| CliError::Usage(e.to_string()))?;
        }
        Ok(mapping)
    }

    /// Open `path` for streaming, with its mapping.
    pub fn open(&self, path: &Path) -> Result<Opened<BufReader<std::fs::File>>, CliError> {
        let mapping = self.mapping(path)?;
        let file = std::fs::File::open(path).map_err(|e| CliError::read(path, e))?;
        history::open(BufReader::with_capacity(1 << 16, file), history::Format::of(path), mapping)
            .map_err(|e| CliError::read(path, e))
    }
}

fn mapping_error(path: &Path, e: MappingError) -> CliError {
    match e {
        MappingError::Read { source, .. } => CliError::read(path, source),
        other => {
            CliError::Unusable { path: path.to_path_buf(), expected: "a history mapping", source: Box::new(other) }
        }
    }
}

/// Where an analytics command's result goes besides the terminal summary.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// Print the result as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report with charts to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl ReportArgs {
    /// Show `document`: JSON with `--json`, else the terminal summary; and
    /// the HTML page with `--html FILE`.
    pub fn emit(&self, document: &Document) -> Result<(), CliError> {
        let render_error = |e: routec_analytics::render::RenderError| CliError::Internal(e.to_string());
        let mut out = Output::stdout();
        if self.json {
            writeln!(out, "{}", document.to_json().map_err(render_error)?)?;
        } else {
            write!(out, "{}", document.to_terminal(terminal_width()))?;
        }
        if let Some(path) = &self.html {
            let footer = format!("routec {}", env!("CARGO_PKG_VERSION"));
            let page =
                document.to_html(&HtmlOptions { refresh_seconds: None, footer: Some(footer) }).map_err(render_error)?;
            std::fs::write(path, page).map_err(|e| CliError::write(path, e))?;
        }
        Ok(())
    }
}

/// The width the summary is laid out for: `COLUMNS` when set, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&w| w >= 40).unwrap_or(100)
}
