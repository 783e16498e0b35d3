//! The fast paths (tokenizer, buckets, dense features, forward pass) against a plain reference
//! implementation kept here: `tokenizers` for the ids, the original hashing, dense features and
//! forward pass, on the demo model. Every bucket, logit bit and decision must agree.
use std::path::{Path, PathBuf};

use tierwise_core::LogRow;
use tierwise_router::features::FeaturiserConfig;
use tierwise_router::features::{Featuriser, PromptView, TEXT_FEATURES};
use tierwise_router::{policy, Decision, Model, Prompt, Router};

mod common;
use common::{edge_cases, random_texts};

fn demo() -> Router {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo");
    Router::load(dir).expect("models/demo loads")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The held-out demo prompts (distinct), edge cases, bench-like texts and random ASCII.
fn corpus() -> Vec<Prompt> {
    let text = std::fs::read_to_string(root().join("datasets/demo/heldout.jsonl")).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Prompt> = text
        .lines()
        .map(|l| serde_json::from_str::<LogRow>(l).unwrap())
        .filter(|r| seen.insert((r.routing_text(), r.feature.clone())))
        .map(|r| Prompt::from_row(&r))
        .collect();
    assert!(out.len() > 100, "{} demo prompts", out.len());
    out.extend(edge_cases().into_iter().map(Prompt::text));
    out.extend(random_texts(300, 1).into_iter().map(Prompt::text));
    out.push(Prompt::text("Hello ``` code ````` x ``").with_turns(3));
    out.push(Prompt::text("tagged").with_feature("summarise"));
    out
}

fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The original bucket hashing over `tokenizers`' ids.
fn ref_buckets(f: &Featuriser, text: &str) -> Vec<u32> {
    let n = f.config().buckets as u64;
    let mut out = Vec::new();
    let mut prev: Option<u32> = None;
    for id in f.token_ids_slow(text) {
        out.push((mix(id as u64 + 1) % n) as u32);
        if f.config().bigrams {
            if let Some(p) = prev {
                out.push((mix(((p as u64 + 1) << 32) ^ (id as u64 + 1)) % n) as u32);
            }
            prev = Some(id);
        }
    }
    out
}

/// The original dense features, clamped to the model's training ranges.
fn ref_dense(f: &Featuriser, p: &PromptView) -> Vec<f32> {
    let mut out = ref_dense_raw(f, p);
    for (x, r) in out.iter_mut().zip(&f.config().dense_range) {
        *x = x.max(r[0]).min(r[1]);
    }
    out
}

/// The original dense features.
fn ref_dense_raw(f: &Featuriser, p: &PromptView) -> Vec<f32> {
    let mut out = vec![0f32; f.config().dense_len()];
    let (mut chars, mut digits, mut upper, mut lines, mut non_ascii, mut words) =
        (0usize, 0usize, 0usize, 1usize, 0usize, 0usize);
    let mut in_word = false;
    for c in p.text.chars() {
        chars += 1;
        digits += c.is_ascii_digit() as usize;
        upper += c.is_uppercase() as usize;
        lines += (c == '\n') as usize;
        non_ascii += (!c.is_ascii()) as usize;
        let ws = c.is_whitespace();
        words += (!ws && !in_word) as usize;
        in_word = !ws;
    }
    let fences = p.text.matches("```").count();
    let share = |k: usize| {
        if chars == 0 {
            0.0
        } else {
            k as f32 / chars as f32
        }
    };
    out[0] = (1.0 + chars as f32).ln() / 8.0;
    out[1] = (1.0 + words as f32).ln() / 7.0;
    out[2] = (p.turns.max(1) as f32).ln();
    out[3] = (fences.min(8) as f32) / 4.0;
    out[4] = share(digits) * 4.0;
    out[5] = share(upper) * 4.0;
    out[6] = (lines as f32).ln() / 4.0;
    out[7] = share(non_ascii) * 4.0;
    if let (Some(tag), slots @ 1..) = (p.feature, f.config().feature_slots) {
        let slot = tierwise_core::text::fnv1a64(tag.as_bytes()) % slots as u64;
        out[TEXT_FEATURES + slot as usize] = 1.0;
    }
    out
}

/// The original forward pass.
fn ref_logits(m: &Model, dim: usize, hidden: usize, p: &PromptView) -> Vec<f32> {
    let f = m.featuriser();
    let w = m.weights();
    let input = dim + f.config().dense_len();
    let mut x = vec![0f32; input];
    let buckets = ref_buckets(f, p.text);
    for &b in &buckets {
        let row = w.bucket_rows[b as usize];
        if row >= 0 {
            let e = &w.embedding[row as usize * dim..(row as usize + 1) * dim];
            x[..dim].iter_mut().zip(e).for_each(|(a, e)| *a += e);
        }
    }
    if !buckets.is_empty() {
        let inv = 1.0 / buckets.len() as f32;
        x[..dim].iter_mut().for_each(|a| *a *= inv);
    }
    x[dim..].copy_from_slice(&ref_dense(f, p));
    let h: Vec<f32> = (0..hidden)
        .map(|j| {
            let row = &w.w1[j * input..(j + 1) * input];
            let s: f32 = row.iter().zip(&x).map(|(a, b)| a * b).sum();
            (s + w.b1[j]).max(0.0)
        })
        .collect();
    (0..m.n_tiers())
        .map(|t| {
            let row = &w.w2[t * hidden..(t + 1) * hidden];
            row.iter().zip(&h).map(|(a, b)| a * b).sum::<f32>() + w.b2[t]
        })
        .collect()
}

/// The original decision.
fn ref_decide(r: &Router, prompt: &Prompt) -> Decision {
    let meta = r.meta();
    let (dim, hidden) = (meta.network.dim, meta.network.hidden);
    let mut p = ref_logits(r.model(), dim, hidden, &prompt.view());
    for (x, c) in p.iter_mut().zip(&meta.calibration) {
        *x = c.apply(*x);
    }
    let tokens = tierwise_core::text::estimate_tokens(prompt.text_str()) as f64;
    let cost: Vec<f64> = meta.cost_model.iter().map(|c| c.cost(tokens)).collect();
    let i = policy::choose(&p, &cost, r.lambda(), meta.cost_scale);
    let difficulty = p.iter().position(|&x| x >= 0.5).unwrap_or(p.len() - 1);
    Decision {
        tier: meta.tiers[i].name.clone(),
        tier_index: i,
        model: meta.tiers[i].model.clone(),
        p,
        expected_cost_usd: cost,
        difficulty,
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn fast_paths_match_the_reference_on_the_demo_model() {
    let r = demo();
    let f = r.model().featuriser();
    let (dim, hidden) = (r.meta().network.dim, r.meta().network.hidden);
    assert!(f.has_fast_path());
    // The demo's embedding is stored as F16: where the CPU can widen it, rows are read so.
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        r.model().f16_rows(),
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c")
    );
    let dense_len = f.config().dense_len();
    assert_eq!(
        f.config().dense_range.len(),
        dense_len,
        "the demo model clamps"
    );
    let mut clamped = 0;
    for prompt in corpus() {
        let view = prompt.view();
        let text = view.text;
        let mut ids = Vec::new();
        f.token_ids(text, |id| ids.push(id));
        assert_eq!(ids, f.token_ids_slow(text), "ids of {text:?}");
        let mut buckets = Vec::new();
        let n = f.buckets(text, |b| buckets.push(b));
        assert_eq!(n, buckets.len());
        assert_eq!(buckets, ref_buckets(f, text), "buckets of {text:?}");
        let mut dense = vec![f32::NAN; f.config().dense_len()];
        f.dense(&view, &mut dense);
        assert_eq!(
            bits(&dense),
            bits(&ref_dense(f, &view)),
            "dense of {text:?}"
        );
        clamped += (bits(&dense) != bits(&ref_dense_raw(f, &view))) as usize;
        let mut logits = vec![0f32; r.model().n_tiers()];
        r.model().logits(&view, &mut logits);
        assert_eq!(
            bits(&logits),
            bits(&ref_logits(r.model(), dim, hidden, &view)),
            "logits of {text:?}"
        );
        let (d, want) = (r.decide(&prompt), ref_decide(&r, &prompt));
        assert_eq!(bits(&d.p), bits(&want.p), "p of {text:?}");
        assert_eq!(d, want, "decision of {text:?}");
    }
    assert!(clamped > 100, "only {clamped} prompts clamped");
}

/// The bag's other paths: a bucket count that is not a power of two (a `%`, no mask), no
/// bigrams, and f32 rows (an embedding with values that are not f16, as artifacts before format
/// version 3 hold). The demo's weights with its bucket table cut to 50,000 buckets.
#[test]
fn forward_pass_matches_the_reference_without_a_power_of_two_or_bigrams() {
    let r = demo();
    let (dim, hidden) = (r.meta().network.dim, r.meta().network.hidden);
    for (bigrams, f16) in [(true, true), (false, true), (true, false)] {
        let config = FeaturiserConfig {
            buckets: 50_000,
            bigrams,
            ..r.model().featuriser().config().clone()
        };
        let mut weights = r.model().weights().into_owned();
        weights.bucket_rows.truncate(50_000);
        if !f16 {
            // The lowest mantissa bit flipped: no value is an f16 any more.
            for x in weights.embedding.iter_mut() {
                *x = f32::from_bits(x.to_bits() ^ 1);
            }
        }
        let f = Featuriser::new(config, r.model().featuriser().tokenizer().clone());
        let m = Model::new(f, weights, dim, hidden);
        if !f16 || r.model().f16_rows() {
            assert_eq!(m.f16_rows(), f16, "rows read as f16: {}", m.f16_rows());
        }
        for prompt in corpus() {
            let view = prompt.view();
            let mut logits = vec![0f32; m.n_tiers()];
            m.logits(&view, &mut logits);
            assert_eq!(
                bits(&logits),
                bits(&ref_logits(&m, dim, hidden, &view)),
                "bigrams {bigrams}, f16 {f16}, logits of {:?}",
                view.text
            );
        }
    }
}

/// From format version 3 the embedding is written as F16 only when that loses nothing: the
/// demo's (every value an f16) as F16, with one value off f16 as F32; both read back bit for bit.
#[test]
fn the_embedding_is_written_as_f16_only_when_nothing_is_lost() {
    use tierwise_router::artifact::Weights;
    let r = demo();
    let meta = r.meta();
    let mut w = r.model().weights().into_owned();
    for (nudge, dtype) in [
        (false, safetensors::Dtype::F16),
        (true, safetensors::Dtype::F32),
    ] {
        if nudge {
            w.embedding[0] = f32::from_bits(w.embedding[0].to_bits() ^ 1);
        }
        let bytes = w.to_bytes(meta).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("embedding").unwrap().dtype(), dtype);
        let back = Weights::from_bytes(&bytes, meta, Path::new("router.safetensors")).unwrap();
        assert_eq!(bits(&back.embedding), bits(&w.embedding), "{dtype:?}");
    }
}

/// A model that reads f16 rows keeps no f32 copy of them: the table takes 2 bytes a value, and
/// `weights()` still gives the artifact's weights bit for bit (widened back). A width outside the
/// bag's fixed ones (104: the demo's 72 columns and 32 zero ones) takes the any-width bag, which
/// reads the f16 rows too and must still match the reference.
#[test]
fn f16_rows_are_the_only_copy_and_any_width_reads_them() {
    use tierwise_router::artifact::Weights;
    let r = demo();
    let meta = r.meta();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo");
    let file = dir.join("router.safetensors");
    let stored = Weights::from_bytes(&std::fs::read(&file).unwrap(), meta, &file).unwrap();
    assert!(
        *r.model().weights() == stored,
        "weights() is the artifact's"
    );
    let per_value = if r.model().f16_rows() { 2 } else { 4 };
    assert_eq!(
        r.model().embedding_bytes(),
        per_value * stored.embedding.len()
    );

    let (dim, hidden, wide) = (meta.network.dim, meta.network.hidden, 104);
    let dense = r.model().featuriser().config().dense_len();
    let mut w = stored.clone();
    w.embedding = w
        .embedding
        .chunks(dim)
        .flat_map(|row| row.iter().copied().chain([0.0; 32]))
        .collect();
    w.w1 =
        w.w1.chunks(dim + dense)
            .flat_map(|row| {
                let (e, d) = row.split_at(dim);
                e.iter().copied().chain([0.0; 32]).chain(d.iter().copied())
            })
            .collect();
    let f = r.model().featuriser().clone();
    let m = Model::new(f, w, wide, hidden);
    assert_eq!(m.f16_rows(), r.model().f16_rows());
    for prompt in corpus().iter().take(300) {
        let view = prompt.view();
        let mut logits = vec![0f32; m.n_tiers()];
        m.logits(&view, &mut logits);
        let want = ref_logits(&m, wide, hidden, &view);
        assert_eq!(bits(&logits), bits(&want), "logits of {:?}", view.text);
    }
}
