//! The forward pass in plain Rust: embedding bag (mean of the rows of every hashed unigram and
//! bigram) ⊕ dense features → ReLU layer → one logit per tier.
use crate::artifact::Weights;
use crate::features::{Featuriser, PromptView};

/// Featuriser plus weights: raw logits for a prompt (no calibration, no policy).
#[derive(Debug, Clone)]
pub struct Model {
    featuriser: Featuriser,
    weights: Weights,
    dim: usize,
    hidden: usize,
    tiers: usize,
}

impl Model {
    /// A model from its parts; sizes must agree (checked by the artifact loader).
    pub fn new(featuriser: Featuriser, weights: Weights, dim: usize, hidden: usize) -> Self {
        let tiers = weights.b2.len();
        Model {
            featuriser,
            weights,
            dim,
            hidden,
            tiers,
        }
    }

    /// The featuriser.
    pub fn featuriser(&self) -> &Featuriser {
        &self.featuriser
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Number of tiers (outputs).
    pub fn n_tiers(&self) -> usize {
        self.tiers
    }

    /// Raw logits of `prompt` into `out` (length = tiers).
    pub fn logits(&self, prompt: &PromptView, out: &mut [f32]) {
        let (dim, hidden) = (self.dim, self.hidden);
        let dense_len = self.featuriser.config().dense_len();
        let input = dim + dense_len;
        let mut scratch = vec![0f32; input + hidden];
        let (x, h) = scratch.split_at_mut(input);
        let w = &self.weights;
        let bag = &mut x[..dim];
        let n = self.featuriser.buckets(prompt.text, |b| {
            let r = w.bucket_rows[b as usize];
            if r >= 0 {
                let row = &w.embedding[r as usize * dim..(r as usize + 1) * dim];
                bag.iter_mut().zip(row).for_each(|(a, e)| *a += e);
            }
        });
        if n > 0 {
            let inv = 1.0 / n as f32;
            bag.iter_mut().for_each(|a| *a *= inv);
        }
        self.featuriser.dense(prompt, &mut x[dim..]);
        for (j, hj) in h.iter_mut().enumerate() {
            let row = &w.w1[j * input..(j + 1) * input];
            let s: f32 = row.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
            *hj = (s + w.b1[j]).max(0.0);
        }
        for (t, o) in out.iter_mut().enumerate().take(self.tiers) {
            let row = &w.w2[t * hidden..(t + 1) * hidden];
            *o = row.iter().zip(h.iter()).map(|(a, b)| a * b).sum::<f32>() + w.b2[t];
        }
    }
}
