//! A fast path for the trained tokenizer: for ASCII text, lower-casing, BERT pre-tokenisation
//! (split on white space, isolate punctuation) and greedy WordPiece reproduce exactly the ids
//! that `tokenizers` gives, without its per-call allocations. Anything else (non-ASCII text,
//! text containing an added token, a tokenizer of another shape) goes through `tokenizers`.
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::Tokenizer;

/// FNV-1a as a `Hasher` for the vocabulary map (short keys, no DoS concern: keys are ours).
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Greedy longest-match-first WordPiece over an ASCII vocabulary.
#[derive(Debug, Clone)]
pub(crate) struct FastWordPiece {
    trie: Trie,
    unk: u32,
    max_chars: usize,
    added: Vec<String>,
}

impl FastWordPiece {
    /// Build the fast path when the tokenizer is lower-case + BERT pre-tokenizer + WordPiece,
    /// without truncation or padding; `None` otherwise.
    pub(crate) fn from_tokenizer(tok: &Tokenizer) -> Option<Self> {
        if !matches!(tok.get_normalizer(), Some(NormalizerWrapper::Lowercase(_))) {
            return None;
        }
        if !matches!(
            tok.get_pre_tokenizer(),
            Some(PreTokenizerWrapper::BertPreTokenizer(_))
        ) {
            return None;
        }
        if tok.get_truncation().is_some() || tok.get_padding().is_some() {
            return None;
        }
        let ModelWrapper::WordPiece(wp) = tok.get_model() else {
            return None;
        };
        let added: Vec<_> = tok.get_added_tokens_decoder().into_values().collect();
        if added.iter().any(|t| t.normalized) {
            return None;
        }
        let vocab: FnvMap<Box<[u8]>, u32> = tokenizers::Model::get_vocab(wp)
            .into_iter()
            .map(|(k, v)| (k.into_bytes().into_boxed_slice(), v))
            .collect();
        let unk = *vocab.get(wp.unk_token.as_bytes())?;
        Some(FastWordPiece {
            trie: Trie::new(&vocab, wp.continuing_subword_prefix.as_bytes()),
            unk,
            max_chars: wp.max_input_chars_per_word,
            added: added.into_iter().map(|t| t.content).collect(),
        })
    }

    /// Whether `text` can take the fast path.
    pub(crate) fn accepts(&self, text: &str) -> bool {
        text.is_ascii() && !self.added.iter().any(|a| text.contains(a.as_str()))
    }

    /// Call `emit` with every token id of `text` (which must pass [`Self::accepts`]).
    pub(crate) fn encode(&self, text: &str, mut emit: impl FnMut(u32)) {
        let mut word: Vec<u8> = Vec::with_capacity(64);
        for &b in text.as_bytes() {
            if b.is_ascii_whitespace() || b == 0x0b {
                self.word(&mut word, &mut emit);
            } else if b.is_ascii_punctuation() {
                self.word(&mut word, &mut emit);
                word.push(b);
                self.word(&mut word, &mut emit);
            } else {
                word.push(b.to_ascii_lowercase());
            }
        }
        self.word(&mut word, &mut emit);
    }

    fn word(&self, word: &mut Vec<u8>, emit: &mut impl FnMut(u32)) {
        if word.is_empty() {
            return;
        }
        if word.len() > self.max_chars {
            emit(self.unk);
            word.clear();
            return;
        }
        // Greedy longest match; all or nothing, as in `tokenizers`. The trie finds the longest
        // vocabulary piece at `start` in one walk (linear in the word, not quadratic).
        let mut ids: [u32; 128] = [0; 128];
        let mut n = 0;
        let mut start = 0;
        let mut bad = false;
        while start < word.len() {
            match self.trie.longest(&word[start..], start > 0) {
                Some((len, id)) if n < ids.len() => {
                    ids[n] = id;
                    n += 1;
                    start += len;
                }
                _ => {
                    bad = true;
                    break;
                }
            }
        }
        if bad {
            emit(self.unk);
        } else {
            ids[..n].iter().for_each(|&id| emit(id));
        }
        word.clear();
    }
}

/// A byte trie over the vocabulary: one root for word-initial pieces, one for continuation
/// pieces (stored without their `##` prefix). Children live in one hash map keyed by
/// (node, byte).
#[derive(Debug, Clone)]
struct Trie {
    children: FnvMap<u64, u32>,
    /// The token id ending at each node, or `u32::MAX`.
    ids: Vec<u32>,
}

const INITIAL: u32 = 0;
const CONTINUATION: u32 = 1;

impl Trie {
    fn new(vocab: &FnvMap<Box<[u8]>, u32>, prefix: &[u8]) -> Trie {
        let mut trie = Trie {
            children: FnvMap::default(),
            ids: vec![u32::MAX, u32::MAX],
        };
        for (token, &id) in vocab {
            let (mut node, rest) = match token.strip_prefix(prefix) {
                Some(rest) if !prefix.is_empty() => (CONTINUATION, rest),
                _ => (INITIAL, &token[..]),
            };
            if rest.is_empty() {
                continue; // an empty piece never matches (pieces are at least one byte)
            }
            for &b in rest {
                let key = (node as u64) << 8 | b as u64;
                node = match trie.children.get(&key) {
                    Some(&child) => child,
                    None => {
                        let child = trie.ids.len() as u32;
                        trie.ids.push(u32::MAX);
                        trie.children.insert(key, child);
                        child
                    }
                };
            }
            trie.ids[node as usize] = id;
        }
        trie
    }

    /// The longest vocabulary piece that starts `text`: (its length in bytes, its id).
    fn longest(&self, text: &[u8], continuation: bool) -> Option<(usize, u32)> {
        let mut node = if continuation { CONTINUATION } else { INITIAL };
        let mut best = None;
        for (i, &b) in text.iter().enumerate() {
            match self.children.get(&((node as u64) << 8 | b as u64)) {
                Some(&child) => node = child,
                None => break,
            }
            if self.ids[node as usize] != u32::MAX {
                best = Some((i + 1, self.ids[node as usize]));
            }
        }
        best
    }
}
