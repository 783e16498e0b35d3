//! The linear member: per tier, an L2-regularised logistic regression on the mean-pooled bag of
//! buckets and the standardised dense features (AdaGrad, seeded; the penalty and epoch chosen
//! by validation loss), written as a [`Net`] of the MLP members' form so that
//! [`crate::ensemble::fold`] averages it in and serving runs no extra code.
//!
//! Why: the MLP members start their embeddings at zero and early-stop within a few epochs, so
//! they read mostly the dense features; a convex fit reaches the per-token weights a bag of
//! words needs (on GSM8K a linear fit on the bag and the dense features ranks prompts better
//! than either alone).
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::Dataset;
use crate::dense::{DenseScale, Layers};
use crate::net::{embedding_rows, Net, Trained};
use crate::vectors::BucketVectors;

/// Settings of the linear member.
#[derive(Debug, Clone)]
pub struct LinearConfig {
    /// Epochs per penalty (the best epoch on validation is kept).
    pub epochs: usize,
    /// AdaGrad step.
    pub lr: f32,
    /// L2 penalties tried; the one with the lowest validation loss is kept, per tier.
    pub l2: Vec<f32>,
    /// Minimum number of training prompts a bucket must occur in to get a weight.
    pub min_count: usize,
    /// Its share of the ensemble's logit, the MLP members sharing the rest equally (`None`: an
    /// equal share with them). The default, 0.4, was chosen by 5-fold cross-validation over 20
    /// seeds on four sets at once (RouterBench ARC, MBPP, Winogrande, RouteLLM GSM8K): 0.2
    /// (equal with four MLP members) left GSM8K behind TF-IDF, 0.55 MBPP behind the prior.
    pub share: Option<f64>,
}

impl Default for LinearConfig {
    fn default() -> Self {
        LinearConfig {
            epochs: 20,
            lr: 0.5,
            l2: vec![1e-5, 1e-4, 1e-3, 1e-2],
            min_count: 2,
            share: Some(0.4),
        }
    }
}

/// One prompt's features: `(row, weight)` of its buckets that have a row, then the
/// standardised dense features.
struct Row {
    sparse: Vec<(u32, f32)>,
    dense: Vec<f32>,
}

/// The weights of one tier's regression.
#[derive(Clone)]
struct Fit {
    w: Vec<f32>,
    u: Vec<f32>,
    b: f32,
}

impl Fit {
    fn logit(&self, x: &Row) -> f32 {
        let s: f32 = x.sparse.iter().map(|&(r, v)| self.w[r as usize] * v).sum();
        let d: f32 = x.dense.iter().zip(&self.u).map(|(x, u)| x * u).sum();
        self.b + s + d
    }
}

/// Mean log loss of `fit` on the `(row, label)` cells.
fn loss(fit: &Fit, xs: &[Row], cells: &[(usize, f32)]) -> f64 {
    let s: f64 = cells
        .iter()
        .map(|&(p, y)| {
            let z = fit.logit(&xs[p]) as f64;
            z.max(0.0) - z * y as f64 + (-z.abs()).exp().ln_1p()
        })
        .sum();
    s / cells.len().max(1) as f64
}

/// Fit on `train`, choosing each tier's penalty and epoch on `val` (on `train` when `val` is
/// empty); the dense features are standardised by `scale`. With `vectors`, each prompt's mean
/// token vector ([`BucketVectors::mean`], standardised over `train`) is a further input, folded
/// into the unigram rows of the exported net. Tiers are fitted in parallel, each
/// with its own seeded order (seed, tier), so the result does not depend on the thread count.
/// `epochs` counts every penalty's epochs; `best_epoch` is the latest kept over the tiers (1 is
/// the first epoch of the first penalty); `val_loss` is over every validation cell.
pub fn fit(
    data: &Dataset,
    train: &[usize],
    val: &[usize],
    scale: &DenseScale,
    cfg: &LinearConfig,
    seed: u64,
    vectors: Option<&BucketVectors>,
) -> Trained {
    let nt = data.tiers;
    let (rows, row_prompts) = embedding_rows(data, train, cfg.min_count);
    // Each prompt's mean token vector, once.
    let means: Vec<Vec<f32>> = match vectors {
        Some(v) => data.examples.par_iter().map(|e| v.mean(e)).collect(),
        None => Vec::new(),
    };
    let statics = vectors.map(|v| Statics::fit(v, &means, train));
    let xs: Vec<Row> = data
        .examples
        .par_iter()
        .enumerate()
        .map(|(p, e)| {
            let sparse = e
                .buckets
                .iter()
                .zip(&e.weights)
                .filter_map(|(b, &w)| rows.binary_search(b).ok().map(|r| (r as u32, w)))
                .collect();
            let mut dense = Vec::with_capacity(e.dense.len());
            scale.apply(&e.dense, &mut dense);
            if let Some(s) = &statics {
                dense.extend(s.standardised(&means[p]));
            }
            Row { sparse, dense }
        })
        .collect();
    let d = xs.first().map_or(0, |x| x.dense.len());
    let d_num = d - statics.as_ref().map_or(0, |s| s.mu.len());
    let judge = if val.is_empty() { train } else { val };
    let cells = |set: &[usize], t: usize| -> Vec<(usize, f32)> {
        set.iter()
            .filter(|&&p| data.mask[p * nt + t] > 0.0)
            .map(|&p| (p, data.y[p * nt + t]))
            .collect()
    };
    let fits: Vec<(Fit, f64, usize, usize)> = (0..nt)
        .into_par_iter()
        .map(|t| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9e37_79b9));
            let mut tr = cells(train, t);
            let va = cells(judge, t);
            let (pos, n) = tr
                .iter()
                .fold((1.0f32, 2.0f32), |(p, n), c| (p + c.1, n + 1.0));
            let start = Fit {
                w: vec![0.0; rows.len()],
                u: vec![0.0; d],
                b: (pos / (n - pos)).ln(),
            };
            let mut best = (loss(&start, &xs, &va), start.clone(), 0);
            let mut epoch = 0;
            for &l2 in &cfg.l2 {
                let mut f = start.clone();
                let mut g2w = vec![1e-8f32; rows.len()];
                let mut g2u = vec![1e-8f32; d];
                let mut g2b = 1e-8f32;
                for _ in 0..cfg.epochs {
                    epoch += 1;
                    tr.shuffle(&mut rng);
                    for &(p, y) in &tr {
                        let x = &xs[p];
                        let g = 1.0 / (1.0 + (-f.logit(x)).exp()) - y;
                        for &(r, v) in &x.sparse {
                            let r = r as usize;
                            let gk = g * v + l2 * f.w[r];
                            g2w[r] += gk * gk;
                            f.w[r] -= cfg.lr * gk / g2w[r].sqrt();
                        }
                        for (k, &v) in x.dense.iter().enumerate() {
                            let gk = g * v + l2 * f.u[k];
                            g2u[k] += gk * gk;
                            f.u[k] -= cfg.lr * gk / g2u[k].sqrt();
                        }
                        g2b += g * g;
                        f.b -= cfg.lr * g / g2b.sqrt();
                    }
                    let l = loss(&f, &xs, &va);
                    if l < best.0 - 1e-6 {
                        best = (l, f.clone(), epoch);
                    }
                }
            }
            (best.1, best.0, best.2, va.len())
        })
        .collect();
    let cells_n: usize = fits.iter().map(|f| f.3).sum();
    let val_loss = fits.iter().map(|f| f.1 * f.3 as f64).sum::<f64>() / cells_n.max(1) as f64;
    let best_epoch = fits.iter().map(|f| f.2).max().unwrap_or(0);
    let fits: Vec<Fit> = fits.into_iter().map(|f| f.0).collect();
    Trained {
        net: match &statics {
            Some(s) => s.fold(as_net(&fits, rows, row_prompts, d_num), &fits, d_num),
            None => as_net(&fits, rows, row_prompts, d),
        },
        epochs: cfg.epochs * cfg.l2.len(),
        best_epoch,
        val_loss,
    }
}

/// How much a 384-wide token vector's standardised coordinates are scaled down (wider ones by
/// √(width / 384) more): AdaGrad's first steps move every weight by about its step, so
/// hundreds of unit-scale inputs would swing the logit by hundreds. Chosen by 5-fold
/// cross-validation with all-MiniLM-L6-v2 over fold seeds 21–40 among 1, 8, 20, 50 and 384 (at 1
/// GSM8K fell 0.01 behind TF-IDF + LR; 8 was best on RouterBench MBPP and GSM8K), and checked
/// on seeds 41–60, which no choice used.
pub const VECTOR_DAMPING: f64 = 8.0;

/// The mean token vector input of the linear member: the buckets' vectors, and the mean and
/// spread (times the damping) of each coordinate over the training prompts.
struct Statics<'a> {
    vectors: &'a BucketVectors,
    mu: Vec<f32>,
    sd: Vec<f32>,
}

impl<'a> Statics<'a> {
    /// From `means`, every prompt's mean token vector; the spread over `train`'s.
    fn fit(vectors: &'a BucketVectors, means: &[Vec<f32>], train: &[usize]) -> Self {
        let dim = vectors.dim;
        let n = train.len().max(1) as f64;
        let mut mu = vec![0f64; dim];
        let mut sq = vec![0f64; dim];
        for m in train.iter().map(|&p| &means[p]) {
            for j in 0..dim {
                mu[j] += m[j] as f64 / n;
                sq[j] += (m[j] as f64).powi(2) / n;
            }
        }
        // A coordinate that does not vary over training gets a spread of 1 (its weight then
        // stays near 0 and nothing is divided by 0).
        let k = VECTOR_DAMPING * (dim as f64 / 384.0).sqrt();
        let sd = (0..dim)
            .map(|j| match (sq[j] - mu[j] * mu[j]).max(0.0).sqrt() {
                s if s > 1e-9 => (s * k) as f32,
                _ => 1.0,
            })
            .collect();
        Statics {
            vectors,
            mu: mu.into_iter().map(|x| x as f32).collect(),
            sd,
        }
    }

    /// A prompt's mean token vector, standardised.
    fn standardised<'e>(&'e self, m: &'e [f32]) -> impl Iterator<Item = f32> + 'e {
        m.iter()
            .zip(self.mu.iter().zip(&self.sd))
            .map(|(x, (mu, sd))| (x - mu) / sd)
    }

    /// `net` (the regressions on the bag and the first `d_num` dense inputs) with each tier's
    /// weights `u` on the standardised vector folded in: bucket b's column t gains
    /// `Σ_j u_j / sd_j · v_b[j]` (a row is added for every bucket that holds a token's vector)
    /// and the output bias `−Σ_j u_j · mu_j / sd_j`; the ReLU shifts are widened to match.
    fn fold(&self, mut net: Net, fits: &[Fit], d_num: usize) -> Net {
        let nt = fits.len();
        let v = self.vectors;
        let scaled: Vec<Vec<f32>> = fits
            .iter()
            .map(|f| {
                f.u[d_num..]
                    .iter()
                    .zip(&self.sd)
                    .map(|(u, s)| u / s)
                    .collect()
            })
            .collect();
        // The union of the bag's rows and the vector buckets, sorted.
        let mut rows: Vec<u32> = net.rows.iter().chain(&v.buckets).copied().collect();
        rows.sort_unstable();
        rows.dedup();
        let mut embedding = vec![0f32; rows.len() * nt];
        let mut row_prompts = vec![0u32; rows.len()];
        for (i, &b) in rows.iter().enumerate() {
            let out = &mut embedding[i * nt..(i + 1) * nt];
            if let Ok(r) = net.rows.binary_search(&b) {
                out.copy_from_slice(&net.embedding[r * nt..(r + 1) * nt]);
                row_prompts[i] = net.row_prompts[r];
            }
            if let Some(x) = v.get(b) {
                for (o, w) in out.iter_mut().zip(&scaled) {
                    *o += w.iter().zip(x).map(|(w, x)| w * x).sum::<f32>();
                }
            }
        }
        for (t, f) in fits.iter().enumerate() {
            let shift: f32 = f.u[d_num..]
                .iter()
                .zip(self.mu.iter().zip(&self.sd))
                .map(|(u, (m, s))| u * m / s)
                .sum();
            let bound = (0..rows.len())
                .map(|i| embedding[i * nt + t].abs())
                .fold(0f32, f32::max)
                + 1.0;
            // Hidden unit t: column t plus `bound` (never cut by the ReLU); output t removes it.
            net.layers.b1[t] = bound;
            net.layers.b2[t] = f.b - shift - bound;
        }
        net.rows = rows;
        net.row_prompts = row_prompts;
        net.embedding = embedding;
        net
    }
}

/// The regressions as a net: embedding column t holds tier t's bucket weights; hidden unit t
/// passes column t through, shifted by its bound so the ReLU never cuts it (a mean of rows
/// with weights summing to at most 1 lies within the largest row weight, `M_t`); the dense
/// weights are the linear path.
fn as_net(fits: &[Fit], rows: Vec<u32>, row_prompts: Vec<u32>, d: usize) -> Net {
    let nt = fits.len();
    let mut embedding = vec![0f32; rows.len() * nt];
    let (mut w1, mut b1) = (vec![0f32; nt * (nt + d)], vec![0f32; nt]);
    let (mut w2, mut b2) = (vec![0f32; nt * nt], vec![0f32; nt]);
    let mut skip = Vec::with_capacity(nt * d);
    for (t, f) in fits.iter().enumerate() {
        for (r, &w) in f.w.iter().enumerate() {
            embedding[r * nt + t] = w;
        }
        let bound = f.w.iter().fold(0f32, |m, w| m.max(w.abs())) + 1.0;
        w1[t * (nt + d) + t] = 1.0;
        b1[t] = bound;
        w2[t * nt + t] = 1.0;
        b2[t] = f.b - bound;
        skip.extend_from_slice(&f.u[..d]);
    }
    Net {
        dim: nt,
        layers: Layers {
            w1,
            b1,
            w2,
            b2,
            hidden: nt,
        },
        skip,
        rows,
        row_prompts,
        embedding,
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::data::Example;
    use crate::net::reference_logits;

    #[test]
    fn as_net_gives_each_tiers_regression_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (rows, d) = (6usize, 3usize);
        let fits: Vec<Fit> = (0..2)
            .map(|_| Fit {
                w: (0..rows).map(|_| rng.random_range(-5.0..5.0)).collect(),
                u: (0..d).map(|_| rng.random_range(-1.0..1.0)).collect(),
                b: rng.random_range(-1.0..1.0),
            })
            .collect();
        let net = as_net(&fits, (0..rows as u32).collect(), vec![1; rows], d);
        for _ in 0..50 {
            // A mean bag: weights summing to 1 at most (the rest on buckets without a row).
            let raw: Vec<f32> = (0..rows).map(|_| rng.random_range(0.0..1.0)).collect();
            let total = raw.iter().sum::<f32>() + rng.random_range(0.0..2.0);
            let bag: Vec<(u32, f32)> = raw
                .iter()
                .enumerate()
                .map(|(r, w)| (r as u32, w / total))
                .collect();
            let x: Vec<f32> = (0..d).map(|_| rng.random_range(-3.0..3.0)).collect();
            let row = Row {
                sparse: bag.clone(),
                dense: x.clone(),
            };
            for (t, (f, got)) in fits
                .iter()
                .zip(reference_logits(&net, &bag, &x))
                .enumerate()
            {
                assert!((f.logit(&row) - got).abs() < 1e-4, "tier {t}");
            }
        }
    }

    /// With token vectors: the exported net (vectors folded into the rows, a row added for a
    /// vector bucket the bag has none for) gives each tier's regression on the bag, the
    /// numeric features and the standardised mean vector.
    #[test]
    fn token_vectors_fold_into_the_rows_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (rows, d_num, dim) = (6usize, 2usize, 4usize);
        let mut r = |lo: f32, hi: f32| rng.random_range(lo..hi);
        let fits: Vec<Fit> = (0..3)
            .map(|_| Fit {
                w: (0..rows).map(|_| r(-3.0, 3.0)).collect(),
                u: (0..d_num + dim).map(|_| r(-1.0, 1.0)).collect(),
                b: r(-1.0, 1.0),
            })
            .collect();
        let vectors = BucketVectors {
            buckets: vec![1, 3, 40],
            dim,
            data: (0..3 * dim).map(|_| r(-2.0, 2.0)).collect(),
        };
        let statics = Statics {
            vectors: &vectors,
            mu: (0..dim).map(|_| r(-0.5, 0.5)).collect(),
            sd: (0..dim).map(|_| r(0.2, 2.0)).collect(),
        };
        let plain = as_net(&fits, (0..rows as u32).collect(), vec![1; rows], d_num);
        let net = statics.fold(plain, &fits, d_num);
        assert_eq!(net.rows, [0, 1, 2, 3, 4, 5, 40]);
        for _ in 0..50 {
            let buckets: Vec<u32> = vec![0, 1, 3, 5, 40, 77];
            let raw: Vec<f32> = buckets.iter().map(|_| r(0.0, 1.0)).collect();
            let total: f32 = raw.iter().sum::<f32>() + r(0.0, 1.0);
            let weights: Vec<f32> = raw.iter().map(|w| w / total).collect();
            let x: Vec<f32> = (0..d_num).map(|_| r(-3.0, 3.0)).collect();
            let e = Example {
                buckets: buckets.clone(),
                weights: weights.clone(),
                dense: x.clone(),
            };
            let row = Row {
                sparse: buckets
                    .iter()
                    .zip(&weights)
                    .filter(|(&b, _)| (b as usize) < rows)
                    .map(|(&b, &w)| (b, w))
                    .collect(),
                dense: x
                    .iter()
                    .copied()
                    .chain(statics.standardised(&vectors.mean(&e)))
                    .collect(),
            };
            let bag: Vec<(u32, f32)> = buckets.iter().copied().zip(weights).collect();
            for (t, (f, got)) in fits
                .iter()
                .zip(reference_logits(&net, &bag, &x))
                .enumerate()
            {
                assert!((f.logit(&row) - got).abs() < 1e-4, "tier {t}");
            }
        }
    }

    /// Prompts whose bucket 1 or 2 decides the pass of tier 0 (tier 1 always passes): the fit
    /// separates them, picks a penalty on validation, and is the same for the same seed.
    #[test]
    fn learns_which_bucket_fails_a_tier() {
        let n = 200;
        let examples: Vec<Example> = (0..n)
            .map(|i| Example {
                buckets: vec![1 + (i % 2) as u32, 10 + (i % 7) as u32],
                weights: vec![0.5, 0.5],
                dense: vec![(i % 5) as f32],
            })
            .collect();
        let y: Vec<f32> = (0..n).flat_map(|i| [(i % 2) as f32, 1.0]).collect();
        let data = Dataset {
            examples,
            mask: vec![1.0; 2 * n],
            y,
            tiers: 2,
        };
        let (train, val): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 5 != 0);
        let scale = DenseScale::fit(&data, &train, 1, 0.1);
        let cfg = LinearConfig::default();
        let fit1 = fit(&data, &train, &val, &scale, &cfg, 9, None);
        let fit2 = fit(&data, &train, &val, &scale, &cfg, 9, None);
        assert_eq!(fit1.net.embedding, fit2.net.embedding);
        assert!(fit1.best_epoch >= 1 && fit1.best_epoch <= fit1.epochs);
        assert!(fit1.val_loss < 0.2, "{}", fit1.val_loss);
        let row = |b: u32| fit1.net.rows.binary_search(&b).unwrap() * 2;
        let e = &fit1.net.embedding;
        // Tier 0: bucket 2 (odd prompts, which pass) far above bucket 1.
        assert!(e[row(2)] - e[row(1)] > 4.0, "{e:?}");
    }
}
