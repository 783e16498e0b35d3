//! Helpers shared by the end-to-end tests that run the `tierwise` binary.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `tierwise args`: (exit code, stdout followed by stderr).
pub fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tierwise"))
        .args(args)
        .output()
        .expect("run tierwise");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Run `tierwise args`, which must exit 0; its stdout followed by stderr.
pub fn ok(args: &[&str]) -> String {
    let (c, text) = run(args);
    assert_eq!(c, 0, "tierwise {args:?} failed:\n{text}");
    text
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
