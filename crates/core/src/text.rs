//! Prompt text helpers shared by every crate: normalisation, stable ids and token estimates.
use sha2::{Digest, Sha256};

/// Normalise prompt text for identity: trim, and fold every run of white space to one space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The default prompt id: `h` + the first 16 hex digits of SHA-256 of the normalised text.
pub fn prompt_id(text: &str) -> String {
    let digest = Sha256::digest(normalize(text).as_bytes());
    format!("h{}", hex::encode(&digest[..8]))
}

/// A cheap token estimate (about four characters a token), at least 1 for non-empty text.
/// Used wherever a real tokenizer count is unavailable: cost estimates and budget reservations.
pub fn estimate_tokens(text: &str) -> u64 {
    let chars = text.chars().count() as u64;
    if chars == 0 {
        0
    } else {
        chars.div_ceil(4)
    }
}

/// 64-bit FNV-1a hash: stable across platforms and versions (ids, buckets, fingerprints).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Exact-match fingerprint of a prompt: FNV-1a of its normalised text.
pub fn exact_fingerprint(text: &str) -> u64 {
    fnv1a64(normalize(text).as_bytes())
}

/// SimHash of a prompt over lower-cased word 3-shingles. Near-duplicate prompts (a few words
/// changed) differ in few bits: see [`is_near_duplicate`].
pub fn simhash(text: &str) -> u64 {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut votes = [0i32; 64];
    let mut add = |h: u64| {
        for (bit, v) in votes.iter_mut().enumerate() {
            *v += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    };
    if words.len() < 3 {
        add(fnv1a64(words.join(" ").as_bytes()));
    } else {
        for w in words.windows(3) {
            add(fnv1a64(w.join(" ").as_bytes()));
        }
    }
    votes.iter().enumerate().fold(
        0u64,
        |acc, (bit, &v)| if v > 0 { acc | 1 << bit } else { acc },
    )
}

/// Whether two SimHashes are within 3 bits of each other (near-duplicate prompts).
pub fn is_near_duplicate(a: u64, b: u64) -> bool {
    (a ^ b).count_ones() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_folds_whitespace_only() {
        assert_eq!(normalize("  Hello \n\t World  "), "Hello World");
        assert_eq!(prompt_id("a  b"), prompt_id(" a b\n"));
        assert_ne!(prompt_id("a b"), prompt_id("A b"));
        assert_eq!(prompt_id("x").len(), 17);
    }

    #[test]
    fn simhash_finds_near_duplicates() {
        let a = "The quick brown fox jumps over the lazy dog near the river bank on a sunny day in June";
        let b = "The quick brown fox jumps over the lazy dog near the river bank on a sunny day in July";
        let c = "Write a Python function that returns the nth Fibonacci number using memoisation";
        assert!(is_near_duplicate(simhash(a), simhash(a)));
        assert!((simhash(a) ^ simhash(b)).count_ones() < (simhash(a) ^ simhash(c)).count_ones());
        assert!(!is_near_duplicate(simhash(a), simhash(c)));
        assert_eq!(exact_fingerprint(" x  y"), exact_fingerprint("x y"));
    }

    #[test]
    fn token_estimate() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abc"), 1);
        assert_eq!(estimate_tokens("abcdefgh"), 2);
    }
}
