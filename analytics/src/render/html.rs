//! A [`Document`] as one self-contained HTML page: an inline stylesheet,
//! charts as inline SVG (`svg.rs`), no script and nothing fetched from
//! anywhere, so the file reads the same offline, attached to a ticket or
//! served by `routec serve` at `/dashboard`. Every text from data is
//! escaped.

use std::fmt::Write as _;

use super::format::format_value;
use super::{svg, Block, Cell, Chart, Document, Figure, RenderError, Section, Table};

/// How the page is put together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlOptions {
    /// Reload the page every so many seconds (the live dashboard).
    pub refresh_seconds: Option<u32>,
    /// A line in the footer (the generator, the time it was made).
    pub footer: Option<String>,
}

const STYLE: &str = "\
:root{color-scheme:light;--ink:#212529;--muted:#6c757d;--line:#dee2e6;--card:#f8f9fa;--accent:#3b6ea5}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1120px;padding:24px 20px 48px;font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);background:#fff}
h1{font-size:26px;margin:0 0 4px}
.subtitle{color:var(--muted);margin:0 0 12px}
nav{margin:0 0 8px;color:var(--muted)}
nav a{color:var(--accent);text-decoration:none;margin-right:14px;white-space:nowrap}
section{border-top:1px solid var(--line);margin-top:28px;padding-top:8px}
h2{font-size:19px;margin:8px 0 12px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin:0 0 16px}
.figure{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.figure .label{color:var(--muted);font-size:12px}
.figure .value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.figure .note{color:var(--muted);font-size:12px}
table{border-collapse:collapse;margin:0 0 16px;min-width:40%}
caption{text-align:left;font-weight:600;padding:0 0 6px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{text-align:left;font-size:12px;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:hover{background:var(--card)}
figure{margin:0 0 18px}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-weight:600;margin:0 0 6px}
.note{color:var(--muted);font-size:13px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
";

/// Renders the whole page.
pub(super) fn render(document: &Document, options: &HtmlOptions) -> Result<String, RenderError> {
    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<meta name=\"generator\" content=\"routec\">\n");
    if let Some(seconds) = options.refresh_seconds {
        let _ = writeln!(page, "<meta http-equiv=\"refresh\" content=\"{seconds}\">");
    }
    let _ = writeln!(page, "<title>{}</title>", escape(&document.title));
    let _ = writeln!(page, "<style>\n{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(page, "<h1>{}</h1>", escape(&document.title));
    if let Some(subtitle) = &document.subtitle {
        let _ = writeln!(page, "<p class=\"subtitle\">{}</p>", escape(subtitle));
    }
    if document.sections.len() > 1 {
        page.push_str("<nav>");
        for section in &document.sections {
            let _ = write!(page, "<a href=\"#{}\">{}</a>", anchor(&section.key), escape(&section.title));
        }
        page.push_str("</nav>\n");
    }
    for section in &document.sections {
        render_section(&mut page, section)?;
    }
    if let Some(footer) = &options.footer {
        let _ = writeln!(page, "<footer>{}</footer>", escape(footer));
    }
    page.push_str("</body>\n</html>\n");
    Ok(page)
}

fn render_section(page: &mut String, section: &Section) -> Result<(), RenderError> {
    let _ = writeln!(page, "<section id=\"{}\">\n<h2>{}</h2>", anchor(&section.key), escape(&section.title));
    for block in &section.blocks {
        match block {
            Block::Figures { figures } => render_figures(page, figures),
            Block::Table(table) => render_table(page, table),
            Block::Chart(chart) => render_chart(page, chart)?,
            Block::Text { text } => {
                let _ = writeln!(page, "<p>{}</p>", escape(text));
            }
        }
    }
    page.push_str("</section>\n");
    Ok(())
}

fn render_figures(page: &mut String, figures: &[Figure]) {
    page.push_str("<div class=\"figures\">\n");
    for figure in figures {
        let _ = write!(
            page,
            "<div class=\"figure\" data-key=\"{}\"><div class=\"label\">{}</div><div class=\"value\">{}</div>",
            escape(&figure.key),
            escape(&figure.label),
            escape(&format_value(&figure.value, figure.unit))
        );
        if let Some(note) = &figure.note {
            let _ = write!(page, "<div class=\"note\">{}</div>", escape(note));
        }
        page.push_str("</div>\n");
    }
    page.push_str("</div>\n");
}

fn render_table(page: &mut String, table: &Table) {
    let _ = writeln!(page, "<table data-key=\"{}\">", escape(&table.key));
    if let Some(title) = &table.title {
        let _ = writeln!(page, "<caption>{}</caption>", escape(title));
    }
    page.push_str("<thead><tr>");
    for column in &table.columns {
        let class = if column.unit.is_numeric() { " class=\"num\"" } else { "" };
        let _ = write!(page, "<th{class}>{}</th>", escape(&column.title));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        page.push_str("<tr>");
        for (index, column) in table.columns.iter().enumerate() {
            let cell = row.get(index).unwrap_or(&Cell::Empty);
            let class = if column.unit.is_numeric() { " class=\"num\"" } else { "" };
            let _ = write!(page, "<td{class}>{}</td>", escape(&format_value(cell, column.unit)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
    if let Some(note) = &table.note {
        let _ = writeln!(page, "<p class=\"note\">{}</p>", escape(note));
    }
}

fn render_chart(page: &mut String, chart: &Chart) -> Result<(), RenderError> {
    let svg = svg::chart_svg(chart)?;
    let _ = writeln!(
        page,
        "<figure data-key=\"{}\" data-chart=\"{}\">\n<figcaption>{}</figcaption>",
        escape(&chart.key),
        chart_kind(chart),
        escape(&chart.title)
    );
    page.push_str(&svg);
    if let Some(note) = &chart.note {
        let _ = writeln!(page, "<p class=\"note\">{}</p>", escape(note));
    }
    page.push_str("</figure>\n");
    Ok(())
}

fn chart_kind(chart: &Chart) -> &'static str {
    match chart.plot {
        super::Plot::Bar { .. } => "bar",
        super::Plot::Line { .. } => "line",
        super::Plot::Heatmap { .. } => "heatmap",
        super::Plot::Confusion { .. } => "confusion",
    }
}

/// An `id` from a section key: letters, digits, `-` and `_` only.
fn anchor(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}

/// Text for an element or a quoted attribute.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
