//! Finding a model's file (`tokenizer.json` today; `config.json` or `model.safetensors` the same
//! way) from what the user typed: a path to the file, a model folder holding it, or a Hugging Face
//! model id (`org/name`, or a bare `name` such as `gpt2`, with an optional `@revision`) looked up
//! in the local Hugging Face cache
//! (`hf_hub::Cache`'s layout: `models--org--name/refs/<revision>` holds a commit hash, and
//! `snapshots/<hash>/<file>` the file). Nothing is ever downloaded.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use hf_hub::{Repo, RepoType};

pub use hf_hub::Cache;

use crate::error::{Error, Result};

/// The local Hugging Face cache the environment names, in the Python client's order:
/// `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
/// `~/.cache/huggingface/hub` (relative to the working folder when there is no home).
/// `hf_hub::Cache::from_env` reads only `HF_HOME`, and panics without a home folder.
pub fn cache_from_env() -> Cache {
    cache_from(|k| std::env::var_os(k))
}

/// [`cache_from_env`] with `var` for the environment (unset or empty variables are skipped).
fn cache_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Cache {
    let var = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let path = var("HF_HUB_CACHE")
        .or_else(|| var("HF_HOME").map(|h| h.join("hub")))
        .or_else(|| var("XDG_CACHE_HOME").map(|c| c.join("huggingface").join("hub")))
        .unwrap_or_else(|| {
            var("HOME")
                .unwrap_or_default()
                .join(".cache")
                .join("huggingface")
                .join("hub")
        });
    Cache::new(path)
}

/// [`resolve_file`] in the cache the environment names ([`cache_from_env`]).
pub fn resolve_file_from_env(spec: impl AsRef<OsStr>, file: &str) -> Result<PathBuf> {
    resolve_file(spec, file, &cache_from_env())
}

/// Find `file` for `spec`, which is one of:
/// - an existing file: that file, whatever its name;
/// - an existing folder: `folder/file`, which must exist;
/// - a model id `org/name` or a bare `name` (`gpt2`), each with an optional `@revision` (a
///   branch, tag or commit hash; `main` when left out): `file` in that revision's snapshot in
///   `cache`.
///
/// A path that exists wins over the id reading; a path need not be UTF-8. Nothing is
/// downloaded: a file absent from the cache is an [`Error::ModelFile`] naming `spec`, `file`
/// and the cache folder.
pub fn resolve_file(spec: impl AsRef<OsStr>, file: &str, cache: &Cache) -> Result<PathBuf> {
    let spec = spec.as_ref();
    let err = |reason: String| Error::ModelFile {
        spec: spec.to_string_lossy().into_owned(),
        file: file.to_string(),
        reason,
    };
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if path.is_dir() {
        let p = path.join(file);
        return match p.is_file() {
            true => Ok(p),
            false => Err(err(format!("the folder {} has no {file}", path.display()))),
        };
    }
    let Some((id, revision)) = spec.to_str().and_then(model_id) else {
        return Err(err(
            "no file or folder has that path, and it is not a Hugging Face model \
             id `org/name`, `name` or either with `@revision`"
                .to_string(),
        ));
    };
    let repo = Repo::with_revision(id.to_string(), RepoType::Model, revision.to_string());
    let folder = cache.path().join(repo.folder_name());
    let cached = cache.repo(repo);
    if let Some(p) = cached.get(file) {
        return Ok(p);
    }
    // hf-hub reads `refs/<revision>` verbatim (a hand-written ref may end in a newline), and the
    // Python client writes no ref for a revision given as a commit hash.
    let commit = match std::fs::read_to_string(folder.join("refs").join(revision)) {
        Ok(hash) => Some(hash.trim().to_string()),
        Err(_) if is_commit_hash(revision) => Some(revision.to_string()),
        Err(_) => None,
    };
    if let Some(hash) = commit.as_deref().filter(|h| is_commit_hash(h)) {
        let p = cached.pointer_path(hash).join(file);
        if p.is_file() {
            return Ok(p);
        }
    }
    let why = match commit {
        Some(hash) => format!("the snapshot of revision `{revision}` ({hash}) has no {file}"),
        None if folder.is_dir() => format!("{} has no ref `{revision}`", folder.display()),
        None => format!("no folder {} there", folder.display()),
    };
    let rev = match revision {
        "main" => String::new(),
        r => format!(" --revision {r}"),
    };
    Err(err(format!(
        "not in the Hugging Face cache at {} ({why}), and no file or folder has that path. \
         Nothing is downloaded: run `hf download {id} {file}{rev}` (older clients: \
         `huggingface-cli download`, same arguments) on a machine with access and bring its \
         cache here (HF_HOME or HF_HUB_CACHE), or pass a path",
        cache.path().display()
    )))
}

/// `org/name[@revision]` or `name[@revision]` (the hub's older top-level models, `gpt2`) split
/// into the id and the revision (`main` when left out), or `None` when `spec` is of neither form.
fn model_id(spec: &str) -> Option<(&str, &str)> {
    let (id, revision) = spec.split_once('@').unwrap_or((spec, "main"));
    let (org, name) = id.split_once('/').unwrap_or(("", id));
    let part = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    // A revision may hold `/` (`refs/pr/1`) but must stay inside `refs/` and `snapshots/`.
    let rev_ok = revision
        .split('/')
        .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains(char::is_whitespace));
    ((org.is_empty() && !id.contains('/') || part(org)) && part(name) && rev_ok)
        .then_some((id, revision))
}

fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::{cache_from, model_id};
    use std::path::Path;

    #[test]
    fn cache_folder_follows_the_python_clients_order() {
        let env = |set: &[(&str, &str)]| {
            cache_from(move |k| set.iter().find(|(n, _)| *n == k).map(|(_, v)| v.into()))
                .path()
                .clone()
        };
        let all: [(&str, &str); 4] = [
            ("HF_HUB_CACHE", "/c"),
            ("HF_HOME", "/h"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/u"),
        ];
        assert_eq!(env(&all), Path::new("/c"));
        assert_eq!(env(&all[1..]), Path::new("/h/hub"));
        assert_eq!(env(&all[2..]), Path::new("/x/huggingface/hub"));
        assert_eq!(env(&all[3..]), Path::new("/u/.cache/huggingface/hub"));
        assert_eq!(
            env(&[("HF_HUB_CACHE", ""), ("HOME", "/u")]),
            Path::new("/u/.cache/huggingface/hub")
        );
        assert_eq!(env(&[]), Path::new(".cache/huggingface/hub"));
    }

    #[test]
    fn model_ids() {
        assert_eq!(model_id("org/name"), Some(("org/name", "main")));
        assert_eq!(model_id("org/name@v2"), Some(("org/name", "v2")));
        assert_eq!(
            model_id("o-1/n_2.x@refs/pr/3"),
            Some(("o-1/n_2.x", "refs/pr/3"))
        );
        assert_eq!(model_id("gpt2"), Some(("gpt2", "main")));
        assert_eq!(
            model_id("bert-base-uncased@v1"),
            Some(("bert-base-uncased", "v1"))
        );
        for bad in [
            "",
            "@main",
            "..",
            "/name",
            "/abs/path",
            "a/b/c",
            "org/",
            "../name",
            "org/name@",
            "org/name@../../x",
            "org/na me",
            "org/name@a b",
        ] {
            assert_eq!(model_id(bad), None, "{bad}");
        }
    }
}
