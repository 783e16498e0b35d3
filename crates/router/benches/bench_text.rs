//! The bench prompts, shared by `benches/decide.rs` and `examples/decide_loop.rs`.
#![allow(dead_code)]

use std::path::PathBuf;

/// One paragraph of mixed prose, numbers, punctuation and code, cycled to any length.
pub const WORDS: &str = "The quarterly report shows that revenue grew by 12 percent, driven by \
strong demand in Europe; however, margins narrowed because shipping costs (fuel, insurance) rose. \
Please summarise the key risks, list three actions, and write a short Python function \
def margin(rev, cost): return (rev - cost) / rev to check the numbers. ";

/// The first `chars` characters of [`WORDS`] repeated.
pub fn text(chars: usize) -> String {
    WORDS.chars().cycle().take(chars).collect()
}

/// `n` windows of `chars` characters of the prompts of a log (ASCII, joined by blank lines), at
/// evenly spread offsets: the demo's held-out log, or the one `TIERWISE_BENCH_PROMPTS` names
/// (e.g. the log a benched model was trained on, so that its words are the model's).
pub fn varied(chars: usize, n: usize) -> Vec<String> {
    let path = std::env::var_os("TIERWISE_BENCH_PROMPTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo/heldout.jsonl")
        });
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut all = String::new();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a json line");
        if let Some(p) = v["prompt"]
            .as_str()
            .filter(|p| p.is_ascii() && seen.insert(p.to_string()))
        {
            all.push_str(p);
            all.push_str("\n\n");
        }
    }
    if all.len() < chars {
        return Vec::new();
    }
    let step = (all.len() - chars) / n.max(1);
    (0..n)
        .map(|i| all[i * step..i * step + chars].to_string())
        .collect()
}
