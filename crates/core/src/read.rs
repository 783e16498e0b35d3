//! The validating log reader. Every rejected line names its file, line and field; with
//! `skip_invalid` the reader goes on and counts rejections by reason. Nothing is dropped silently.
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, RejectKind, Result};
use crate::log::{LogRow, FORMAT_VERSION};
use crate::{progress, text};

/// How to read logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Go on after a bad line (and count it) instead of stopping at the first.
    pub skip_invalid: bool,
    /// Show a progress bar (only when stderr is a terminal).
    pub progress: bool,
}

/// What a read saw.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReadReport {
    /// Non-blank lines read.
    pub read: usize,
    /// Rows kept.
    pub kept: usize,
    /// Rejected lines, by reason.
    pub rejected: BTreeMap<RejectKind, usize>,
    /// The first rejections, in full (at most 20).
    #[serde(skip)]
    pub examples: Vec<String>,
}

impl ReadReport {
    /// Total rejected lines.
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }

    /// A one-paragraph summary for people.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "rows read: {}, kept: {}, rejected: {}",
            self.read,
            self.kept,
            self.rejected_total()
        );
        for (kind, n) in &self.rejected {
            s.push_str(&format!("\n  {:>8}  {}", n, kind.label()));
        }
        for e in &self.examples {
            s.push_str(&format!("\n  e.g. {e}"));
        }
        s
    }
}

/// Rows read from one or more log files, with where each came from.
#[derive(Debug, Clone, Default)]
pub struct LogSet {
    /// The rows, in file and line order.
    pub rows: Vec<LogRow>,
    /// What the read saw.
    pub report: ReadReport,
}

/// Read and validate JSONL logs from `paths` (in order). An input with no usable row is an error.
pub fn read_logs<P: AsRef<Path>>(paths: &[P], opts: ReadOptions) -> Result<LogSet> {
    let mut reader = Validator::default();
    for path in paths {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = if opts.progress {
            progress::bar(len, "reading", true)
        } else {
            indicatif::ProgressBar::hidden()
        };
        reader.read(path, bar.wrap_read(file), opts)?;
        bar.finish_and_clear();
    }
    let names = paths
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if reader.set.report.read == 0 {
        return Err(Error::Empty {
            file: names,
            reason: "the input has no lines".into(),
        });
    }
    if reader.set.rows.is_empty() {
        return Err(Error::Empty {
            file: names,
            reason: format!("every line was rejected ({})", reader.set.report.summary()),
        });
    }
    Ok(reader.set)
}

/// Parse one JSONL line as a JSON object; line 1 may start with a UTF-8 byte-order mark, which
/// is skipped. Errors name the file, the line and the field `(json)`.
pub fn json_object(file: &str, line_no: usize, line: &str) -> Result<Map<String, Value>> {
    let line = match line_no {
        1 => line.strip_prefix('\u{feff}').unwrap_or(line),
        _ => line,
    };
    let bad = |reason: String| Error::InvalidRow {
        file: file.to_string(),
        line: line_no,
        field: "(json)".into(),
        reason,
        kind: RejectKind::MalformedJson,
    };
    match serde_json::from_str(line) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(bad("the line is not a JSON object".into())),
        Err(e) => Err(bad(format!("malformed JSON at column {}: {e}", e.column()))),
    }
}

/// Parse and validate one log line (no cross-line checks).
pub fn parse_line(file: &str, line_no: usize, line: &str) -> Result<LogRow> {
    let bad = |field: &str, kind: RejectKind, reason: String| Error::InvalidRow {
        file: file.to_string(),
        line: line_no,
        field: field.to_string(),
        reason,
        kind,
    };
    let obj = json_object(file, line_no, line)?;
    check_fields(&obj).map_err(|(field, kind, reason)| bad(&field, kind, reason))?;
    let row: LogRow = serde_json::from_value(Value::Object(obj))
        .map_err(|e| bad("(json)", RejectKind::BadField, e.to_string()))?;
    if row.routing_text().trim().is_empty() {
        let field = if row.prompt.is_some() {
            "prompt"
        } else {
            "messages"
        };
        return Err(bad(
            field,
            RejectKind::NoPrompt,
            "the prompt text is empty".into(),
        ));
    }
    Ok(row)
}

type FieldError = (String, RejectKind, String);

fn check_fields(obj: &Map<String, Value>) -> std::result::Result<(), FieldError> {
    let err = |f: &str, k: RejectKind, r: String| Err((f.to_string(), k, r));
    match obj.get("v") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_u64() == Some(FORMAT_VERSION as u64) => {}
        Some(v) => {
            return err(
                "v",
                RejectKind::BadField,
                format!("unsupported format version {v} (expected {FORMAT_VERSION})"),
            )
        }
    }
    let prompt = obj.get("prompt").filter(|v| !v.is_null());
    let messages = obj.get("messages").filter(|v| !v.is_null());
    match (prompt, messages) {
        (None, None) => {
            return err(
                "prompt",
                RejectKind::NoPrompt,
                "neither `prompt` nor `messages` is present".into(),
            )
        }
        (Some(p), _) if !p.is_string() => {
            return err(
                "prompt",
                RejectKind::BadField,
                format!("expected a string, got {}", kind_of(p)),
            )
        }
        (_, Some(m)) => {
            let Some(list) = m.as_array() else {
                return err(
                    "messages",
                    RejectKind::BadField,
                    format!("expected an array, got {}", kind_of(m)),
                );
            };
            for (i, msg) in list.iter().enumerate() {
                if !msg.get("role").is_some_and(Value::is_string) {
                    return err(
                        &format!("messages[{i}].role"),
                        RejectKind::BadField,
                        "each message needs a string `role`".into(),
                    );
                }
            }
        }
        _ => {}
    }
    match obj.get("model") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => {
            return err("model", RejectKind::NoModel, "`model` is empty".into())
        }
        None | Some(Value::Null) => {
            return err("model", RejectKind::NoModel, "`model` is required".into())
        }
        Some(v) => {
            return err(
                "model",
                RejectKind::BadField,
                format!("expected a string, got {}", kind_of(v)),
            )
        }
    }
    for f in ["id", "ts", "feature", "customer", "tier", "response"] {
        match obj.get(f) {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(v) => {
                return err(
                    f,
                    RejectKind::BadField,
                    format!("expected a string, got {}", kind_of(v)),
                )
            }
        }
    }
    if let Some(Value::String(ts)) = obj.get("ts") {
        if time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_err()
        {
            return err(
                "ts",
                RejectKind::BadField,
                format!("`{ts}` is not an RFC 3339 timestamp"),
            );
        }
    }
    for f in [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
    ] {
        match obj.get(f) {
            None | Some(Value::Null) => {}
            Some(v) if v.as_u64().is_some() => {}
            Some(v) if v.as_f64().is_some_and(|x| x < 0.0) => {
                return err(f, RejectKind::Negative, format!("must be ≥ 0, got {v}"))
            }
            Some(v) => {
                return err(
                    f,
                    RejectKind::BadField,
                    format!("expected a whole number, got {v}"),
                )
            }
        }
    }
    check_cache_parts(obj)?;
    for f in ["cost_usd", "latency_ms"] {
        match obj.get(f) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_f64() {
                Some(x) if x >= 0.0 && x.is_finite() => {}
                Some(x) if x < 0.0 => {
                    return err(f, RejectKind::Negative, format!("must be ≥ 0, got {x}"))
                }
                _ => {
                    return err(
                        f,
                        RejectKind::BadField,
                        format!("expected a number, got {}", kind_of(v)),
                    )
                }
            },
        }
    }
    match obj.get("score") {
        None | Some(Value::Null) => {}
        Some(v) => match v.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => {}
            Some(x) => {
                return err(
                    "score",
                    RejectKind::ScoreOutOfRange,
                    format!("must be in [0, 1], got {x}"),
                )
            }
            None => {
                return err(
                    "score",
                    RejectKind::BadField,
                    format!("expected a number, got {}", kind_of(v)),
                )
            }
        },
    }
    match obj.get("status") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "ok" || s == "error" => {}
        Some(v) => {
            return err(
                "status",
                RejectKind::BadField,
                format!("expected \"ok\" or \"error\", got {v}"),
            )
        }
    }
    Ok(())
}

/// Cache-read and cache-write tokens are parts of `input_tokens`: together at most it.
fn check_cache_parts(obj: &Map<String, Value>) -> std::result::Result<(), FieldError> {
    let n = |f: &str| obj.get(f).and_then(Value::as_u64);
    let Some(input) = n("input_tokens") else {
        return Ok(());
    };
    let read = n("cache_read_tokens").unwrap_or(0);
    let write = n("cache_write_tokens").unwrap_or(0);
    let reason = |what: &str, got: u64| {
        format!("{what} are part of input_tokens ({input}), so at most it; got {got}")
    };
    if read > input {
        return Err((
            "cache_read_tokens".into(),
            RejectKind::BadField,
            reason("cache-read tokens", read),
        ));
    }
    if read.saturating_add(write) > input {
        return Err((
            "cache_write_tokens".into(),
            RejectKind::BadField,
            reason(
                "cache-read plus cache-write tokens",
                read.saturating_add(write),
            ),
        ));
    }
    Ok(())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads files one after another, checking ids across all of them.
#[derive(Default)]
struct Validator {
    set: LogSet,
    /// id → (normalised text hash, file, line) of its first row.
    ids: HashMap<String, (String, PathBuf, usize)>,
}

impl Validator {
    fn read(&mut self, path: &Path, input: impl Read, opts: ReadOptions) -> Result<()> {
        let file = path.display().to_string();
        let mut input = BufReader::with_capacity(1 << 20, input);
        let mut buf = Vec::new();
        let mut line_no = 0;
        loop {
            buf.clear();
            let n = input
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.set.report.read += 1;
            match self.check(path, &file, line_no, &buf) {
                Ok(row) => {
                    self.set.rows.push(row);
                    self.set.report.kept += 1;
                }
                Err(e) if opts.skip_invalid && e.reject_kind().is_some() => {
                    *self
                        .set
                        .report
                        .rejected
                        .entry(e.reject_kind().unwrap())
                        .or_default() += 1;
                    if self.set.report.examples.len() < 20 {
                        self.set.report.examples.push(e.to_string());
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn check(&mut self, path: &Path, file: &str, line_no: usize, bytes: &[u8]) -> Result<LogRow> {
        let line = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let lossy = String::from_utf8_lossy(bytes);
                let field = field_at(&lossy, e.valid_up_to());
                return Err(Error::InvalidRow {
                    file: file.to_string(),
                    line: line_no,
                    field,
                    reason: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                    kind: RejectKind::NotUtf8,
                });
            }
        };
        let row = parse_line(file, line_no, line)?;
        if let Some(id) = &row.id {
            let h = text::prompt_id(&row.routing_text());
            match self.ids.get(id) {
                Some((first, first_path, first_line)) if *first != h => {
                    return Err(Error::InvalidRow {
                        file: file.to_string(),
                        line: line_no,
                        field: "id".into(),
                        reason: format!(
                            "id `{id}` was used for a different prompt text at {}:{first_line}",
                            first_path.display()
                        ),
                        kind: RejectKind::IdConflict,
                    })
                }
                Some(_) => {}
                None => {
                    self.ids
                        .insert(id.clone(), (h, path.to_path_buf(), line_no));
                }
            }
        }
        Ok(row)
    }
}

/// The JSON key whose value holds byte `pos` of a (lossily decoded) line, best effort.
fn field_at(line: &str, pos: usize) -> String {
    let head = &line[..line.floor_char_boundary_compat(pos)];
    // The last `"key":` before the position names the field.
    let mut field = "(line)".to_string();
    let mut rest = head;
    while let Some(i) = rest.find("\":") {
        let before = &rest[..i];
        if let Some(q) = before.rfind('"') {
            field = before[q + 1..].to_string();
        }
        rest = &rest[i + 2..];
    }
    field
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}
