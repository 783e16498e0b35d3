//! The low-rank member: `rank` scores per prompt that every tier reads through its own weights
//! (rank 1 is one difficulty score, as item response theory has it: `logit_t = b_t + a_t·d`).
//! Per tier, a ridge regression (squared loss, one penalty for all tiers chosen by inner
//! cross-validation) of the tier's outcome minus its pass rate, on the bag of buckets (and,
//! with [`LowRankConfig::numeric_scale`], the standardised dense features); the scores are the
//! leading principal directions of those regressions' out-of-fold predictions, and each tier's
//! logistic map is fitted on the out-of-fold scores, so all of the member's prompts serve both
//! steps. It trains on the pipeline's validation prompts too and hands back cross-fitted logits
//! for them. Written, like the linear member, as a [`Net`](crate::net::Net) that
//! [`crate::ensemble::fold`] averages in.
//!
//! Why: where many tiers of similar quality compete on few prompts (RouterBench MBPP: 11 tiers,
//! ~240 training prompts), per-tier regressions scatter prompts across tiers on noise and the
//! router falls behind the no-features prior; a few shared scores move a prompt toward the
//! stronger or the cheaper tiers as a whole.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use tierwise_router::artifact::LowRankFit;

use crate::data::Dataset;
use crate::dense::DenseScale;
use crate::linear::{as_net, Fit};
use crate::lsq::{solve_grouped, Design, Lsq};
use crate::net::{bag_on_rows, embedding_rows, Trained};
use crate::ridge::{self, Ridge};

/// Settings of the low-rank member.
#[derive(Debug, Clone)]
pub struct LowRankConfig {
    /// Ridge penalties tried, weakest first; the one with the lowest inner cross-validated
    /// squared error summed over the tiers is kept.
    pub alphas: Vec<f64>,
    /// Inner folds for that choice and for the scores the per-tier maps are fitted on.
    pub folds: usize,
    /// Minimum number of training prompts a bucket must occur in to get a weight.
    pub min_count: usize,
    /// The standardised dense features' scale against the bag (0: the bag alone).
    pub numeric_scale: f64,
    /// Candidate counts of scores per prompt (each at most the number of tiers; 0 stands for
    /// one per tier): the one with the lowest validation loss is kept (on a tie, the smaller).
    pub ranks: Vec<usize>,
    /// Its share of the ensemble's logit.
    pub share: f64,
}

impl Default for LowRankConfig {
    fn default() -> Self {
        LowRankConfig {
            alphas: vec![0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0],
            folds: 5,
            min_count: 2,
            numeric_scale: 0.0,
            ranks: vec![1, 2, 3, 0],
            share: 0.5,
        }
    }
}

/// The fitted member, and its cross-fitted logits on the prompts it was asked to judge.
pub struct LowRank {
    /// The served net (fitted on every prompt of the pool); `val_loss` is the cross-fitted
    /// loss over the pool's known cells.
    pub trained: Trained,
    /// Its choices.
    pub fit: LowRankFit,
    /// Per judged prompt, per tier, its logit from the regressions and maps of the inner
    /// folds that did not hold it.
    pub judged: Vec<Vec<f32>>,
}

/// Fit on every prompt of `pool`: per tier the regression, its one penalty chosen by
/// `cfg.folds`-fold cross-validation within `pool`; the scores; per tier a logistic regression
/// (C = 1) of its outcome on the standardised out-of-fold scores; the count of scores by the
/// cross-fitted loss (maps fitted without the fold they are judged on). The member needs no
/// validation prompts of its own: its logits on `judge` (prompts of `pool`) are cross-fitted,
/// so the pipeline calibrates and judges it on the same prompts as the other members while it
/// learns from them too (RouterBench MBPP, one score, scikit-learn probe over 60 fold draws:
/// router − prior +0.0025 trained on 80% of the training prompts, +0.0066 on all of them).
pub fn fit(
    data: &Dataset,
    pool: &[usize],
    judge: &[usize],
    scale: &DenseScale,
    cfg: &LowRankConfig,
    seed: u64,
) -> LowRank {
    let nt = data.tiers;
    let (rows, row_prompts) = embedding_rows(data, pool, cfg.min_count);
    // The dense block only when it is read (at scale 0 its zeros would cost every product).
    let x = Design {
        sparse: data
            .examples
            .iter()
            .map(|e| bag_on_rows(e, &rows).map(|(r, w)| (r, w as f64)).collect())
            .collect(),
        dense: data
            .examples
            .iter()
            .map(|e| {
                let mut num = Vec::new();
                if cfg.numeric_scale != 0.0 {
                    scale.apply(&e.dense, &mut num);
                }
                num.iter().map(|&v| v as f64 * cfg.numeric_scale).collect()
            })
            .collect(),
        rows: rows.len(),
    };
    let n = pool.len();
    let known = |i: usize, t: usize| data.mask[pool[i] * nt + t] > 0.0;
    let label = |i: usize, t: usize| data.y[pool[i] * nt + t] as f64;
    // Per tier, its cells `(pool position, pass − pass rate)`.
    let targets: Vec<Vec<(usize, f64)>> = (0..nt)
        .map(|t| {
            let cells: Vec<usize> = (0..n).filter(|&i| known(i, t)).collect();
            let rate = (cells.iter().map(|&i| label(i, t)).sum::<f64>() + 0.5)
                / (cells.len() as f64 + 1.0);
            cells.iter().map(|&i| (i, label(i, t) - rate)).collect()
        })
        .collect();
    let at = |cells: &[(usize, f64)]| -> Vec<(usize, f64)> {
        cells.iter().map(|&(i, s)| (pool[i], s)).collect()
    };
    // Seeded inner folds over the pool.
    let folds = cfg.folds.clamp(2, n.max(2));
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x10_4a2c));
    let mut fold_of = vec![0; n];
    order
        .iter()
        .enumerate()
        .for_each(|(k, &i)| fold_of[i] = k % folds);
    // Out-of-fold predictions per tier and pool position, for each penalty from the
    // strongest down: every (tier, fold) regression steps along the path warm-started, and the
    // path stops after two penalties in a row that do not lower the summed error (the weakest
    // penalties take conjugate gradients the longest).
    let na = cfg.alphas.len();
    // (tier, fold) of each regression, and its cells: the fold's training cells of that tier.
    // Every regression of a fold has the same prompts when every tier's outcome is known: they
    // are solved in lockstep ([`crate::lsq`]).
    let jobs: Vec<(usize, usize)> = (0..nt)
        .flat_map(|t| (0..folds).map(move |k| (t, k)))
        .collect();
    let cells: Vec<Vec<(usize, f64)>> = jobs
        .iter()
        .map(|&(t, k)| {
            let kept: Vec<(usize, f64)> = targets[t]
                .iter()
                .copied()
                .filter(|c| fold_of[c.0] != k)
                .collect();
            at(&kept)
        })
        .collect();
    let mut starts: Vec<Vec<f64>> = vec![vec![0f64; x.width()]; jobs.len()];
    // The best penalty so far: its index, error, out-of-fold predictions, and each tier's first
    // fold's weights (a warm start for the fit on the whole pool).
    type Best = (usize, f64, Vec<Vec<f64>>, Vec<Vec<f64>>);
    let mut best: Option<Best> = None;
    let mut rises = 0;
    for a in (0..na).rev() {
        let fits = solve_grouped(&x, &cells, cfg.alphas[a], &starts);
        let mut oof = vec![vec![0f64; n]; nt];
        for ((t, k), fit) in jobs.iter().zip(&fits) {
            for i in (0..n).filter(|&i| fold_of[i] == *k) {
                oof[*t][i] = fit.predict(&x, pool[i]);
            }
        }
        let err: f64 = (0..nt)
            .map(|t| {
                targets[t]
                    .iter()
                    .map(|&(i, s)| (s - oof[t][i]).powi(2))
                    .sum::<f64>()
            })
            .sum();
        starts = fits.into_iter().map(|f| f.theta).collect();
        match &best {
            Some(b) if err >= b.1 => {
                rises += 1;
                if rises == 2 {
                    break;
                }
            }
            _ => {
                let warm = jobs
                    .iter()
                    .zip(&starts)
                    .filter(|((_, k), _)| *k == 0)
                    .map(|(_, w)| w.clone())
                    .collect();
                best = Some((a, err, oof, warm));
                rises = 0;
            }
        }
    }
    let (best, _, per_tier, warm) = best.expect("at least one penalty");
    let whole: Vec<Vec<(usize, f64)>> = targets.iter().map(|c| at(c)).collect();
    let full = solve_grouped(&x, &whole, cfg.alphas[best], &warm);
    // Per pool position, every regression's out-of-fold prediction.
    let oof: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..nt).map(|t| per_tier[t][i]).collect())
        .collect();
    let labels = |t: usize| -> Vec<(usize, f64)> {
        targets[t].iter().map(|&(i, _)| (i, label(i, t))).collect()
    };
    let mut candidates: Vec<usize> = cfg
        .ranks
        .iter()
        .map(|&r| if r == 0 { nt } else { r.min(nt) })
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.is_empty() {
        candidates.push(1);
    }
    // Per candidate rank, per fold, the head fitted on the other folds' out-of-fold
    // predictions; the rank with the lowest loss of those heads on their own folds is kept.
    let cells = targets.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let (rank, heads, loss) = candidates
        .iter()
        .map(|&r| {
            let heads: Vec<Head> = (0..folds)
                .map(|k| {
                    let rest: Vec<usize> = (0..n).filter(|&i| fold_of[i] != k).collect();
                    Head::fit(&oof, &rest, r, seed, labels)
                })
                .collect();
            let loss = (0..nt)
                .flat_map(|t| labels(t).into_iter().map(move |c| (t, c)))
                .map(|(t, (i, y))| ridge::bce(heads[fold_of[i]].logit(&oof[i], t), y))
                .sum::<f64>()
                / cells;
            (r, heads, loss)
        })
        .fold(None, |b: Option<(usize, Vec<Head>, f64)>, c| match b {
            Some(b) if b.2 <= c.2 => Some(b),
            _ => Some(c),
        })
        .expect("at least one rank");
    let everyone: Vec<usize> = (0..n).collect();
    let head = Head::fit(&oof, &everyone, rank, seed, labels);
    // Cross-fitted logits of the judged prompts (a prompt outside the pool gets the served
    // member's).
    let mut position = vec![None; data.examples.len()];
    pool.iter()
        .enumerate()
        .for_each(|(i, &p)| position[p] = Some(i));
    let judged: Vec<Vec<f32>> = judge
        .iter()
        .map(|&p| match position[p] {
            Some(i) => (0..nt)
                .map(|t| heads[fold_of[i]].logit(&oof[i], t) as f32)
                .collect(),
            None => {
                let f: Vec<f64> = full.iter().map(|f| f.predict(&x, p)).collect();
                (0..nt).map(|t| head.logit(&f, t) as f32).collect()
            }
        })
        .collect();
    // Served: per tier, the regressions weighted as its head reads them.
    let served: Vec<Lsq> = (0..nt)
        .map(|t| {
            let g = head.weights(t);
            let mut theta = vec![0f64; x.width()];
            let mut b = head.maps[t].b;
            for (u, f) in full.iter().enumerate() {
                theta
                    .iter_mut()
                    .zip(&f.theta)
                    .for_each(|(t, v)| *t += g[u] * v);
                b += g[u] * (f.c - head.mu[u]);
            }
            Lsq { theta, c: b }
        })
        .collect();
    let d_num = data.examples.first().map_or(0, |e| e.dense.len());
    let fits: Vec<Fit> = served
        .iter()
        .map(|f| Fit {
            w: f.theta[..x.rows].iter().map(|&t| t as f32).collect(),
            // The served net reads the standardised dense features (all of them, with weight
            // 0 when the design left them out).
            u: match f.theta.len() - x.rows {
                0 => vec![0.0; d_num],
                _ => f.theta[x.rows..]
                    .iter()
                    .map(|&u| (u * cfg.numeric_scale) as f32)
                    .collect(),
            },
            b: f.c as f32,
        })
        .collect();
    LowRank {
        trained: Trained {
            net: as_net(&fits, rows, row_prompts, d_num),
            epochs: na,
            best_epoch: best + 1,
            val_loss: loss,
        },
        fit: LowRankFit {
            rank: head.basis.len(),
            alpha: cfg.alphas[best],
        },
        judged,
    }
}

/// The per-tier maps on `rank` scores: the scores are the centred regressions' predictions on
/// the leading principal directions (`basis`) of their out-of-fold values, each divided by its
/// standard deviation `sd`; `maps[t]` is tier t's logistic regression on them.
struct Head {
    mu: Vec<f64>,
    basis: Vec<Vec<f64>>,
    sd: Vec<f64>,
    maps: Vec<Ridge>,
}

impl Head {
    /// From the out-of-fold predictions `oof` (per pool position, per tier) of the positions
    /// `rows`, and per tier its cells `(pool position, label)` (those outside `rows` are left
    /// out).
    fn fit(
        oof: &[Vec<f64>],
        rows: &[usize],
        rank: usize,
        seed: u64,
        cells: impl Fn(usize) -> Vec<(usize, f64)>,
    ) -> Head {
        let nt = oof.first().map_or(0, Vec::len);
        let n = rows.len().max(1) as f64;
        let mu: Vec<f64> = (0..nt)
            .map(|t| rows.iter().map(|&i| oof[i][t]).sum::<f64>() / n)
            .collect();
        let basis: Vec<Vec<f64>> = if rank == nt {
            (0..nt)
                .map(|t| (0..nt).map(|u| (t == u) as u8 as f64).collect())
                .collect()
        } else {
            let narrow: Vec<Vec<f32>> = rows
                .iter()
                .map(|&i| oof[i].iter().map(|&v| v as f32).collect())
                .collect();
            let refs: Vec<&[f32]> = narrow.iter().map(Vec::as_slice).collect();
            ridge::principal_subspace(&refs, &mu, rank, seed)
        };
        let mut head = Head {
            mu,
            basis,
            sd: vec![1.0; rank],
            maps: Vec::new(),
        };
        let raw: Vec<Vec<f64>> = oof.iter().map(|r| head.project(r)).collect();
        head.sd = (0..rank)
            .map(|j| {
                let v = rows.iter().map(|&i| raw[i][j] * raw[i][j]).sum::<f64>() / n;
                if v > 1e-24 {
                    v.sqrt()
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let scores: Vec<Vec<f64>> = raw
            .iter()
            .map(|z| z.iter().zip(&head.sd).map(|(z, s)| z / s).collect())
            .collect();
        let mut keep = vec![false; oof.len()];
        rows.iter().for_each(|&i| keep[i] = true);
        head.maps = (0..nt)
            .map(|t| {
                let cells: Vec<(&[f64], f64, f64)> = cells(t)
                    .into_iter()
                    .filter(|&(i, _)| keep[i])
                    .map(|(i, y)| (scores[i].as_slice(), y, 0.0))
                    .collect();
                ridge::fit(&cells, 1.0, &Ridge::start(&cells, rank))
            })
            .collect();
        head
    }

    /// The unscaled scores of predictions `f`.
    fn project(&self, f: &[f64]) -> Vec<f64> {
        self.basis
            .iter()
            .map(|v| {
                v.iter()
                    .zip(f)
                    .zip(&self.mu)
                    .map(|((v, f), m)| v * (f - m))
                    .sum()
            })
            .collect()
    }

    /// Tier t's logit for the regressions' predictions `f`.
    fn logit(&self, f: &[f64], t: usize) -> f64 {
        let m = &self.maps[t];
        let z = self.project(f);
        m.b + z
            .iter()
            .zip(&self.sd)
            .zip(&m.w)
            .map(|((z, s), w)| w * z / s)
            .sum::<f64>()
    }

    /// The weight of each regression in tier t's logit (its offset is `−weights · mu`).
    fn weights(&self, t: usize) -> Vec<f64> {
        let m = &self.maps[t];
        (0..self.mu.len())
            .map(|u| {
                (0..self.basis.len())
                    .map(|j| m.w[j] * self.basis[j][u] / self.sd[j])
                    .sum()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::data::Example;
    use crate::net::reference_logits;

    /// `n` prompts over `tiers` tiers: each holds three of buckets 0..10, bucket 101 when hard
    /// (100 when not) and 201 when `other` (200 when not); tier t passes with the chance
    /// `pass(t, hard, other)`.
    fn case(
        n: usize,
        tiers: usize,
        seed: u64,
        pass: impl Fn(usize, bool, bool) -> f64,
    ) -> (Dataset, Vec<usize>, Vec<usize>, DenseScale) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut y = Vec::new();
        let examples: Vec<Example> = (0..n)
            .map(|_| {
                let (hard, other) = (rng.random_range(0..2) == 1, rng.random_range(0..2) == 1);
                let mut buckets: Vec<u32> = (0..10).collect();
                buckets.shuffle(&mut rng);
                buckets.truncate(3);
                buckets.extend([100 + hard as u32, 200 + other as u32]);
                buckets.sort_unstable();
                let w = 1.0 / buckets.len().max(1) as f32;
                for t in 0..tiers {
                    y.push((rng.random_range(0.0..1.0) < pass(t, hard, other)) as u8 as f32);
                }
                Example {
                    weights: vec![w; buckets.len()],
                    buckets,
                    dense: vec![rng.random_range(-1.0..1.0)],
                }
            })
            .collect();
        let data = Dataset {
            examples,
            mask: vec![1.0; n * tiers],
            y,
            tiers,
        };
        let (train, val): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 5 != 0);
        let scale = DenseScale::fit(&data, &train, 1, 0.1);
        (data, train, val, scale)
    }

    /// Every prompt of the case: the pool a member trains on.
    fn all(data: &Dataset) -> Vec<usize> {
        (0..data.examples.len()).collect()
    }

    /// The logits of the member's exported net on prompt `p`.
    fn served(out: &Trained, data: &Dataset, scale: &DenseScale, p: usize) -> Vec<f32> {
        let e = &data.examples[p];
        let bag: Vec<(u32, f32)> = e.buckets.iter().copied().zip(e.weights.clone()).collect();
        let mut dense = Vec::new();
        scale.apply(&e.dense, &mut dense);
        reference_logits(&out.net, &bag, &dense)
    }

    /// Mean binary cross-entropy of `logits` (per prompt of `ps`, per tier).
    fn loss(data: &Dataset, ps: &[usize], logits: &[Vec<f32>]) -> f64 {
        let nt = data.tiers;
        let (mut sum, mut cells) = (0.0, 0);
        for (&p, z) in ps.iter().zip(logits) {
            for (t, z) in z.iter().enumerate() {
                sum += ridge::bce(*z as f64, data.y[p * nt + t] as f64);
                cells += 1;
            }
        }
        sum / cells as f64
    }

    /// One difficulty drives five tiers of different strength: the member reads one score,
    /// every tier's logit falls on hard prompts, and the loss it reports is that of the
    /// cross-fitted logits it returns.
    #[test]
    fn one_score_moves_every_tier_alike() {
        let (data, train, _, scale) = case(500, 5, 3, |t, hard, _| {
            let z = t as f64 - 1.0 - if hard { 2.5 } else { 0.0 };
            1.0 / (1.0 + (-z).exp())
        });
        let cfg = LowRankConfig {
            ranks: vec![1],
            ..LowRankConfig::default()
        };
        let pool = all(&data);
        let out = super::fit(&data, &pool, &pool, &scale, &cfg, 7);
        assert_eq!(out.fit.rank, 1);
        let hard = |p: usize| data.examples[p].buckets.contains(&101);
        let mean = |want: bool, t: usize| {
            let ps: Vec<usize> = train.iter().copied().filter(|&p| hard(p) == want).collect();
            ps.iter()
                .map(|&p| served(&out.trained, &data, &scale, p)[t])
                .sum::<f32>()
                / ps.len() as f32
        };
        for t in 0..5 {
            let (hard, easy) = (mean(true, t), mean(false, t));
            assert!(hard < easy - 1.0, "tier {t}: {hard} vs {easy}");
        }
        let reported = out.trained.val_loss;
        assert!((loss(&data, &pool, &out.judged) - reported).abs() < 1e-4);
    }

    /// Each prompt also holds a bucket of its own, which a weakly penalised member memorises:
    /// its served net fits the pool better than it will fit new prompts. The cross-fitted
    /// logits it returns come from regressions and maps that did not see the prompt, so their
    /// loss is that of new prompts, not of the pool.
    #[test]
    fn judged_logits_are_out_of_sample() {
        let (mut data, train, val, scale) = case(1000, 3, 6, |t, hard, _| {
            let z = t as f64 - 1.0 - if hard { 2.5 } else { 0.0 };
            1.0 / (1.0 + (-z).exp())
        });
        for (p, e) in data.examples.iter_mut().enumerate() {
            e.buckets.push(1000 + p as u32);
            e.weights = vec![1.0 / e.buckets.len() as f32; e.buckets.len()];
        }
        let cfg = LowRankConfig {
            alphas: vec![1e-4],
            ranks: vec![1],
            min_count: 1,
            ..LowRankConfig::default()
        };
        let out = super::fit(&data, &train, &train, &scale, &cfg, 7);
        let served_on = |ps: &[usize]| -> Vec<Vec<f32>> {
            ps.iter()
                .map(|&p| served(&out.trained, &data, &scale, p))
                .collect()
        };
        let inside = loss(&data, &train, &served_on(&train));
        let fresh = loss(&data, &val, &served_on(&val));
        let crossed = loss(&data, &train, &out.judged);
        assert!(inside < fresh - 0.08, "{inside} vs {fresh}");
        assert!(inside < crossed - 0.08, "{inside} vs {crossed}");
        assert!((crossed - fresh).abs() < 0.05, "{crossed} vs {fresh}");
    }

    /// A pool smaller than the inner folds (a fold then holds no prompt, or every prompt)
    /// still gives a member with finite logits.
    #[test]
    fn tiny_pools_fit() {
        let (data, _, _, scale) = case(
            40,
            3,
            8,
            |t, hard, _| if hard { 0.2 } else { 0.3 + 0.2 * t as f64 },
        );
        for n in [1, 2, 3] {
            let pool: Vec<usize> = (0..n).collect();
            let out = super::fit(&data, &pool, &pool, &scale, &LowRankConfig::default(), 7);
            assert!(out.trained.val_loss.is_finite(), "{n}");
            assert!(out.judged.iter().flatten().all(|z| z.is_finite()), "{n}");
            assert!(served(&out.trained, &data, &scale, 39)
                .iter()
                .all(|z| z.is_finite()));
        }
    }

    /// Two tiers that fail on different prompts need two scores: chosen by the cross-fitted
    /// loss, the member keeps both, and that loss is clearly lower than with one score.
    #[test]
    fn the_rank_is_chosen_by_the_cross_fitted_loss() {
        let (data, _, _, scale) = case(600, 2, 4, |t, hard, other| {
            let fails = if t == 0 { hard } else { other };
            if fails {
                0.1
            } else {
                0.9
            }
        });
        let pool = all(&data);
        let fit = |cfg: &LowRankConfig| super::fit(&data, &pool, &[], &scale, cfg, 7);
        let both = fit(&LowRankConfig::default());
        assert_eq!(both.fit.rank, 2);
        let one = fit(&LowRankConfig {
            ranks: vec![1],
            ..LowRankConfig::default()
        });
        let (a, b) = (one.trained.val_loss, both.trained.val_loss);
        assert!(b < a - 0.05, "{b} vs {a}");
    }
}
