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
    fn token_estimate() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abc"), 1);
        assert_eq!(estimate_tokens("abcdefgh"), 2);
    }
}
