//! The featuriser, shared by training and serving so the two can never disagree: token ids from
//! the artifact's tokenizer, hashed unigrams and bigrams into buckets (for the embedding bag),
//! and a few dense numeric features (length, turns, code fences, character shares, feature tag).
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::counts::TextCounts;
use crate::wordpiece::FastWordPiece;

/// Number of dense text features before the feature-tag slots.
pub const TEXT_FEATURES: usize = 8;

/// Names of the dense text features, in order.
pub const TEXT_FEATURE_NAMES: [&str; TEXT_FEATURES] = [
    "log_chars",
    "log_words",
    "log_turns",
    "code_fences",
    "digit_share",
    "upper_share",
    "log_lines",
    "non_ascii_share",
];

/// Featuriser settings, stored in `router.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturiserConfig {
    /// Number of hash buckets for token unigrams and bigrams.
    pub buckets: u32,
    /// Whether token bigrams are hashed too.
    pub bigrams: bool,
    /// Hash slots for the `feature` tag (one-hot).
    pub feature_slots: u32,
    /// Dense text feature names (see [`TEXT_FEATURE_NAMES`]).
    pub text_features: Vec<String>,
    /// Per dense feature, the `[min, max]` seen in training; serving clamps each feature to it,
    /// so a prompt beyond anything trained on (longer, more digits) is read as the edge of the
    /// training range instead of extrapolating. Required from format version 2: the trained
    /// layers are exact only on the clamped range. Empty (version 1): no clamping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dense_range: Vec<[f32; 2]>,
}

impl FeaturiserConfig {
    /// Default settings with `buckets` buckets.
    pub fn new(buckets: u32) -> Self {
        FeaturiserConfig {
            buckets,
            bigrams: true,
            feature_slots: 16,
            text_features: TEXT_FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            dense_range: Vec::new(),
        }
    }

    /// Width of the dense feature vector.
    pub fn dense_len(&self) -> usize {
        TEXT_FEATURES + self.feature_slots as usize
    }
}

/// What a prompt offers for routing.
#[derive(Debug, Clone, Copy)]
pub struct PromptView<'a> {
    /// Routing text.
    pub text: &'a str,
    /// Conversation turns (≥ 1).
    pub turns: usize,
    /// The calling feature's tag.
    pub feature: Option<&'a str>,
}

/// Turns prompts into bucket ids and dense features.
#[derive(Debug, Clone)]
pub struct Featuriser {
    config: FeaturiserConfig,
    tokenizer: Tokenizer,
    fast: Option<FastWordPiece>,
    /// The unigram bucket of every token id below the vocabulary size.
    unigram: Vec<u32>,
    /// `buckets - 1` when `buckets` is a power of two (`x % n == x & (n - 1)`), else 0.
    mask: u64,
}

#[inline]
fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: cheap and well spread.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The hash of the bigram `prev`, `id`, before reduction to a bucket.
#[inline(always)]
pub(crate) fn bigram_hash(prev: u32, id: u32) -> u64 {
    mix(((prev as u64 + 1) << 32) ^ (id as u64 + 1))
}

impl Featuriser {
    /// A featuriser over `tokenizer` with `config`.
    pub fn new(config: FeaturiserConfig, tokenizer: Tokenizer) -> Self {
        let fast = FastWordPiece::from_tokenizer(&tokenizer);
        let n = config.buckets as u64;
        let mask = if n.is_power_of_two() { n - 1 } else { 0 };
        let mut f = Featuriser {
            config,
            tokenizer,
            fast,
            unigram: Vec::new(),
            mask,
        };
        f.unigram = (0..f.tokenizer.get_vocab_size(true) as u32)
            .map(|id| f.reduce(mix(id as u64 + 1)))
            .collect();
        f
    }

    /// `x % buckets` (a mask when `buckets` is a power of two: the same value, cheaper).
    #[inline(always)]
    fn reduce(&self, x: u64) -> u32 {
        if self.mask != 0 {
            (x & self.mask) as u32
        } else {
            (x % self.config.buckets as u64) as u32
        }
    }

    /// The bucket of the unigram `id`.
    #[inline]
    pub fn unigram_bucket(&self, id: u32) -> u32 {
        match self.unigram.get(id as usize) {
            Some(&b) => b,
            None => self.reduce(mix(id as u64 + 1)),
        }
    }

    /// The bucket of the bigram `prev`, `id`.
    #[inline]
    pub fn bigram_bucket(&self, prev: u32, id: u32) -> u32 {
        self.reduce(bigram_hash(prev, id))
    }

    /// `buckets - 1` when the bucket count is a power of two (a bucket is then
    /// `hash & mask`), else `None`.
    pub(crate) fn bucket_mask(&self) -> Option<u64> {
        (self.mask != 0).then_some(self.mask)
    }

    /// The settings.
    pub fn config(&self) -> &FeaturiserConfig {
        &self.config
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Whether the ASCII fast path is available for this tokenizer.
    pub fn has_fast_path(&self) -> bool {
        self.fast.is_some()
    }

    /// Token ids of `text` (fast path when possible, else `tokenizers`).
    #[inline]
    pub fn token_ids(&self, text: &str, mut emit: impl FnMut(u32)) {
        match &self.fast {
            Some(f) if f.accepts(text) => f.encode(text, emit),
            _ => {
                // The tokenizer was validated at load; an encode error means unusable text,
                // which then contributes no tokens (its dense features still count).
                if let Ok(enc) = self.tokenizer.encode(text, false) {
                    enc.get_ids().iter().for_each(|&id| emit(id));
                }
            }
        }
    }

    /// Token ids through `tokenizers` only (reference for the fast path).
    pub fn token_ids_slow(&self, text: &str) -> Vec<u32> {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }

    /// Call `emit` with the bucket of every unigram and bigram of `text`; returns the count.
    pub fn buckets(&self, text: &str, mut emit: impl FnMut(u32)) -> usize {
        let bigrams = self.config.bigrams;
        let mut prev: Option<u32> = None;
        let mut count = 0;
        self.token_ids(text, |id| {
            emit(self.unigram_bucket(id));
            count += 1;
            if bigrams {
                if let Some(p) = prev {
                    emit(self.bigram_bucket(p, id));
                    count += 1;
                }
                prev = Some(id);
            }
        });
        count
    }

    /// Fill `out` (length [`FeaturiserConfig::dense_len`]) with the dense features, clamped to
    /// [`FeaturiserConfig::dense_range`].
    pub fn dense(&self, p: &PromptView, out: &mut [f32]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        let TextCounts {
            chars,
            digits,
            upper,
            lines,
            non_ascii,
            words,
            fences,
        } = TextCounts::of(p.text);
        let share = |k: usize| {
            if chars == 0 {
                0.0
            } else {
                k as f32 / chars as f32
            }
        };
        out[0] = (1.0 + chars as f32).ln() / 8.0;
        out[1] = (1.0 + words as f32).ln() / 7.0;
        out[2] = (p.turns.max(1) as f32).ln();
        out[3] = (fences.min(8) as f32) / 4.0;
        out[4] = share(digits) * 4.0;
        out[5] = share(upper) * 4.0;
        out[6] = (lines as f32).ln() / 4.0;
        out[7] = share(non_ascii) * 4.0;
        if let (Some(tag), slots @ 1..) = (p.feature, self.config.feature_slots) {
            let slot = tierwise_core::text::fnv1a64(tag.as_bytes()) % slots as u64;
            out[TEXT_FEATURES + slot as usize] = 1.0;
        }
        for (x, &[lo, hi]) in out.iter_mut().zip(&self.config.dense_range) {
            *x = x.clamp(lo, hi);
        }
    }
}
