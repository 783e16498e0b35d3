//! The forward pass in plain Rust: embedding bag (mean of the rows of every hashed unigram and
//! bigram) ⊕ dense features → ReLU layer → one logit per tier.
use std::borrow::Cow;

use crate::artifact::{exact_f16, Weights};
use crate::features::{bigram_hash, Featuriser, PromptView};
use crate::layer::{Columns, Padded};
use crate::simd::{add_rows, add_rows_f16, has_f16_rows};

/// Featuriser plus weights: raw logits for a prompt (no calibration, no policy).
#[derive(Debug, Clone)]
pub struct Model {
    featuriser: Featuriser,
    /// The weights; their f32 `embedding` is left empty when `embedding_f16` holds it.
    weights: Weights,
    dim: usize,
    hidden: usize,
    tiers: usize,
    /// The embedding row of every token id's unigram bucket (`bucket_rows` looked up once).
    unigram_rows: Vec<i32>,
    /// The embedding as f16 bits, when every value is exactly an f16 (as `tierwise train`
    /// writes them), the width a multiple of 8 and the CPU can widen them ([`has_f16_rows`]):
    /// the same sums from half the memory reads, and the only copy kept.
    embedding_f16: Option<Vec<u16>>,
    /// `w1` as cut columns: the hidden layer.
    w1: Columns,
    /// `w2` as padded columns: the output layer.
    w2: Padded,
}

/// The value `Iterator::sum` starts from for `f32` (the reference forward pass sums with it;
/// the fast one must start from the same value to give the same bits).
fn sum_start() -> f32 {
    std::iter::empty::<f32>().sum()
}

impl Model {
    /// A model from its parts; sizes must agree and weights be finite (both checked by the
    /// artifact loader).
    pub fn new(featuriser: Featuriser, mut weights: Weights, dim: usize, hidden: usize) -> Self {
        let tiers = weights.b2.len();
        let input = dim + featuriser.config().dense_len();
        let unigram_rows = (0..featuriser.tokenizer().get_vocab_size(true) as u32)
            .map(|id| weights.bucket_rows[featuriser.unigram_bucket(id) as usize])
            .collect();
        let embedding_f16 = match has_f16_rows() && dim % 8 == 0 {
            true => exact_f16(&weights.embedding),
            false => None,
        };
        if embedding_f16.is_some() {
            weights.embedding = Vec::new();
        }
        let w1 = Columns::new(&weights.w1, hidden, input);
        let w2 = Padded::new(&weights.w2, tiers, hidden);
        Model {
            featuriser,
            weights,
            dim,
            hidden,
            tiers,
            unigram_rows,
            embedding_f16,
            w1,
            w2,
        }
    }

    /// The featuriser.
    pub fn featuriser(&self) -> &Featuriser {
        &self.featuriser
    }

    /// The weights, as the artifact holds them (an f16 embedding widened back to f32, exactly:
    /// the model itself keeps only the f16 copy then, so this one is built on each call).
    pub fn weights(&self) -> Cow<'_, Weights> {
        match &self.embedding_f16 {
            None => Cow::Borrowed(&self.weights),
            Some(half) => Cow::Owned(Weights {
                embedding: half.iter().map(|&h| widen(h)).collect(),
                ..self.weights.clone()
            }),
        }
    }

    /// The bytes the embedding table takes in memory (2 per value when read as f16, else 4).
    pub fn embedding_bytes(&self) -> usize {
        match &self.embedding_f16 {
            Some(half) => 2 * half.len(),
            None => 4 * self.weights.embedding.len(),
        }
    }

    /// Whether the embedding rows are read as f16 (the artifact's values are all exactly f16, as
    /// `tierwise train` writes them, and the CPU widens them with F16C; the sums are the same
    /// either way).
    pub fn f16_rows(&self) -> bool {
        self.embedding_f16.is_some()
    }

    /// Number of tiers (outputs).
    pub fn n_tiers(&self) -> usize {
        self.tiers
    }

    /// Raw logits of `prompt` into `out[..tiers]`.
    ///
    /// # Panics
    /// If `out` is shorter than the tier count.
    pub fn logits(&self, prompt: &PromptView, out: &mut [f32]) {
        assert!(
            out.len() >= self.tiers,
            "logits: room for {} of {} tiers",
            out.len(),
            self.tiers
        );
        let (dim, hidden) = (self.dim, self.hidden);
        let input = dim + self.featuriser.config().dense_len();
        let mut stack = [0f32; 512];
        let mut heap = Vec::new();
        let scratch = if input + hidden <= stack.len() {
            &mut stack[..input + hidden]
        } else {
            heap.resize(input + hidden, 0f32);
            &mut heap[..]
        };
        let (x, h) = scratch.split_at_mut(input);
        let n = match dim {
            // An ensemble's members side by side: a multiple of the member width.
            32 => self.bag::<32>(prompt.text, &mut x[..dim]),
            64 => self.bag::<64>(prompt.text, &mut x[..dim]),
            16 => self.bag::<16>(prompt.text, &mut x[..dim]),
            48 => self.bag::<48>(prompt.text, &mut x[..dim]),
            80 => self.bag::<80>(prompt.text, &mut x[..dim]),
            96 => self.bag::<96>(prompt.text, &mut x[..dim]),
            // With a linear member (a column per tier), padded to a multiple of 8.
            56 => self.bag::<56>(prompt.text, &mut x[..dim]),
            72 => self.bag::<72>(prompt.text, &mut x[..dim]),
            88 => self.bag::<88>(prompt.text, &mut x[..dim]),
            _ => self.bag_any(prompt.text, &mut x[..dim]),
        };
        if n > 0 {
            let inv = 1.0 / n as f32;
            x[..dim].iter_mut().for_each(|a| *a *= inv);
        }
        self.featuriser.dense(prompt, &mut x[dim..]);
        // Each h[j] sums w1[j][i] · x[i] in order of i, from the same start as `sum`:
        // the same bits as a dot product per row, with the rows side by side.
        h.iter_mut().for_each(|a| *a = sum_start());
        self.w1.add_to(h, x);
        h.iter_mut()
            .zip(&self.weights.b1)
            .for_each(|(a, b)| *a = (*a + b).max(0.0));
        let o = &mut out[..self.tiers];
        self.w2.apply(h, sum_start(), o);
        o.iter_mut()
            .zip(&self.weights.b2)
            .for_each(|(a, b)| *a += b);
    }

    /// Call `add` with the embedding rows of `text`'s buckets, in the order of
    /// [`Featuriser::buckets`] (buckets without a row left out), a chunk at a time; returns the
    /// bucket count. Token ids are buffered first so that each step runs as its own tight loop.
    #[inline(always)]
    fn bag_with(&self, text: &str, mut add: impl FnMut(&[u32])) -> usize {
        let mut chunk = Chunk {
            ids: [0; CHUNK],
            len: 0,
            kept: [0; KEPT],
            prev: None,
            count: 0,
        };
        self.featuriser.token_ids(text, |id| {
            chunk.ids[chunk.len] = id;
            chunk.len += 1;
            if chunk.len == CHUNK {
                add(self.rows_of(&mut chunk));
            }
        });
        add(self.rows_of(&mut chunk));
        chunk.count
    }

    /// The embedding rows of the buffered ids' buckets; empties the buffer.
    #[inline(never)]
    fn rows_of<'c>(&self, c: &'c mut Chunk) -> &'c [u32] {
        let f = &self.featuriser;
        let table = &self.weights.bucket_rows[..];
        let unigram = &self.unigram_rows[..];
        let kept = &mut c.kept;
        // Every row is written at `m`, which moves on only when the row is ≥ 0: no branch on
        // the row, and the table loads do not wait on each other.
        let mut m = 0;
        let mut keep = |r: i32| {
            kept[m % KEPT] = r as u32;
            m += (r >= 0) as usize;
        };
        let unigram_row = |id: u32| match unigram.get(id as usize) {
            Some(&r) => r,
            None => table[f.unigram_bucket(id) as usize],
        };
        let ids = &c.ids[..c.len];
        let before = c.prev;
        match (f.config().bigrams, f.bucket_mask()) {
            // Power-of-two bucket count (the default): the bucket is the hash masked, and the
            // mask bounds the table index.
            (true, Some(mask)) if table.len() as u64 == mask + 1 => {
                let mask = table.len() - 1;
                let bigram_row = |p, id| table[bigram_hash(p, id) as usize & mask];
                with_bigrams(ids, &mut c.prev, unigram_row, bigram_row, keep);
            }
            (true, _) => {
                let bigram_row = |p, id| table[f.bigram_bucket(p, id) as usize];
                with_bigrams(ids, &mut c.prev, unigram_row, bigram_row, keep);
            }
            (false, _) => ids.iter().for_each(|&id| keep(unigram_row(id))),
        }
        // A unigram per id, and a bigram per id but the very first.
        c.count += match f.config().bigrams {
            true => 2 * ids.len() - (before.is_none() && !ids.is_empty()) as usize,
            false => ids.len(),
        };
        c.len = 0;
        &c.kept[..m]
    }

    /// Sum the embedding rows of `text`'s buckets into `bag` (`D` = dim floats, the sums kept
    /// in registers); returns the bucket count.
    fn bag<const D: usize>(&self, text: &str, bag: &mut [f32]) -> usize {
        let mut acc = [0f32; D];
        let emb = &self.weights.embedding;
        let n = match &self.embedding_f16 {
            Some(half) => self.bag_with(text, |rows| add_rows_f16(&mut acc, half, rows)),
            None => self.bag_with(text, |rows| add_rows(&mut acc, emb, rows)),
        };
        bag.copy_from_slice(&acc);
        n
    }

    /// [`Self::bag`] for any dim.
    fn bag_any(&self, text: &str, bag: &mut [f32]) -> usize {
        let dim = self.dim;
        let at = |r: u32| r as usize * dim..(r as usize + 1) * dim;
        match &self.embedding_f16 {
            Some(half) => self.bag_with(text, |rows| {
                for &r in rows {
                    let row = half[at(r)].iter().map(|&h| widen(h));
                    bag.iter_mut().zip(row).for_each(|(a, e)| *a += e);
                }
            }),
            None => self.bag_with(text, |rows| {
                for &r in rows {
                    let row = &self.weights.embedding[at(r)];
                    bag.iter_mut().zip(row).for_each(|(a, e)| *a += e);
                }
            }),
        }
    }
}

/// An f16's bits widened to f32 (exact).
fn widen(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// Feed `keep` the row of each id's unigram and of its bigram with the id before it (`prev`,
/// carried across chunks), in that order.
#[inline(always)]
fn with_bigrams(
    ids: &[u32],
    prev: &mut Option<u32>,
    unigram_row: impl Fn(u32) -> i32,
    bigram_row: impl Fn(u32, u32) -> i32,
    mut keep: impl FnMut(i32),
) {
    let mut last = *prev;
    for &id in ids {
        keep(unigram_row(id));
        if let Some(p) = last {
            keep(bigram_row(p, id));
        }
        last = Some(id);
    }
    *prev = last;
}

/// Token ids buffered for the embedding bag.
const CHUNK: usize = 64;
/// Rows kept per chunk at most: a unigram and a bigram per id (a power of two, so `% KEPT` is a
/// mask that spares the bounds check).
const KEPT: usize = 2 * CHUNK;

/// A chunk of token ids on their way to embedding rows.
struct Chunk {
    ids: [u32; CHUNK],
    len: usize,
    /// The rows ≥ 0 (room for a unigram and a bigram per id).
    kept: [u32; KEPT],
    /// The previous token id (for the next bigram), across chunks.
    prev: Option<u32>,
    /// Buckets so far (with or without a row).
    count: usize,
}
