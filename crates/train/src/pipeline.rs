//! The training pipeline: outcome table → split → tokenizer → features → network → calibration,
//! cost model and λ → artifact.
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tierwise_core::{progress, text, OutcomeTable, TierConfig};
use tierwise_router::artifact::{
    self, ArtifactMeta, Fingerprints, NetworkShape, TierMetrics, TrainingSummary, Weights,
};
use tierwise_router::features::{Featuriser, FeaturiserConfig, PromptView};
use tierwise_router::policy::{cost_scale, pick_lambda, Platt, Target};
use tierwise_router::Router;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::net::{self, NetConfig};
use crate::{calib, cost, curve, tokenizer};

/// How raw logits become probabilities (fitted on the validation split).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Calibration {
    /// Platt scaling per tier (its own slope and intercept each).
    PerTier,
    /// One Platt map shared by every tier, fitted on all their cells together: it rescales the
    /// logits without reordering the tiers for any prompt.
    Shared,
    /// Platt scaling per tier, partially pooled toward the shared map ([`crate::POOLING`]): a
    /// tier whose validation cells say little (e.g. almost all pass) stays near the shared map.
    #[default]
    Pooled,
    /// The network's logits as they are.
    None,
}

/// Strength of the pull toward the shared map in [`Calibration::Pooled`], in units of the
/// log-likelihood's curvature (about 4 × that many validation cells with p near ½).
pub const POOLING: f64 = 20.0;

impl std::fmt::Display for Calibration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Calibration::PerTier => "platt per tier",
            Calibration::Shared => "shared platt",
            Calibration::Pooled => "platt per tier, pooled toward the shared map",
            Calibration::None => "none",
        })
    }
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// What λ should achieve.
    pub target: Target,
    /// Seed (split, initialisation, batch order).
    pub seed: u64,
    /// Maximum epochs.
    pub epochs: usize,
    /// Share of prompts held out for early stopping, calibration and the λ curve.
    pub val_split: f64,
    /// Hash buckets.
    pub buckets: u32,
    /// Existing tokenizer to use instead of training one.
    pub tokenizer: Option<PathBuf>,
    /// Vocabulary size of a trained tokenizer.
    pub vocab_size: usize,
    /// How logits are calibrated.
    pub calibration: Calibration,
    /// Network and optimiser settings (seed and epochs are taken from above).
    pub net: NetConfig,
    /// Show a progress bar (only on a terminal).
    pub progress: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            target: Target::Quality(0.98),
            seed: 7,
            epochs: 40,
            val_split: 0.2,
            buckets: 1 << 18,
            tokenizer: None,
            vocab_size: 8000,
            calibration: Calibration::default(),
            net: NetConfig {
                dim: 32,
                hidden: 64,
                epochs: 40,
                patience: 4,
                batch: 64,
                lr: 3e-3,
                weight_decay: 1e-4,
                seed: 7,
                head_rank: 2,
                min_count: 2,
                dense_skip: true,
                dense_floor: 0.1,
            },
            progress: false,
        }
    }
}

/// Loss of one epoch.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation loss.
    pub val_loss: f64,
}

/// A trained router, ready to write.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The router (in memory).
    pub router: Router,
    /// Its weights.
    pub weights: Weights,
    /// Its tokenizer as JSON.
    pub tokenizer_json: String,
    /// Loss per epoch.
    pub epochs: Vec<Epoch>,
}

impl Trained {
    /// Write the artifact into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        Ok(artifact::write(
            dir,
            self.router.meta(),
            &self.weights,
            &self.tokenizer_json,
        )?)
    }
}

/// SHA-256 (hex) of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// The artifact's `bucket_rows` and embedding, with the rows most training prompts use first
/// (ties by bucket): serving reads those rows far more often than the rest, and packed
/// together they stay in cache. The values, and so every decision, do not depend on the order.
fn export_rows(fitted: &net::Trained, dim: usize, buckets: u32) -> (Vec<i32>, Vec<f32>) {
    let mut order: Vec<usize> = (0..fitted.rows.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(fitted.row_prompts[i]), fitted.rows[i]));
    let mut bucket_rows = vec![-1i32; buckets as usize];
    let mut embedding = Vec::with_capacity(fitted.embedding.len());
    for (new, &old) in order.iter().enumerate() {
        bucket_rows[fitted.rows[old] as usize] = new as i32;
        embedding.extend_from_slice(&fitted.embedding[old * dim..(old + 1) * dim]);
    }
    (bucket_rows, embedding)
}

/// Train a router on `table` (built from `rows` log rows with `config`).
pub fn train(
    table: &OutcomeTable,
    config: &TierConfig,
    rows: usize,
    logs_sha256: Vec<String>,
    opts: &TrainOptions,
) -> Result<Trained> {
    let nt = table.n_tiers();
    let usable: Vec<usize> = (0..table.len())
        .filter(|&p| (0..nt).any(|t| table.passed(p, t).is_some()))
        .collect();
    if usable.len() < 4 {
        return Err(Error::Data(format!(
            "only {} prompts have a scored outcome for a configured tier; need at least 4 \
             (check that logged models map to tiers and rows carry `score`)",
            usable.len()
        )));
    }
    let mut shuffled = usable.clone();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(opts.seed ^ 0x5eed));
    let n_val = ((usable.len() as f64 * opts.val_split).round() as usize).min(usable.len() - 2);
    let (val, train) = shuffled.split_at(n_val);
    let (mut train, mut val) = (train.to_vec(), val.to_vec());
    train.sort_unstable();
    val.sort_unstable();
    let val_or_train = if val.is_empty() {
        train.clone()
    } else {
        val.clone()
    };

    let tok = match &opts.tokenizer {
        Some(path) => tokenizer::load(path)?,
        None => {
            let texts: Vec<&str> = train
                .iter()
                .map(|&p| table.prompts[p].text.as_str())
                .collect();
            tokenizer::train(&texts, opts.vocab_size)?
        }
    };
    let tokenizer_json = tokenizer::to_json(&tok)?;
    let fconfig = FeaturiserConfig::new(opts.buckets);
    let featuriser = Featuriser::new(fconfig.clone(), tok.clone());
    let data = Dataset::build(&featuriser, table);

    let net_cfg = NetConfig {
        seed: opts.seed,
        epochs: opts.epochs,
        ..opts.net.clone()
    };
    let bar = if opts.progress {
        progress::bar(opts.epochs as u64, "training", false)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut epochs = Vec::new();
    let fitted = net::fit(&data, &train, &val, &net_cfg, |epoch, tl, vl| {
        bar.inc(1);
        bar.set_message(format!("loss {tl:.4} val {vl:.4}"));
        epochs.push(Epoch {
            epoch,
            train_loss: tl,
            val_loss: vl,
        });
    })?;
    bar.finish_and_clear();

    let (bucket_rows, embedding) = export_rows(&fitted, net_cfg.dim, opts.buckets);
    let weights = Weights {
        bucket_rows,
        embedding,
        w1: fitted.layers.w1,
        b1: fitted.layers.b1,
        w2: fitted.layers.w2,
        b2: fitted.layers.b2,
    };
    let cost_model = cost::fit(&table.subset(&train), config)?;
    let all_prompts: Vec<usize> = usable.clone();
    let fingerprints = Fingerprints {
        exact: all_prompts
            .iter()
            .map(|&p| text::exact_fingerprint(&table.prompts[p].text))
            .collect(),
        simhash: all_prompts
            .iter()
            .map(|&p| text::simhash(&table.prompts[p].text))
            .collect(),
    };
    let mut meta = ArtifactMeta {
        format_version: artifact::FORMAT_VERSION,
        tierwise_version: env!("CARGO_PKG_VERSION").to_string(),
        tiers: config.tiers.clone(),
        featuriser: FeaturiserConfig {
            dense_range: fitted.dense_range.clone(),
            ..fconfig
        },
        network: NetworkShape {
            dim: net_cfg.dim,
            hidden: fitted.layers.hidden,
            embedding_rows: fitted.rows.len(),
        },
        calibration: vec![Platt::IDENTITY; nt],
        cost_model,
        target: opts.target.to_string(),
        lambda: 0.0,
        cost_scale: 1.0,
        predicted: artifact::Predicted {
            quality: 0.0,
            cost_usd: 0.0,
        },
        curve_basis: String::new(),
        validation_curve: Vec::new(),
        single_tiers: Vec::new(),
        training: TrainingSummary {
            rows,
            prompts: table.len(),
            prompts_per_tier: table.counts.observed_per_tier.clone(),
            logs_sha256,
            seed: opts.seed,
            train_prompts: train.len(),
            val_prompts: val.len(),
            epochs: fitted.epochs,
            best_epoch: fitted.best_epoch,
            val_loss: fitted.val_loss,
            val_metrics: Vec::new(),
            calibration: String::new(),
            train_fingerprints: fingerprints,
        },
    };

    // Calibrate with the plain-Rust forward pass that serving uses.
    let raw = Router::from_parts(meta.clone(), weights.clone(), tok.clone());
    let logits: Vec<Vec<f32>> = val_or_train
        .par_iter()
        .map(|&p| {
            let info = &table.prompts[p];
            let mut out = vec![0f32; nt];
            raw.model().logits(
                &PromptView {
                    text: &info.text,
                    turns: info.turns,
                    feature: info.feature.as_deref(),
                },
                &mut out,
            );
            out
        })
        .collect();
    // Each tier's validation cells: (logit, passed) of the prompts with a known outcome.
    let cells: Vec<(Vec<f32>, Vec<f32>)> = (0..nt)
        .map(|t| {
            val_or_train
                .iter()
                .enumerate()
                .filter_map(|(k, &p)| {
                    table
                        .passed(p, t)
                        .map(|pass| (logits[k][t], pass as u8 as f32))
                })
                .unzip()
        })
        .collect();
    let platt: Vec<Platt> = match opts.calibration {
        Calibration::PerTier => cells.iter().map(|(z, y)| calib::fit_platt(z, y)).collect(),
        Calibration::Shared | Calibration::Pooled => {
            let z: Vec<f32> = cells.iter().flat_map(|(z, _)| z.iter().copied()).collect();
            let y: Vec<f32> = cells.iter().flat_map(|(_, y)| y.iter().copied()).collect();
            let shared = calib::fit_platt(&z, &y);
            if opts.calibration == Calibration::Shared {
                vec![shared; nt]
            } else {
                cells
                    .iter()
                    .map(|(z, y)| calib::fit_platt_toward(z, y, shared, POOLING))
                    .collect()
            }
        }
        Calibration::None => vec![Platt::IDENTITY; nt],
    };
    let expected: Vec<Vec<f64>> = val_or_train
        .iter()
        .map(|&p| {
            let tokens = text::estimate_tokens(&table.prompts[p].text) as f64;
            meta.cost_model.iter().map(|c| c.cost(tokens)).collect()
        })
        .collect();
    meta.cost_scale = cost_scale(expected.iter().map(Vec::as_slice), meta.tiers.len());
    let vt = table.subset(&val_or_train);
    let logged = curve::outcomes(&vt, &expected);
    meta.calibration = platt;
    meta.training.calibration = opts.calibration.to_string();
    for (t, (z, y)) in cells.iter().enumerate() {
        let probs: Vec<f32> = z.iter().map(|&x| meta.calibration[t].apply(x)).collect();
        meta.training.val_metrics.push(TierMetrics {
            tier: table.tiers[t].clone(),
            auc: calib::auc(&probs, y),
            ece: calib::ece(&probs, y),
            n: y.len(),
        });
    }
    let probs: Vec<Vec<f32>> = logits
        .iter()
        .map(|l| {
            l.iter()
                .zip(&meta.calibration)
                .map(|(&x, c)| c.apply(x))
                .collect()
        })
        .collect();
    type Rows = Vec<Vec<f64>>;
    let (basis, rows_q, rows_c, idx): (&str, Rows, Rows, Vec<usize>) =
        if logged.rows.len() >= curve::MIN_LOGGED {
            ("logged", logged.q, logged.c, logged.rows)
        } else {
            let q = probs
                .iter()
                .map(|r| r.iter().map(|&x| x as f64).collect())
                .collect();
            (
                "predicted",
                q,
                expected.clone(),
                (0..val_or_train.len()).collect(),
            )
        };
    let p_rows: Vec<&[f32]> = idx.iter().map(|&i| probs[i].as_slice()).collect();
    let e_rows: Vec<&[f64]> = idx.iter().map(|&i| expected[i].as_slice()).collect();
    meta.validation_curve = curve::sweep(&rows_q, &rows_c, &p_rows, &e_rows, meta.cost_scale);
    meta.single_tiers = curve::singles(&table.tiers, &rows_q, &rows_c);
    meta.curve_basis = basis.to_string();
    let (lambda, predicted) = pick_lambda(&meta.validation_curve, &meta.single_tiers, opts.target)
        .ok_or_else(|| Error::Data("empty validation curve".into()))?;
    meta.lambda = lambda;
    meta.predicted = predicted;
    let router = Router::from_parts(meta, weights.clone(), tok);
    Ok(Trained {
        router,
        weights,
        tokenizer_json,
        epochs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_puts_the_most_used_rows_first_and_keeps_each_bucket_its_row() {
        let fitted = net::Trained {
            layers: crate::dense::Layers {
                w1: vec![],
                b1: vec![],
                w2: vec![],
                b2: vec![],
                hidden: 0,
            },
            dense_range: vec![],
            rows: vec![3, 5, 9, 12],
            row_prompts: vec![2, 7, 2, 9],
            embedding: vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5],
            epochs: 1,
            best_epoch: 1,
            val_loss: 0.0,
        };
        let (bucket_rows, embedding) = export_rows(&fitted, 2, 16);
        // By prompts (9, 7, then the two 2s by bucket): buckets 12, 5, 3, 9.
        assert_eq!(embedding, [3.0, 3.5, 1.0, 1.5, 0.0, 0.5, 2.0, 2.5]);
        for (b, &r) in bucket_rows.iter().enumerate() {
            match fitted.rows.iter().position(|&x| x as usize == b) {
                Some(old) => assert_eq!(
                    embedding[r as usize * 2..r as usize * 2 + 2],
                    fitted.embedding[old * 2..old * 2 + 2]
                ),
                None => assert_eq!(r, -1),
            }
        }
    }
}
