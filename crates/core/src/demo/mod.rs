//! The seeded **synthetic** demo workload: prompts of five task kinds answered by four tiers,
//! with outcomes drawn from a latent difficulty, so a router can learn something real but
//! imperfect from the text.
//!
//! Each prompt gets a latent difficulty `d = visible + hidden`: `visible` comes from what the
//! text shows (length, constraints, steps, labels, fields, code fences, digits, hard words; see
//! [`prompts`]), `hidden` is Gaussian noise the text does not carry. Tier `t` passes with
//! probability `sigmoid(1.7 · (skill_t + affinity_{t,kind} − d))`; summaries get a judge score
//! of 1–5 mapped to [0, 1], every other kind a pass/fail grade. Tokens come from the text and
//! a per-kind answer length (the large tier is a reasoning model that bills hidden reasoning
//! tokens as output); costs from the tier prices in [`tiers_toml`].
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Normal};
use serde::Serialize;

use crate::error::Result;
use crate::log::{LogRow, Status, FORMAT_VERSION};
use crate::tiers::{TierConfig, Usage};
use crate::write::LogWriter;
use crate::{progress, text};

pub mod prompts;

/// The demo's tier config (cheapest first), with list prices as of early 2025.
pub fn tiers_toml() -> &'static str {
    include_str!("tiers.toml")
}

/// The demo's tiers, parsed.
pub fn tiers() -> TierConfig {
    TierConfig::from_toml(tiers_toml(), "demo/tiers.toml")
        .expect("the built-in demo tiers are valid")
}

/// Per tier (cheapest first): skill, per-kind affinity (in [`prompts::KINDS`] order), answer
/// verbosity, time to first token (ms) and ms per output token.
struct TierModel {
    skill: f64,
    affinity: [f64; 5],
    verbosity: f64,
    ttft_ms: f64,
    ms_per_token: f64,
}

const TIER_MODELS: [TierModel; 4] = [
    TierModel {
        skill: 0.0,
        affinity: [0.4, 0.0, 0.2, -0.5, -0.6],
        verbosity: 1.0,
        ttft_ms: 350.0,
        ms_per_token: 7.0,
    },
    TierModel {
        skill: 0.6,
        affinity: [0.3, 0.1, 0.1, -0.1, -0.3],
        verbosity: 0.9,
        ttft_ms: 450.0,
        ms_per_token: 9.0,
    },
    TierModel {
        skill: 1.4,
        affinity: [0.0, 0.0, 0.2, 0.1, 0.0],
        verbosity: 1.1,
        ttft_ms: 550.0,
        ms_per_token: 12.0,
    },
    TierModel {
        skill: 2.0,
        affinity: [-0.2, 0.0, -0.2, 0.4, 0.8],
        verbosity: 3.0,
        ttft_ms: 2500.0,
        ms_per_token: 15.0,
    },
];

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// RNG seed.
    pub seed: u64,
    /// Training prompts (each answered by every tier).
    pub train: usize,
    /// Held-out prompts (each answered by every tier), dated after the training ones.
    pub heldout: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            train: 2000,
            heldout: 600,
        }
    }
}

/// What [`write`] produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DemoReport {
    /// Seed used.
    pub seed: u64,
    /// Training prompts and rows.
    pub train_prompts: usize,
    /// Training rows.
    pub train_rows: usize,
    /// Held-out prompts.
    pub heldout_prompts: usize,
    /// Held-out rows.
    pub heldout_rows: usize,
    /// Mean score per tier over both files (scored rows).
    pub mean_score: Vec<(String, f64)>,
}

/// Generate the training and held-out rows.
pub fn generate(opts: &DemoOptions) -> (Vec<LogRow>, Vec<LogRow>) {
    let config = tiers();
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut seen = std::collections::HashSet::new();
    let bar = progress::bar((opts.train + opts.heldout) as u64, "generating", false);
    let mut make = |n: usize, first_day: u32, days: u32, rng: &mut ChaCha8Rng| {
        let mut rows = Vec::with_capacity(n * config.tiers.len());
        let mut made = 0;
        while made < n {
            let kind = rng.random_range(0..prompts::KINDS.len());
            let (text, visible) = prompts::build(rng, kind);
            let id = text::prompt_id(&text);
            if !seen.insert(id.clone()) {
                continue; // a repeat of an earlier prompt: draw again
            }
            rows.extend(answer(
                rng, &config, &id, &text, kind, visible, first_day, days,
            ));
            made += 1;
            bar.inc(1);
        }
        rows
    };
    let train = make(opts.train, 0, 14, &mut rng);
    let heldout = make(opts.heldout, 14, 4, &mut rng);
    bar.finish_and_clear();
    (train, heldout)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[allow(clippy::too_many_arguments)]
fn answer(
    rng: &mut ChaCha8Rng,
    config: &TierConfig,
    id: &str,
    prompt: &str,
    kind: usize,
    visible: f64,
    first_day: u32,
    days: u32,
) -> Vec<LogRow> {
    let normal = Normal::new(0.0, 1.0).expect("valid normal");
    let difficulty = visible - 1.7 + 0.55 * normal.sample(rng);
    let customer = ["acme", "globex", "initech", "umbrella"][rng.random_range(0..4)];
    let customer = rng.random_bool(0.8).then(|| customer.to_string());
    let day = first_day + rng.random_range(0..days);
    let second = rng.random_range(0..86_000u32);
    let input = text::estimate_tokens(prompt);
    let answer_len = match kind {
        0 => 4.0,
        1 => 12.0 * (1.0 + prompt.matches(", ").count() as f64),
        2 => 90.0,
        3 => 220.0,
        _ => 60.0 + 25.0 * prompt.matches(" On ").count() as f64,
    };
    let cached = rng.random_bool(0.3).then(|| rng.random_range(0.2..0.8));
    let mut rows = Vec::new();
    for (t, (tier, model)) in config.tiers.iter().zip(&TIER_MODELS).enumerate() {
        let p = sigmoid(1.7 * (model.skill + model.affinity[kind] - difficulty));
        let score = if kind == 2 {
            let k = Binomial::new(4, p).expect("valid binomial").sample(rng);
            k as f64 / 4.0
        } else {
            f64::from(u8::from(rng.random_bool(p)))
        };
        let error = rng.random_bool(0.003);
        let spread = (0.3 * normal.sample(rng)).exp();
        let output = if error {
            0
        } else {
            (answer_len * model.verbosity * spread).round().max(1.0) as u64
        };
        let usage = Usage {
            input,
            output,
            cache_read: cached.map_or(0, |f| (input as f64 * f) as u64),
            cache_write: 0,
        };
        let latency =
            model.ttft_ms * (0.2 * normal.sample(rng)).exp() + model.ms_per_token * output as f64;
        let ts = format!(
            "2025-03-{:02}T{:02}:{:02}:{:02}Z",
            3 + day,
            second / 3600,
            second / 60 % 60,
            (second + t as u32) % 60
        );
        rows.push(LogRow {
            v: Some(FORMAT_VERSION),
            id: Some(id.to_string()),
            ts: Some(ts),
            prompt: Some(prompt.to_string()),
            model: tier.model.clone(),
            feature: Some(prompts::KINDS[kind].to_string()),
            customer: customer.clone(),
            tier: Some(tier.name.clone()),
            input_tokens: Some(usage.input),
            output_tokens: Some(usage.output),
            cache_read_tokens: Some(usage.cache_read),
            cost_usd: Some((tier.price.cost(&usage) * 1e12).round() / 1e12),
            latency_ms: Some(latency.round()),
            score: (!error).then_some(score),
            status: Some(if error { Status::Error } else { Status::Ok }),
            ..LogRow::default()
        });
    }
    rows
}

/// Generate and write `train.jsonl`, `heldout.jsonl` and `tiers.toml` into `dir`.
pub fn write(dir: &Path, opts: &DemoOptions) -> Result<DemoReport> {
    let (train, heldout) = generate(opts);
    for (name, rows) in [("train.jsonl", &train), ("heldout.jsonl", &heldout)] {
        let mut w = LogWriter::create(dir.join(name))?;
        for row in rows {
            w.write(row)?;
        }
        w.finish()?;
    }
    let toml_path = dir.join("tiers.toml");
    std::fs::write(&toml_path, tiers_toml()).map_err(|e| crate::Error::io(&toml_path, e))?;
    let config = tiers();
    let mean_score = config
        .tiers
        .iter()
        .map(|t| {
            let scores: Vec<f64> = train
                .iter()
                .chain(&heldout)
                .filter(|r| r.model == t.model)
                .filter_map(|r| r.score)
                .collect();
            (
                t.name.clone(),
                scores.iter().sum::<f64>() / scores.len().max(1) as f64,
            )
        })
        .collect();
    Ok(DemoReport {
        seed: opts.seed,
        train_prompts: opts.train,
        train_rows: train.len(),
        heldout_prompts: opts.heldout,
        heldout_rows: heldout.len(),
        mean_score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::OutcomeTable;

    #[test]
    fn seeded_and_learnable() {
        let opts = DemoOptions {
            seed: 7,
            train: 600,
            heldout: 50,
        };
        let (a, h) = generate(&opts);
        let (b, _) = generate(&opts);
        assert_eq!(a, b, "same seed, same rows");
        assert_eq!((a.len(), h.len()), (2400, 200));
        let config = tiers();
        let table = OutcomeTable::build(&a, &config);
        assert_eq!(table.len(), 600);
        let q: Vec<f64> = table.tier_summary().iter().map(|s| s.0.unwrap()).collect();
        let c: Vec<f64> = table.tier_summary().iter().map(|s| s.1.unwrap()).collect();
        assert!(
            q.windows(2).all(|w| w[0] < w[1]),
            "quality rises with tier: {q:?}"
        );
        assert!(
            c.windows(2).all(|w| w[0] < w[1]),
            "cost rises with tier: {c:?}"
        );
        assert!(
            q[0] > 0.35 && q[3] < 0.97,
            "neither trivial nor hopeless: {q:?}"
        );
        // The text carries signal: long prompts fail the cheapest tier more often.
        let (mut short, mut long) = (vec![], vec![]);
        for p in 0..table.len() {
            let s = table.cell(p, 0).score.unwrap_or(0.0);
            if table.prompts[p].text.len() < 400 {
                short.push(s)
            } else {
                long.push(s)
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&short) > mean(&long) + 0.1,
            "{} vs {}",
            mean(&short),
            mean(&long)
        );
        let heldout_ids: std::collections::HashSet<_> = h.iter().map(|r| r.id.clone()).collect();
        assert!(
            a.iter().all(|r| !heldout_ids.contains(&r.id)),
            "no prompt in both files"
        );
    }
}
