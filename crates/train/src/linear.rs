//! The linear member: per tier, an L2-regularised logistic regression on the standardised
//! dense features (and the mean token vector, with `--token-vectors`), fitted exactly, plus
//! weights on the mean-pooled bag of buckets fitted by seeded AdaGrad on top; each penalty (and
//! the bag's epoch) is chosen once for all tiers by validation loss. It is written as a [`Net`]
//! of the MLP members' form so that [`crate::ensemble::fold`] averages it in and serving runs no
//! extra code.
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
use crate::net::{bag_on_rows, embedding_rows, Net, Trained};
use crate::ridge::{self, Ridge};
use crate::vectors::BucketVectors;

/// Settings of the linear member.
#[derive(Debug, Clone)]
pub struct LinearConfig {
    /// The bag's epochs per penalty (the best epoch on validation is kept).
    pub epochs: usize,
    /// The bag's AdaGrad step.
    pub lr: f32,
    /// The bag's L2 penalties tried; the penalty and epoch with the lowest validation loss
    /// summed over the tiers are kept, for all tiers (or no bag weights, when none beats that).
    pub l2: Vec<f32>,
    /// Minimum number of training prompts a bucket must occur in to get a weight.
    pub min_count: usize,
    /// Its share of the ensemble's logit, the MLP members sharing the rest equally (`None`: an
    /// equal share with them). The default, 0.4, was chosen by 5-fold cross-validation over 20
    /// seeds on four sets at once (RouterBench ARC, MBPP, Winogrande, RouteLLM GSM8K): 0.2
    /// (equal with four MLP members) left GSM8K behind TF-IDF, 0.55 MBPP behind the prior.
    pub share: Option<f64>,
    /// Experimental, off by default: weight each bucket of the bag by its IDF over the training
    /// prompts (`ln((1 + n) / (1 + df)) + 1`) while fitting, folded into the exported row
    /// weights (serving and the artifact are unchanged). A per-tier regression on the plain
    /// mean bag misses the signal on RouterBench Winogrande that the IDF-weighted bag keeps
    /// (`benches/probes/chance_probe.py`); not yet validated on every set.
    pub idf: bool,
}

impl Default for LinearConfig {
    fn default() -> Self {
        LinearConfig {
            epochs: 20,
            lr: 0.5,
            l2: vec![1e-5, 1e-4, 1e-3, 1e-2],
            min_count: 2,
            share: Some(0.4),
            idf: false,
        }
    }
}

/// One prompt's features: `(row, weight)` of its buckets that have a row, then the
/// standardised dense features.
struct Row {
    sparse: Vec<(u32, f32)>,
    dense: Vec<f64>,
}

/// The weights of one tier's regression.
#[derive(Clone)]
pub(crate) struct Fit {
    /// Per embedding row, its weight.
    pub(crate) w: Vec<f32>,
    /// Per standardised dense feature, its weight.
    pub(crate) u: Vec<f32>,
    /// The bias.
    pub(crate) b: f32,
}

#[cfg(test)]
impl Fit {
    fn logit(&self, x: &Row) -> f32 {
        let s: f32 = x.sparse.iter().map(|&(r, v)| self.w[r as usize] * v).sum();
        let d: f32 = x
            .dense
            .iter()
            .zip(&self.u)
            .map(|(&x, u)| x as f32 * u)
            .sum();
        self.b + s + d
    }
}

/// Width of the principal subspace of the prompts' mean token vectors that the dense part reads.
/// Ridge regression shrinks the low-variance directions hardest anyway; on RouterBench MBPP,
/// ARC and Winogrande (scikit-learn, 5-fold CV, 10 seeds) 32 directions scored as all 384.
pub const VECTOR_DIRECTIONS: usize = 32;

/// The numeric features' scale in the dense part, against the mean vector's (whose centred
/// square norm is 1 on average): standardised, then times this.
pub const NUMERIC_SCALE: f64 = 0.3;

/// Fit on `train`, choosing on `val` (on `train` when `val` is empty) one penalty for every tier.
/// Two parts, per tier:
/// 1. the dense part, exactly: ridge logistic regression ([`crate::ridge`]) on the standardised
///    numeric features and, with `vectors`, each prompt's mean token vector projected on its
///    leading principal directions; one `C` of [`ridge::C_GRID`] for all tiers, the one with
///    the lowest validation loss summed over the tiers;
/// 2. the bag of buckets, by AdaGrad with the dense part's logit as an offset, every penalty
///    of `cfg.l2` for `cfg.epochs` epochs; one step for all tiers (step 0: no bag), again by
///    summed validation loss.
///
/// One choice for all tiers keeps their probabilities comparable: chosen per tier, the
/// penalties differed from tier to tier and the policy compared a sharp tier with a flat one.
/// Tiers are fitted in parallel, each with its own seeded order, so the result does not
/// depend on the thread count. `epochs` counts the bag's epochs; `best_epoch` is the step
/// kept; `val_loss` is over every validation cell.
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
    // Each row's weight in the fit (its IDF, or 1), folded into its exported weight.
    let n = train.len() as f32;
    let idf: Vec<f32> = row_prompts
        .iter()
        .map(|&df| match cfg.idf {
            true => ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0,
            false => 1.0,
        })
        .collect();
    // Each prompt's mean token vector, once.
    let means: Vec<Vec<f32>> = match vectors {
        Some(v) => data.examples.par_iter().map(|e| v.mean(e)).collect(),
        None => Vec::new(),
    };
    let statics = vectors.map(|v| Statics::fit(v, &means, train, seed));
    let xs: Vec<Row> = data
        .examples
        .par_iter()
        .enumerate()
        .map(|(p, e)| {
            let sparse = bag_on_rows(e, &rows)
                .map(|(r, v)| (r, v * idf[r as usize]))
                .collect();
            let mut num = Vec::with_capacity(e.dense.len());
            scale.apply(&e.dense, &mut num);
            let mut dense: Vec<f64> = num.iter().map(|&x| x as f64 * NUMERIC_SCALE).collect();
            if let Some(s) = &statics {
                dense.extend(s.project(&means[p]));
            }
            Row { sparse, dense }
        })
        .collect();
    let d = xs.first().map_or(0, |x| x.dense.len());
    let d_num = d - statics.as_ref().map_or(0, |s| s.basis.len());
    let judge = if val.is_empty() { train } else { val };
    let cells = |set: &[usize], t: usize| -> Vec<(usize, f64)> {
        set.iter()
            .filter(|&&p| data.mask[p * nt + t] > 0.0)
            .map(|&p| (p, data.y[p * nt + t] as f64))
            .collect()
    };
    let ridge_cells = |set: &[(usize, f64)]| -> Vec<(&[f64], f64, f64)> {
        set.iter()
            .map(|&(p, y)| (xs[p].dense.as_slice(), y, 0.0))
            .collect()
    };
    // 1. The dense part: each tier's path over the grid (from `Ridge::start`), then one C for
    // all.
    let paths: Vec<(Vec<Ridge>, Vec<f64>)> = (0..nt)
        .into_par_iter()
        .map(|t| {
            let (tr, va) = (cells(train, t), cells(judge, t));
            let (tr, va) = (ridge_cells(&tr), ridge_cells(&va));
            let mut r = Ridge::start(&tr, d);
            let mut fits = Vec::new();
            let mut losses = Vec::new();
            for c in ridge::C_GRID {
                r = ridge::fit(&tr, c, &r);
                losses.push(ridge::log_loss(&r, &va));
                fits.push(r.clone());
            }
            (fits, losses)
        })
        .collect();
    let c_best = argmin(&summed(paths.iter().map(|p| p.1.as_slice())));
    let dense: Vec<Ridge> = paths
        .into_iter()
        .map(|mut p| p.0.swap_remove(c_best))
        .collect();
    // 2. The bag, with the dense logit as an offset: the tiers step through the same epochs
    // in lockstep, and every tier's weights are kept whenever the summed validation loss is the
    // lowest yet (step 0: no bag weights).
    let mut tiers: Vec<BagFit> = (0..nt)
        .map(|t| BagFit {
            rng: ChaCha8Rng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9e37_79b9)),
            offset: xs.iter().map(|x| dense[t].logit(&x.dense) as f32).collect(),
            train: cells(train, t),
            val: cells(judge, t),
            w: vec![0.0; rows.len()],
            g2: Vec::new(),
        })
        .collect();
    let val_sums = |tiers: &[BagFit]| -> f64 { tiers.par_iter().map(|b| b.val_loss(&xs)).sum() };
    let mut best = (val_sums(&tiers), 0usize);
    let mut kept: Vec<Vec<f32>> = vec![vec![0.0; rows.len()]; nt];
    let mut step = 0;
    for &l2 in &cfg.l2 {
        for b in &mut tiers {
            b.w.iter_mut().for_each(|w| *w = 0.0);
            b.g2 = vec![1e-8; rows.len()];
        }
        for _ in 0..cfg.epochs {
            step += 1;
            tiers.par_iter_mut().for_each(|b| b.epoch(&xs, l2, cfg.lr));
            let total = val_sums(&tiers);
            if total < best.0 - 1e-9 * best.0.abs() {
                best = (total, step);
                kept = tiers.iter().map(|b| b.w.clone()).collect();
            }
        }
    }
    let cells_n: usize = tiers.iter().map(|b| b.val.len()).sum();
    let (val_loss, step) = (best.0 / cells_n.max(1) as f64, best.1);
    let fits: Vec<Fit> = kept
        .into_iter()
        .zip(&dense)
        .map(|(w, r)| Fit {
            w: w.iter().zip(&idf).map(|(w, i)| w * i).collect(),
            // The served net reads the standardised numeric features.
            u: r.w
                .iter()
                .enumerate()
                .map(|(k, &u)| (if k < d_num { u * NUMERIC_SCALE } else { u }) as f32)
                .collect(),
            b: r.b as f32,
        })
        .collect();
    Trained {
        net: match &statics {
            Some(s) => s.fold(as_net(&fits, rows, row_prompts, d_num), &fits, d_num),
            None => as_net(&fits, rows, row_prompts, d),
        },
        epochs: cfg.epochs * cfg.l2.len(),
        best_epoch: step,
        val_loss,
    }
}

/// One tier's bag weights in training: its AdaGrad state, seeded order, and the dense part's
/// logit of every prompt as an offset.
struct BagFit {
    rng: ChaCha8Rng,
    offset: Vec<f32>,
    train: Vec<(usize, f64)>,
    val: Vec<(usize, f64)>,
    w: Vec<f32>,
    g2: Vec<f32>,
}

impl BagFit {
    fn logit(&self, xs: &[Row], p: usize) -> f32 {
        self.offset[p]
            + xs[p]
                .sparse
                .iter()
                .map(|&(r, v)| self.w[r as usize] * v)
                .sum::<f32>()
    }

    /// Summed log loss over the validation cells.
    fn val_loss(&self, xs: &[Row]) -> f64 {
        self.val
            .iter()
            .map(|&(p, y)| ridge::bce(self.logit(xs, p) as f64, y))
            .sum()
    }

    /// One AdaGrad epoch over the training cells in a fresh seeded order.
    fn epoch(&mut self, xs: &[Row], l2: f32, lr: f32) {
        let mut order = std::mem::take(&mut self.train);
        order.shuffle(&mut self.rng);
        for &(p, y) in &order {
            let g = 1.0 / (1.0 + (-self.logit(xs, p)).exp()) - y as f32;
            for &(r, v) in &xs[p].sparse {
                let r = r as usize;
                let gk = g * v + l2 * self.w[r];
                self.g2[r] += gk * gk;
                self.w[r] -= lr * gk / self.g2[r].sqrt();
            }
        }
        self.train = order;
    }
}

/// Per step, the sum over `losses` (each as long as the first).
fn summed<'a>(losses: impl Iterator<Item = &'a [f64]>) -> Vec<f64> {
    let mut total: Vec<f64> = Vec::new();
    for l in losses {
        total.resize(l.len(), 0.0);
        total.iter_mut().zip(l).for_each(|(t, x)| *t += x);
    }
    total
}

/// The first index of the smallest value (a later one must be lower by a relative 1e-9).
fn argmin(xs: &[f64]) -> usize {
    (0..xs.len()).fold(0, |b, k| {
        if xs[k] < xs[b] - 1e-9 * xs[b].abs() {
            k
        } else {
            b
        }
    })
}

/// The mean token vector input of the linear member: its mean over the training prompts, the
/// root mean square norm of the centred vectors (one scale for every direction, so the
/// embedding's geometry is kept), and an orthonormal basis of its [`VECTOR_DIRECTIONS`]
/// leading principal directions.
struct Statics<'a> {
    vectors: &'a BucketVectors,
    mu: Vec<f64>,
    scale: f64,
    basis: Vec<Vec<f64>>,
}

impl<'a> Statics<'a> {
    /// From `means`, every prompt's mean token vector; fitted over `train`'s.
    fn fit(vectors: &'a BucketVectors, means: &[Vec<f32>], train: &[usize], seed: u64) -> Self {
        let dim = vectors.dim;
        let n = train.len().max(1) as f64;
        let mut mu = vec![0f64; dim];
        for m in train.iter().map(|&p| &means[p]) {
            mu.iter_mut().zip(m).for_each(|(a, &x)| *a += x as f64 / n);
        }
        let sq: f64 = train
            .iter()
            .map(|&p| {
                means[p]
                    .iter()
                    .zip(&mu)
                    .map(|(&x, m)| (x as f64 - m).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / n;
        let rows: Vec<&[f32]> = train.iter().map(|&p| means[p].as_slice()).collect();
        Statics {
            vectors,
            basis: ridge::principal_subspace(&rows, &mu, VECTOR_DIRECTIONS, seed),
            scale: if sq > 1e-18 { sq.sqrt() } else { 1.0 },
            mu,
        }
    }

    /// A prompt's mean token vector, centred, scaled and projected on the basis.
    fn project(&self, m: &[f32]) -> Vec<f64> {
        self.basis
            .iter()
            .map(|q| {
                q.iter()
                    .zip(m.iter().zip(&self.mu))
                    .map(|(q, (&x, mu))| q * (x as f64 - mu))
                    .sum::<f64>()
                    / self.scale
            })
            .collect()
    }

    /// Tier weights `u` on the projection as weights on the raw mean vector's coordinates.
    fn coordinates(&self, u: &[f32]) -> Vec<f64> {
        let mut out = vec![0f64; self.mu.len()];
        for (q, &u) in self.basis.iter().zip(u) {
            out.iter_mut()
                .zip(q)
                .for_each(|(o, q)| *o += u as f64 * q / self.scale);
        }
        out
    }

    /// `net` (the regressions on the bag and the first `d_num` dense inputs) with each tier's
    /// weights `u` on the projected vector folded in: bucket b's column t gains
    /// `e_t · v_b`, `e_t` the weights on the coordinates ([`Statics::coordinates`]) (a row is
    /// added for every bucket that holds a token's vector), and the output bias `−e_t · mu`;
    /// the ReLU shifts are widened to match.
    fn fold(&self, mut net: Net, fits: &[Fit], d_num: usize) -> Net {
        let nt = fits.len();
        let v = self.vectors;
        let coords: Vec<Vec<f64>> = fits
            .iter()
            .map(|f| self.coordinates(&f.u[d_num..]))
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
                for (o, e) in out.iter_mut().zip(&coords) {
                    *o += e.iter().zip(x).map(|(e, &x)| e * x as f64).sum::<f64>() as f32;
                }
            }
        }
        for (t, f) in fits.iter().enumerate() {
            let shift: f64 = coords[t].iter().zip(&self.mu).map(|(e, m)| e * m).sum();
            let bound = (0..rows.len())
                .map(|i| embedding[i * nt + t].abs())
                .fold(0f32, f32::max)
                + 1.0;
            // Hidden unit t: column t plus `bound` (never cut by the ReLU); output t removes it.
            net.layers.b1[t] = bound;
            net.layers.b2[t] = f.b - shift as f32 - bound;
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
pub(crate) fn as_net(fits: &[Fit], rows: Vec<u32>, row_prompts: Vec<u32>, d: usize) -> Net {
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
                dense: x.iter().map(|&x| x as f64).collect(),
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
                u: (0..d_num + 2).map(|_| r(-1.0, 1.0)).collect(),
                b: r(-1.0, 1.0),
            })
            .collect();
        let vectors = BucketVectors {
            buckets: vec![1, 3, 40],
            dim,
            data: (0..3 * dim).map(|_| r(-2.0, 2.0)).collect(),
        };
        // Any basis: the fold is exact for every projection.
        let statics = Statics {
            vectors: &vectors,
            mu: (0..dim).map(|_| r(-0.5, 0.5) as f64).collect(),
            scale: r(0.2, 2.0) as f64,
            basis: (0..2)
                .map(|_| (0..dim).map(|_| r(-1.0, 1.0) as f64).collect())
                .collect(),
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
                    .map(|&x| x as f64)
                    .chain(statics.project(&vectors.mean(&e)))
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

    /// Two tiers with every outcome known; every fifth prompt validates.
    struct TwoTiers {
        data: Dataset,
        train: Vec<usize>,
        val: Vec<usize>,
        scale: DenseScale,
    }

    fn two_tiers(examples: Vec<Example>, y: Vec<f32>) -> TwoTiers {
        let n = examples.len();
        let continuous = examples[0].dense.len();
        let data = Dataset {
            examples,
            mask: vec![1.0; 2 * n],
            y,
            tiers: 2,
        };
        let (train, val): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 5 != 0);
        let scale = DenseScale::fit(&data, &train, continuous, 0.1);
        TwoTiers {
            data,
            train,
            val,
            scale,
        }
    }

    impl TwoTiers {
        /// The linear member with the default settings.
        fn fit(&self, seed: u64) -> Trained {
            let cfg = LinearConfig::default();
            fit(
                &self.data,
                &self.train,
                &self.val,
                &self.scale,
                &cfg,
                seed,
                None,
            )
        }
    }

    /// Tier 0 follows a feature, tier 1 is a coin toss. Chosen per tier, tier 1's validation
    /// loss would pick the strongest penalty and tier 0 a weak one; chosen once, both tiers'
    /// dense weights are the exact ridge fit at the same C.
    #[test]
    fn one_penalty_serves_every_tier() {
        let n = 300;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let examples: Vec<Example> = (0..n)
            .map(|_| Example {
                buckets: vec![],
                weights: vec![],
                dense: vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)],
            })
            .collect();
        let y: Vec<f32> = examples
            .iter()
            .flat_map(|e| {
                [
                    (e.dense[0] > 0.0) as u8 as f32,
                    rng.random_range(0..2) as f32,
                ]
            })
            .collect();
        let case = two_tiers(examples, y);
        let out = case.fit(3);
        let TwoTiers {
            data,
            train,
            val,
            scale,
        } = case;
        // Which C of the grid gives each tier's served dense weights.
        let input = |p: usize| -> Vec<f64> {
            let mut x = Vec::new();
            scale.apply(&data.examples[p].dense, &mut x);
            x.iter().map(|&x| x as f64 * NUMERIC_SCALE).collect()
        };
        let inputs: Vec<Vec<f64>> = (0..n).map(input).collect();
        let grid_index = |t: usize| -> usize {
            let cells: Vec<(&[f64], f64, f64)> = train
                .iter()
                .map(|&p| (inputs[p].as_slice(), data.y[p * 2 + t] as f64, 0.0))
                .collect();
            let served = &out.net.skip[t * 2..t * 2 + 2];
            let mut r = Ridge {
                w: vec![0.0; 2],
                b: 0.0,
            };
            let mut found = None;
            for (j, c) in ridge::C_GRID.into_iter().enumerate() {
                r = ridge::fit(&cells, c, &r);
                let close =
                    r.w.iter()
                        .zip(served)
                        .all(|(w, &s)| (w * NUMERIC_SCALE - s as f64).abs() < 1e-4);
                if close {
                    found = Some(j);
                }
            }
            found.unwrap_or_else(|| panic!("tier {t}: {served:?} is no grid fit"))
        };
        let j = grid_index(0);
        assert!(
            j >= 2,
            "tier 0 is learnable: a weak penalty, got C index {j}"
        );
        assert_eq!(grid_index(1), j);
        // The premise: on its own, tier 1's validation loss picks another C.
        let cells = |set: &[usize]| -> Vec<(&[f64], f64, f64)> {
            set.iter()
                .map(|&p| (inputs[p].as_slice(), data.y[p * 2 + 1] as f64, 0.0))
                .collect()
        };
        let (tr, va) = (cells(&train), cells(&val));
        let mut r = Ridge {
            w: vec![0.0; 2],
            b: 0.0,
        };
        let own: Vec<f64> = ridge::C_GRID
            .into_iter()
            .map(|c| {
                r = ridge::fit(&tr, c, &r);
                ridge::log_loss(&r, &va)
            })
            .collect();
        assert_ne!(argmin(&own), j, "{own:?}");
    }

    /// A tier that passed every training prompt keeps a finite bias near the smoothed rate
    /// (without `ridge::fit`'s bias prior Newton would push it toward +∞).
    #[test]
    fn a_tier_that_always_passed_gets_a_finite_bias() {
        let n = 100;
        let examples: Vec<Example> = (0..n)
            .map(|i| Example {
                buckets: vec![],
                weights: vec![],
                dense: vec![(i % 7) as f32],
            })
            .collect();
        let y: Vec<f32> = (0..n).flat_map(|i| [1.0, (i % 2) as f32]).collect();
        let out = two_tiers(examples, y).fit(1);
        let z = reference_logits(&out.net, &[], &[0.0]);
        // (80 + 1) / (80 + 2) is a logit of 4.4.
        assert!(z[0] > 3.0 && z[0] < 6.0, "{z:?}");
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
        let case = two_tiers(examples, y);
        let (fit1, fit2) = (case.fit(9), case.fit(9));
        assert_eq!(fit1.net.embedding, fit2.net.embedding);
        assert!(fit1.best_epoch >= 1 && fit1.best_epoch <= fit1.epochs);
        assert!(fit1.val_loss < 0.2, "{}", fit1.val_loss);
        let row = |b: u32| fit1.net.rows.binary_search(&b).unwrap() * 2;
        let e = &fit1.net.embedding;
        // Tier 0: bucket 2 (odd prompts, which pass) far above bucket 1.
        assert!(e[row(2)] - e[row(1)] > 4.0, "{e:?}");
    }

    /// With IDF weights the bag's fit reads each bucket scaled by its IDF, and the exported
    /// rows carry it: the served net, on the plain mean bag, gives back the validation loss the
    /// fit chose by, and the rows differ from the plain fit's.
    #[test]
    fn idf_weights_fold_into_the_rows() {
        let n = 200;
        let examples: Vec<Example> = (0..n)
            .map(|i| Example {
                buckets: vec![1 + (i % 2) as u32, 5, 10 + (i % 7) as u32],
                weights: vec![0.4, 0.4, 0.2],
                dense: vec![(i % 5) as f32],
            })
            .collect();
        let y: Vec<f32> = (0..n).flat_map(|i| [(i % 2) as f32, 1.0]).collect();
        let case = two_tiers(examples, y);
        let cfg = LinearConfig {
            idf: true,
            ..LinearConfig::default()
        };
        let fit_idf = |seed| {
            fit(
                &case.data,
                &case.train,
                &case.val,
                &case.scale,
                &cfg,
                seed,
                None,
            )
        };
        let out = fit_idf(9);
        assert_eq!(out.net.embedding, fit_idf(9).net.embedding);
        assert!(out.best_epoch >= 1, "the bag was kept");
        let mut loss = 0.0;
        for &p in &case.val {
            let e = &case.data.examples[p];
            let bag: Vec<(u32, f32)> = e.buckets.iter().copied().zip(e.weights.clone()).collect();
            let mut x = Vec::new();
            case.scale.apply(&e.dense, &mut x);
            let z = reference_logits(&out.net, &bag, &x);
            for (t, &z) in z.iter().enumerate() {
                loss += ridge::bce(z as f64, case.data.y[p * 2 + t] as f64);
            }
        }
        let loss = loss / (2 * case.val.len()) as f64;
        assert!(
            (loss - out.val_loss).abs() < 1e-4,
            "{loss} vs {}",
            out.val_loss
        );
        assert_ne!(out.net.embedding, case.fit(9).net.embedding);
    }
}
