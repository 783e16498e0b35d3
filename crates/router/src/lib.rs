//! tierwise-router: loads a trained router artifact and decides a tier for a prompt, in-process,
//! in microseconds. No HTTP, no async runtime, no global state.
//!
//! Holds: the artifact format ([`artifact`]), the featuriser shared with training
//! ([`features`]), the forward pass ([`model`]), calibration, expected cost and the policy
//! ([`policy`]). Does not hold: training (`tierwise-train`) or calling providers
//! (`tierwise-client`).
#![deny(missing_docs)]

pub mod artifact;
mod ascii;
pub mod choosable;
mod counts;
pub mod error;
pub mod features;
mod layer;
pub mod model;
mod pieces;
pub mod policy;
mod prompt;
mod simd;
mod wordpiece;

use std::path::Path;

pub use artifact::ArtifactMeta;
pub use error::{Error, Result};
pub use model::Model;
pub use policy::Target;
pub use prompt::Prompt;
use tierwise_core::Tier;

/// Calibrated pass probabilities and expected costs of one prompt, before the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Calibrated P(pass) per tier.
    pub p: Vec<f32>,
    /// Expected cost (USD) per tier.
    pub expected_cost_usd: Vec<f64>,
    /// The tiers the policy may choose for this prompt ([`artifact::Choosable`]); empty: every
    /// tier.
    pub choosable: Vec<bool>,
}

/// A routing decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// The chosen tier's name.
    pub tier: String,
    /// Its index in [`Router::tiers`].
    pub tier_index: usize,
    /// Its model.
    pub model: String,
    /// Calibrated P(pass) per tier.
    pub p: Vec<f32>,
    /// Expected cost (USD) per tier.
    pub expected_cost_usd: Vec<f64>,
    /// The cheapest tier predicted to pass (p ≥ 0.5), else the last tier.
    pub difficulty: usize,
}

/// A loaded router.
#[derive(Debug, Clone)]
pub struct Router {
    model: Model,
    /// The artifact's metadata; `meta.lambda` is the λ in force.
    meta: ArtifactMeta,
    /// `meta.choosable` by tag.
    masks: choosable::Masks,
}

impl Router {
    /// Load `dir/router.json`, `dir/router.safetensors` and `dir/tokenizer.json`; use the stored λ.
    pub fn load(dir: impl AsRef<Path>) -> Result<Router> {
        let dir = dir.as_ref();
        let meta = artifact::read_meta(dir)?;
        let wpath = dir.join(artifact::WEIGHTS_FILE);
        let bytes = std::fs::read(&wpath).map_err(|e| Error::io(&wpath, e))?;
        let weights = artifact::Weights::from_bytes(&bytes, &meta, &wpath)?;
        let tpath = dir.join(artifact::TOKENIZER_FILE);
        let tokenizer = tokenizers::Tokenizer::from_file(&tpath)
            .map_err(|e| Error::artifact(&tpath, format!("not a valid tokenizer: {e}")))?;
        Router::from_parts(meta, weights, tokenizer)
    }

    /// Load and re-pick λ for `target` from the stored validation curve.
    pub fn load_with(dir: impl AsRef<Path>, target: Target) -> Result<Router> {
        let mut r = Router::load(dir)?;
        r.set_target(target)?;
        Ok(r)
    }

    /// A router from parts already checked (used by training before writing the artifact). An
    /// error when `meta.choosable` names a tier `meta.tiers` does not have.
    pub fn from_parts(
        meta: ArtifactMeta,
        weights: artifact::Weights,
        tokenizer: tokenizers::Tokenizer,
    ) -> Result<Router> {
        let names: Vec<&str> = meta.tiers.iter().map(|t| t.name.as_str()).collect();
        let masks = choosable::Masks::new(&meta.choosable, &names).map_err(Error::Invalid)?;
        let featuriser = features::Featuriser::new(meta.featuriser.clone(), tokenizer);
        let model = Model::new(featuriser, weights, meta.network.dim, meta.network.hidden);
        Ok(Router { model, meta, masks })
    }

    /// Re-pick λ for `target` from the stored validation curve; [`Router::meta`] then gives
    /// that target and the validation figures predicted at the new λ.
    pub fn set_target(&mut self, target: Target) -> Result<()> {
        let (l, predicted) =
            policy::pick_lambda(&self.meta.validation_curve, &self.meta.single_tiers, target)
                .ok_or_else(|| Error::Invalid("the artifact holds no validation curve".into()))?;
        self.meta.lambda = l;
        self.meta.predicted = predicted;
        self.meta.target = target.to_string();
        Ok(())
    }

    /// Calibrated probabilities and expected costs, without the policy.
    pub fn predict(&self, prompt: &Prompt) -> Prediction {
        let mut pred = Prediction {
            p: Vec::new(),
            expected_cost_usd: Vec::new(),
            choosable: self.choosable(prompt).to_vec(),
        };
        self.predict_into(prompt, &mut pred.p, &mut pred.expected_cost_usd);
        pred
    }

    /// [`Router::predict`] into `p` and `cost` (resized to the tier count).
    fn predict_into(&self, prompt: &Prompt, p: &mut Vec<f32>, cost: &mut Vec<f64>) {
        let t = self.meta.tiers.len();
        p.clear();
        p.resize(t, 0.0);
        self.model.logits(&prompt.view(), p);
        for (x, c) in p.iter_mut().zip(&self.meta.calibration) {
            *x = c.apply(*x);
        }
        let tokens = tierwise_core::text::estimate_tokens(prompt.text_str()) as f64;
        cost.clear();
        cost.extend(self.meta.cost_model.iter().map(|c| c.cost(tokens)));
    }

    /// The tiers the policy may choose for `prompt` (by its feature tag); empty: every tier.
    pub fn choosable(&self, prompt: &Prompt) -> &[bool] {
        self.masks.get(prompt.feature())
    }

    /// The policy's choice for a prediction at `lambda`.
    pub fn choose(&self, pred: &Prediction, lambda: f64) -> usize {
        policy::choose_among(
            &pred.p,
            &pred.expected_cost_usd,
            &pred.choosable,
            lambda,
            self.meta.cost_scale,
        )
    }

    /// Decide a tier for one prompt.
    pub fn decide(&self, prompt: &Prompt) -> Decision {
        let mut d = Decision::default();
        self.decide_into(prompt, &mut d);
        d
    }

    /// [`Router::decide`] into `out`, reusing its buffers: once they have grown to the tier
    /// count and the longest tier and model names, a decision allocates nothing.
    pub fn decide_into(&self, prompt: &Prompt, out: &mut Decision) {
        self.predict_into(prompt, &mut out.p, &mut out.expected_cost_usd);
        let i = policy::choose_among(
            &out.p,
            &out.expected_cost_usd,
            self.choosable(prompt),
            self.meta.lambda,
            self.meta.cost_scale,
        );
        let tier = &self.meta.tiers[i];
        out.tier.clone_from(&tier.name);
        out.model.clone_from(&tier.model);
        out.tier_index = i;
        out.difficulty = out
            .p
            .iter()
            .position(|&x| x >= 0.5)
            .unwrap_or(out.p.len().saturating_sub(1));
    }

    /// Decide a tier for each prompt.
    pub fn decide_batch(&self, prompts: &[Prompt]) -> Vec<Decision> {
        prompts.iter().map(|p| self.decide(p)).collect()
    }

    /// The λ in force.
    pub fn lambda(&self) -> f64 {
        self.meta.lambda
    }

    /// ĉ_max: the largest mean expected cost of any tier.
    pub fn cost_scale(&self) -> f64 {
        self.meta.cost_scale
    }

    /// The tiers, cheapest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.meta.tiers
    }

    /// `router.json`.
    pub fn meta(&self) -> &ArtifactMeta {
        &self.meta
    }

    /// The underlying model (raw logits).
    pub fn model(&self) -> &Model {
        &self.model
    }
}
