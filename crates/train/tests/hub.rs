//! `hub::resolve_file` on a fake Hugging Face cache: a model id (and `@revision`) resolves from
//! `models--org--name/refs/<rev>` → `snapshots/<hash>/` (a bare `name` from `models--name`), a
//! folder or file path resolves as given (UTF-8 or not), and a model not in the cache is an
//! error naming the cache folder.
use std::fs;
use std::path::{Path, PathBuf};

use tierwise_train::hub::{self, Cache};
use tierwise_train::{tokenizer, Error};

const MAIN: &str = "0123456789abcdef0123456789abcdef01234567";
const V2: &str = "fedcba9876543210fedcba9876543210fedcba98";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bert_tokenizer.json")
}

/// `cache/models--org--tiny`: `main` → MAIN with the fixture tokenizer, `v2` → V2 with the same
/// tokenizer plus one token. Each ref is written as the Python client writes it (no newline).
fn fake_cache(cache: &Path) {
    fake_repo(cache, "models--org--tiny");
}

/// [`fake_cache`]'s two revisions under `cache/folder`.
fn fake_repo(cache: &Path, folder: &str) {
    let repo = cache.join(folder);
    fs::create_dir_all(repo.join("refs")).unwrap();
    let json = fs::read_to_string(fixture()).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["model"]["vocab"]["##ing"] = 4.into();
    for (rev, hash, text) in [("main", MAIN, json), ("v2", V2, v.to_string())] {
        fs::write(repo.join("refs").join(rev), hash).unwrap();
        let snap = repo.join("snapshots").join(hash);
        fs::create_dir_all(&snap).unwrap();
        fs::write(snap.join("tokenizer.json"), text).unwrap();
    }
}

fn vocab_len(path: &Path) -> usize {
    tokenizer::load(path).unwrap().get_vocab_size(false)
}

#[test]
fn model_id_resolves_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    fake_cache(dir.path());
    let cache = Cache::new(dir.path().to_path_buf());
    let snap = |hash: &str| dir.path().join("models--org--tiny/snapshots").join(hash);

    let main = hub::resolve_file("org/tiny", "tokenizer.json", &cache).unwrap();
    assert_eq!(main, snap(MAIN).join("tokenizer.json"));
    assert_eq!(vocab_len(&main), 4);
    let explicit = hub::resolve_file("org/tiny@main", "tokenizer.json", &cache).unwrap();
    assert_eq!(explicit, main);

    let v2 = hub::resolve_file("org/tiny@v2", "tokenizer.json", &cache).unwrap();
    assert_eq!(v2, snap(V2).join("tokenizer.json"));
    assert_eq!(vocab_len(&v2), 5);

    // A commit hash as the revision (no ref for it), and a hand-written ref ending in a newline.
    let by_hash = hub::resolve_file(format!("org/tiny@{V2}"), "tokenizer.json", &cache).unwrap();
    assert_eq!(by_hash, snap(V2).join("tokenizer.json"));
    let refs = dir.path().join("models--org--tiny/refs");
    fs::write(refs.join("hand"), format!("{V2}\n")).unwrap();
    let hand = hub::resolve_file("org/tiny@hand", "tokenizer.json", &cache).unwrap();
    assert_eq!(hand, snap(V2).join("tokenizer.json"));
}

#[test]
fn a_bare_model_id_resolves_from_its_top_level_folder() {
    // The hub's older models have no org (`gpt2`, `bert-base-uncased`): `models--gpt2`.
    let dir = tempfile::tempdir().unwrap();
    fake_repo(dir.path(), "models--gpt2");
    let cache = Cache::new(dir.path().to_path_buf());
    let snap = |hash: &str| dir.path().join("models--gpt2/snapshots").join(hash);
    let main = hub::resolve_file("gpt2", "tokenizer.json", &cache).unwrap();
    assert_eq!(main, snap(MAIN).join("tokenizer.json"));
    let v2 = hub::resolve_file("gpt2@v2", "tokenizer.json", &cache).unwrap();
    assert_eq!(v2, snap(V2).join("tokenizer.json"));
    assert_eq!(vocab_len(&v2), 5);
    let e = hub::resolve_file("bert-base-uncased", "tokenizer.json", &cache)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("models--bert-base-uncased there")
            && e.contains("hf download bert-base-uncased"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn a_path_need_not_be_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("empty-cache"));
    let folder = dir.path().join(OsStr::from_bytes(b"mod\xffel"));
    fs::create_dir(&folder).unwrap();
    fs::copy(fixture(), folder.join("tokenizer.json")).unwrap();
    let got = hub::resolve_file(folder.as_os_str(), "tokenizer.json", &cache).unwrap();
    assert_eq!(got, folder.join("tokenizer.json"));
    // Absent, it is neither a path nor an id, and the error shows it lossily.
    let e = hub::resolve_file(
        dir.path().join(OsStr::from_bytes(b"no\xff")),
        "tokenizer.json",
        &cache,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("no\u{fffd}") && e.contains("not a Hugging Face model id"),
        "{e}"
    );
}

#[test]
fn paths_resolve_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("empty-cache"));
    let folder = dir.path().join("model");
    fs::create_dir(&folder).unwrap();
    fs::copy(fixture(), folder.join("tokenizer.json")).unwrap();
    let spec = folder.to_str().unwrap();
    let got = hub::resolve_file(spec, "tokenizer.json", &cache).unwrap();
    assert_eq!(got, folder.join("tokenizer.json"));

    // A file is taken whatever its name.
    let spec = fixture();
    let got = hub::resolve_file(spec.to_str().unwrap(), "tokenizer.json", &cache).unwrap();
    assert_eq!(got, fixture());
    assert_eq!(vocab_len(&got), 4);

    // A folder without the file.
    let e = hub::resolve_file(
        spec.parent().unwrap().to_str().unwrap(),
        "config.json",
        &cache,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("has no config.json"), "{e}");
}

#[test]
fn a_model_not_in_the_cache_names_the_cache_folder() {
    let dir = tempfile::tempdir().unwrap();
    fake_cache(dir.path());
    let cache = Cache::new(dir.path().to_path_buf());
    let folder = dir.path().display().to_string();
    let cases = [
        ("org/absent", "tokenizer.json", "no folder"),
        ("org/tiny@v3", "tokenizer.json", "has no ref `v3`"),
        (
            "org/tiny",
            "config.json",
            &format!("revision `main` ({MAIN}) has no config.json"),
        ),
    ];
    for (spec, file, why) in cases {
        let e = hub::resolve_file(spec, file, &cache).unwrap_err();
        assert!(matches!(e, Error::ModelFile { .. }), "{e:?}");
        let e = e.to_string();
        let id = spec.split('@').next().unwrap();
        for want in [
            format!("`{spec}`: no {file} found"),
            format!("Hugging Face cache at {folder} "),
            why.to_string(),
            "Nothing is downloaded".to_string(),
            format!("hf download {id} {file}"),
            "older clients: `huggingface-cli download`".to_string(),
        ] {
            assert!(e.contains(&want), "{spec}: wanted {want:?} in {e}");
        }
    }
    let e = hub::resolve_file("org/tiny@v3", "tokenizer.json", &cache).unwrap_err();
    assert!(e.to_string().contains("--revision v3"), "{e}");

    // Neither a path nor an id.
    let e = hub::resolve_file("no/such/file.json", "tokenizer.json", &cache)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`no/such/file.json`") && e.contains("not a Hugging Face model id"),
        "{e}"
    );
    // A missing file name reads as a bare id: the error says both readings failed.
    let e = hub::resolve_file("no-such-file.json", "tokenizer.json", &cache)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no folder") && e.contains("no file or folder has that path"),
        "{e}"
    );
}
