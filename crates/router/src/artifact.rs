//! The artifact on disk: `router.json` ([`ArtifactMeta`]), `router.safetensors` ([`Weights`])
//! and `tokenizer.json`. Loading checks the format version and every tensor's dtype and shape.
use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use tierwise_core::Tier;

pub use crate::choosable::Choosable;
use crate::error::{Error, Result};
use crate::features::FeaturiserConfig;
use crate::policy::{Platt, TierCost};

/// Version of the artifact format this crate writes. Version 2 added
/// `featuriser.dense_range`, which older readers would ignore, so they refuse it. Version 3 lets
/// the `embedding` tensor be F16: it is written so when every value is exactly an f16 (as
/// `tierwise train` makes them), halving the table serving reads most; else F32. Version 4 added
/// `choosable`, which older readers would ignore (choosing tiers it rules out).
pub const FORMAT_VERSION: u32 = 4;
/// Versions this crate reads: version 1 is version 2 without `featuriser.dense_range`, version
/// 2 is version 3 with an F32 embedding, and version 3 is version 4 with every tier choosable.
pub const READS_VERSIONS: [u32; 4] = [1, 2, 3, 4];
/// File names inside a model folder.
pub const META_FILE: &str = "router.json";
/// Weights file.
pub const WEIGHTS_FILE: &str = "router.safetensors";
/// Tokenizer file.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Network sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkShape {
    /// Embedding width.
    pub dim: usize,
    /// Hidden layer width.
    pub hidden: usize,
    /// Stored embedding rows (buckets seen in training; the others are zero).
    pub embedding_rows: usize,
}

/// One point of the validation curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// λ.
    pub lambda: f64,
    /// Mean quality of the chosen tiers.
    pub quality: f64,
    /// Mean cost of the chosen tiers (USD).
    pub cost_usd: f64,
    /// Standard error of `quality` over the validation prompts (their standard deviation /
    /// √n), when the curve is of logged outcomes; `None` for a curve of predictions or from an
    /// older artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_se: Option<f64>,
    /// Standard error of `cost_usd`, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd_se: Option<f64>,
}

/// Quality and cost of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    /// Mean quality.
    pub quality: f64,
    /// Mean cost (USD).
    pub cost_usd: f64,
    /// Standard error of `quality` over the validation prompts (their standard deviation /
    /// √n), when the curve is of logged outcomes; `None` for a curve of predictions or from an
    /// older artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_se: Option<f64>,
    /// Standard error of `cost_usd`, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd_se: Option<f64>,
}

/// A single tier's validation figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleTier {
    /// Tier name.
    pub tier: String,
    /// Mean quality on the validation prompts.
    pub quality: f64,
    /// Mean cost on the validation prompts (USD).
    pub cost_usd: f64,
}

/// Validation metrics of one tier's calibrated probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierMetrics {
    /// Tier name.
    pub tier: String,
    /// ROC AUC (missing when the validation cells hold one class only).
    pub auc: Option<f64>,
    /// Expected calibration error over 10 equal-width bins.
    pub ece: Option<f64>,
    /// Observed validation cells.
    pub n: usize,
}

/// Fingerprints of every training prompt's routing text, for leakage checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// `tierwise_core::text::exact_fingerprint`.
    pub exact: Vec<u64>,
    /// `tierwise_core::text::simhash`.
    pub simhash: Vec<u64>,
}

/// What training saw and did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Log rows read.
    pub rows: usize,
    /// Distinct prompts.
    pub prompts: usize,
    /// Prompts with a known outcome, per tier.
    pub prompts_per_tier: Vec<usize>,
    /// SHA-256 of each input log file.
    pub logs_sha256: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Prompts that trained at least one member.
    pub train_prompts: usize,
    /// Prompts that validated at least one member: the calibration metrics and the λ curve are
    /// computed on them, each from the members it validated (out of bag).
    pub val_prompts: usize,
    /// Epochs run, summed over the MLP members (a linear member's are in its own entry).
    pub epochs: usize,
    /// Mean over the MLP members of the epoch whose weights were kept (1-based, rounded).
    pub best_epoch: usize,
    /// Mean over the MLP members of their best validation loss (masked BCE).
    pub val_loss: f64,
    /// Each member of the ensemble (empty in artifacts written before ensembles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberFit>,
    /// Calibrated validation metrics per tier.
    pub val_metrics: Vec<TierMetrics>,
    /// How the calibration was chosen (e.g. `platt, α=0.5 (validation AIQ …; prior alone …)`).
    #[serde(default)]
    pub calibration: String,
    /// The shrink toward the prior kept: the served logit of tier t is
    /// `shrink · ensemble logit + (1 − shrink) · prior logit of t` (1: no shrink).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub shrink: f64,
    /// Each shrink tried with the out-of-bag AIQ it gave, `[shrink, aiq]` (empty: none tried).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shrink_oob_aiq: Vec<[f64; 2]>,
    /// The pretrained token vectors the linear member read (`model.safetensors`'s path and
    /// SHA-256), folded into the unigram rows; serving does not need them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_vectors: Option<FileRef>,
    /// Training prompt fingerprints.
    pub train_fingerprints: Fingerprints,
}

/// A file an artifact was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    /// Its path as given.
    pub path: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
}

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// How one member of the ensemble was fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberFit {
    /// Its seed (split, initialisation, batch order).
    pub seed: u64,
    /// Prompts it trained on.
    pub train_prompts: usize,
    /// Prompts it early-stopped and calibrated on (the low-rank member trains on them too:
    /// its logits there, which calibrate it and draw the λ curve, are cross-fitted).
    pub val_prompts: usize,
    /// Epochs run.
    pub epochs: usize,
    /// Epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Its validation loss there (the low-rank member's: its cross-fitted loss over every
    /// prompt it trained on).
    pub val_loss: f64,
    /// A linear member (per-tier logistic regressions; `epochs` then counts every penalty's
    /// epochs, and `best_epoch` is the kept one's, over all tiers at most).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub linear: bool,
    /// The low-rank member's choices (`epochs` then counts the penalties tried, and
    /// `best_epoch` is the kept one's, 1-based from the weakest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowrank: Option<LowRankFit>,
}

/// What the low-rank member chose on its training and validation prompts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LowRankFit {
    /// Scores per prompt that every tier reads.
    pub rank: usize,
    /// The ridge penalty of its regressions.
    pub alpha: f64,
}

/// `router.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMeta {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The tierwise version that wrote it.
    pub tierwise_version: String,
    /// Tiers, cheapest first, with models and prices.
    pub tiers: Vec<Tier>,
    /// Featuriser settings.
    pub featuriser: FeaturiserConfig,
    /// Network sizes.
    pub network: NetworkShape,
    /// Platt scaling per tier.
    pub calibration: Vec<Platt>,
    /// Expected-cost model per tier.
    pub cost_model: Vec<TierCost>,
    /// The target λ was chosen for, e.g. `quality=0.98`.
    pub target: String,
    /// λ in force.
    pub lambda: f64,
    /// ĉ_max: the largest mean expected cost of any tier on the validation prompts.
    pub cost_scale: f64,
    /// Validation quality and cost at `lambda`.
    pub predicted: Predicted,
    /// `logged` (realised outcomes of fully observed validation prompts) or `predicted`
    /// (calibrated probabilities and expected costs, when too few prompts are fully observed).
    pub curve_basis: String,
    /// λ sweep on the validation prompts.
    pub validation_curve: Vec<CurvePoint>,
    /// Each single tier on the same validation prompts.
    pub single_tiers: Vec<SingleTier>,
    /// The tiers the policy may choose, per feature tag ([`Choosable`]); empty: every tier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choosable: Vec<Choosable>,
    /// Training summary.
    pub training: TrainingSummary,
}

/// The network's weights (row-major, f32).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Bucket → embedding row, or -1 for a bucket never seen in training. `[buckets]`, i32.
    pub bucket_rows: Vec<i32>,
    /// `[embedding_rows, dim]`.
    pub embedding: Vec<f32>,
    /// `[hidden, dim + dense]`.
    pub w1: Vec<f32>,
    /// `[hidden]`.
    pub b1: Vec<f32>,
    /// `[tiers, hidden]`.
    pub w2: Vec<f32>,
    /// `[tiers]`.
    pub b2: Vec<f32>,
}

fn shapes(meta: &ArtifactMeta) -> [(&'static str, Dtype, Vec<usize>); 6] {
    let n = &meta.network;
    let input = n.dim + meta.featuriser.dense_len();
    let t = meta.tiers.len();
    [
        (
            "bucket_rows",
            Dtype::I32,
            vec![meta.featuriser.buckets as usize],
        ),
        ("embedding", Dtype::F32, vec![n.embedding_rows, n.dim]),
        ("w1", Dtype::F32, vec![n.hidden, input]),
        ("b1", Dtype::F32, vec![n.hidden]),
        ("w2", Dtype::F32, vec![t, n.hidden]),
        ("b2", Dtype::F32, vec![t]),
    ]
}

fn le_bytes<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    v.iter().flat_map(|&x| f(x)).collect()
}

/// `v` as f16 bits when every value is exactly an f16 (widening them back gives the same bits),
/// else `None`.
pub(crate) fn exact_f16(v: &[f32]) -> Option<Vec<u16>> {
    v.iter()
        .map(|&x| {
            let h = half::f16::from_f32(x);
            (h.to_f32().to_bits() == x.to_bits()).then_some(h.to_bits())
        })
        .collect()
}

impl Weights {
    /// The tensors' bytes, and whether the embedding's are F16 (from format version 3, when
    /// every value is exactly an f16).
    fn parts(&self, meta: &ArtifactMeta) -> ([(&'static str, Vec<u8>); 6], bool) {
        let bits = match meta.format_version >= 3 {
            true => exact_f16(&self.embedding),
            false => None,
        };
        let f16 = bits.is_some();
        let embedding = match bits {
            Some(h) => le_bytes(&h, u16::to_le_bytes),
            None => le_bytes(&self.embedding, f32::to_le_bytes),
        };
        let parts = [
            ("bucket_rows", le_bytes(&self.bucket_rows, i32::to_le_bytes)),
            ("embedding", embedding),
            ("w1", le_bytes(&self.w1, f32::to_le_bytes)),
            ("b1", le_bytes(&self.b1, f32::to_le_bytes)),
            ("w2", le_bytes(&self.w2, f32::to_le_bytes)),
            ("b2", le_bytes(&self.b2, f32::to_le_bytes)),
        ];
        (parts, f16)
    }

    /// Serialise to safetensors bytes, checking shapes against `meta`. The embedding is written
    /// as F16 when `meta`'s format version allows it and no value would change.
    pub fn to_bytes(&self, meta: &ArtifactMeta) -> Result<Vec<u8>> {
        let (parts, f16) = self.parts(meta);
        let mut views = Vec::new();
        for ((name, dtype, shape), (_, bytes)) in shapes(meta).into_iter().zip(parts.iter()) {
            let dtype = if name == "embedding" && f16 {
                Dtype::F16
            } else {
                dtype
            };
            let view = safetensors::tensor::TensorView::new(dtype, shape, bytes)
                .map_err(|e| Error::Invalid(format!("tensor `{name}`: {e}")))?;
            views.push((name.to_string(), view));
        }
        safetensors::serialize(views, None).map_err(|e| Error::Invalid(e.to_string()))
    }

    /// Parse safetensors bytes from `path`, checking every tensor's dtype and shape.
    pub fn from_bytes(bytes: &[u8], meta: &ArtifactMeta, path: &Path) -> Result<Weights> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::artifact(path, unreadable(bytes, &e)))?;
        let mut f32s: Vec<Vec<f32>> = Vec::new();
        let mut rows = Vec::new();
        for (name, dtype, shape) in shapes(meta) {
            let t = st
                .tensor(name)
                .map_err(|_| Error::artifact(path, format!("tensor `{name}` is missing")))?;
            // From version 3 the embedding may be F16 (each value widened exactly to f32).
            let may_be_f16 = name == "embedding" && meta.format_version >= 3;
            let f16 = may_be_f16 && t.dtype() == Dtype::F16;
            if (t.dtype() != dtype && !f16) || t.shape() != shape.as_slice() {
                let or_f16 = if may_be_f16 { " or F16" } else { "" };
                return Err(Error::artifact(
                    path,
                    format!(
                        "tensor `{name}` is {:?} {:?}, router.json (format_version {}) \
                         expects {dtype:?}{or_f16} {shape:?}",
                        t.dtype(),
                        t.shape(),
                        meta.format_version,
                    ),
                ));
            }
            let chunks = t.data().chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
            if f16 {
                let widen = |c: &[u8]| half::f16::from_le_bytes([c[0], c[1]]).to_f32();
                f32s.push(t.data().chunks_exact(2).map(widen).collect());
            } else if dtype == Dtype::I32 {
                rows = chunks.map(i32::from_le_bytes).collect();
            } else {
                f32s.push(chunks.map(f32::from_le_bytes).collect());
            }
        }
        if let Some(bad) = rows
            .iter()
            .find(|&&r| r < -1 || r >= meta.network.embedding_rows as i32)
        {
            return Err(Error::artifact(
                path,
                format!(
                    "bucket_rows holds {bad}, outside -1..{}",
                    meta.network.embedding_rows
                ),
            ));
        }
        if f32s.iter().flatten().any(|x| !x.is_finite()) {
            return Err(Error::artifact(path, "a weight is NaN or infinite"));
        }
        let mut it = f32s.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(Weights {
            bucket_rows: rows,
            embedding: next(),
            w1: next(),
            b1: next(),
            w2: next(),
            b2: next(),
        })
    }
}

/// Why safetensors bytes do not parse: fewer bytes than the header describes is a truncated
/// file, more is a corrupt one (bytes after the last tensor).
fn unreadable(bytes: &[u8], e: &safetensors::SafeTensorError) -> String {
    let described = || -> Option<usize> {
        let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(bytes.get(8..8usize.checked_add(n)?)?).ok()?;
        let end = header
            .values()
            .filter_map(|t| t.get("data_offsets")?.get(1)?.as_u64())
            .max()?;
        (8 + n).checked_add(usize::try_from(end).ok()?)
    };
    let len = bytes.len();
    match described() {
        Some(want) if len < want => format!(
            "not a valid safetensors file ({e}): {len} bytes, its header describes {want}; \
             truncated?"
        ),
        Some(want) if len > want => format!(
            "not a valid safetensors file ({e}): {} bytes more than the {want} its header \
             describes; corrupt (bytes appended)?",
            len - want
        ),
        _ => format!("not a valid safetensors file ({e}); truncated or corrupt?"),
    }
}

/// Read and check `router.json` from a model folder.
pub fn read_meta(dir: &Path) -> Result<ArtifactMeta> {
    let path = dir.join(META_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::artifact(&path, format!("not valid JSON: {e}")))?;
    let version = value.get("format_version");
    match version.map(|v| (v, v.as_u64())) {
        Some((_, Some(v))) if READS_VERSIONS.iter().any(|&r| r as u64 == v) => {}
        Some((v, None)) => {
            return Err(Error::artifact(
                &path,
                format!("field `format_version` must be a non-negative integer, got {v}"),
            ))
        }
        Some((_, Some(v))) => {
            return Err(Error::artifact(
                &path,
                format!(
                    "format_version {v} is not supported (this tierwise reads versions \
                     {READS_VERSIONS:?}); retrain the router with this version"
                ),
            ))
        }
        None => return Err(Error::artifact(&path, "field `format_version` is missing")),
    }
    let meta: ArtifactMeta = serde_json::from_value(value)
        .map_err(|e| Error::artifact(&path, format!("field error: {e}")))?;
    let t = meta.tiers.len();
    if t == 0 {
        return Err(Error::artifact(&path, "`tiers` is empty"));
    }
    for (field, len) in [
        ("calibration", meta.calibration.len()),
        ("cost_model", meta.cost_model.len()),
    ] {
        if len != t {
            return Err(Error::artifact(
                &path,
                format!("`{field}` has {len} entries for {t} tiers"),
            ));
        }
    }
    if meta.featuriser.buckets == 0 {
        return Err(Error::artifact(&path, "`featuriser.buckets` must be ≥ 1"));
    }
    let names: Vec<&str> = meta.tiers.iter().map(|t| t.name.as_str()).collect();
    crate::choosable::Masks::new(&meta.choosable, &names).map_err(|e| Error::artifact(&path, e))?;
    let (ranges, dense) = (&meta.featuriser.dense_range, meta.featuriser.dense_len());
    // From version 2 the exported layers rely on the clamp (see `FeaturiserConfig::dense_range`).
    if (meta.format_version >= 2 || !ranges.is_empty()) && ranges.len() != dense {
        return Err(Error::artifact(
            &path,
            format!(
                "`featuriser.dense_range` has {} entries for {dense} dense features",
                ranges.len()
            ),
        ));
    }
    if let Some(k) = ranges
        .iter()
        .position(|&[lo, hi]| !(lo.is_finite() && hi.is_finite() && lo <= hi))
    {
        return Err(Error::artifact(
            &path,
            format!(
                "`featuriser.dense_range[{k}]` is {:?}: need finite min ≤ max",
                ranges[k]
            ),
        ));
    }
    Ok(meta)
}

/// Write a complete artifact into `dir` (created if needed).
pub fn write(
    dir: &Path,
    meta: &ArtifactMeta,
    weights: &Weights,
    tokenizer_json: &str,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let bytes = weights.to_bytes(meta)?;
    let put = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, data).map_err(|e| Error::io(&p, e))
    };
    put(WEIGHTS_FILE, &bytes)?;
    let json = serde_json::to_string_pretty(meta).map_err(|e| Error::Invalid(e.to_string()))?;
    put(META_FILE, json.as_bytes())?;
    put(TOKENIZER_FILE, tokenizer_json.as_bytes())
}
