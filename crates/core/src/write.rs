//! Writing log rows as JSONL.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::log::LogRow;

/// Writes one JSON object per line.
pub struct LogWriter {
    path: PathBuf,
    out: BufWriter<File>,
    written: usize,
}

impl LogWriter {
    /// Create (or truncate) `path`, creating parent folders.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(LogWriter {
            path,
            out: BufWriter::new(file),
            written: 0,
        })
    }

    /// Append one row.
    pub fn write(&mut self, row: &LogRow) -> Result<()> {
        serde_json::to_writer(&mut self.out, row).map_err(|e| Error::io(&self.path, e.into()))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.path, e))?;
        self.written += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Flush and close; returns the number of rows written.
    pub fn finish(mut self) -> Result<usize> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(self.written)
    }
}
