//! report.json / report.md / curve.svg from a synthetic table: files exist, JSON round-trips,
//! the Markdown compares with a baseline, and the leakage warning is loud.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tierwise_core::text;
use tierwise_eval::{
    evaluate, leakage, report, BootstrapOptions, Context, EvalTable, Fingerprints, Predictions,
    Report,
};

/// Three tiers costing about 1e-4, 1e-3 and 1e-2; a prompt of difficulty d passes tier t when
/// t ≥ d. The router's p is right with probability `skill`.
fn synthetic(n: usize, skill: f64, seed: u64) -> (EvalTable, Predictions) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut q, mut c, mut p, mut chosen) = (vec![], vec![], vec![], vec![]);
    let base = [1e-4, 1e-3, 1e-2];
    for _ in 0..n {
        let d: usize = rng.random_range(0..4);
        let mut probs = [0f32; 3];
        for t in 0..3 {
            let pass = t >= d;
            q.push(if pass { 1.0 } else { 0.0 });
            c.push(base[t] * rng.random_range(0.5..1.5));
            let right = rng.random_bool(skill);
            probs[t] = if pass == right { 0.9 } else { 0.1 };
        }
        p.extend(probs);
        chosen.push((0..3).find(|&t| probs[t] >= 0.5).unwrap_or(2));
    }
    let mut t = EvalTable::from_parts(&["small", "medium", "large"], q, c.clone()).unwrap();
    for (i, f) in t.features.iter_mut().enumerate() {
        *f = Some(if i % 3 == 0 { "support" } else { "search" }.into());
    }
    let cost = c;
    (
        t,
        Predictions {
            p,
            cost,
            chosen,
            choosable: vec![],
        },
    )
}

/// A report with no counts, context or leakage check.
fn bare_report(
    t: &EvalTable,
    preds: &Predictions,
    eval: &tierwise_eval::Evaluation,
    permutations: usize,
) -> Report {
    let ctx = Context::default();
    Report::build(t, Default::default(), preds, eval, ctx, None, permutations)
}

#[test]
fn writes_a_report_a_person_can_read() {
    let (t, preds) = synthetic(400, 0.85, 1);
    let opts = BootstrapOptions {
        resamples: 300,
        seed: 3,
    };
    let eval = evaluate(&t, &preds, opts).unwrap();
    let (_, mut counts) = EvalTable::from_outcome(&tierwise_core::OutcomeTable {
        tiers: vec![],
        pass_marks: vec![],
        prompts: vec![],
        cells: vec![],
        counts: Default::default(),
    });
    counts.in_logs = 410;
    counts.used = 400;
    counts.skipped_missing_score = 10;
    // Two eval prompts were in the training data.
    let train = Fingerprints {
        exact: vec![text::exact_fingerprint(&t.texts[5])],
        simhash: vec![text::simhash(&t.texts[5]), text::simhash(&t.texts[9])],
    };
    let leak = leakage::check(&t.ids, &t.texts, &train);
    assert!(leak.total() >= 2, "{leak:?}");
    let ctx = Context {
        logs: vec!["heldout.jsonl".into()],
        model: Some("models/demo".into()),
        lambda: Some(0.05),
        target: Some("quality=0.98".into()),
        predicted_quality: Some(0.9),
        predicted_cost: Some(0.004),
        predicted_quality_se: Some(0.01),
        ..Default::default()
    };
    let r = Report::build(&t, counts, &preds, &eval, ctx.clone(), Some(leak), 99);
    assert!(r.warnings.iter().any(|w| w.starts_with("LEAKAGE")));
    assert!(r.warnings.iter().any(|w| w.contains("10 of 410")));
    assert_eq!(r.features.len(), 2);
    assert!(!r.metrics.contains_key("apgr"), "three tiers: no APGR");
    let shares: f64 = r.tier_table.iter().map(|t| t.cheapest_passing_share).sum();
    assert!((shares + r.no_tier_passes_share - 1.0).abs() < 1e-9);

    // A weaker baseline, side by side.
    let (tb, pb) = synthetic(400, 0.6, 1);
    let eb = evaluate(&tb, &pb, opts).unwrap();
    let base = Report::build(&tb, Default::default(), &pb, &eb, ctx, None, 0);
    assert_eq!(base.permutation, None, "no permutations: no test");
    let dir = tempfile::tempdir().unwrap();
    report::write(dir.path(), &r, Some(&base)).unwrap();
    let back = Report::read(dir.path().join("report.json")).unwrap();
    assert_eq!(back.metrics, r.metrics);
    assert_eq!(back.tier_table, r.tier_table);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("| metric | value | 95% interval | baseline | change |"));
    assert!(md.contains("better"), "{md}");
    assert!(md.contains("**Warning:** LEAKAGE"));
    // The prediction with its 95% margin where its standard error is known, bare where not.
    assert!(
        md.contains("| predicted on validation | 0.900 ± 0.0196 | 0.00400 |"),
        "{md}"
    );
    assert_eq!(back.context.predicted_quality_se, Some(0.01));
    let svg = std::fs::read_to_string(dir.path().join("curve.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("medium") && svg.contains("oracle"));
    if let Ok(keep) = std::env::var("TIERWISE_KEEP_REPORT") {
        report::write(std::path::Path::new(&keep), &r, Some(&base)).unwrap();
    }
}

#[test]
fn a_router_that_learned_nothing_is_flagged_and_fails_a_chance_gate() {
    let opts = BootstrapOptions {
        resamples: 200,
        seed: 3,
    };
    let gate = tierwise_eval::gate::Gate::from_toml("fail_on = [\"chance\"]", "g").unwrap();
    // skill ½: each p is right or wrong by a coin toss, so it says nothing of the outcomes.
    for (skill, learned) in [(0.85, true), (0.5, false)] {
        let (t, preds) = synthetic(600, skill, 2);
        let eval = evaluate(&t, &preds, opts).unwrap();
        let r = bare_report(&t, &preds, &eval, tierwise_eval::null::PERMUTATIONS);
        let test = r.permutation.as_ref().unwrap();
        assert_eq!(test.permutations, 99);
        assert_eq!(test.aiq, eval.point.aiq);
        assert_eq!(test.p_value < 0.05, learned, "skill {skill}: {test:?}");
        if learned {
            assert!(test.aiq_vs_permuted > 0.05, "skill {skill}: {test:?}");
        }
        let warned = r.warnings.iter().any(|w| w.starts_with("CHANCE: "));
        assert_eq!(warned, !learned, "skill {skill}: {:?}", r.warnings);
        assert_eq!(gate.check(&r, "r", None).unwrap()[0].pass, learned);
        let dir = tempfile::tempdir().unwrap();
        report::write(dir.path(), &r, None).unwrap();
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        assert!(md.contains("Against chance: the router's AIQ is"), "{md}");
        let back = Report::read(dir.path().join("report.json")).unwrap();
        assert_eq!(back.permutation, r.permutation);
        // Without the test, a gate that fails on chance refuses the report rather than pass it.
        let mut untested = back;
        untested.permutation = None;
        let e = gate
            .check(&untested, "r.json", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("r.json") && e.contains("--permutations 0"),
            "{e}"
        );
    }
}

#[test]
fn the_features_the_router_learned_nothing_on_are_named() {
    // Skilled on `search`; on `support` (every third prompt) each p is a coin toss.
    let (t, mut preds) = synthetic(900, 0.9, 4);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in (0..t.len()).step_by(3) {
        for k in 0..3 {
            let pass = t.q(i, k) >= 0.5;
            preds.p[i * 3 + k] = if pass == rng.random_bool(0.5) {
                0.9
            } else {
                0.1
            };
        }
        preds.chosen[i] = (0..3).find(|&k| preds.p[i * 3 + k] >= 0.5).unwrap_or(2);
    }
    let opts = BootstrapOptions {
        resamples: 100,
        seed: 3,
    };
    let eval = evaluate(&t, &preds, opts).unwrap();
    let build = |permutations| bare_report(&t, &preds, &eval, permutations);
    let r = build(99);
    let by = |name: &str| r.features.iter().find(|f| f.feature == name).unwrap();
    let (search, support) = (by("search"), by("support"));
    assert_eq!((search.prompts, support.prompts), (600, 300));
    for f in [search, support] {
        let test = f.permutation.as_ref().unwrap();
        assert_eq!(Some(test.aiq), f.aiq, "{}", f.feature);
        assert_eq!(test.permutations, 99);
    }
    let p = |f: &report::FeatureRow| f.permutation.as_ref().unwrap().p_value;
    assert!(p(search) < 0.05, "{search:?}");
    assert!(p(support) >= 0.05, "{support:?}");
    // The whole set is clear of chance: the per-feature test is what names `support`.
    assert!(r.permutation.as_ref().unwrap().p_value < 0.05);
    assert!(!r.warnings.iter().any(|w| w.starts_with("CHANCE")));

    let dir = tempfile::tempdir().unwrap();
    report::write(dir.path(), &r, None).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("| AIQ | vs permuted (p) |")
            && md.contains("Within chance (permutation p ≥ 0.05) on: support."),
        "{md}"
    );
    let back = Report::read(dir.path().join("report.json")).unwrap();
    assert_eq!(back.features, r.features);

    // No permutations: per-feature AIQ still, no test, no line.
    let r0 = build(0);
    assert!(r0
        .features
        .iter()
        .all(|f| f.permutation.is_none() && f.aiq.is_some()));
    report::write(dir.path(), &r0, None).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(!md.contains("Within chance"), "{md}");
}
