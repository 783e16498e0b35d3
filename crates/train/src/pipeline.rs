//! The training pipeline: outcome table → tokenizer → features → per member (split → network →
//! calibration) → one folded net, cost model and λ → artifact.
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tierwise_core::{progress, text, OutcomeTable, TierConfig};
use tierwise_router::artifact::{
    self, ArtifactMeta, Fingerprints, LowRankFit, MemberFit, NetworkShape, TierMetrics,
    TrainingSummary, Weights,
};
use tierwise_router::choosable::Masks;
use tierwise_router::features::{Featuriser, FeaturiserConfig, PromptView, TEXT_FEATURES};
use tierwise_router::policy::{cost_scale, pick_lambda, Platt, Target};
use tierwise_router::Router;

use crate::baselines::pass_counts;
use crate::calib::Calibration;
use crate::data::Dataset;
use crate::dense::{export_layers, DenseScale};
use crate::error::{Error, Result};
use crate::linear::LinearConfig;
use crate::lowrank::LowRankConfig;
use crate::net::{self, Net, NetConfig};
use crate::shrink::{self, Shrink};
use crate::vectors::{BucketVectors, TokenVectors};
use crate::{calib, choosable, cost, curve, ensemble, linear, lowrank, tokenizer};

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
    /// Whether each member holds out its own seeded split (seed `seed + m`) instead of all
    /// holding out the same one (seed `seed`). Own splits train the ensemble on every prompt
    /// (a little more AIQ), but then the λ curve rests on out-of-bag predictions of one or two
    /// members, noisier than the served ensemble's, so the predicted quality and cost at the
    /// chosen λ are biased (on RouterBench the served router's cost came out 1.07–1.15 × the
    /// predicted).
    /// With one split, the curve is the served router's own on prompts the MLP and linear
    /// members did not train on (the low-rank member's logits there are cross-fitted).
    pub own_splits: bool,
    /// MLP members of the ensemble (initialisation and batch order seeded `seed`, `seed + 1`,
    /// …); their calibrated logits are averaged in one net ([`crate::ensemble`]). May be 0
    /// when there is a linear or low-rank member.
    pub members: usize,
    /// Hash buckets.
    pub buckets: u32,
    /// Existing `tokenizer.json` to use instead of training one ([`crate::hub::resolve_file`]
    /// finds it from a model folder or a Hugging Face model id).
    pub tokenizer: Option<PathBuf>,
    /// Vocabulary size of a trained tokenizer.
    pub vocab_size: usize,
    /// Pretrained token vectors (a `model.safetensors` holding a BERT-family input embedding
    /// table, one row per token of `tokenizer`) for the linear member ([`crate::vectors`]).
    pub token_vectors: Option<PathBuf>,
    /// How logits are calibrated.
    pub calibration: Calibration,
    /// Network and optimiser settings (seed and epochs are taken from above).
    pub net: NetConfig,
    /// Add a linear member (per-tier logistic regressions on the bag and the dense features,
    /// [`crate::linear`]) next to the MLP members (seed `seed + members`).
    pub linear: Option<LinearConfig>,
    /// Add a low-rank member (a few scores per prompt that every tier reads,
    /// [`crate::lowrank`]) after the linear member (seed `seed + members + 1`); it trains on
    /// the validation prompts too, and is calibrated on its cross-fitted logits there.
    pub lowrank: Option<LowRankConfig>,
    /// How far the ensemble's logits are shrunk toward the per-tier prior ([`crate::shrink`]).
    pub shrink: Shrink,
    /// Let the router choose any tier for any prompt; by default it chooses, per feature tag,
    /// among the tiers the no-features prior would choose ([`crate::choosable`]).
    pub all_tiers: bool,
    /// Show a progress bar (only on a terminal).
    pub progress: bool,
}

impl TrainOptions {
    /// An error ([`Error::Options`]) for a setting out of its range: a validation share
    /// outside (0, 0.9) (0 would judge every member on its own training prompts), no epochs,
    /// no buckets, no member at all, or a shrink out of range.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Options(what));
        if !(self.val_split > 0.0 && self.val_split < 0.9) {
            return bad(format!(
                "validation share {} is not in (0, 0.9): the members stop early, calibrate and \
                 are judged on the prompts it holds out",
                self.val_split
            ));
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.buckets == 0 {
            return bad("buckets must be at least 1".into());
        }
        if self.members == 0 && self.linear.is_none() && self.lowrank.is_none() {
            return bad("no member to train: 0 MLP members, no linear or low-rank member".into());
        }
        if self.token_vectors.is_some() && self.linear.is_none() {
            return bad("token vectors are read by the linear member, which is left out".into());
        }
        self.shrink.check()
    }
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            target: Target::Quality(0.98),
            seed: 7,
            epochs: 40,
            val_split: 0.2,
            own_splits: false,
            members: 4,
            buckets: 1 << 18,
            tokenizer: None,
            vocab_size: 8000,
            token_vectors: None,
            calibration: Calibration::default(),
            net: NetConfig {
                dim: 16,
                hidden: 32,
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
            linear: Some(LinearConfig::default()),
            lowrank: Some(LowRankConfig::default()),
            shrink: Shrink::default(),
            all_tiers: false,
            progress: false,
        }
    }
}

/// Loss of one epoch of one member.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    /// Member (0-based).
    pub member: usize,
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
    /// The table rows the members were judged on (with one split, the prompts no member
    /// trained on); the λ curve is drawn on those with every tier's outcome logged.
    pub validation: Vec<usize>,
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
fn export_rows(net: &Net, buckets: u32) -> (Vec<i32>, Vec<f32>) {
    let dim = net.dim;
    let mut order: Vec<usize> = (0..net.rows.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(net.row_prompts[i]), net.rows[i]));
    let mut bucket_rows = vec![-1i32; buckets as usize];
    let mut embedding = Vec::with_capacity(net.embedding.len());
    for (new, &old) in order.iter().enumerate() {
        bucket_rows[net.rows[old] as usize] = new as i32;
        embedding.extend_from_slice(&net.embedding[old * dim..(old + 1) * dim]);
    }
    (bucket_rows, embedding)
}

/// `net` in serving form: its weights and their shape.
fn export(net: &Net, scale: &DenseScale, buckets: u32) -> (Weights, NetworkShape) {
    let layers = export_layers(scale, net.layers.clone(), &net.skip, net.dim);
    let (bucket_rows, embedding) = export_rows(net, buckets);
    let shape = NetworkShape {
        dim: net.dim,
        hidden: layers.hidden,
        embedding_rows: net.rows.len(),
    };
    let weights = Weights {
        bucket_rows,
        embedding,
        w1: layers.w1,
        b1: layers.b1,
        w2: layers.w2,
        b2: layers.b2,
    };
    (weights, shape)
}

/// A seeded split of `usable` (≥ 3 prompts) into (train, validation), each sorted; at least 2
/// prompts train and 1 validates.
fn split(usable: &[usize], val_split: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut shuffled = usable.to_vec();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5eed));
    let n_val = ((usable.len() as f64 * val_split).round() as usize).clamp(1, usable.len() - 2);
    let (val, train) = shuffled.split_at(n_val);
    let (mut train, mut val) = (train.to_vec(), val.to_vec());
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// One member fitted and calibrated on its split (see [`train`]).
struct MemberOut {
    train: Vec<usize>,
    val: Vec<usize>,
    fitted: net::Trained,
    /// The low-rank member's choices.
    low_fit: Option<LowRankFit>,
    epochs: Vec<Epoch>,
    /// Raw logits of the prompts it is judged on ([`MemberOut::judged`]).
    logits: Vec<Vec<f32>>,
    maps: Vec<Platt>,
}

impl MemberOut {
    /// The prompts a member is calibrated and judged on: its validation prompts, or its
    /// training prompts when it has none.
    fn judged<'a>(train: &'a [usize], val: &'a [usize]) -> &'a [usize] {
        if val.is_empty() {
            train
        } else {
            val
        }
    }
}

/// Train a router on `table` (built from `rows` log rows with `config`): `opts.members` nets
/// (and the linear member), on one split or each on its own ([`TrainOptions::own_splits`]),
/// calibrated on their validation prompts and folded into one ([`crate::ensemble`]).
pub fn train(
    table: &OutcomeTable,
    config: &TierConfig,
    rows: usize,
    logs_sha256: Vec<String>,
    opts: &TrainOptions,
) -> Result<Trained> {
    opts.check()?;
    let nt = table.n_tiers();
    if nt < 2 {
        return Err(Error::Data(format!(
            "{nt} tier(s) configured: a router chooses between at least 2"
        )));
    }
    let usable: Vec<usize> = (0..table.len())
        .filter(|&p| (0..nt).any(|t| table.passed(p, t).is_some()))
        .collect();
    let empty: Vec<String> = pass_counts(table)
        .iter()
        .zip(&config.tiers)
        .filter(|((_, known), _)| *known == 0)
        .map(|(_, t)| format!("`{}` (model `{}`)", t.name, t.model))
        .collect();
    if !empty.is_empty() {
        let unmapped = match table.counts.unmapped_models.is_empty() {
            true => String::new(),
            false => format!(
                "; logged models that are no tier's: {:?}",
                table.counts.unmapped_models
            ),
        };
        return Err(Error::Data(format!(
            "no scored training row for tier {}: the router cannot learn when to pick it (is \
             the model named as the logs name it? or leave the tier out until it has \
             outcomes){unmapped}",
            empty.join(", ")
        )));
    }
    if usable.len() < 4 {
        return Err(Error::Data(format!(
            "only {} prompts have a scored outcome for a configured tier; need at least 4 \
             (check that logged models map to tiers and rows carry `score`)",
            usable.len()
        )));
    }
    // One tokenizer, dense scaling and cost model for every member, from all usable prompts
    // (none of them reads a pass label).
    let tok = match &opts.tokenizer {
        Some(path) => tokenizer::load(path)?,
        None => {
            let texts: Vec<&str> = usable
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
    let vectors = match &opts.token_vectors {
        Some(path) => Some(BucketVectors::new(&TokenVectors::load(path)?, &featuriser)?),
        None => None,
    };
    let scale = DenseScale::fit(&data, &usable, TEXT_FEATURES, opts.net.dense_floor);
    let cost_model = cost::fit(&table.subset(&usable), config)?;
    let choosable = if opts.all_tiers {
        Vec::new()
    } else {
        choosable::fit(table, &usable, &cost_model)
    };
    let fingerprints = Fingerprints {
        exact: usable
            .iter()
            .map(|&p| text::exact_fingerprint(&table.prompts[p].text))
            .collect(),
        simhash: usable
            .iter()
            .map(|&p| text::simhash(&table.prompts[p].text))
            .collect(),
    };
    let mut meta = ArtifactMeta {
        format_version: artifact::FORMAT_VERSION,
        tierwise_version: env!("CARGO_PKG_VERSION").to_string(),
        tiers: config.tiers.clone(),
        featuriser: FeaturiserConfig {
            dense_range: scale.range.clone(),
            ..fconfig
        },
        network: NetworkShape {
            dim: 0,
            hidden: 0,
            embedding_rows: 0,
        },
        calibration: vec![Platt::IDENTITY; nt],
        cost_model,
        target: opts.target.to_string(),
        lambda: 0.0,
        cost_scale: 1.0,
        predicted: artifact::Predicted {
            quality: 0.0,
            cost_usd: 0.0,
            quality_se: None,
            cost_usd_se: None,
        },
        curve_basis: String::new(),
        validation_curve: Vec::new(),
        single_tiers: Vec::new(),
        choosable,
        training: TrainingSummary {
            rows,
            prompts: table.len(),
            prompts_per_tier: table.counts.observed_per_tier.clone(),
            logs_sha256,
            seed: opts.seed,
            train_prompts: 0,
            val_prompts: 0,
            epochs: 0,
            best_epoch: 0,
            val_loss: 0.0,
            members: Vec::new(),
            val_metrics: Vec::new(),
            calibration: String::new(),
            shrink: 1.0,
            shrink_oob_aiq: Vec::new(),
            token_vectors: match &opts.token_vectors {
                Some(path) => Some(artifact::FileRef {
                    path: path.display().to_string(),
                    sha256: sha256_file(path)?,
                }),
                None => None,
            },
            train_fingerprints: fingerprints,
        },
    };

    let k = if opts.linear.is_some() || opts.lowrank.is_some() {
        opts.members
    } else {
        opts.members.max(1)
    };
    let mut epochs = Vec::new();
    let mut nets: Vec<(Net, Vec<Platt>)> = Vec::with_capacity(k);
    // Out of bag: per prompt, the share-weighted sum of the calibrated logits of the members it
    // validated (`oob`), and the sum of their shares (`oob_n`).
    let mut oob = vec![vec![0f64; nt]; table.len()];
    let mut oob_n = vec![0f64; table.len()];
    // Each member's share of the ensemble's logit: the low-rank member its configured share
    // (all of it when it is the only member), the linear member its configured share of the
    // rest (an equal one by default; the rest when there is no MLP member), the MLP members
    // what remains, equally.
    let low_share = match &opts.lowrank {
        Some(_) if k == 0 && opts.linear.is_none() => 1.0,
        Some(l) => l.share.clamp(0.0, 1.0),
        None => 0.0,
    };
    let lin_share = match &opts.linear {
        Some(l) if k > 0 => l.share.unwrap_or(1.0 / (k + 1) as f64).clamp(0.0, 1.0),
        Some(_) => 1.0,
        None => 0.0,
    } * (1.0 - low_share);
    let has_lin = opts.linear.is_some() as usize;
    // The members: the MLP ones (0..k), the linear one (k), the low-rank one (last).
    let is_low = |m: usize| opts.lowrank.is_some() && m == k + has_lin;
    let is_lin = |m: usize| opts.linear.is_some() && m == k;
    let share = |m: usize| {
        if is_low(m) {
            low_share
        } else if is_lin(m) {
            lin_share
        } else {
            (1.0 - lin_share - low_share) / k as f64
        }
    };
    let mut trained_on = vec![false; table.len()];
    let all = k + has_lin + opts.lowrank.is_some() as usize;
    let member_seed = |m: usize| opts.seed.wrapping_add(m as u64);
    // One line per member, in member order (they train side by side): the epochs run and the
    // last losses.
    let lines = progress::lines();
    let name = |m: usize| match (is_lin(m), is_low(m)) {
        (true, _) => format!("linear member {}/{all}", m + 1),
        (_, true) => format!("low-rank member {}/{all}", m + 1),
        _ => format!("member {}/{all}", m + 1),
    };
    let bars: Vec<indicatif::ProgressBar> = (0..all)
        .map(|m| match opts.progress {
            true => {
                let len = if m >= k { 1 } else { opts.epochs };
                lines.add(progress::bar(len as u64, &name(m), false))
            }
            false => indicatif::ProgressBar::hidden(),
        })
        .collect();
    // The members are independent: fit and calibrate them in parallel (the nets are small, so
    // candle's kernels gain little from more threads; see `crate::threads`), then add them up
    // in member order, so the result does not depend on which finishes first.
    let fitted: Vec<MemberOut> = (0..all)
        .into_par_iter()
        .map(|m| -> Result<MemberOut> {
            let seed = member_seed(m);
            let split_seed = if opts.own_splits { seed } else { opts.seed };
            let (mut train, val) = split(&usable, opts.val_split, split_seed);
            let cfg = NetConfig {
                seed,
                epochs: opts.epochs,
                ..opts.net.clone()
            };
            let mut member_epochs = Vec::new();
            let mut low_fit = None;
            // The low-rank member trains on the validation prompts too: its logits on them
            // are cross-fitted.
            let mut crossfit = None;
            let mut fitted = match (is_lin(m), &opts.linear, &opts.lowrank) {
                (false, _, Some(low)) if is_low(m) => {
                    let judge = MemberOut::judged(&train, &val).to_vec();
                    train.extend_from_slice(&val);
                    train.sort_unstable();
                    let out = lowrank::fit(&data, &train, &judge, &scale, low, seed);
                    low_fit = Some(out.fit);
                    crossfit = Some(out.judged);
                    bars[m].finish();
                    out.trained
                }
                (true, Some(lin), _) => {
                    let fitted =
                        linear::fit(&data, &train, &val, &scale, lin, seed, vectors.as_ref());
                    bars[m].finish();
                    fitted
                }
                _ => {
                    let bar = &bars[m];
                    let fitted = net::fit(&data, &train, &val, &cfg, &scale, |epoch, tl, vl| {
                        bar.inc(1);
                        bar.set_message(format!("{} loss {tl:.4} val {vl:.4}", name(m)));
                        member_epochs.push(Epoch {
                            member: m,
                            epoch,
                            train_loss: tl,
                            val_loss: vl,
                        });
                    })?;
                    // Early stopping ends most members before `epochs`: show what ran.
                    bar.set_length(bar.position());
                    bar.finish();
                    fitted
                }
            };
            fitted.net.round_embedding_to_f16();
            // Calibrate with the plain-Rust forward pass that serving uses (the low-rank
            // member: with its cross-fitted logits).
            let judge = MemberOut::judged(&train, &val);
            let logits: Vec<Vec<f32>> = match crossfit {
                Some(logits) => logits,
                None => {
                    let (weights, shape) = export(&fitted.net, &scale, opts.buckets);
                    let mut member_meta = meta.clone();
                    member_meta.network = shape;
                    let raw = Router::from_parts(member_meta, weights, tok.clone())?;
                    judge
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
                        .collect()
                }
            };
            let cells: Vec<(Vec<f32>, Vec<f32>)> = (0..nt)
                .map(|t| {
                    judge
                        .iter()
                        .zip(&logits)
                        .filter_map(|(&p, z)| {
                            table.passed(p, t).map(|pass| (z[t], pass as u8 as f32))
                        })
                        .unzip()
                })
                .collect();
            // The low-rank member fits its own per-tier maps on all its training prompts
            // (cross-fitted); a per-tier map on the fewer validation prompts would reorder
            // the tiers on noise, so it gets one shared map.
            let how = match opts.calibration {
                Calibration::None => Calibration::None,
                _ if is_low(m) => Calibration::Shared,
                how => how,
            };
            let maps = calib::fit_maps(&cells, how);
            Ok(MemberOut {
                train,
                val,
                fitted,
                low_fit,
                epochs: member_epochs,
                logits,
                maps,
            })
        })
        .collect::<Result<_>>()?;
    for (m, out) in fitted.into_iter().enumerate() {
        let (train, val, maps) = (&out.train, &out.val, &out.maps);
        epochs.extend(out.epochs);
        for (&p, z) in MemberOut::judged(train, val).iter().zip(&out.logits) {
            for t in 0..nt {
                oob[p][t] += share(m) * (maps[t].a * z[t] as f64 + maps[t].b);
            }
            oob_n[p] += share(m);
        }
        train.iter().for_each(|&p| trained_on[p] = true);
        meta.training.members.push(MemberFit {
            seed: member_seed(m),
            train_prompts: train.len(),
            val_prompts: val.len(),
            epochs: out.fitted.epochs,
            best_epoch: out.fitted.best_epoch,
            val_loss: out.fitted.val_loss,
            linear: is_lin(m),
            lowrank: out.low_fit,
        });
        // `fold` averages over all members: scale the map so this one counts with its share.
        let w = share(m) * all as f64;
        let maps = maps
            .iter()
            .map(|p| Platt {
                a: p.a * w,
                b: p.b * w,
            })
            .collect();
        nets.push((out.fitted.net, maps));
    }

    let judged: Vec<usize> = (0..table.len()).filter(|&p| oob_n[p] > 0.0).collect();
    // Out of bag, per judged prompt: the calibrated logits (share-weighted mean of its members').
    let mut oob_logits: Vec<Vec<f64>> = judged
        .iter()
        .map(|&p| oob[p].iter().map(|z| z / oob_n[p]).collect())
        .collect();
    let expected: Vec<Vec<f64>> = judged
        .iter()
        .map(|&p| {
            let tokens = text::estimate_tokens(&table.prompts[p].text) as f64;
            meta.cost_model.iter().map(|c| c.cost(tokens)).collect()
        })
        .collect();
    meta.cost_scale = cost_scale(expected.iter().map(Vec::as_slice), meta.tiers.len());
    let logged = curve::outcomes(&table.subset(&judged), &expected);
    let names: Vec<&str> = meta.tiers.iter().map(|t| t.name.as_str()).collect();
    let masks = Masks::new(&meta.choosable, &names).map_err(Error::Data)?;
    let allowed: Vec<&[bool]> = judged
        .iter()
        .map(|&p| masks.get(table.prompts[p].feature.as_deref()))
        .collect();
    // The shrink toward the prior, scored on the fully observed out-of-bag prompts, then
    // applied to every member's map (the folded net serves it) and to the out-of-bag logits.
    let prior = shrink::prior_logits(table);
    let (s, tried) = shrink::choose_out_of_bag(
        &opts.shrink,
        &oob_logits,
        &logged,
        &expected,
        &allowed,
        meta.cost_scale,
        &prior,
    );
    for (_, maps) in nets.iter_mut() {
        shrink::apply(maps, s, &prior);
    }
    for z in oob_logits.iter_mut() {
        z.iter_mut()
            .zip(&prior)
            .for_each(|(z, &r)| *z = shrink::toward(*z, s, r));
    }
    meta.training.shrink = s;
    meta.training.shrink_oob_aiq = tried;

    let pairs: Vec<(&Net, &[Platt])> = nets.iter().map(|(n, m)| (n, m.as_slice())).collect();
    // Padded to a multiple of 8 columns, the widths serving has specialised bag loops for.
    let folded = ensemble::pad_width(ensemble::fold(&pairs), 8);
    let (weights, shape) = export(&folded, &scale, opts.buckets);
    meta.network = shape;
    let s = &mut meta.training;
    s.train_prompts = trained_on.iter().filter(|&&x| x).count();
    s.val_prompts = judged.len();
    // Epochs and losses of the MLP members (the linear member's are in its own entry).
    let mlp: Vec<&MemberFit> = s
        .members
        .iter()
        .filter(|m| !m.linear && m.lowrank.is_none())
        .collect();
    let per = mlp.len().max(1) as f64;
    s.epochs = mlp.iter().map(|m| m.epochs).sum();
    s.best_epoch = (mlp.iter().map(|m| m.best_epoch as f64).sum::<f64>() / per).round() as usize;
    s.val_loss = mlp.iter().map(|m| m.val_loss).sum::<f64>() / per;
    s.calibration = match (opts.lowrank.is_some(), opts.calibration) {
        (true, how) if how != Calibration::None => format!(
            "{how}, per member on its validation prompts (the low-rank member: shared platt)"
        ),
        (_, how) => format!("{how}, per member on its validation prompts"),
    };
    let probs: Vec<Vec<f32>> = oob_logits
        .iter()
        .map(|z| {
            z.iter()
                .map(|&z| (1.0 / (1.0 + (-z).exp())) as f32)
                .collect()
        })
        .collect();
    for t in 0..nt {
        let (p, y): (Vec<f32>, Vec<f32>) = judged
            .iter()
            .zip(&probs)
            .filter_map(|(&q, pr)| table.passed(q, t).map(|pass| (pr[t], pass as u8 as f32)))
            .unzip();
        s.val_metrics.push(TierMetrics {
            tier: table.tiers[t].clone(),
            auc: calib::auc(&p, &y),
            ece: calib::ece(&p, &y),
            n: y.len(),
        });
    }
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
                (0..judged.len()).collect(),
            )
        };
    let p_rows: Vec<&[f32]> = idx.iter().map(|&i| probs[i].as_slice()).collect();
    let e_rows: Vec<&[f64]> = idx.iter().map(|&i| expected[i].as_slice()).collect();
    let a_rows: Vec<&[bool]> = idx.iter().map(|&i| allowed[i]).collect();
    meta.validation_curve =
        curve::sweep(&rows_q, &rows_c, &p_rows, &e_rows, &a_rows, meta.cost_scale);
    if basis == "predicted" {
        // The spread of predicted probabilities is not the sampling noise of outcomes: no
        // standard errors (the eval then estimates the prediction's from its own).
        for pt in &mut meta.validation_curve {
            (pt.quality_se, pt.cost_usd_se) = (None, None);
        }
    }
    meta.single_tiers = curve::singles(&table.tiers, &rows_q, &rows_c);
    meta.curve_basis = basis.to_string();
    let (lambda, predicted) = pick_lambda(&meta.validation_curve, &meta.single_tiers, opts.target)
        .ok_or_else(|| Error::Data("empty validation curve".into()))?;
    meta.lambda = lambda;
    meta.predicted = predicted;
    let router = Router::from_parts(meta, weights.clone(), tok)?;
    Ok(Trained {
        router,
        weights,
        tokenizer_json,
        epochs,
        validation: judged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_puts_the_most_used_rows_first_and_keeps_each_bucket_its_row() {
        let fitted = Net {
            dim: 2,
            layers: crate::dense::Layers {
                w1: vec![],
                b1: vec![],
                w2: vec![],
                b2: vec![],
                hidden: 0,
            },
            skip: vec![],
            rows: vec![3, 5, 9, 12],
            row_prompts: vec![2, 7, 2, 9],
            embedding: vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5],
        };
        let (bucket_rows, embedding) = export_rows(&fitted, 16);
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
