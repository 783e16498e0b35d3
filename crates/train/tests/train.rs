//! Training end to end on synthetic logs and on the public RouterBench data (skipped when absent).
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use tierwise_core::{folds, LogRow, OutcomeTable, Tier, TierConfig};
use tierwise_router::{features::Featuriser, features::FeaturiserConfig, Prompt, Router};
use tierwise_train::shrink::{self, Shrink};
use tierwise_train::{net::masked_bce, tokenizer, train, TrainOptions};

const EASY: [&str; 6] = [
    "hello", "thanks", "weather", "lunch", "greeting", "hi there",
];
const HARD: [&str; 6] = [
    "theorem",
    "integral",
    "proof",
    "eigenvalue",
    "lemma",
    "topology",
];

/// 3 tiers; "hard" prompts fail the small tier, hard+long ones fail the medium tier too.
/// With `partial`, each prompt has exactly one tier logged.
fn synthetic(n: usize, partial: bool) -> (Vec<LogRow>, TierConfig) {
    let mut tiers = vec![
        Tier::new("small", "s"),
        Tier::new("medium", "m"),
        Tier::new("large", "l"),
    ];
    for (i, t) in tiers.iter_mut().enumerate() {
        t.price.input = [0.1, 1.0, 10.0][i];
        t.price.output = [0.2, 2.0, 20.0][i];
    }
    let config = TierConfig::new(tiers).unwrap();
    let mut rows = Vec::new();
    for i in 0..n {
        let hard = i % 2 == 1;
        let long = i % 4 == 3;
        let words = if hard { HARD } else { EASY };
        let mut text = format!(
            "Question {i}: please explain the {} and the {}.",
            words[i % 6],
            words[(i / 6) % 6]
        );
        if long {
            text.push_str(" Show every step of the derivation in detail, with a worked example.");
        }
        let pass = [!hard, !(hard && long), true];
        for (t, model) in ["s", "m", "l"].iter().enumerate() {
            if partial && t != i % 3 {
                continue;
            }
            let mut row = LogRow::new(text.clone(), *model);
            row.score = Some(pass[t] as u8 as f64);
            row.input_tokens = Some(20);
            row.output_tokens = Some(50);
            rows.push(row);
        }
    }
    (rows, config)
}

fn quick() -> TrainOptions {
    let mut o = TrainOptions {
        buckets: 1 << 12,
        vocab_size: 300,
        epochs: 30,
        ..TrainOptions::default()
    };
    o.net.patience = 30;
    o.net.lr = 0.01;
    o
}

#[test]
fn learns_synthetic_difficulty_and_round_trips() {
    let (rows, config) = synthetic(240, false);
    let table = OutcomeTable::build(&rows, &config);
    let trained = train(&table, &config, rows.len(), vec![], &quick()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    trained.write(dir.path()).unwrap();
    let router = Router::load(dir.path()).unwrap();
    // Unseen prompts, each word in a position its list fills in training (a hard prompt's first
    // word is one of the odd-indexed ones), and of about the same length: the short hard
    // prompts in training have long words, so a short one with unseen bigrams would be
    // ambiguous.
    let easy = router.decide(&Prompt::text(
        "Question 9999: please explain the weather and the lunch.",
    ));
    let hard = router.decide(&Prompt::text(
        "Question 9998: please explain the topology and the lemma.",
    ));
    assert_eq!(easy.p.len(), 3);
    let m = router.meta();
    assert!(
        easy.p[0] > hard.p[0] + 0.3,
        "easy {:?} hard {:?} {:?}",
        easy.p,
        hard.p,
        m.training
    );
    assert_eq!(easy.difficulty, 0);
    assert!(hard.difficulty >= 1, "{hard:?}");
    assert!(hard.tier_index >= easy.tier_index, "{easy:?} {hard:?}");
    // Loaded and in-memory routers agree exactly.
    let q = Prompt::text("Question 5: please explain the topology and the proof.");
    assert_eq!(router.predict(&q), trained.router.predict(&q));
    assert_eq!(
        m.validation_curve.len(),
        tierwise_router::policy::lambda_grid().len()
    );
    assert_eq!(m.training.train_fingerprints.exact.len(), 240);
    assert!(m.training.val_metrics.iter().all(|v| v.n > 0));
}

#[test]
fn low_rank_head_is_exported_as_a_full_matrix_of_that_rank() {
    let (rows, config) = synthetic(120, false);
    let table = OutcomeTable::build(&rows, &config);
    let mut o = quick();
    o.net.head_rank = 1;
    o.epochs = 5;
    // The MLP and linear members' columns only.
    o.lowrank = None;
    let trained = train(&table, &config, rows.len(), vec![], &o).unwrap();
    let (w2, h, k) = (&trained.weights.w2, o.net.hidden, o.members);
    // Each MLP member's units side by side, the linear member's (one per tier, read by its
    // tier only), then the dense linear path's: one per tier (3 tiers, more varying features
    // than tiers), shared by the members.
    let width = trained.router.meta().network.hidden;
    assert_eq!(width, k * h + 3 + 3);
    assert_eq!(w2.len(), 3 * width);
    for t in 0..3 {
        for u in 0..3 {
            assert_eq!(
                w2[t * width + k * h + u] != 0.0,
                t == u,
                "tier {t}, unit {u}"
            );
        }
    }
    // Rank 1 per member: within a member's block every tier's row is a multiple of the first
    // (|cos| = 1), and training moved them.
    for m in 0..k {
        let dot = |i: usize, j: usize| -> f64 {
            (m * h..(m + 1) * h)
                .map(|c| w2[i * width + c] as f64 * w2[j * width + c] as f64)
                .sum()
        };
        for t in 1..3 {
            let cos = dot(0, t) / (dot(0, 0) * dot(t, t)).sqrt();
            assert!(
                (cos.abs() - 1.0).abs() < 1e-4,
                "member {m}, tier {t}: cos {cos}"
            );
        }
        assert!(dot(0, 0) > 0.0);
    }
}

#[test]
fn one_split_makes_the_predicted_operating_point_the_served_routers_own() {
    let (rows, config) = synthetic(200, false);
    let table = OutcomeTable::build(&rows, &config);
    let mut o = quick();
    o.epochs = 6;
    o.members = 3;
    let t = train(&table, &config, rows.len(), vec![], &o).unwrap();
    let m = t.router.meta();
    // Every member held out the same 40 prompts; the low-rank member also trained on them
    // (its logits there are cross-fitted).
    assert_eq!(
        (m.training.train_prompts, m.training.val_prompts),
        (200, 40)
    );
    for f in &m.training.members {
        let train = if f.lowrank.is_some() { 200 } else { 160 };
        assert_eq!((f.train_prompts, f.val_prompts), (train, 40), "{f:?}");
    }
    assert!(m.training.members.iter().any(|f| f.lowrank.is_some()));
    assert_eq!(t.validation.len(), 40);
    served_realises_the_prediction(&t, &table);
}

/// The served router, deciding the validation prompts at its λ, realises the predicted quality
/// and cost (the curve was drawn from the same ensemble; only float rounding differs between
/// the folded net and the averaged members).
fn served_realises_the_prediction(t: &tierwise_train::Trained, table: &OutcomeTable) {
    let m = t.router.meta();
    let (mut q, mut c, mut n) = (0.0, 0.0, 0.0);
    for &p in &t.validation {
        let info = &table.prompts[p];
        let d = t.router.decide(&Prompt::text(info.text.clone()));
        let cell = table.cell(p, d.tier_index);
        q += cell.score.unwrap();
        c += cell.cost.unwrap_or(d.expected_cost_usd[d.tier_index]);
        n += 1.0;
    }
    let (q, c) = (q / n, c / n);
    assert!(
        (q - m.predicted.quality).abs() < 1e-9 && (c - m.predicted.cost_usd).abs() < 1e-12,
        "served {q} {c}, predicted {:?}",
        m.predicted
    );
}

/// Pretrained token vectors (here a made-up table in which the hard words point one way) reach
/// the served router through its rows: the artifact names the file, the served router realises
/// the predicted figures, and the vectors change the decisions. A table of another vocabulary,
/// or vectors with no linear member to read them, are refused.
#[test]
fn token_vectors_are_folded_into_the_served_router() {
    let (rows, config) = synthetic(200, false);
    let table = OutcomeTable::build(&rows, &config);
    let mut o = quick();
    o.epochs = 6;
    o.members = 2;
    let plain = train(&table, &config, rows.len(), vec![], &o).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tok_path = dir.path().join("tokenizer.json");
    std::fs::write(&tok_path, &plain.tokenizer_json).unwrap();
    let tok = tokenizer::load(&tok_path).unwrap();
    let vocab = tok.get_vocab_size(true);
    let dim = 8;
    let hard: Vec<u32> = HARD
        .iter()
        .flat_map(|w| tok.encode(*w, false).unwrap().get_ids().to_vec())
        .collect();
    let values: Vec<f32> = (0..vocab * dim)
        .map(|i| {
            let (id, j) = ((i / dim) as u32, i % dim);
            match j {
                0 if hard.contains(&id) => 1.0,
                0 => -0.2,
                _ => ((i * 7919) % 13) as f32 / 13.0 - 0.5,
            }
        })
        .collect();
    let write = |rows: usize| {
        let bytes: Vec<u8> = values[..rows * dim]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![rows, dim], &bytes)
                .unwrap();
        let path = dir.path().join("model.safetensors");
        let st = safetensors::serialize([("embeddings.word_embeddings.weight", view)], None);
        std::fs::write(&path, st.unwrap()).unwrap();
        path
    };
    let path = write(vocab);
    o.tokenizer = Some(tok_path);
    o.token_vectors = Some(path.clone());
    let t = train(&table, &config, rows.len(), vec![], &o).unwrap();
    let used = t.router.meta().training.token_vectors.clone().unwrap();
    assert_eq!(used.sha256, tierwise_train::sha256_file(&path).unwrap());
    served_realises_the_prediction(&t, &table);
    let differs = t.validation.iter().any(|&p| {
        let prompt = Prompt::text(table.prompts[p].text.clone());
        t.router.decide(&prompt).p != plain.router.decide(&prompt).p
    });
    assert!(differs, "the vectors changed nothing");

    write(vocab - 1);
    let err = train(&table, &config, rows.len(), vec![], &o).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "have {} rows but the tokenizer has {vocab}",
            vocab - 1
        )),
        "{err}"
    );
    o.linear = None;
    let err = train(&table, &config, rows.len(), vec![], &o).unwrap_err();
    assert!(
        err.to_string().contains("linear member, which is left out"),
        "{err}"
    );
}

#[test]
fn own_splits_train_members_apart_and_judge_them_out_of_bag() {
    let (rows, config) = synthetic(200, false);
    let table = OutcomeTable::build(&rows, &config);
    let mut o = quick();
    o.epochs = 4;
    o.own_splits = true;
    let summary = |members: usize, linear: bool| {
        let o = TrainOptions {
            members,
            linear: if linear { o.linear.clone() } else { None },
            lowrank: None,
            ..o.clone()
        };
        let t = train(&table, &config, rows.len(), vec![], &o).unwrap();
        (
            t.router.meta().training.clone(),
            t.router.meta().network,
            t.epochs,
        )
    };
    let (one, net1, _) = summary(1, false);
    let (three, net3, epochs) = summary(3, false);
    assert_eq!((one.train_prompts, one.val_prompts), (160, 40));
    assert_eq!(three.members.len(), 3);
    let seeds: Vec<u64> = three.members.iter().map(|m| m.seed).collect();
    assert_eq!(seeds, [o.seed, o.seed + 1, o.seed + 2]);
    for m in &three.members {
        assert_eq!((m.train_prompts, m.val_prompts), (160, 40));
        assert!(m.best_epoch >= 1 && m.best_epoch <= m.epochs);
    }
    // Three different splits validate more prompts than one (at most 120), and train on
    // (nearly) all of them.
    assert!(
        three.val_prompts > 80 && three.val_prompts <= 120,
        "{three:?}"
    );
    assert!(three.train_prompts > 190, "{three:?}");
    assert_eq!(
        three.epochs,
        three.members.iter().map(|m| m.epochs).sum::<usize>()
    );
    assert_eq!(epochs.len(), three.epochs);
    assert!(epochs.iter().any(|e| e.member == 2));
    // Side by side in one net: three times the embedding width.
    assert_eq!(net3.dim, 3 * net1.dim);
    assert!(three
        .val_metrics
        .iter()
        .all(|v| v.n > one.val_metrics[0].n / 2));
    // A linear member comes last, on the next seed's split, with a column per tier (the width
    // padded to a multiple of 8); the ensemble's epochs stay those of the MLP members.
    let (with, net_l, epochs_l) = summary(3, true);
    assert_eq!(with.members.len(), 4);
    let lin = &with.members[3];
    assert!(lin.linear && with.members[..3].iter().all(|m| !m.linear));
    assert_eq!(
        (lin.seed, lin.train_prompts, lin.val_prompts),
        (o.seed + 3, 160, 40)
    );
    assert!(lin.best_epoch >= 1 && lin.best_epoch <= lin.epochs);
    assert_eq!(net_l.dim, (3 * net1.dim + 3).div_ceil(8) * 8);
    assert_eq!(with.epochs, three.epochs);
    assert_eq!(epochs_l.len(), three.epochs);
    assert!(with.val_prompts > three.val_prompts, "{with:?}");
}

/// A synthetic prompt the weak tier passes, and one it fails.
fn easy() -> Prompt {
    Prompt::text("Question 1: please explain the hello and the lunch.")
}

/// See [`easy`].
fn hard() -> Prompt {
    Prompt::text("Question 3: please explain the proof and the lemma.")
}

/// Whether two routers give the same probabilities (to 1e-4) on `easy` and `hard`.
fn close(easy: &Prompt, hard: &Prompt, a: &Router, b: &Router) -> bool {
    [easy, hard].iter().all(|q| {
        let (x, y) = (a.predict(q).p, b.predict(q).p);
        x.iter().zip(&y).all(|(x, y)| (x - y).abs() < 1e-4)
    })
}

/// The linear member's share: alone (no MLP member) it routes the synthetic difficulty; at
/// share 0 the router is the MLP members' (its columns carry no weight); at share 1 it is the
/// linear member's.
#[test]
fn linear_member_share_weighs_it_against_the_mlp_members() {
    let (rows, config) = synthetic(240, false);
    let table = OutcomeTable::build(&rows, &config);
    let mut o = quick();
    o.epochs = 6;
    // The linear member's seed is `seed + members`, and with own splits so is its split's:
    // `shift` lines up a linear member alone with one after 2 MLP members.
    let with_seed = |members: usize, share: Option<f64>, shift: u64| {
        let mut o = TrainOptions {
            members,
            seed: o.seed + shift,
            own_splits: true,
            shrink: Shrink::Fixed(1.0),
            lowrank: None,
            ..o.clone()
        };
        match share {
            Some(s) => o.linear.as_mut().unwrap().share = Some(s),
            None => o.linear = None,
        }
        train(&table, &config, rows.len(), vec![], &o)
            .unwrap()
            .router
    };
    let with = |members, share| with_seed(members, share, 0);
    let (easy, hard) = (easy(), hard());
    let alone = with(0, Some(1.0));
    assert_eq!(alone.meta().training.members.len(), 1);
    let (e, h) = (alone.predict(&easy), alone.predict(&hard));
    assert!(e.p[0] > h.p[0] + 0.2, "easy {:?} hard {:?}", e.p, h.p);
    let (de, dh) = (
        alone.decide(&easy).difficulty,
        alone.decide(&hard).difficulty,
    );
    assert!(dh > de, "easy {de}, hard {dh}");
    assert!(close(&easy, &hard, &with(2, Some(0.0)), &with(2, None)));
    let alone2 = with_seed(0, Some(1.0), 2);
    assert!(close(&easy, &hard, &with(2, Some(1.0)), &alone2));
    assert!(!close(&easy, &hard, &with(2, Some(0.4)), &alone2));
}

/// The low-rank member: alone it routes the synthetic difficulty and the artifact records what
/// it chose; at share 0 the router is the other members' (its columns carry no weight); at
/// share 1 it is the low-rank member's alone.
#[test]
fn lowrank_member_share_weighs_it_against_the_others() {
    let (rows, config) = synthetic(240, false);
    let table = OutcomeTable::build(&rows, &config);
    let mut o = quick();
    o.epochs = 6;
    o.shrink = Shrink::Fixed(1.0);
    let with = |members: usize, linear: bool, share: Option<f64>| {
        let mut o = TrainOptions {
            members,
            seed: o.seed + (2 - members as u64) + (!linear) as u64,
            own_splits: true,
            linear: if linear { o.linear.clone() } else { None },
            ..o.clone()
        };
        match share {
            Some(s) => o.lowrank.as_mut().unwrap().share = s,
            None => o.lowrank = None,
        }
        train(&table, &config, rows.len(), vec![], &o)
            .unwrap()
            .router
    };
    let (easy, hard) = (easy(), hard());
    // Seeds lined up: the low-rank member's seed (and, with own splits, its split's) is
    // `seed + members + 1` with a linear member, `seed + members` without.
    let alone = with(0, false, Some(1.0));
    let fits = &alone.meta().training.members;
    assert_eq!(fits.len(), 1);
    let fit = fits[0].lowrank.expect("the low-rank member's choices");
    assert!((1..=3).contains(&fit.rank), "{fit:?}");
    assert!(fit.alpha > 0.0 && fits[0].val_loss.is_finite());
    let (e, h) = (alone.predict(&easy), alone.predict(&hard));
    assert!(e.p[0] > h.p[0] + 0.2, "easy {:?} hard {:?}", e.p, h.p);
    assert!(close(
        &easy,
        &hard,
        &with(2, true, Some(0.0)),
        &with(2, true, None)
    ));
    assert!(close(&easy, &hard, &with(2, true, Some(1.0)), &alone));
    assert!(!close(&easy, &hard, &with(2, true, Some(0.5)), &alone));
}

/// The shrink toward the prior: at 0 every prompt gets the tiers' smoothed training pass rates,
/// at ½ each logit is halfway between the unshrunk router's and the prior's; by default the
/// shrink is chosen by out-of-bag AIQ, and the artifact lists every candidate's.
#[test]
fn shrink_moves_the_router_toward_the_prior() {
    let (rows, config) = synthetic(240, false);
    let table = OutcomeTable::build(&rows, &config);
    let with = |how: Shrink| {
        let o = TrainOptions {
            epochs: 6,
            shrink: how,
            ..quick()
        };
        train(&table, &config, rows.len(), vec![], &o)
            .unwrap()
            .router
    };
    let prompts = [
        Prompt::text("Question 1: please explain the hello and the lunch."),
        Prompt::text("Question 3: please explain the proof and the lemma."),
    ];
    let prior = shrink::prior_logits(&table);
    let logit = |p: f32| (p as f64 / (1.0 - p as f64)).ln();
    let (full, half, none) = (
        with(Shrink::Fixed(1.0)),
        with(Shrink::Fixed(0.5)),
        with(Shrink::Fixed(0.0)),
    );
    assert_eq!(half.meta().training.shrink, 0.5);
    for q in &prompts {
        let (f, h, n) = (full.predict(q).p, half.predict(q).p, none.predict(q).p);
        for t in 0..prior.len() {
            assert!((logit(n[t]) - prior[t]).abs() < 1e-4, "{n:?} vs {prior:?}");
            let want = 0.5 * logit(f[t]) + 0.5 * prior[t];
            assert!((logit(h[t]) - want).abs() < 1e-3, "{h:?}: {want} at {t}");
        }
    }
    let auto = with(Shrink::default());
    let s = &auto.meta().training;
    let grid: Vec<f64> = s.shrink_oob_aiq.iter().map(|x| x[0]).collect();
    assert_eq!(grid, [0.25, 0.5, 0.75, 1.0]);
    let best = s
        .shrink_oob_aiq
        .iter()
        .map(|x| x[1])
        .fold(f64::MIN, f64::max);
    let (kept, none) = (
        s.shrink_oob_aiq.iter().find(|x| x[0] == s.shrink).unwrap(),
        s.shrink_oob_aiq[3][1],
    );
    match best > none + shrink::MARGIN {
        true => assert_eq!(kept[1], best, "{s:?}"),
        false => assert_eq!(s.shrink, 1.0, "{s:?}"),
    }
}

#[test]
fn masked_loss_learns_from_partial_logs() {
    let (rows, config) = synthetic(360, true);
    let table = OutcomeTable::build(&rows, &config);
    assert_eq!(table.counts.observed_per_tier, vec![120, 120, 120]);
    let trained = train(&table, &config, rows.len(), vec![], &quick()).unwrap();
    let easy = trained.router.predict(&Prompt::text(
        "Question 1: please explain the hello and the lunch.",
    ));
    let hard = trained.router.predict(&Prompt::text(
        "Question 3: please explain the proof and the lemma.",
    ));
    let vm = &trained.router.meta().training.val_metrics;
    assert!(
        easy.p[0] > hard.p[0],
        "easy {:?} hard {:?} {vm:?}",
        easy.p,
        hard.p
    );
    assert!(
        vm[0].auc.unwrap() > 0.9 && vm[1].auc.unwrap() > 0.8,
        "{vm:?}"
    );
    let meta = trained.router.meta();
    assert_eq!(meta.curve_basis, "predicted");
    // A curve of predicted probabilities claims no sampling error of outcomes.
    assert!(meta
        .validation_curve
        .iter()
        .all(|p| p.quality_se.is_none() && p.cost_usd_se.is_none()));
    assert_eq!(meta.predicted.quality_se, None);
}

#[test]
fn masked_bce_ignores_unobserved_cells_and_is_stable() {
    let dev = Device::Cpu;
    let x = Tensor::new(&[[2.0f32, -1.0], [0.5, 3.0]], &dev).unwrap();
    let y = Tensor::new(&[[1.0f32, 123.0], [0.0, -7.0]], &dev).unwrap(); // junk where masked
    let m = Tensor::new(&[[1.0f32, 0.0], [1.0, 0.0]], &dev).unwrap();
    let l = masked_bce(&x, &y, &m).unwrap().to_scalar::<f32>().unwrap() as f64;
    let bce = |x: f64, y: f64| {
        -(y * (1.0 / (1.0 + (-x).exp())).ln() + (1.0 - y) * (1.0 / (1.0 + x.exp())).ln())
    };
    let expect = (bce(2.0, 1.0) + bce(0.5, 0.0)) / 2.0;
    assert!((l - expect).abs() < 1e-5, "{l} vs {expect}");
    // Huge logits: finite, and equal to |x| for the wrong label, 0 for the right one.
    let x = Tensor::new(&[[1e4f32, -1e4, 1e30, -1e30]], &dev).unwrap();
    let y = Tensor::new(&[[0.0f32, 1.0, 1.0, 0.0]], &dev).unwrap();
    let m = Tensor::new(&[[1.0f32, 1.0, 0.0, 0.0]], &dev).unwrap();
    let l = masked_bce(&x, &y, &m).unwrap().to_scalar::<f32>().unwrap();
    assert!(l.is_finite() && (l - 1e4).abs() < 1.0, "{l}");
    let m = Tensor::new(&[[0.0f32, 0.0, 1.0, 1.0]], &dev).unwrap();
    let l = masked_bce(&x, &y, &m).unwrap().to_scalar::<f32>().unwrap();
    assert_eq!(l, 0.0);
}

#[test]
fn same_seed_same_bytes() {
    let (rows, config) = synthetic(160, false);
    let table = OutcomeTable::build(&rows, &config);
    let bytes = |seed: u64| {
        let opts = TrainOptions { seed, ..quick() };
        let t = train(&table, &config, rows.len(), vec![], &opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        t.write(dir.path()).unwrap();
        let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
        (read("router.safetensors"), read("tokenizer.json"))
    };
    let a = bytes(3);
    let b = bytes(3);
    assert!(
        a.1 == b.1,
        "tokenizer.json differs between runs with the same seed"
    );
    assert!(
        a.0 == b.0,
        "router.safetensors differs between runs with the same seed"
    );
    // The members are fitted in parallel: one thread (one member after another) and three
    // (members finishing in any order) must give the same bytes.
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        assert!(
            pool.install(|| bytes(3)) == a,
            "router.safetensors or tokenizer.json differ on {threads} thread(s)"
        );
    }
    assert!(a.0 != bytes(4).0, "another seed gave the same weights");
}

#[test]
fn corrupt_artifacts_are_refused() {
    let (rows, config) = synthetic(80, false);
    let table = OutcomeTable::build(&rows, &config);
    let t = train(&table, &config, rows.len(), vec![], &quick()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    t.write(dir.path()).unwrap();
    let w = dir.path().join("router.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() - 100]).unwrap();
    let e = Router::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("router.safetensors") && e.contains("truncated"),
        "{e}"
    );
    std::fs::write(&w, &bytes).unwrap();
    Router::load(dir.path()).unwrap();
    // Training rounds the embedding to f16 values, so it is stored as F16 (format version 3).
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        st.tensor("embedding").unwrap().dtype(),
        safetensors::Dtype::F16
    );
    let j = dir.path().join("router.json");
    let meta = std::fs::read_to_string(&j).unwrap();
    let version = |v: u32| format!("\"format_version\": {v}");
    let now = version(tierwise_router::artifact::FORMAT_VERSION);
    assert!(meta.contains(&now));
    // Version 3 is version 4 with every tier choosable: it loads.
    std::fs::write(&j, meta.replace(&now, &version(3))).unwrap();
    Router::load(dir.path()).unwrap();
    // Version 2 knew only F32 embeddings.
    std::fs::write(&j, meta.replace(&now, &version(2))).unwrap();
    let e = Router::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("tensor `embedding` is F16") && e.contains("expects F32"),
        "{e}"
    );
    std::fs::write(&j, meta.replace(&now, &version(99))).unwrap();
    let e = Router::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("router.json") && e.contains("format_version 99"),
        "{e}"
    );
    // A router.json whose shapes disagree with the weights.
    let mut v: serde_json::Value = serde_json::from_str(&meta).unwrap();
    v["network"]["hidden"] = serde_json::json!(7);
    std::fs::write(&j, v.to_string()).unwrap();
    let e = Router::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("tensor `w1`") && e.contains("expects"), "{e}");
    // Training writes the dense features' ranges; one of the wrong length or upside down is
    // refused.
    let v: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let dense = t.router.meta().featuriser.dense_len();
    assert_eq!(
        v["featuriser"]["dense_range"].as_array().unwrap().len(),
        dense
    );
    for (range, want) in [
        (
            serde_json::json!([[0.0, 1.0]]),
            format!("has 1 entries for {dense}"),
        ),
        (
            serde_json::json!(vec![[1.0, 0.0]; dense]),
            "dense_range[0]` is [1.0, 0.0]: need finite min ≤ max".to_string(),
        ),
    ] {
        let mut bad = v.clone();
        bad["featuriser"]["dense_range"] = range;
        std::fs::write(&j, bad.to_string()).unwrap();
        let e = Router::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("router.json") && e.contains(&want), "{e}");
    }
    // Version 2 needs the ranges (its layers are exact only on the clamped range).
    let mut none = v.clone();
    none["featuriser"]
        .as_object_mut()
        .unwrap()
        .remove("dense_range");
    std::fs::write(&j, none.to_string()).unwrap();
    let e = Router::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&format!("has 0 entries for {dense}")), "{e}");
    // A version-1 router.json (before dense_range) still loads, without clamping.
    let mut v1 = v.clone();
    v1["format_version"] = serde_json::json!(1);
    v1["featuriser"]
        .as_object_mut()
        .unwrap()
        .remove("dense_range");
    std::fs::write(&j, v1.to_string()).unwrap();
    // (with the F32 embedding of versions before 3)
    let meta1: tierwise_router::ArtifactMeta = serde_json::from_value(v1).unwrap();
    let f32_bytes = t.router.model().weights().to_bytes(&meta1).unwrap();
    assert!(f32_bytes.len() > bytes.len());
    std::fs::write(&w, f32_bytes).unwrap();
    let old = Router::load(dir.path()).unwrap();
    assert!(old.meta().featuriser.dense_range.is_empty());
}

#[test]
fn fast_tokenizer_path_matches_tokenizers() {
    let texts = [
        "Hello, World! It's 3.14159 -- isn't it?",
        "def f(x):\n    return x**2  # comment\t\tend",
        "Supercalifragilisticexpialidociousnesslessness unknownwordzzzz qqqqqq",
        // A vocabulary word longer than the fast path's table keys, and near misses.
        "Internationalization internationalizations internationalizatio",
        "A [UNK] token, [unk] and brackets [x]",
        "Café naïve — unicode goes the slow way 東京",
        "",
        "   \n\x0b\x0c  spaces   ",
        &"x".repeat(150),
    ];
    let corpus: Vec<String> = (0..50)
        .map(|i| {
            format!(
                "hello world {i} the quick brown fox jumps over the lazy dog; def return x \
                 internationalization"
            )
        })
        .collect();
    let refs: Vec<&str> = corpus.iter().map(String::as_str).collect();
    let tok = tokenizer::train(&refs, 200).unwrap();
    let f = Featuriser::new(FeaturiserConfig::new(1024), tok);
    assert!(f.has_fast_path());
    for t in texts.iter().copied().chain(refs.iter().copied()) {
        let mut fast = Vec::new();
        f.token_ids(t, |id| fast.push(id));
        assert_eq!(fast, f.token_ids_slow(t), "text {t:?}");
    }
}

/// A loaded `tokenizer.json` keeps every token: its truncation and padding are dropped (a
/// BERT-family file truncates to 128 tokens and pads with `[PAD]`), and it takes the fast path.
#[test]
fn loaded_tokenizer_drops_truncation_and_padding() {
    // tests/data/bert_tokenizer.json: vocabulary [PAD] [UNK] word ##s, truncation to 4, padding to 8.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bert_tokenizer.json");
    let raw = tokenizers::Tokenizer::from_file(&path).unwrap();
    assert!(raw.get_truncation().is_some() && raw.get_padding().is_some());
    let tok = tokenizer::load(&path).unwrap();
    assert!(tok.get_truncation().is_none() && tok.get_padding().is_none());
    let f = Featuriser::new(FeaturiserConfig::new(1024), tok);
    assert!(f.has_fast_path());
    let mut ids = Vec::new();
    f.token_ids("word words WORD Words word words", |id| ids.push(id));
    assert_eq!(ids, [2, 2, 3, 2, 2, 3, 2, 2, 3]);
    assert_eq!(ids, f.token_ids_slow("word words WORD Words word words"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("missing.json");
    let e = tokenizer::load(&bad).unwrap_err().to_string();
    assert!(e.contains("missing.json"), "{e}");
    // A JSON file that is not a tokenizer (a router.json) says so, not "expected , or }".
    let router_json = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo/router.json");
    let e = tokenizer::load(&router_json).unwrap_err().to_string();
    assert!(
        e.contains("router.json: not a tokenizer.json") && !e.contains("expected"),
        "{e}"
    );
    std::fs::write(&bad, "{\"model\": 1,").unwrap();
    let e = tokenizer::load(&bad).unwrap_err().to_string();
    assert!(e.contains("missing.json: not valid JSON"), "{e}");
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    p.exists().then_some(p)
}

#[test]
fn routerbench_train_then_route_unseen() {
    let Some(data) = shared() else {
        eprintln!("skipped: ../shared/datasets not found");
        return;
    };
    let files: Vec<PathBuf> = [
        "arc_challenge_train.csv",
        "mbpp_train.csv",
        "winograde_train.csv",
    ]
    .iter()
    .map(|f| data.join("routerbench").join(f))
    .collect();
    let mut rows = Vec::new();
    tierwise_core::import::import_routerbench(&files, &mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = TierConfig::from_file(root.join("datasets/routerbench/tiers.toml")).unwrap();
    let table = OutcomeTable::build(&rows, &config);
    let assign = folds::assign(table.len(), 5, 1, None);
    let (tr, te) = folds::split(&assign, 0);
    let opts = TrainOptions {
        buckets: 1 << 16,
        ..TrainOptions::default()
    };
    let t = train(&table.subset(&tr), &config, rows.len(), vec![], &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    t.write(dir.path()).unwrap();
    let router = Router::load(dir.path()).unwrap();
    let prompts: Vec<Prompt> = te
        .iter()
        .map(|&p| Prompt::text(table.prompts[p].text.clone()))
        .collect();
    let ds = router.decide_batch(&prompts);
    assert_eq!(ds.len(), te.len());
    for d in &ds {
        assert_eq!(d.p.len(), 11);
        assert!(d.p.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(d.expected_cost_usd.iter().all(|c| *c >= 0.0));
    }
    let m = router.meta();
    assert_eq!(m.curve_basis, "logged");
    assert!(m.training.val_metrics.iter().filter_map(|v| v.auc).count() >= 8);
    // Per task, the tiers the no-features prior would choose: on MBPP claude-v2 (as good as
    // gpt-3.5 at ~17 times the cost) is not one of them, gpt-3.5 and gpt-4 are.
    let mbpp = m
        .choosable
        .iter()
        .find(|c| c.feature.as_deref() == Some("mbpp"))
        .expect("MBPP's tiers are narrowed");
    let has = |t: &str| mbpp.tiers.iter().any(|x| x == t);
    assert!(
        has("gpt-3.5-turbo") && has("gpt-4-turbo") && !has("claude-v2"),
        "{mbpp:?}"
    );
    let mut seen = 0;
    for &p in &te {
        let info = &table.prompts[p];
        let Some(tag) = info.feature.as_deref() else {
            continue;
        };
        let prompt = Prompt::text(info.text.clone()).with_feature(tag);
        let pred = router.predict(&prompt);
        for lambda in [0.0, 0.01, 0.1, 1.0] {
            let t = &m.tiers[router.choose(&pred, lambda)].name;
            if tag == "mbpp" {
                assert!(mbpp.tiers.contains(t), "{t} at λ {lambda}");
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "no MBPP prompt among the held-out ones");
}
