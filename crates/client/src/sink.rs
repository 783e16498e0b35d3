//! Where log lines go: [`JsonlSink`] writes the tierwise log format to one file per UTC day;
//! [`MemorySink`] keeps rows in memory (tests, custom shipping).
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tierwise_core::LogRow;
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};

/// Receives one row per call.
pub trait LogSink: Send + Sync {
    /// Record one row.
    fn write(&self, row: &LogRow) -> Result<()>;
}

/// Appends rows to `<dir>/<YYYY-MM-DD>.jsonl` (UTC day of the write), one JSON object per line.
/// Each line goes out in one `write` on a file opened for appending, so lines never interleave.
pub struct JsonlSink {
    dir: PathBuf,
    current: Mutex<Option<(Date, PathBuf, File)>>,
}

impl JsonlSink {
    /// A sink writing daily files under `dir` (created on first write).
    pub fn daily(dir: impl AsRef<Path>) -> Self {
        JsonlSink {
            dir: dir.as_ref().to_path_buf(),
            current: Mutex::new(None),
        }
    }

    /// The file rows of `day` go to.
    pub fn path_for(&self, day: Date) -> PathBuf {
        self.dir.join(format!(
            "{:04}-{:02}-{:02}.jsonl",
            day.year(),
            day.month() as u8,
            day.day()
        ))
    }
}

impl LogSink for JsonlSink {
    fn write(&self, row: &LogRow) -> Result<()> {
        let mut line = serde_json::to_vec(row).map_err(|e| Error::Io {
            path: self.dir.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        let day = OffsetDateTime::now_utc().date();
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if cur.as_ref().is_none_or(|(d, _, _)| *d != day) {
            std::fs::create_dir_all(&self.dir).map_err(|e| Error::Io {
                path: self.dir.clone(),
                source: e,
            })?;
            let path = self.path_for(day);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::Io {
                    path: path.clone(),
                    source: e,
                })?;
            *cur = Some((day, path, file));
        }
        let (_, path, file) = cur.as_mut().expect("opened above");
        file.write_all(&line).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })
    }
}

/// Keeps rows in memory.
#[derive(Default)]
pub struct MemorySink {
    rows: Mutex<Vec<LogRow>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the rows so far.
    pub fn rows(&self) -> Vec<LogRow> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl LogSink for MemorySink {
    fn write(&self, row: &LogRow) -> Result<()> {
        self.rows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(row.clone());
        Ok(())
    }
}

impl<S: LogSink + ?Sized> LogSink for std::sync::Arc<S> {
    fn write(&self, row: &LogRow) -> Result<()> {
        (**self).write(row)
    }
}
