//! Output files written whole or not at all: into `OUT.tmp`, moved to `OUT` once complete.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Run `write` on `OUT.tmp`, then move it to `out`. When `write` fails the temporary file is
/// removed, so an error leaves no partial file and an existing `out` untouched.
pub(crate) fn write<T>(out: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    match write(&tmp) {
        Ok(t) => {
            std::fs::rename(&tmp, out)
                .with_context(|| format!("moving {} to {}", tmp.display(), out.display()))?;
            Ok(t)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
