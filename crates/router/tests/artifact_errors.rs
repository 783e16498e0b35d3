//! A damaged copy of `models/demo` is refused with an error that says what is wrong: a
//! `format_version` of the wrong type shows what it holds, and a weights file with bytes
//! appended is called corrupt, not truncated.
use std::path::{Path, PathBuf};

use tierwise_router::Router;

/// A copy of `models/demo` in a fresh temp dir.
fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo");
    let dir = tempfile::tempdir().unwrap();
    for f in ["router.json", "router.safetensors", "tokenizer.json"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn load_error(dir: &Path) -> String {
    match Router::load(dir) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn format_version_of_the_wrong_type_says_what_it_got() {
    let (_tmp, dir) = demo_copy();
    let j = dir.join("router.json");
    let meta = std::fs::read_to_string(&j).unwrap();
    let v = tierwise_router::artifact::FORMAT_VERSION;
    let stored = format!("\"format_version\": {v}");
    assert!(meta.contains(&stored), "models/demo is version {v}");
    for bad in ["\"3\"", "3.0", "-1", "null"] {
        std::fs::write(
            &j,
            meta.replace(&stored, &format!("\"format_version\": {bad}")),
        )
        .unwrap();
        let e = load_error(&dir);
        assert!(
            e.contains("router.json")
                && e.contains("`format_version` must be a non-negative integer, got")
                && e.ends_with(bad),
            "{bad}: {e}"
        );
    }
    std::fs::write(&j, meta.replace(&stored, "\"formatversion\": 3")).unwrap();
    assert!(load_error(&dir).contains("`format_version` is missing"));
}

#[test]
fn appended_bytes_are_corrupt_and_missing_bytes_truncated() {
    let (_tmp, dir) = demo_copy();
    let w = dir.join("router.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, [bytes.as_slice(), b"junk"].concat()).unwrap();
    let e = load_error(&dir);
    assert!(
        e.contains("router.safetensors")
            && e.contains("4 bytes more than")
            && e.contains("corrupt")
            && !e.contains("truncated"),
        "{e}"
    );
    std::fs::write(&w, &bytes[..bytes.len() - 100]).unwrap();
    let e = load_error(&dir);
    assert!(
        e.contains("router.safetensors") && e.contains("truncated?") && !e.contains("corrupt"),
        "{e}"
    );
    std::fs::write(&w, &bytes).unwrap();
    Router::load(&dir).unwrap();
}
