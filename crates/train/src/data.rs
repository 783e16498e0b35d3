//! Featurised prompts, computed once in parallel (rayon) before training: sorted unique bucket
//! ids with their mean weights, dense features, and pass labels with the observed mask.
use rayon::prelude::*;
use tierwise_core::OutcomeTable;
use tierwise_router::features::{Featuriser, PromptView};

/// One featurised prompt.
#[derive(Debug, Clone)]
pub struct Example {
    /// Sorted unique buckets.
    pub buckets: Vec<u32>,
    /// count / total tokens, per bucket (so the bag is a mean).
    pub weights: Vec<f32>,
    /// Dense features.
    pub dense: Vec<f32>,
}

/// Featurised prompts plus labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// One per prompt, in table order.
    pub examples: Vec<Example>,
    /// `[prompts × tiers]` pass labels (0 where unobserved).
    pub y: Vec<f32>,
    /// `[prompts × tiers]` 1 where the outcome is known.
    pub mask: Vec<f32>,
    /// Tiers.
    pub tiers: usize,
}

/// Featurise one prompt.
pub fn featurise(f: &Featuriser, p: &PromptView) -> Example {
    let mut b = Vec::new();
    let n = f.buckets(p.text, |x| b.push(x));
    b.sort_unstable();
    let mut buckets = Vec::new();
    let mut weights = Vec::new();
    for x in b {
        if buckets.last() == Some(&x) {
            *weights.last_mut().unwrap() += 1.0;
        } else {
            buckets.push(x);
            weights.push(1.0f32);
        }
    }
    let inv = if n > 0 { 1.0 / n as f32 } else { 0.0 };
    weights.iter_mut().for_each(|w| *w *= inv);
    let mut dense = vec![0.0; f.config().dense_len()];
    f.dense(p, &mut dense);
    Example {
        buckets,
        weights,
        dense,
    }
}

impl Dataset {
    /// Featurise every prompt of `table` in parallel.
    pub fn build(f: &Featuriser, table: &OutcomeTable) -> Dataset {
        let examples = table
            .prompts
            .par_iter()
            .map(|p| {
                featurise(
                    f,
                    &PromptView {
                        text: &p.text,
                        turns: p.turns,
                        feature: p.feature.as_deref(),
                    },
                )
            })
            .collect();
        let nt = table.n_tiers();
        let mut y = vec![0.0; table.len() * nt];
        let mut mask = vec![0.0; table.len() * nt];
        for p in 0..table.len() {
            for t in 0..nt {
                if let Some(pass) = table.passed(p, t) {
                    y[p * nt + t] = pass as u8 as f32;
                    mask[p * nt + t] = 1.0;
                }
            }
        }
        Dataset {
            examples,
            y,
            mask,
            tiers: nt,
        }
    }
}
