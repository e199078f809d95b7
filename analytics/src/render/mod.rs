//! The one output layer every analytics command uses (`audit`, `replay`,
//! `diff`, `report`, the `/dashboard` page): a command builds a
//! [`Document`] — titled sections of key figures, tables, charts and notes —
//! and this module renders it three ways:
//!
//! - terminal text ([`Document::to_terminal`], `terminal.rs`): aligned
//!   figures and tables, bar charts in block characters, sparklines, shaded
//!   heat maps, a confusion matrix with its diagonal marked;
//! - JSON ([`Document::to_json`]): the model itself through serde, stable
//!   field order, so a command's `--json` is its document and snapshots of it
//!   are reviewable;
//! - one self-contained HTML page ([`Document::to_html`], `html.rs`) with
//!   inline SVG charts drawn by plotters' SVG backend (`svg.rs`): no script,
//!   no stylesheet or font fetched, readable offline.
//!
//! Numbers keep their meaning in the model ([`Unit`]): a ratio stays
//! `0.125` in JSON and becomes `12.5%` only in text and HTML (`format.rs`).
//! Non-finite numbers never reach JSON: they become empty cells.

mod format;
mod html;
mod svg;
mod terminal;

use serde::Serialize;

pub use format::{format_duration, format_number, format_value, group_thousands};
pub use html::HtmlOptions;

/// What a rendering can fail on.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Plotters refused to draw a chart.
    #[error("cannot draw chart `{chart}`: {message}")]
    Chart {
        /// The chart's key.
        chart: String,
        /// Plotters' error.
        message: String,
    },
    /// Serialising the document failed.
    #[error("cannot write the document as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A report: a title, an optional line saying what it covers, and sections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// The report's title (`routec report`, `routec audit history.csv`…).
    pub title: String,
    /// What the report covers: source, period, counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The sections, in reading order.
    pub sections: Vec<Section>,
}

impl Document {
    /// An empty document.
    pub fn new(title: impl Into<String>) -> Document {
        Document { title: title.into(), subtitle: None, sections: Vec::new() }
    }

    /// Sets the line under the title.
    #[must_use]
    pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Document {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Appends a section.
    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// Appends a section, builder style.
    #[must_use]
    pub fn with_section(mut self, section: Section) -> Document {
        self.sections.push(section);
        self
    }

    /// The section with this key, if any.
    pub fn section(&self, key: &str) -> Option<&Section> {
        self.sections.iter().find(|section| section.key == key)
    }

    /// The document as pretty-printed JSON (what `--json` prints).
    pub fn to_json(&self) -> Result<String, RenderError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// The document as terminal text, laid out for `width` columns.
    pub fn to_terminal(&self, width: usize) -> String {
        terminal::render(self, width)
    }

    /// The document as one self-contained HTML page with inline SVG charts.
    pub fn to_html(&self, options: &HtmlOptions) -> Result<String, RenderError> {
        html::render(self, options)
    }
}

/// A titled part of a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Stable identifier (`misroutes`, `volume_by_intent`): JSON readers and
    /// HTML anchors use it.
    pub key: String,
    /// Heading shown to people.
    pub title: String,
    /// The content, in reading order.
    pub blocks: Vec<Block>,
}

impl Section {
    /// An empty section.
    pub fn new(key: impl Into<String>, title: impl Into<String>) -> Section {
        Section { key: key.into(), title: title.into(), blocks: Vec::new() }
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// Appends key figures.
    #[must_use]
    pub fn with_figures(mut self, figures: Vec<Figure>) -> Section {
        self.blocks.push(Block::Figures { figures });
        self
    }

    /// Appends a table.
    #[must_use]
    pub fn with_table(mut self, table: Table) -> Section {
        self.blocks.push(Block::Table(table));
        self
    }

    /// Appends a chart.
    #[must_use]
    pub fn with_chart(mut self, chart: Chart) -> Section {
        self.blocks.push(Block::Chart(chart));
        self
    }

    /// Appends a paragraph of text (a definition, a caveat, a finding).
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Section {
        self.blocks.push(Block::Text { text: text.into() });
        self
    }
}

/// One piece of a section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// Key figures, shown side by side.
    Figures {
        /// The figures, in order.
        figures: Vec<Figure>,
    },
    /// A table.
    Table(Table),
    /// A chart.
    Chart(Chart),
    /// A paragraph.
    Text {
        /// Plain text (no markup).
        text: String,
    },
}

/// What a number means, so every renderer formats it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count of things: `12,345`.
    Count,
    /// A fraction in [0, 1], shown as a percentage: `0.125` → `12.5%`.
    Ratio,
    /// A duration in seconds, shown as `3h 05m`.
    Seconds,
    /// Any other number, shown with up to two decimals.
    Number,
    /// Text.
    Text,
}

impl Unit {
    /// Numbers are right-aligned in tables; text is left-aligned.
    pub fn is_numeric(self) -> bool {
        !matches!(self, Unit::Text)
    }
}

/// One value: a JSON number, string or null.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    /// An integer.
    Int(i64),
    /// A finite number.
    Float(f64),
    /// Text.
    Text(String),
    /// No value (unknown, not applicable, or not finite).
    Empty,
}

impl Cell {
    /// The number in the cell, if it holds one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(value) => Some(*value as f64),
            Cell::Float(value) => Some(*value),
            Cell::Text(_) | Cell::Empty => None,
        }
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Cell {
        if value.is_finite() {
            Cell::Float(value)
        } else {
            Cell::Empty
        }
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Cell {
        Cell::Int(value)
    }
}

impl From<u64> for Cell {
    fn from(value: u64) -> Cell {
        i64::try_from(value).map_or(Cell::Empty, Cell::Int)
    }
}

impl From<usize> for Cell {
    fn from(value: usize) -> Cell {
        i64::try_from(value).map_or(Cell::Empty, Cell::Int)
    }
}

impl From<u32> for Cell {
    fn from(value: u32) -> Cell {
        Cell::Int(i64::from(value))
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Cell {
        Cell::Text(value.to_owned())
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Cell {
        Cell::Text(value)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Cell {
        value.map_or(Cell::Empty, Into::into)
    }
}

/// A key figure: a labelled value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// Stable identifier (`misroute_rate`).
    pub key: String,
    /// Label shown to people.
    pub label: String,
    /// The value.
    pub value: Cell,
    /// How to read the value.
    pub unit: Unit,
    /// A short qualifier (`of 2,140 resolved tickets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Figure {
    /// A figure without a note.
    pub fn new(key: impl Into<String>, label: impl Into<String>, value: impl Into<Cell>, unit: Unit) -> Figure {
        Figure { key: key.into(), label: label.into(), value: value.into(), unit, note: None }
    }

    /// Adds the qualifier shown beside the value.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Figure {
        self.note = Some(note.into());
        self
    }
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// Stable identifier (the JSON reader's name for the column).
    pub key: String,
    /// Header shown to people.
    pub title: String,
    /// How to read the column's values.
    pub unit: Unit,
}

/// A table: columns and rows of cells (one cell per column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Stable identifier.
    pub key: String,
    /// Caption, when the section's title is not enough.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows; a short row reads as empty cells at its end.
    pub rows: Vec<Vec<Cell>>,
    /// A note under the table (what was left out, how it is sorted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Table {
    /// A table without columns or rows.
    pub fn new(key: impl Into<String>) -> Table {
        Table { key: key.into(), title: None, columns: Vec::new(), rows: Vec::new(), note: None }
    }

    /// Sets the caption.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Table {
        self.title = Some(title.into());
        self
    }

    /// Appends a column.
    #[must_use]
    pub fn with_column(mut self, key: impl Into<String>, title: impl Into<String>, unit: Unit) -> Table {
        self.columns.push(Column { key: key.into(), title: title.into(), unit });
        self
    }

    /// Sets the note under the table.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Table {
        self.note = Some(note.into());
        self
    }

    /// Appends a row.
    pub fn push_row(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

/// A chart: a title and what to plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Stable identifier.
    pub key: String,
    /// Caption.
    pub title: String,
    /// The data and how to draw it.
    pub plot: Plot,
    /// A note under the chart (how to read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The kinds of chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Plot {
    /// Horizontal bars, one per category, in the given order.
    Bar {
        /// How to read the values.
        unit: Unit,
        /// The bars.
        bars: Vec<Bar>,
    },
    /// Lines over ordered points (days, weeks): one or more series sharing
    /// the x labels, with marked points (spikes, releases).
    Line {
        /// How to read the values.
        unit: Unit,
        /// The x labels, in order.
        x: Vec<String>,
        /// The series; each has one value (or none) per x label.
        series: Vec<Series>,
        /// Points to flag.
        marks: Vec<Mark>,
    },
    /// A grid of values: rows `y` × columns `x` (hour of week: weekdays ×
    /// hours).
    Heatmap {
        /// How to read the values.
        unit: Unit,
        /// What the columns are.
        x_title: String,
        /// What the rows are.
        y_title: String,
        /// Column labels.
        x: Vec<String>,
        /// Row labels.
        y: Vec<String>,
        /// `values[row][column]`.
        values: Vec<Vec<f64>>,
    },
    /// A confusion matrix: `counts[actual][predicted]` over one label list.
    Confusion {
        /// What the rows are (`final destination`).
        actual_title: String,
        /// What the columns are (`routec's destination`).
        predicted_title: String,
        /// The labels, rows and columns alike.
        labels: Vec<String>,
        /// `counts[actual][predicted]`.
        counts: Vec<Vec<u64>>,
    },
}

/// One bar of a bar chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    /// The category.
    pub label: String,
    /// Its value (non-finite values draw as zero).
    pub value: f64,
    /// Drawn in the warning colour (a spike, a category too small).
    pub highlight: bool,
}

impl Bar {
    /// A plain bar.
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar { label: label.into(), value, highlight: false }
    }

    /// A bar drawn in the warning colour when `highlight` holds.
    #[must_use]
    pub fn highlighted(mut self, highlight: bool) -> Bar {
        self.highlight = highlight;
        self
    }
}

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// One value per x label; `None` where there is no data (a gap).
    pub values: Vec<Option<f64>>,
}

/// A flagged point of a line chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    /// Index of the series.
    pub series: usize,
    /// Index of the x label.
    pub index: usize,
    /// What happened there (`spike: 3.4× the usual`).
    pub label: String,
}

/// Weekday names of hour-of-week heat maps, Monday first (ISO 8601).
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Chart {
    /// A chart of any kind.
    pub fn new(key: impl Into<String>, title: impl Into<String>, plot: Plot) -> Chart {
        Chart { key: key.into(), title: title.into(), plot, note: None }
    }

    /// Adds the note under the chart.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Chart {
        self.note = Some(note.into());
        self
    }

    /// Horizontal bars.
    pub fn bar(key: impl Into<String>, title: impl Into<String>, unit: Unit, bars: Vec<Bar>) -> Chart {
        Chart::new(key, title, Plot::Bar { unit, bars })
    }

    /// Lines over `x` without marks.
    pub fn line(
        key: impl Into<String>,
        title: impl Into<String>,
        unit: Unit,
        x: Vec<String>,
        series: Vec<Series>,
    ) -> Chart {
        Chart::new(key, title, Plot::Line { unit, x, series, marks: Vec::new() })
    }

    /// Arrivals by hour of week: `counts[weekday][hour]`, Monday first, hours
    /// 0–23 in the time zone the caller chose (say which in a note).
    pub fn hour_of_week(key: impl Into<String>, title: impl Into<String>, counts: &[[u64; 24]; 7]) -> Chart {
        let values = counts.iter().map(|day| day.iter().map(|count| *count as f64).collect()).collect();
        Chart::new(
            key,
            title,
            Plot::Heatmap {
                unit: Unit::Count,
                x_title: "hour".to_owned(),
                y_title: "weekday".to_owned(),
                x: (0..24).map(|hour| format!("{hour:02}")).collect(),
                y: WEEKDAYS.iter().map(|day| (*day).to_owned()).collect(),
                values,
            },
        )
    }

    /// A confusion matrix, `counts[actual][predicted]`.
    pub fn confusion(
        key: impl Into<String>,
        title: impl Into<String>,
        actual_title: impl Into<String>,
        predicted_title: impl Into<String>,
        labels: Vec<String>,
        counts: Vec<Vec<u64>>,
    ) -> Chart {
        Chart::new(
            key,
            title,
            Plot::Confusion {
                actual_title: actual_title.into(),
                predicted_title: predicted_title.into(),
                labels,
                counts,
            },
        )
    }

    /// Adds flagged points to a line chart (other kinds are unchanged).
    #[must_use]
    pub fn with_marks(mut self, new_marks: Vec<Mark>) -> Chart {
        if let Plot::Line { marks, .. } = &mut self.plot {
            marks.extend(new_marks);
        }
        self
    }
}

#[cfg(test)]
mod tests;
