//! A [`Document`] as terminal text: plain characters (no colour codes, so a
//! pipe or a file reads the same), laid out for a given width. Figures and
//! tables are aligned, numbers to the right; bars use eighth blocks, line
//! charts become sparklines, heat maps shades, and a confusion matrix a
//! table with its diagonal bracketed.

use std::fmt::Write as _;

use super::format::{format_number, format_value};
use super::{Bar, Block, Cell, Chart, Document, Figure, Mark, Plot, Series, Table, Unit};

/// Widest a table cell gets before it is cut with `…`.
const MAX_CELL: usize = 40;
/// Widest a category label gets in a bar chart.
const MAX_BAR_LABEL: usize = 28;
/// Narrowest layout, whatever the terminal says.
const MIN_WIDTH: usize = 60;

/// Renders the whole document.
pub(super) fn render(document: &Document, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();
    line(&mut out, &document.title);
    line(&mut out, &"═".repeat(text_width(&document.title).min(width)));
    if let Some(subtitle) = &document.subtitle {
        line(&mut out, subtitle);
    }
    for section in &document.sections {
        out.push('\n');
        let heading = format!("── {} ", section.title);
        let rule = width.saturating_sub(text_width(&heading));
        line(&mut out, &format!("{heading}{}", "─".repeat(rule)));
        for (index, block) in section.blocks.iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            match block {
                Block::Figures { figures } => render_figures(&mut out, figures),
                Block::Table(table) => render_table(&mut out, table),
                Block::Chart(chart) => render_chart(&mut out, chart, width),
                Block::Text { text } => wrap(&mut out, text, width, "  "),
            }
        }
    }
    out
}

fn line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

/// Columns a string takes (one per `char`: the renderer's own output uses
/// no wide characters, and labels from data are cut by this measure).
fn text_width(text: &str) -> usize {
    text.chars().count()
}

/// Cuts `text` to `max` columns, ending with `…` when it was longer.
fn cut(text: &str, max: usize) -> String {
    if text_width(text) <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

fn pad_right(text: &str, width: usize) -> String {
    let mut padded = text.to_owned();
    padded.push_str(&" ".repeat(width.saturating_sub(text_width(text))));
    padded
}

fn pad_left(text: &str, width: usize) -> String {
    format!("{}{text}", " ".repeat(width.saturating_sub(text_width(text))))
}

/// Word-wraps a paragraph, every line indented.
fn wrap(out: &mut String, text: &str, width: usize, indent: &str) {
    let room = width.saturating_sub(text_width(indent)).max(20);
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && text_width(&current) + 1 + text_width(word) > room {
            line(out, &format!("{indent}{current}"));
            current.clear();
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        line(out, &format!("{indent}{current}"));
    }
}

fn render_figures(out: &mut String, figures: &[Figure]) {
    let label_width = figures.iter().map(|figure| text_width(&figure.label)).max().unwrap_or(0);
    let values: Vec<String> = figures.iter().map(|figure| format_value(&figure.value, figure.unit)).collect();
    let value_width = values.iter().map(|value| text_width(value)).max().unwrap_or(0);
    for (figure, value) in figures.iter().zip(&values) {
        let mut text = format!("  {}  {}", pad_right(&figure.label, label_width), pad_left(value, value_width));
        if let Some(note) = &figure.note {
            let _ = write!(text, "  {note}");
        }
        line(out, text.trim_end());
    }
}

fn render_table(out: &mut String, table: &Table) {
    if let Some(title) = &table.title {
        line(out, &format!("  {title}"));
    }
    if table.columns.is_empty() {
        return;
    }
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            table
                .columns
                .iter()
                .enumerate()
                .map(|(index, column)| {
                    cut(&format_value(row.get(index).unwrap_or(&Cell::Empty), column.unit), MAX_CELL)
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let header = text_width(&cut(&column.title, MAX_CELL));
            cells.iter().map(|row| text_width(&row[index])).fold(header, usize::max)
        })
        .collect();
    let aligned = |texts: &[String]| -> String {
        let parts: Vec<String> = texts
            .iter()
            .zip(&table.columns)
            .zip(&widths)
            .map(
                |((text, column), width)| {
                    if column.unit.is_numeric() {
                        pad_left(text, *width)
                    } else {
                        pad_right(text, *width)
                    }
                },
            )
            .collect();
        format!("  {}", parts.join("  ")).trim_end().to_owned()
    };
    let headers: Vec<String> = table.columns.iter().map(|column| cut(&column.title, MAX_CELL)).collect();
    line(out, &aligned(&headers));
    let rule: Vec<String> = widths.iter().map(|width| "─".repeat(*width)).collect();
    line(out, &format!("  {}", rule.join("  ")));
    for row in &cells {
        line(out, &aligned(row));
    }
    if table.rows.is_empty() {
        line(out, "  (none)");
    }
    if let Some(note) = &table.note {
        line(out, &format!("  {note}"));
    }
}

fn render_chart(out: &mut String, chart: &Chart, width: usize) {
    line(out, &format!("  {}", chart.title));
    match &chart.plot {
        Plot::Bar { unit, bars } => render_bars(out, bars, *unit, width),
        Plot::Line { unit, x, series, marks } => render_lines(out, x, series, marks, *unit, width),
        Plot::Heatmap { unit, x_title, y_title, x, y, values } => {
            render_heatmap(out, (x_title.as_str(), y_title.as_str()), x, y, values, *unit);
        }
        Plot::Confusion { actual_title, predicted_title, labels, counts } => {
            render_confusion(out, actual_title, predicted_title, labels, counts);
        }
    }
    if let Some(note) = &chart.note {
        wrap(out, note, width, "  ");
    }
}

/// A bar `fraction` of `cells` columns long, in eighth blocks.
fn bar_text(fraction: f64, cells: usize) -> String {
    const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    let eighths = (fraction.clamp(0.0, 1.0) * (cells * 8) as f64).round() as usize;
    let mut text = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        text.push(EIGHTHS[eighths % 8 - 1]);
    }
    text
}

fn render_bars(out: &mut String, bars: &[Bar], unit: Unit, width: usize) {
    if bars.is_empty() {
        line(out, "  (no data)");
        return;
    }
    let labels: Vec<String> = bars.iter().map(|bar| cut(&bar.label, MAX_BAR_LABEL)).collect();
    let values: Vec<String> = bars.iter().map(|bar| format_number(bar.value, unit)).collect();
    let label_width = labels.iter().map(|label| text_width(label)).max().unwrap_or(0);
    let value_width = values.iter().map(|value| text_width(value)).max().unwrap_or(0);
    let max = bars.iter().map(|bar| finite_or_zero(bar.value)).fold(0.0, f64::max);
    let cells = width.saturating_sub(label_width + value_width + 10).max(10);
    for ((bar, label), value) in bars.iter().zip(&labels).zip(&values) {
        let fraction = if max > 0.0 { finite_or_zero(bar.value) / max } else { 0.0 };
        let marker = if bar.highlight { " ◀" } else { "" };
        line(
            out,
            &format!(
                "  {}  {}  {}{marker}",
                pad_right(label, label_width),
                pad_left(value, value_width),
                bar_text(fraction, cells)
            )
            .trim_end()
            .to_owned(),
        );
    }
}

fn finite_or_zero(value: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        0.0
    }
}

/// One sparkline character per bucket of points (a bucket's mean), scaled
/// between the series' minimum and maximum; gaps are spaces.
fn sparkline(values: &[Option<f64>], cells: usize) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let bucket = values.len().div_ceil(cells.max(1)).max(1);
    let means: Vec<Option<f64>> = values
        .chunks(bucket)
        .map(|chunk| {
            let present: Vec<f64> = chunk.iter().flatten().copied().filter(|value| value.is_finite()).collect();
            (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
        })
        .collect();
    let low = means.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let high = means.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
    means
        .iter()
        .map(|mean| match mean {
            None => ' ',
            Some(value) if high > low => {
                let level = ((value - low) / (high - low) * 7.0).round() as usize;
                LEVELS[level.min(7)]
            }
            Some(_) => LEVELS[3],
        })
        .collect()
}

fn render_lines(out: &mut String, x: &[String], series: &[Series], marks: &[Mark], unit: Unit, width: usize) {
    if x.is_empty() || series.is_empty() {
        line(out, "  (no data)");
        return;
    }
    let name_width = series.iter().map(|serie| text_width(&cut(&serie.name, 20))).max().unwrap_or(0);
    let cells = width.saturating_sub(name_width + 40).clamp(10, 80);
    for serie in series {
        let present: Vec<f64> = serie.values.iter().flatten().copied().filter(|value| value.is_finite()).collect();
        let low = present.iter().copied().fold(f64::INFINITY, f64::min);
        let high = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let last = serie.values.iter().rev().flatten().next().copied();
        let summary = if present.is_empty() {
            "no data".to_owned()
        } else {
            format!(
                "min {}  max {}  last {}",
                format_number(low, unit),
                format_number(high, unit),
                last.map_or_else(|| "–".to_owned(), |value| format_number(value, unit))
            )
        };
        line(
            out,
            &format!(
                "  {}  {}  {summary}",
                pad_right(&cut(&serie.name, 20), name_width),
                sparkline(&serie.values, cells)
            ),
        );
    }
    let first = x.first().map_or("", String::as_str);
    let last = x.last().map_or("", String::as_str);
    line(out, &format!("  {}  {first} → {last} ({} points)", " ".repeat(name_width), x.len()));
    for mark in marks {
        let serie = series.get(mark.series).map_or("", |serie| serie.name.as_str());
        let at = x.get(mark.index).map_or("", String::as_str);
        line(out, &format!("  ▲ {serie} at {at}: {}", mark.label));
    }
}

/// Shades of a heat map cell: nothing, then quarters of the maximum.
fn shade(value: f64, max: f64) -> &'static str {
    if !value.is_finite() || value <= 0.0 || max <= 0.0 {
        return "··";
    }
    match value / max {
        fraction if fraction <= 0.25 => "░░",
        fraction if fraction <= 0.5 => "▒▒",
        fraction if fraction <= 0.75 => "▓▓",
        _ => "██",
    }
}

fn render_heatmap(
    out: &mut String,
    (x_title, y_title): (&str, &str),
    x: &[String],
    y: &[String],
    values: &[Vec<f64>],
    unit: Unit,
) {
    let label_width = y.iter().map(|label| text_width(label)).max().unwrap_or(0).max(text_width(y_title));
    // A column label every `step` cells, so the labels never overlap.
    let longest = x.iter().map(|label| text_width(label)).max().unwrap_or(1);
    let step = (longest + 1).div_ceil(2).max(1);
    let mut header = String::new();
    for (index, label) in x.iter().enumerate().step_by(step) {
        let room = if index + step <= x.len() { step * 2 } else { (x.len() - index) * 2 };
        header.push_str(&pad_right(&cut(label, room), room));
    }
    line(out, &format!("  {}  {}   ({x_title})", pad_right(y_title, label_width), header.trim_end()));
    let max = values.iter().flatten().copied().filter(|value| value.is_finite()).fold(0.0, f64::max);
    for (row, label) in y.iter().enumerate() {
        let cells: String = (0..x.len())
            .map(|column| shade(values.get(row).and_then(|r| r.get(column)).copied().unwrap_or(0.0), max))
            .collect();
        let total: f64 = values.get(row).map_or(0.0, |r| r.iter().copied().filter(|value| value.is_finite()).sum());
        line(out, &format!("  {}  {cells}  {}", pad_right(label, label_width), format_number(total, unit)));
    }
    line(
        out,
        &format!("  ·· none  ░░ ≤25%  ▒▒ ≤50%  ▓▓ ≤75%  ██ >75% of the busiest cell ({})", format_number(max, unit)),
    );
}

fn render_confusion(
    out: &mut String,
    actual_title: &str,
    predicted_title: &str,
    labels: &[String],
    counts: &[Vec<u64>],
) {
    let short: Vec<String> = labels.iter().map(|label| cut(label, 12)).collect();
    let mut table =
        Table::new("confusion").with_column("actual", format!("{actual_title} ↓ / {predicted_title} →"), Unit::Text);
    for label in &short {
        table = table.with_column(label.clone(), label.clone(), Unit::Count);
    }
    table = table.with_column("recall", "recall", Unit::Ratio);
    let mut correct = 0u64;
    let mut total = 0u64;
    for (row, label) in labels.iter().enumerate() {
        let counts_row = counts.get(row).map_or(&[][..], Vec::as_slice);
        let row_total: u64 = counts_row.iter().sum();
        let mut cells = vec![Cell::Text(label.clone())];
        for column in 0..labels.len() {
            let count = counts_row.get(column).copied().unwrap_or(0);
            cells.push(if column == row { Cell::Text(format!("[{count}]")) } else { Cell::from(count) });
        }
        let hits = counts_row.get(row).copied().unwrap_or(0);
        correct += hits;
        total += row_total;
        cells.push(if row_total > 0 { Cell::from(hits as f64 / row_total as f64) } else { Cell::Empty });
        table.push_row(cells);
    }
    render_table(out, &table);
    if total > 0 {
        line(
            out,
            &format!(
                "  agreement (bracketed diagonal): {} of {total} = {}",
                correct,
                format_number(correct as f64 / total as f64, Unit::Ratio)
            ),
        );
    }
}
