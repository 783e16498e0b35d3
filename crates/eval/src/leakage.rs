//! Leakage check: eval prompts that also appear in a router's training data, by exact match of
//! normalised text and by SimHash near-duplicate, using the fingerprints the artifact recorded.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tierwise_core::text;

/// Fingerprints of every training prompt (as `router.json` records them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// `text::exact_fingerprint` of each training prompt.
    pub exact: Vec<u64>,
    /// `text::simhash` of each training prompt.
    pub simhash: Vec<u64>,
}

/// How a leakage warning starts (gate files name it `leakage`).
pub const PREFIX: &str = "LEAKAGE";

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Leakage {
    /// Eval prompts checked.
    pub checked: usize,
    /// Training prompts the artifact fingerprinted.
    pub training_prompts: usize,
    /// Eval prompts whose normalised text is a training prompt's.
    pub exact: usize,
    /// Other eval prompts within 3 SimHash bits of a training prompt.
    pub near_duplicate: usize,
    /// Ids of the first leaked prompts (at most 10).
    pub examples: Vec<String>,
}

impl Leakage {
    /// Leaked prompts of either kind.
    pub fn total(&self) -> usize {
        self.exact + self.near_duplicate
    }

    /// A loud one-line warning when anything leaked (it starts with [`PREFIX`]).
    pub fn warning(&self) -> Option<String> {
        (self.total() > 0).then(|| {
            format!(
                "{PREFIX}: {} of {} eval prompts appear in the router's training data ({} exact, {} \
                 near-duplicate); the router's metrics are optimistic. First: {}",
                self.total(),
                self.checked,
                self.exact,
                self.near_duplicate,
                self.examples.join(", ")
            )
        })
    }
}

/// Check `texts` (with their `ids`) against the training fingerprints. Near duplicates are
/// found through four 16-bit bands of the SimHash: two hashes within 3 bits agree on at least
/// one band, so probing the bands finds every candidate without comparing all pairs.
pub fn check(ids: &[String], texts: &[String], train: &Fingerprints) -> Leakage {
    let exact: HashSet<u64> = train.exact.iter().copied().collect();
    let mut bands: HashMap<(u8, u16), Vec<u64>> = HashMap::new();
    for &h in &train.simhash {
        for b in 0..4u8 {
            bands
                .entry((b, (h >> (16 * b)) as u16))
                .or_default()
                .push(h);
        }
    }
    let mut out = Leakage {
        checked: texts.len(),
        training_prompts: train.exact.len().max(train.simhash.len()),
        ..Default::default()
    };
    for (id, t) in ids.iter().zip(texts) {
        let leaked = if exact.contains(&text::exact_fingerprint(t)) {
            out.exact += 1;
            true
        } else {
            let h = text::simhash(t);
            let near = (0..4u8).any(|b| {
                bands
                    .get(&(b, (h >> (16 * b)) as u16))
                    .is_some_and(|c| c.iter().any(|&o| text::is_near_duplicate(h, o)))
            });
            out.near_duplicate += near as usize;
            near
        };
        if leaked && out.examples.len() < 10 {
            out.examples.push(id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exact_and_near_duplicates() {
        let train = [
            "The quick brown fox jumps over the lazy dog near the river bank on a sunny day in June",
            "Write a Python function that returns the nth Fibonacci number using memoisation",
        ];
        let fp = Fingerprints {
            exact: train.iter().map(|t| text::exact_fingerprint(t)).collect(),
            simhash: train.iter().map(|t| text::simhash(t)).collect(),
        };
        let eval: Vec<String> = [
            "  Write a Python function that returns the nth Fibonacci number using memoisation ",
            "The quick brown fox jumps over the lazy dog near the river bank on a sunny day in June!",
            "Explain the difference between TCP and UDP to a network engineering student",
        ]
        .map(String::from)
        .to_vec();
        let ids: Vec<String> = ["e0", "e1", "e2"].map(String::from).to_vec();
        let l = check(&ids, &eval, &fp);
        assert_eq!((l.exact, l.near_duplicate, l.checked), (1, 1, 3));
        assert_eq!(l.examples, vec!["e0", "e1"]);
        assert!(l.warning().unwrap().contains("2 of 3"));
        let none = check(&ids[2..], &eval[2..], &fp);
        assert_eq!((none.total(), none.warning()), (0, None));
    }
}
