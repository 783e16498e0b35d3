//! Importers that turn public routing-outcome data into tierwise log rows: RouterBench
//! ([`routerbench`]) and RouteLLM ([`routellm`]) CSV files. Both stream rows to a sink (for
//! example a [`crate::LogWriter`]) and return an [`ImportReport`]. A bad cell stops the import
//! with an error naming the file, the line and the column.
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::{Error, RejectKind, Result};
use crate::log::LogRow;
use crate::progress;
use lines::{LineCounting, LineIndex};

mod lines;
pub mod pylit;
pub mod routellm;
pub mod routerbench;

pub use routellm::{import_routellm, RouteLlmOptions};
pub use routerbench::import_routerbench;

/// What an import read and wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Files read.
    pub files: usize,
    /// CSV records read (one per prompt).
    pub records: usize,
    /// Log rows written: one per (prompt, model) with a known outcome.
    pub rows: usize,
    /// (prompt, model) cells with no recorded outcome; no row is written for them.
    pub missing_outcomes: usize,
    /// Rows written without a `cost_usd`: an empty cost cell, no cost column, or (RouteLLM) no
    /// tier prices to estimate one.
    pub rows_without_cost: usize,
    /// Rows whose (prompt id, model) an earlier row already had; the outcome table averages
    /// them with it.
    pub repeated_rows: usize,
    /// Of [`ImportReport::repeated_rows`], those whose (prompt id, model) first came from an
    /// earlier file: the input files overlap.
    pub repeated_across_files: usize,
    /// Distinct prompt ids written.
    pub prompts: usize,
    /// Rows written per model.
    pub per_model: BTreeMap<String, usize>,
    /// Rows written per feature.
    pub per_feature: BTreeMap<String, usize>,
    /// Notes on anything unusual the importer saw (e.g. multi-part prompts).
    pub notes: Vec<String>,
}

impl ImportReport {
    /// A few lines for people.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "files: {}, records: {}, rows written: {}, prompts: {}, models: {}, \
             missing outcomes (no row written): {}",
            self.files,
            self.records,
            self.rows,
            self.prompts,
            self.per_model.len(),
            self.missing_outcomes
        );
        s.push_str(&format!(
            "\nrows without a cost: {}, repeated (prompt, model) rows: {} ({} repeat a row of \
             an earlier file)",
            self.rows_without_cost, self.repeated_rows, self.repeated_across_files
        ));
        for (m, n) in &self.per_model {
            s.push_str(&format!("\n  {n:>8}  {m}"));
        }
        for note in &self.notes {
            s.push_str(&format!("\nnote: {note}"));
        }
        s
    }
}

/// Counts rows, distinct prompts, rows without a cost and repeated (prompt, model) pairs as
/// they pass to the sink. The file being read is [`ImportReport::files`] (0-based until done).
pub(crate) struct Tally<'a> {
    pub report: ImportReport,
    /// Prompt id → its index.
    ids: HashMap<String, usize>,
    /// (prompt index, model) → the file it was first written from.
    pairs: HashMap<(usize, String), usize>,
    sink: &'a mut dyn FnMut(LogRow) -> Result<()>,
}

impl<'a> Tally<'a> {
    pub fn new(sink: &'a mut dyn FnMut(LogRow) -> Result<()>) -> Self {
        Tally {
            report: ImportReport::default(),
            ids: HashMap::new(),
            pairs: HashMap::new(),
            sink,
        }
    }

    pub fn push(&mut self, row: LogRow) -> Result<()> {
        self.report.rows += 1;
        *self.report.per_model.entry(row.model.clone()).or_default() += 1;
        if let Some(f) = &row.feature {
            *self.report.per_feature.entry(f.clone()).or_default() += 1;
        }
        if row.cost_usd.is_none() {
            self.report.rows_without_cost += 1;
        }
        if let Some(id) = &row.id {
            let next = self.ids.len();
            let prompt = *self.ids.entry(id.clone()).or_insert(next);
            let file = self.report.files;
            match self.pairs.entry((prompt, row.model.clone())) {
                Entry::Occupied(first) => {
                    self.report.repeated_rows += 1;
                    if *first.get() != file {
                        self.report.repeated_across_files += 1;
                    }
                }
                Entry::Vacant(v) => {
                    v.insert(file);
                }
            }
        }
        (self.sink)(row)
    }

    pub fn finish(mut self) -> ImportReport {
        self.report.prompts = self.ids.len();
        self.report
    }
}

/// Refuse a file named twice (also via another path to it): every row of it would be written
/// twice.
pub(crate) fn distinct_files<P: AsRef<Path>>(paths: &[P]) -> Result<()> {
    let mut seen = HashSet::new();
    for p in paths {
        let p = p.as_ref();
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if !seen.insert(key) {
            return Err(Error::Invalid(format!(
                "{}: the same file is given twice; its rows would be written twice",
                p.display()
            )));
        }
    }
    Ok(())
}

/// One CSV file being read: its name, header and records with their line numbers.
pub(crate) struct CsvFile {
    pub name: String,
    pub headers: Vec<String>,
    reader: csv::Reader<Box<dyn std::io::Read>>,
    lines: Rc<RefCell<LineIndex>>,
    bar: indicatif::ProgressBar,
}

impl CsvFile {
    pub fn open(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = progress::bar(len, "importing", true);
        let (input, lines) = LineCounting::new(bar.wrap_read(file));
        let input: Box<dyn std::io::Read> = Box::new(input);
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let headers = match reader.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(e) => return Err(csv_error(&name, &[], &lines, e)),
        };
        Ok(CsvFile {
            name,
            headers,
            reader,
            lines,
            bar,
        })
    }

    /// The next record and the physical line it starts on, or `None` at the end.
    pub fn next(&mut self) -> Result<Option<(usize, csv::StringRecord)>> {
        let mut rec = csv::StringRecord::new();
        match self.reader.read_record(&mut rec) {
            Ok(true) => {
                let line = rec
                    .position()
                    .map(|p| self.lines.borrow_mut().line_at(p))
                    .unwrap_or(0);
                Ok(Some((line, rec)))
            }
            Ok(false) => {
                self.bar.finish_and_clear();
                Ok(None)
            }
            Err(e) => Err(csv_error(&self.name, &self.headers, &self.lines, e)),
        }
    }

    /// The index of a required column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| self.bad(1, name, format!("the header has no `{name}` column")))
    }

    /// An error about one cell.
    pub fn bad(&self, line: usize, column: &str, reason: String) -> Error {
        Error::InvalidRow {
            file: self.name.clone(),
            line,
            field: column.to_string(),
            reason,
            kind: RejectKind::BadField,
        }
    }

    /// The error for a record whose prompt text is empty.
    pub fn empty_prompt(&self, line: usize) -> Error {
        Error::InvalidRow {
            file: self.name.clone(),
            line,
            field: "prompt".into(),
            reason: "the prompt text is empty".into(),
            kind: RejectKind::NoPrompt,
        }
    }
}

fn csv_error(file: &str, headers: &[String], lines: &RefCell<LineIndex>, e: csv::Error) -> Error {
    let line = e
        .position()
        .map(|p| lines.borrow_mut().line_at(p))
        .unwrap_or(1);
    let (field, kind) = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => (
            headers
                .get(err.field())
                .cloned()
                .unwrap_or_else(|| format!("column {}", err.field() + 1)),
            RejectKind::NotUtf8,
        ),
        _ => ("(csv)".to_string(), RejectKind::MalformedCsv),
    };
    Error::InvalidRow {
        file: file.to_string(),
        line,
        field,
        reason: format!("bad CSV: {e}"),
        kind,
    }
}

/// Parse a cost cell: empty = unknown, else a finite number ≥ 0.
pub(crate) fn parse_cost(
    csv: &CsvFile,
    line: usize,
    column: &str,
    cell: &str,
) -> Result<Option<f64>> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    match cell.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() => Ok(Some(x)),
        Ok(x) => Err(Error::InvalidRow {
            file: csv.name.clone(),
            line,
            field: column.to_string(),
            reason: format!("cost must be ≥ 0, got {x}"),
            kind: RejectKind::Negative,
        }),
        Err(_) => Err(csv.bad(line, column, format!("expected a number, got `{cell}`"))),
    }
}

/// `{"source": name}`: where an imported row came from.
pub(crate) fn source_meta(name: &str) -> serde_json::Value {
    serde_json::json!({ "source": name })
}
