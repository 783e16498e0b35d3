//! A fast path for WordPiece tokenizers: for ASCII text, lower-casing, BERT pre-tokenisation
//! (split on white space, isolate punctuation) and greedy WordPiece reproduce exactly the ids
//! that `tokenizers` gives, without its per-call allocations. It serves the tokenizers
//! `tierwise train` builds (`Lowercase` normaliser) and uncased BERT ones (`BertNormalizer` with
//! `lowercase`, as in most `tokenizer.json` files of BERT-family models: on ASCII text it only
//! lower-cases, and drops control characters when `clean_text` is set, so such text takes the
//! slow path). Anything else (non-ASCII text, text containing an added token, a tokenizer of
//! another shape) goes through `tokenizers`.
//!
//! Per word or punctuation byte: one hash-table probe when it is a whole vocabulary entry (the
//! common case), else a trie walk per piece (see [`crate::pieces`]); with a vocabulary without
//! continuation pieces (those `tierwise train` builds) a miss of up to 16 bytes is unknown, with
//! no walk.
use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::Tokenizer;

use crate::ascii::{block, classes64, has_control, lower_block, word_end, Classes, CLASS, PUNCT};
use crate::pieces::{matchable, Key, Trie, TrieBuilder, WordTable, NONE};

/// Greedy longest-match-first WordPiece over an ASCII vocabulary.
#[derive(Debug, Clone)]
pub(crate) struct FastWordPiece {
    /// Whole words that are initial pieces, and the punctuation bytes that are tokens (a
    /// punctuation byte is a word of its own); none longer than `max_chars`.
    words: WordTable,
    trie: Trie,
    unk: u32,
    max_chars: usize,
    /// Whether any token is a continuation piece. Without one, a word is a whole vocabulary
    /// entry or unknown (the vocabularies `tierwise train` builds).
    continues: bool,
    added: Vec<String>,
    /// The distinct first bytes of the added tokens: a text holding none of them holds no
    /// added token (`None`: an empty added token, in every text).
    added_first: Option<Vec<u8>>,
    /// The normaliser drops control characters (`BertNormalizer::clean_text`).
    clean_text: bool,
}

impl FastWordPiece {
    /// Build the fast path when the tokenizer is lower-case + BERT pre-tokenizer + WordPiece,
    /// without truncation or padding; `None` otherwise.
    pub(crate) fn from_tokenizer(tok: &Tokenizer) -> Option<Self> {
        let clean_text = match tok.get_normalizer() {
            Some(NormalizerWrapper::Lowercase(_)) => false,
            Some(NormalizerWrapper::BertNormalizer(n)) if n.lowercase => n.clean_text,
            _ => return None,
        };
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
        let mut vocab: Vec<(String, u32)> = tokenizers::Model::get_vocab(wp).into_iter().collect();
        vocab.sort_unstable_by_key(|&(_, id)| id); // same tables on every load
        let unk = vocab.iter().find(|(k, _)| *k == wp.unk_token)?.1;
        let max_chars = wp.max_input_chars_per_word;
        let prefix = wp.continuing_subword_prefix.as_bytes();
        // `tokenizers` looks a piece up as itself at the start of a word and as prefix + piece
        // after it: every token is an initial piece; those starting with the prefix are also
        // continuation pieces (all of them when the prefix is empty).
        let mut words = Vec::new();
        let mut trie = TrieBuilder::new();
        let mut continues = false;
        // A word longer than `max_chars` is unknown, even a vocabulary entry: such entries are
        // left out of the table (the word then falls to `pieces`, which says unknown).
        let whole = |t: &[u8]| t.len() <= Key::MAX_LEN.min(max_chars);
        for (token, id) in &vocab {
            let t = token.as_bytes();
            if matchable(t) {
                trie.insert(false, t, *id);
                if whole(t) {
                    words.push((Key::of(t, 0, t.len()), *id));
                }
            } else if t.len() == 1 && t[0].is_ascii() && CLASS[t[0] as usize] == PUNCT && whole(t) {
                // A punctuation byte is a word of one byte, looked up like any other.
                words.push((Key::of(t, 0, 1), *id));
            }
            if let Some(rest) = t.strip_prefix(prefix) {
                if matchable(rest) {
                    trie.insert(true, rest, *id);
                    continues = true;
                }
            }
        }
        let added: Vec<String> = added.into_iter().map(|t| t.content).collect();
        let mut first: Option<Vec<u8>> = Some(Vec::new());
        for a in &added {
            match (a.as_bytes().first(), &mut first) {
                (Some(b), Some(f)) if !f.contains(b) => f.push(*b),
                (None, _) => first = None,
                _ => {}
            }
        }
        let added_first = first;
        Some(FastWordPiece {
            words: WordTable::new(&words),
            trie: trie.build()?,
            unk,
            max_chars,
            continues,
            added,
            added_first,
            clean_text,
        })
    }

    /// Whether `text` can take the fast path.
    pub(crate) fn accepts(&self, text: &str) -> bool {
        if !text.is_ascii() {
            return false;
        }
        let b = text.as_bytes();
        // `clean_text` drops ASCII control characters other than \t \n \r (they would join
        // the words around them): leave such text to `tokenizers`.
        if self.clean_text && has_control(b) {
            return false;
        }
        // Added tokens are matched before normalising: search for them only when the text
        // holds a byte that starts one (one `memchr` per distinct first byte).
        let maybe = match &self.added_first {
            Some(first) => first.iter().any(|c| b.contains(c)),
            None => true,
        };
        !(maybe && self.added.iter().any(|a| text.contains(a.as_str())))
    }

    /// Call `emit` with every token id of `text` (which must pass [`Self::accepts`]). The text
    /// is read 64 bytes at a time as class bit masks: white space is skipped, and each token's
    /// start and length come from the masks, not from its bytes one by one. Words and
    /// punctuation take the same path (one table probe), so the loop does not branch on which
    /// comes next, which no predictor can guess in prose.
    pub(crate) fn encode(&self, text: &str, mut emit: impl FnMut(u32)) {
        debug_assert!(text.is_ascii());
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // White space past the end of the text.
            let block = block::<64>(b, i, b' ');
            let Classes { word, punct } = classes64(&block);
            // Bit k: a token starts at byte k (a punctuation byte, or a word byte after a
            // non-word byte) / a token's last byte is k.
            let mut starts = punct | (word & !(word << 1));
            let ends = punct | (word & !(word >> 1));
            // A word that reaches the block's last byte may go on past it: the next block
            // starts at it, so that every word but one of 64 bytes or more lies in one block.
            let open = (!word).leading_zeros() as usize;
            let next = match open {
                0 => i + 64,
                64 => {
                    // A word of 64 bytes or more (unknown by `max_chars` or split by pieces).
                    let j = word_end(b, i);
                    self.pieces(b, i, j, &mut emit);
                    starts = 0;
                    j
                }
                _ => {
                    starts &= u64::MAX >> open;
                    i + 64 - open
                }
            };
            let lower = lower_block(b, i);
            while starts != 0 {
                let k = starts.trailing_zeros() as usize;
                let len = (ends >> k).trailing_zeros() as usize + 1;
                match self.words.get(&Key::of_lower(&lower, k, len)) {
                    Some(id) => emit(id),
                    None => self.pieces(b, i + k, i + k + len, &mut emit),
                }
                starts &= starts - 1;
            }
            i = next;
        }
    }

    /// Emit the ids of the word `b[i..j]` by greedy longest match; all or nothing, as in
    /// `tokenizers` (unknown when longer than the longest word it splits).
    #[inline(never)]
    fn pieces(&self, b: &[u8], i: usize, j: usize, emit: &mut impl FnMut(u32)) {
        let len = j - i;
        if len > self.max_chars {
            return emit(self.unk);
        }
        // Without continuation pieces, a word the table misses is unknown, unless it is an
        // entry too long for the table.
        if !self.continues && len <= Key::MAX_LEN {
            return emit(self.unk);
        }
        let w = &b[i..j];
        let Some((n, first)) = self.trie.longest(w, 0, false) else {
            return emit(self.unk);
        };
        // Common case with BERT-like vocabularies, which hold every character as a continuation
        // piece: every byte after the initial piece is a one-byte continuation with no longer
        // piece, so the greedy match is known byte by byte and cannot fail; no buffer.
        if w[n..].iter().all(|&c| self.trie.cont_leaf(c) != NONE) {
            emit(first);
            return w[n..].iter().for_each(|&c| emit(self.trie.cont_leaf(c)));
        }
        // All or nothing without a buffer: walk once to see that every step matches, then
        // again to emit.
        if self.continue_greedy(w, n, |_| {}) {
            emit(first);
            self.continue_greedy(w, n, emit);
        } else {
            emit(self.unk)
        }
    }

    /// The greedy continuation pieces of `w` from byte `start` on, to `f`; false (after
    /// some calls) where no piece matches.
    #[inline(always)]
    fn continue_greedy(&self, w: &[u8], mut start: usize, mut f: impl FnMut(u32)) -> bool {
        while start < w.len() {
            // Most continuations are one byte with no longer piece: a table lookup.
            if start > 0 {
                let id = self.trie.cont_leaf(w[start]);
                if id != NONE {
                    f(id);
                    start += 1;
                    continue;
                }
            }
            match self.trie.longest(w, start, start > 0) {
                Some((n, id)) => {
                    f(id);
                    start += n;
                }
                None => return false,
            }
        }
        true
    }
}
