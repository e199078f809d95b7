//! Reading a ticket history: a helpdesk's export of past tickets as CSV or
//! JSON Lines, one record at a time (streaming, at most
//! [`MAX_RECORD_BYTES`] a record), with a [`Mapping`] that says which column
//! plays which part (creation time, category, first and final destination…),
//! how the helpdesk's values are renamed to the policy's, and what to assume
//! for ticket fields the export lacks.
//!
//! A record that cannot be read (too long, not UTF-8, malformed JSON, a
//! timestamp that does not parse) is a [`Rejected`] row with its line
//! number; the records after it are read as usual. `audit`, `replay` and
//! `init --from` all read histories through here.

use routec_compiler::hir;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The longest record kept (1 MiB): far above any ticket, small enough that
/// a file without newlines (or with an unterminated quote) cannot exhaust
/// memory. A longer record is skipped up to its end and reported.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Which column of the history plays which part. Each defaults to the
/// column of the conventional name; a part whose column is absent is
/// simply not reported on.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Columns {
    /// The ticket's id.
    pub id: String,
    /// When the ticket was created (RFC 3339).
    pub created_at: String,
    /// The text columns (subject, body…), joined for keywords and clustering.
    pub text: Vec<String>,
    /// The category humans gave the ticket (intent, type, topic).
    pub category: String,
    /// The channel the ticket came in through.
    pub channel: String,
    /// The customer's tier or plan.
    pub tier: String,
    /// The group or queue the ticket was first assigned to.
    pub first_destination: String,
    /// The group or queue that resolved the ticket.
    pub final_destination: String,
    /// How many times the ticket was reassigned after its first assignment.
    pub reassignments: String,
    /// When the ticket was first assigned (RFC 3339).
    pub first_assigned_at: String,
    /// When the ticket was resolved (RFC 3339).
    pub resolved_at: String,
}

impl Default for Columns {
    fn default() -> Columns {
        Columns {
            id: "id".into(),
            created_at: "created_at".into(),
            text: vec!["subject".into(), "body".into()],
            category: "category".into(),
            channel: "channel".into(),
            tier: "customer.tier".into(),
            first_destination: "first_destination".into(),
            final_destination: "final_destination".into(),
            reassignments: "reassignments".into(),
            first_assigned_at: "first_assigned_at".into(),
            resolved_at: "resolved_at".into(),
        }
    }
}

/// How to read a history: the `--mapping` file (TOML), adjusted by
/// `--column ROLE=NAME` flags.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    /// Which column plays which part.
    pub columns: Columns,
    /// Per column, the helpdesk's values renamed to the policy's
    /// (`[values.channel] web_form = "web"`).
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Policy ticket fields read from a column of another name
    /// (`[fields] "customer.tier" = "plan"`).
    pub fields: BTreeMap<String, String>,
    /// Policy ticket fields the history lacks, with the value to assume.
    pub defaults: BTreeMap<String, Value>,
    /// Per SLA of the policy, the column holding the moment it was met
    /// (`[sla] resolution = "resolved_at"`).
    pub sla: BTreeMap<String, String>,
}

/// Why a mapping or its flags cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The mapping file cannot be read.
    #[error("cannot read the mapping `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The mapping file is not valid TOML of the expected shape.
    #[error("the mapping `{path}` is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, as the TOML reader says it.
        message: String,
    },
    /// A `--column` flag names no part or has no `=`.
    #[error("`--column {flag}`: {reason}")]
    Flag {
        /// The flag's value.
        flag: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The mapping files are small; a bigger one is a mistake.
const MAX_MAPPING_BYTES: u64 = 1 << 20;

impl Mapping {
    /// Read a mapping file (TOML).
    pub fn read(path: &Path) -> Result<Mapping, MappingError> {
        use std::io::Read;
        let read_error = |source| MappingError::Read { path: path.to_path_buf(), source };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(read_error)?
            .take(MAX_MAPPING_BYTES)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        toml::from_str(&text)
            .map_err(|e| MappingError::Invalid { path: path.to_path_buf(), message: e.message().to_string() })
    }

    /// The mapping beside a history (`history.csv` → `history.toml`), when
    /// there is one.
    pub fn beside(history: &Path) -> Option<PathBuf> {
        let candidate = history.with_extension("toml");
        (candidate != history && candidate.is_file()).then_some(candidate)
    }

    /// Apply one `--column ROLE=NAME` flag (`text` takes a comma-separated list).
    pub fn set_column(&mut self, flag: &str) -> Result<(), MappingError> {
        let refuse = |reason: &str| MappingError::Flag { flag: flag.to_string(), reason: reason.to_string() };
        let (role, name) = flag.split_once('=').ok_or_else(|| refuse("expected ROLE=COLUMN"))?;
        let name = name.trim().to_string();
        let c = &mut self.columns;
        let slot = match role.trim() {
            "text" => {
                c.text = name.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                return Ok(());
            }
            "id" => &mut c.id,
            "created_at" => &mut c.created_at,
            "category" => &mut c.category,
            "channel" => &mut c.channel,
            "tier" => &mut c.tier,
            "first_destination" => &mut c.first_destination,
            "final_destination" => &mut c.final_destination,
            "reassignments" => &mut c.reassignments,
            "first_assigned_at" => &mut c.first_assigned_at,
            "resolved_at" => &mut c.resolved_at,
            _ => {
                return Err(refuse(
                    "the parts are id, created_at, text, category, channel, tier, first_destination, \
                     final_destination, reassignments, first_assigned_at, resolved_at",
                ))
            }
        };
        *slot = name;
        Ok(())
    }

    /// `value` of `column` renamed as the mapping says.
    fn rename<'a>(&'a self, column: &str, value: Cow<'a, str>) -> Cow<'a, str> {
        match self.values.get(column).and_then(|renames| renames.get(value.as_ref())) {
            Some(renamed) => Cow::Borrowed(renamed.as_str()),
            None => value,
        }
    }
}

/// The two formats a history comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
    /// One JSON object per line; nested objects are addressed by dotted paths.
    JsonLines,
}

impl Format {
    /// JSON Lines when the extension says so (`.jsonl`, `.ndjson`, `.json`),
    /// CSV otherwise.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson" | "json") => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// A row that was not read, and why.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Rejected {
    /// The line the record starts on (1-based; the CSV header is line 1).
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// One record's text, before its fields are split.
#[derive(Debug)]
pub struct RawRecord {
    /// The line it starts on.
    pub line: u64,
    /// Its text, without the line ending.
    pub text: String,
}

/// The records of a history, each at most [`MAX_RECORD_BYTES`]: lines for
/// JSON Lines, lines outside quotes for CSV (a quoted field may hold line
/// breaks). Reading stops at the first I/O error, which is returned.
pub struct Records<R> {
    input: R,
    format: Format,
    max: usize,
    next_line: u64,
    done: bool,
}

impl<R: BufRead> Records<R> {
    /// Records of at most [`MAX_RECORD_BYTES`].
    pub fn new(input: R, format: Format) -> Records<R> {
        Records::with_max(input, format, MAX_RECORD_BYTES)
    }

    fn with_max(input: R, format: Format, max: usize) -> Records<R> {
        Records { input, format, max, next_line: 1, done: false }
    }

    /// Read one record into `out`: (whether there was one, whether it was cut, lines it spans).
    fn read_record(&mut self, out: &mut Vec<u8>) -> std::io::Result<(bool, bool, u64)> {
        let csv = self.format == Format::Csv;
        let (mut any, mut too_long, mut in_quotes, mut lines) = (false, false, false, 1u64);
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                return Ok((any, too_long, lines));
            }
            any = true;
            let mut end = None;
            for (i, &b) in chunk.iter().enumerate() {
                match b {
                    b'"' if csv => in_quotes = !in_quotes,
                    b'\n' if in_quotes => lines += 1,
                    b'\n' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(chunk.len());
            if !too_long {
                if out.len() + take > self.max {
                    too_long = true;
                    out.clear();
                } else {
                    out.extend_from_slice(&chunk[..take]);
                }
            }
            let used = end.map_or(take, |i| i + 1);
            self.input.consume(used);
            if end.is_some() {
                return Ok((true, too_long, lines));
            }
        }
    }
}

impl<R: BufRead> Iterator for Records<R> {
    type Item = Result<RawRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut bytes = Vec::new();
        let line = self.next_line;
        match self.read_record(&mut bytes) {
            Err(e) => {
                self.done = true;
                Some(Err(RecordError::Io(e)))
            }
            Ok((false, _, _)) => {
                self.done = true;
                None
            }
            Ok((true, too_long, lines)) => {
                self.next_line += lines;
                if too_long {
                    return Some(Err(RecordError::Rejected(Rejected {
                        line,
                        reason: format!("the record is longer than {MAX_RECORD_BYTES} bytes; skipped"),
                    })));
                }
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                Some(match String::from_utf8(bytes) {
                    Ok(text) => Ok(RawRecord { line, text }),
                    Err(_) => Err(RecordError::Rejected(Rejected { line, reason: "the record is not UTF-8".into() })),
                })
            }
        }
    }
}

/// Why [`Records`] did not return a record.
#[derive(Debug)]
pub enum RecordError {
    /// This record is skipped; the next ones are read.
    Rejected(Rejected),
    /// Reading failed; nothing more is read.
    Io(std::io::Error),
}

/// The fields of one CSV record (RFC 4180: `"` quotes a field, `""` is a
/// quote inside one). `None` when a quote is not closed or text follows a
/// closing quote.
pub fn split_csv(record: &str) -> Option<Vec<String>> {
    let mut fields = Vec::with_capacity(16);
    let mut field = String::new();
    let mut chars = record.chars().peekable();
    loop {
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Some(fields);
                }
                Some(',') => fields.push(std::mem::take(&mut field)),
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Some(fields);
                    }
                    Some(',') => {
                        fields.push(std::mem::take(&mut field));
                        break;
                    }
                    Some(c) => field.push(c),
                }
            }
        }
    }
}

/// The column names of a CSV history, from its header record.
#[derive(Clone, Debug, Default)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// The header from the first record's text.
    pub fn parse(text: &str) -> Option<Header> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let names = split_csv(text)?.into_iter().map(|n| n.trim().to_string()).collect();
        Some(Header { names })
    }

    /// The column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// One record split into fields.
#[derive(Clone, Debug)]
pub enum Row {
    /// A CSV record's fields, in header order.
    Csv(Vec<String>),
    /// A JSON Lines record.
    Json(Map<String, Value>),
}

impl Row {
    /// Split a record. `header` is `None` for JSON Lines.
    pub fn parse(record: &RawRecord, header: Option<&Header>) -> Result<Row, Rejected> {
        let reject = |reason: String| Rejected { line: record.line, reason };
        match header {
            Some(header) => {
                let fields = split_csv(&record.text).ok_or_else(|| reject("a quoted field is not closed".into()))?;
                if fields.len() > header.names.len() {
                    return Err(reject(format!(
                        "{} fields, but the header names {}",
                        fields.len(),
                        header.names.len()
                    )));
                }
                Ok(Row::Csv(fields))
            }
            None => match serde_json::from_str::<Value>(&record.text) {
                Ok(Value::Object(map)) => Ok(Row::Json(map)),
                Ok(_) => Err(reject("expected a JSON object".into())),
                Err(e) => Err(reject(format!("not JSON: {e}"))),
            },
        }
    }

    /// Whether the record holds nothing (a blank line).
    pub fn is_blank(&self) -> bool {
        match self {
            Row::Csv(fields) => fields.iter().all(|f| f.trim().is_empty()),
            Row::Json(map) => map.is_empty(),
        }
    }
}

/// Where a column is found in a row.
#[derive(Clone, Debug)]
enum Locate {
    /// The CSV field at this index.
    Index(usize),
    /// A JSON path: the flat key first (`"customer.tier"`), then nested objects.
    Path(String),
    /// The CSV history has no such column.
    Missing,
}

/// A column of the history, resolved once against the header.
#[derive(Clone, Debug)]
pub struct Column {
    name: String,
    locate: Locate,
}

impl Column {
    fn resolve(name: &str, header: Option<&Header>) -> Column {
        let locate = match header {
            Some(h) => h.index(name).map_or(Locate::Missing, Locate::Index),
            None if name.is_empty() => Locate::Missing,
            None => Locate::Path(name.to_string()),
        };
        Column { name: name.to_string(), locate }
    }

    /// The column's name in the history.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a CSV header names this column (always true for JSON Lines,
    /// where any row may hold it).
    pub fn exists(&self) -> bool {
        !matches!(self.locate, Locate::Missing)
    }

    /// The cell's JSON value (CSV cells are strings); `None` when absent or blank.
    fn value<'r>(&self, row: &'r Row) -> Option<Cow<'r, Value>> {
        let found = match (&self.locate, row) {
            (Locate::Index(i), Row::Csv(fields)) => {
                let text = fields.get(*i)?;
                return (!text.trim().is_empty()).then(|| Cow::Owned(Value::String(text.clone())));
            }
            (Locate::Path(path), Row::Json(map)) => json_path(map, path)?,
            _ => return None,
        };
        match found {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            v => Some(Cow::Borrowed(v)),
        }
    }

    /// The cell as text (numbers and booleans written out); `None` when absent or blank.
    pub fn text<'r>(&self, row: &'r Row) -> Option<Cow<'r, str>> {
        match (&self.locate, row) {
            (Locate::Index(i), Row::Csv(fields)) => {
                fields.get(*i).map(|s| Cow::Borrowed(s.as_str())).filter(|s| !s.trim().is_empty())
            }
            (Locate::Path(path), Row::Json(map)) => match json_path(map, path)? {
                Value::String(s) => Some(Cow::Borrowed(s.as_str())).filter(|s| !s.trim().is_empty()),
                Value::Null => None,
                Value::Array(_) | Value::Object(_) => None,
                other => Some(Cow::Owned(other.to_string())),
            },
            _ => None,
        }
    }
}

fn json_path<'m>(map: &'m Map<String, Value>, path: &str) -> Option<&'m Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let mut segments = path.split('.');
    let mut cur = map.get(segments.next()?)?;
    for seg in segments {
        cur = cur.as_object()?.get(seg)?;
    }
    Some(cur)
}

/// Parse an RFC 3339 time of a history column.
pub fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    text.trim().parse::<jiff::Timestamp>().ok()
}

/// What the history says happened to one ticket: the parts [`Columns`] names.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The ticket's id.
    pub id: Option<String>,
    /// When it was created.
    pub created_at: Option<jiff::Timestamp>,
    /// The category humans gave it.
    pub category: Option<String>,
    /// The channel.
    pub channel: Option<String>,
    /// The customer's tier.
    pub tier: Option<String>,
    /// The first assignment's destination.
    pub first_destination: Option<String>,
    /// The destination that resolved it.
    pub final_destination: Option<String>,
    /// Reassignments after the first assignment.
    pub reassignments: Option<u32>,
    /// When it was first assigned.
    pub first_assigned_at: Option<jiff::Timestamp>,
    /// When it was resolved.
    pub resolved_at: Option<jiff::Timestamp>,
}

/// A history's columns resolved against its header: reads [`Outcome`]s,
/// text and policy tickets out of [`Row`]s. Cheap to share between threads.
#[derive(Clone, Debug)]
pub struct Reader {
    mapping: Arc<Mapping>,
    header: Option<Header>,
    id: Column,
    created_at: Column,
    text: Vec<Column>,
    category: Column,
    channel: Column,
    tier: Column,
    first_destination: Column,
    final_destination: Column,
    reassignments: Column,
    first_assigned_at: Column,
    resolved_at: Column,
}

impl Reader {
    /// Resolve `mapping` against `header` (`None` for JSON Lines).
    pub fn new(mapping: Mapping, header: Option<Header>) -> Reader {
        let h = header.as_ref();
        let c = &mapping.columns;
        Reader {
            id: Column::resolve(&c.id, h),
            created_at: Column::resolve(&c.created_at, h),
            text: c.text.iter().map(|t| Column::resolve(t, h)).filter(Column::exists).collect(),
            category: Column::resolve(&c.category, h),
            channel: Column::resolve(&c.channel, h),
            tier: Column::resolve(&c.tier, h),
            first_destination: Column::resolve(&c.first_destination, h),
            final_destination: Column::resolve(&c.final_destination, h),
            reassignments: Column::resolve(&c.reassignments, h),
            first_assigned_at: Column::resolve(&c.first_assigned_at, h),
            resolved_at: Column::resolve(&c.resolved_at, h),
            header,
            mapping: Arc::new(mapping),
        }
    }

    /// The mapping this reader applies.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The CSV header, when the history is CSV.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The category column, when the history has one.
    pub fn category_column(&self) -> Option<&Column> {
        Some(&self.category).filter(|c| c.exists())
    }

    /// The text columns the history has.
    pub fn text_columns(&self) -> &[Column] {
        &self.text
    }

    /// Any column by name, resolved against this history's header.
    pub fn column(&self, name: &str) -> Column {
        Column::resolve(name, self.header.as_ref())
    }

    /// A column's cell, renamed as the mapping says.
    pub fn cell<'r>(&'r self, column: &Column, row: &'r Row) -> Option<String> {
        column.text(row).map(|v| self.mapping.rename(column.name(), v).trim().to_string())
    }

    fn time(&self, column: &Column, row: &Row, line: u64) -> Result<Option<jiff::Timestamp>, Rejected> {
        match column.text(row) {
            None => Ok(None),
            Some(text) => parse_time(&text).map(Some).ok_or_else(|| Rejected {
                line,
                reason: format!("`{}`: `{}` is not an RFC 3339 time", column.name(), elide(&text)),
            }),
        }
    }

    /// The ticket's text: the text columns joined by a blank line.
    pub fn text(&self, row: &Row) -> String {
        let mut out = String::new();
        for column in &self.text {
            if let Some(t) = column.text(row) {
                if !out.is_empty() {
                    out.push_str("\n\n");
                }
                out.push_str(&t);
            }
        }
        out
    }

    /// What happened to the ticket. A time or count that does not parse
    /// rejects the row (a silent gap would skew every rate).
    pub fn outcome(&self, row: &Row, line: u64) -> Result<Outcome, Rejected> {
        let reassignments = match self.reassignments.text(row) {
            None => None,
            Some(text) => Some(text.trim().parse::<u32>().map_err(|_| Rejected {
                line,
                reason: format!("`{}`: `{}` is not a whole number", self.reassignments.name(), elide(&text)),
            })?),
        };
        Ok(Outcome {
            id: self.cell(&self.id, row),
            created_at: self.time(&self.created_at, row, line)?,
            category: self.cell(&self.category, row),
            channel: self.cell(&self.channel, row),
            tier: self.cell(&self.tier, row),
            first_destination: self.cell(&self.first_destination, row),
            final_destination: self.cell(&self.final_destination, row),
            reassignments,
            first_assigned_at: self.time(&self.first_assigned_at, row, line)?,
            resolved_at: self.time(&self.resolved_at, row, line)?,
        })
    }
}

/// Text of user input shown in a message, cut to 60 characters.
pub fn elide(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(60) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}

/// Builds a policy's ticket JSON from history rows: each field of the
/// policy's schema from the column of its name (or the one `[fields]`
/// names), its text converted to the field's type, renamed as `[values]`
/// says, or `[defaults]` when the history has no such column.
#[derive(Clone, Debug)]
pub struct TicketShape {
    fields: Vec<ShapeField>,
}

#[derive(Clone, Debug)]
struct ShapeField {
    path: Vec<String>,
    kind: Kind,
    column: Column,
    default: Option<Value>,
}

/// The JSON a field's text becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Text,
    Int,
    Number,
    Bool,
    List,
}

impl TicketShape {
    /// The shape of `policy`'s tickets in this history. Err lists the
    /// required fields a CSV history has no column and no default for.
    pub fn new(policy: &hir::Policy, reader: &Reader) -> Result<TicketShape, Vec<String>> {
        let mut missing = Vec::new();
        let mut fields = Vec::new();
        for field in &policy.fields {
            let name = reader.mapping.fields.get(&field.path).cloned().unwrap_or_else(|| field.path.clone());
            let column = reader.column(&name);
            let default = reader.mapping.defaults.get(&field.path).cloned();
            if !column.exists() && default.is_none() && !field.optional {
                missing.push(field.path.clone());
            }
            let kind = match &field.ty {
                hir::Ty::Int => Kind::Int,
                hir::Ty::Number => Kind::Number,
                hir::Ty::Bool => Kind::Bool,
                hir::Ty::List(_) => Kind::List,
                _ => Kind::Text,
            };
            fields.push(ShapeField {
                path: field.path.split('.').map(str::to_string).collect(),
                kind,
                column,
                default,
            });
        }
        if missing.is_empty() {
            Ok(TicketShape { fields })
        } else {
            Err(missing)
        }
    }

    /// The ticket JSON of one row. Text that is not of the field's type is
    /// passed on as text, so the policy's ticket check names the field.
    pub fn ticket(&self, reader: &Reader, row: &Row) -> Value {
        let mut ticket = Map::new();
        for field in &self.fields {
            let value = match field.column.value(row) {
                Some(v) => match v.as_ref() {
                    Value::String(text) => typed(field.kind, &reader.mapping.rename(field.column.name(), text.into())),
                    _ => v.into_owned(),
                },
                None => match &field.default {
                    Some(d) => d.clone(),
                    None => continue,
                },
            };
            insert_path(&mut ticket, &field.path, value);
        }
        Value::Object(ticket)
    }
}

fn typed(kind: Kind, text: &str) -> Value {
    let t = text.trim();
    let parsed = match kind {
        Kind::Text => None,
        Kind::Int => t.parse::<i64>().ok().map(Value::from),
        Kind::Number => t.parse::<f64>().ok().filter(|n| n.is_finite()).map(Value::from),
        Kind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(Value::Bool(true)),
            "false" | "no" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::List => Some(if t.starts_with('[') {
            serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string()))
        } else {
            Value::Array(t.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()).map(Value::from).collect())
        }),
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

fn insert_path(map: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// Opens a history: its format, its header (CSV) and a [`Reader`], with the
/// records after the header still to read.
pub struct Opened<R> {
    /// The format, from the file's extension.
    pub format: Format,
    /// The reader of rows.
    pub reader: Reader,
    /// The records after the header.
    pub records: Records<R>,
    /// A header that could not be read.
    pub header_error: Option<Rejected>,
}

/// Start reading a history from `input`.
pub fn open<R: BufRead>(input: R, format: Format, mapping: Mapping) -> Result<Opened<R>, std::io::Error> {
    let mut records = Records::new(input, format);
    let mut header_error = None;
    let header = match format {
        Format::JsonLines => None,
        Format::Csv => match records.next() {
            None => Some(Header::default()),
            Some(Err(RecordError::Io(e))) => return Err(e),
            Some(Err(RecordError::Rejected(r))) => {
                header_error = Some(r);
                Some(Header::default())
            }
            Some(Ok(record)) => match Header::parse(&record.text) {
                Some(h) => Some(h),
                None => {
                    header_error = Some(Rejected { line: 1, reason: "the header's quotes are not closed".into() });
                    Some(Header::default())
                }
            },
        },
    };
    Ok(Opened { format, reader: Reader::new(mapping, header), records, header_error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn records(input: &str, format: Format, max: usize) -> Vec<String> {
        Records::with_max(std::io::BufReader::with_capacity(4, input.as_bytes()), format, max)
            .map(|r| match r {
                Ok(r) => format!("{}:{}", r.line, r.text),
                Err(RecordError::Rejected(r)) => format!("{}:<{}>", r.line, r.reason),
                Err(RecordError::Io(e)) => format!("<io {e}>"),
            })
            .collect()
    }

    #[test]
    fn csv_records_may_span_lines_inside_quotes() {
        let got = records("a,b\n1,\"two\nlines\"\r\n3,x\n", Format::Csv, 100);
        assert_eq!(got, ["1:a,b", "2:1,\"two\nlines\"", "4:3,x"]);
        let json = records("{\"a\": \"\\\"\"}\n{}\n", Format::JsonLines, 100);
        assert_eq!(json, ["1:{\"a\": \"\\\"\"}", "2:{}"]);
    }

    #[test]
    fn a_long_record_is_skipped_and_the_next_is_read() {
        let got = records("ok\n\"never closed\nmore\n", Format::Csv, 8);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], "1:ok");
        assert!(got[1].starts_with("2:<the record is longer"), "{got:?}");
        let next = records("0123456789\nfine\n", Format::JsonLines, 8);
        assert!(next[0].starts_with("1:<the record is longer") && next[1] == "2:fine", "{next:?}");
    }

    #[test]
    fn an_endless_record_is_read_in_bounded_memory() {
        let zeros = std::io::BufReader::new(std::io::repeat(b'"').take(32 << 20));
        let got: Vec<_> = Records::with_max(zeros, Format::Csv, 1024).collect();
        assert_eq!(got.len(), 1);
        assert!(matches!(&got[0], Err(RecordError::Rejected(r)) if r.line == 1));
    }

    #[test]
    fn csv_fields_follow_rfc_4180() {
        assert_eq!(
            split_csv("a,\"b,c\",\"say \"\"hi\"\"\","),
            Some(vec!["a".into(), "b,c".into(), "say \"hi\"".into(), String::new()])
        );
        assert_eq!(split_csv(""), Some(vec![String::new()]));
        assert_eq!(split_csv("\"open"), None);
        assert_eq!(split_csv("\"a\"b"), None);
    }

    fn reader(header: &str, mapping: Mapping) -> Reader {
        Reader::new(mapping, Header::parse(header))
    }

    #[test]
    fn outcomes_read_the_mapped_columns_and_rename_values() {
        let mut mapping = Mapping::default();
        mapping.set_column("category=intent").expect("a known part");
        mapping.set_column("final_destination=group").expect("a known part");
        mapping.values.insert("group".into(), [("Billing Team".to_string(), "billing".to_string())].into());
        let r = reader("id,intent,group,created_at,reassignments", mapping);
        let row = Row::Csv(vec![
            "T-1".into(),
            "billing".into(),
            "Billing Team".into(),
            "2026-11-24T10:00:00Z".into(),
            "2".into(),
        ]);
        let outcome = r.outcome(&row, 2).expect("a valid row");
        assert_eq!(outcome.final_destination.as_deref(), Some("billing"));
        assert_eq!(outcome.category.as_deref(), Some("billing"));
        assert_eq!(outcome.reassignments, Some(2));
        assert_eq!(outcome.created_at.map(|t| t.as_second()), Some(1_795_514_400));
        let bad = Row::Csv(vec!["T-2".into(), "".into(), "".into(), "yesterday".into()]);
        let rejected = r.outcome(&bad, 3).expect_err("an unparsable time rejects the row");
        assert_eq!(rejected.line, 3);
        assert!(rejected.reason.contains("`created_at`: `yesterday`"), "{}", rejected.reason);
    }

    #[test]
    fn unknown_parts_and_malformed_flags_are_refused() {
        let mut mapping = Mapping::default();
        assert!(mapping.set_column("colour=red").is_err());
        assert!(mapping.set_column("category").is_err());
        mapping.set_column("text=title, description").expect("a list");
        assert_eq!(mapping.columns.text, ["title", "description"]);
        let parsed: Result<Mapping, _> = toml::from_str("[columns]\ncolour = \"x\"\n");
        assert!(parsed.is_err(), "unknown keys are refused, not ignored");
    }

    #[test]
    fn json_lines_read_flat_and_nested_paths() {
        let r = Reader::new(Mapping::default(), None);
        let record = RawRecord {
            line: 1,
            text: r#"{"id": 7, "customer": {"tier": "pro"}, "final_destination": "billing", "reassignments": 1}"#
                .into(),
        };
        let row = Row::parse(&record, None).expect("an object");
        let outcome = r.outcome(&row, 1).expect("valid");
        assert_eq!(outcome.id.as_deref(), Some("7"));
        assert_eq!(outcome.tier.as_deref(), Some("pro"));
        assert_eq!(outcome.reassignments, Some(1));
        let flat =
            Row::parse(&RawRecord { line: 2, text: r#"{"customer.tier": "free"}"#.into() }, None).expect("an object");
        assert_eq!(r.outcome(&flat, 2).expect("valid").tier.as_deref(), Some("free"));
        assert!(Row::parse(&RawRecord { line: 3, text: "[1]".into() }, None).is_err());
    }

    #[test]
    fn typed_cells_follow_the_field_type_and_bad_text_passes_through() {
        assert_eq!(typed(Kind::Int, " 42 "), Value::from(42));
        assert_eq!(typed(Kind::Int, "4.5"), Value::from("4.5"));
        assert_eq!(typed(Kind::Bool, "Yes"), Value::Bool(true));
        assert_eq!(typed(Kind::Number, "NaN"), Value::from("NaN"));
        assert_eq!(typed(Kind::List, "a; b"), serde_json::json!(["a", "b"]));
        let mut map = Map::new();
        insert_path(&mut map, &["customer".into(), "tier".into()], Value::from("pro"));
        insert_path(&mut map, &["customer".into(), "seats".into()], Value::from(3));
        assert_eq!(Value::Object(map), serde_json::json!({"customer": {"tier": "pro", "seats": 3}}));
    }
}
