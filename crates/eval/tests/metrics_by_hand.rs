//! Metrics on tiny tables whose answers are worked out by hand in the comments.
use tierwise_core::{LogRow, OutcomeTable, Tier, TierConfig};
use tierwise_eval::curve::{self, aiq};
use tierwise_eval::{evaluate, BootstrapOptions, EvalTable, Evaluator, Predictions};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

fn some_close(a: Option<f64>, b: f64) {
    close(a.unwrap_or_else(|| panic!("expected {b}, got None")), b);
}

/// Tiers a, b, c cost 1, 2, 4 on every prompt. Scores (a, b, c):
/// P0 (1,1,1), P1 (0,1,1), P2 (0,0,1), P3 (0,0,0).
fn ladder() -> EvalTable {
    #[rustfmt::skip]
    let q = vec![1., 1., 1.,  0., 1., 1.,  0., 0., 1.,  0., 0., 0.];
    let c = [1., 2., 4.].repeat(4);
    EvalTable::from_parts(&["a", "b", "c"], q, c).unwrap()
}

/// Predictions with p = `probs` and ĉ = the logged cost.
fn preds(t: &EvalTable, probs: &[f32], chosen: Vec<usize>) -> Predictions {
    Predictions {
        p: probs.to_vec(),
        cost: t.c.clone(),
        chosen,
        choosable: vec![],
    }
}

#[test]
fn perfect_router_on_a_ladder() {
    let t = ladder();
    // The router knows every outcome: p = q.
    let p: Vec<f32> = t.q.iter().map(|&x| x as f32).collect();
    // Operating point: a, b, c, a (what λ = 1 picks, see below).
    let pr = preds(&t, &p, vec![0, 1, 2, 0]);
    let s = Evaluator::new(&t, &pr).sample(None);
    // Q = (1/4, 2/4, 3/4), C = (1, 2, 4). Best tier c: Q* = 0.75, C* = 4.
    assert_eq!(s.tier_quality, vec![0.25, 0.5, 0.75]);
    assert_eq!(s.tier_cost, vec![1.0, 2.0, 4.0]);
    assert_eq!(s.best_tier, 2);
    // Oracle: P0 → a (all pass, cheapest), P1 → b, P2 → c, P3 → a (all fail, cheapest).
    // cost (1 + 2 + 4 + 1) / 4 = 2, quality 3/4.
    assert_eq!(s.oracle, (2.0, 0.75));
    // ĉ_max = 4 (tier c's mean ĉ). Utility p_t − λ c_t / 4.
    // P2: c (1 − λ) beats a (−λ/4) while λ < 4/3. P1: b (1 − λ/2) beats a while λ < 4.
    // P0 and P3 always go to a (tie at λ = 0 → cheaper).
    // λ < 4/3: oracle point (2, 0.75); 4/3 ≤ λ < 4: a, b, a, a → (5/4, 2/4); λ ≥ 4: all a.
    let mut pts = s.router_points.clone();
    pts.dedup();
    assert_eq!(pts, vec![(2.0, 0.75), (1.25, 0.5), (1.0, 0.25)]);
    // Hull (1, .25) → (1.25, .5) → (2, .75), flat after 2, range [1, 4]:
    // 0.25·(0.25+0.5)/2 + 0.75·(0.5+0.75)/2 + 2·0.75 = 0.09375 + 0.46875 + 1.5 = 2.0625; / 3.
    close(s.aiq, 2.0625 / 3.0);
    // Zero router: hull of (1, .25), (2, .5), (4, .75): 1·0.375 + 2·0.625 = 1.625; / 3.
    close(s.zero_router_aiq, 1.625 / 3.0);
    // Cheapest point with q ≥ 0.75 costs 2: 2 / 4.
    some_close(s.cost_at_best, 0.5);
    // Points with cost ≤ 2: best quality 0.75. Cost ≤ 0.8: none.
    some_close(s.quality_at_50pct_cost, 0.75);
    assert_eq!(s.quality_at_20pct_cost, None);
    assert_eq!(s.operating, (2.0, 0.75));
    assert_eq!(s.apgr, None, "APGR is for two tiers only");
}

#[test]
fn perfectly_wrong_router_on_a_ladder() {
    let t = ladder();
    // p = 1 − q: tier a has the top p on every prompt (ties → cheaper a), whatever λ.
    let p: Vec<f32> = t.q.iter().map(|&x| 1.0 - x as f32).collect();
    let pr = preds(&t, &p, vec![0; 4]);
    let s = Evaluator::new(&t, &pr).sample(None);
    assert!(s.router_points.iter().all(|&pt| pt == (1.0, 0.25)));
    // One point at the left end of [1, 4], flat: AIQ = 0.25 < zero router's 0.5417.
    close(s.aiq, 0.25);
    assert!(s.aiq < s.zero_router_aiq);
    assert_eq!(s.cost_at_best, None, "never reaches Q* = 0.75");
    some_close(s.quality_at_50pct_cost, 0.25);
    let sc = s.scalars();
    let get = |n: &str| sc.iter().find(|x| x.0 == n).unwrap().1;
    // 0.25 / 0.75 of the best tier's quality at 1 / 4 of its cost.
    some_close(get("quality_vs_best"), 1.0 / 3.0);
    some_close(get("cost_vs_best"), 0.25);
}

/// Two tiers w (cost 1), s (cost 10). q_w = (0, 0, 0, 1), q_s = (1, 1, 0, 1):
/// gains q_s − q_w = (1, 1, 0, 0); Q_w = 0.25, Q_s = 0.75, Q_s − Q_w = 0.5.
fn two_tiers() -> EvalTable {
    #[rustfmt::skip]
    let q = vec![0., 1.,  0., 1.,  0., 0.,  1., 1.];
    EvalTable::from_parts(&["w", "s"], q, [1., 10.].repeat(4)).unwrap()
}

fn two_tier_preds(t: &EvalTable, pref: [f32; 4]) -> Predictions {
    // p_w = 0, p_s = preference.
    let p: Vec<f32> = pref.iter().flat_map(|&x| [0.0, x]).collect();
    preds(t, &p, vec![1; 4])
}

#[test]
fn apgr_and_cpt_by_hand() {
    let t = two_tiers();
    // Right order P0, P1, P2, P3: cumulative gain 0, 1, 2, 2, 2 → PGR 0, .5, 1, 1, 1.
    // APGR = 1/4 · ((0+.5) + (.5+1) + (1+1) + (1+1)) / 2 = 1/4 · 3 = 0.75.
    let s = Evaluator::new(&t, &two_tier_preds(&t, [0.9, 0.8, 0.1, 0.0])).sample(None);
    some_close(s.apgr, 0.75);
    some_close(s.cpt50, 0.25); // PGR(1) = .5
    some_close(s.cpt80, 0.5); // PGR(2) = 1

    // Perfectly wrong: P3, P2, P1, P0: gains 0, 0, 1, 1 → PGR 0, 0, 0, .5, 1.
    // APGR = 1/4 · ((0+0) + (0+0) + (0+.5) + (.5+1)) / 2 = 1/4 · 1 = 0.25.
    let s = Evaluator::new(&t, &two_tier_preds(&t, [0.0, 0.1, 0.8, 0.9])).sample(None);
    some_close(s.apgr, 0.25);
    some_close(s.cpt50, 0.75);
    some_close(s.cpt80, 1.0);
    // All tied: one group, PGR(k) = k/4 on the line → APGR 0.5 (what a random order gives on
    // average). PGR ≥ .5 first at k = 2; ≥ .8 first at k = 4 (PGR(3) = .75).
    let s = Evaluator::new(&t, &two_tier_preds(&t, [0.5; 4])).sample(None);
    some_close(s.apgr, 0.5);
    some_close(s.cpt50, 0.5);
    some_close(s.cpt80, 1.0);
}

#[test]
fn ties_go_to_the_cheaper_tier() {
    // a: q (1, 0), cost 1; b: q (0, 1), cost 3. Q_a = Q_b = 0.5 → best is the cheaper a.
    let t = EvalTable::from_parts(&["a", "b"], vec![1., 0., 0., 1.], vec![1., 3., 1., 3.]).unwrap();
    // The router says p = 0.5 everywhere: at λ = 0 every tier ties → cheaper a.
    let pr = preds(&t, &[0.5; 4], vec![0, 0]);
    let s = Evaluator::new(&t, &pr).sample(None);
    assert_eq!(s.best_tier, 0);
    // Oracle: P0 → a (q 1, cost 1), P1 → b (q 1, cost 3): (2, 1).
    assert_eq!(s.oracle, (2.0, 1.0));
    assert!(s.router_points.iter().all(|&pt| pt == (1.0, 0.5)));
    assert_eq!(curve::choose(&[0.5, 0.5], &[3.0, 1.0], 0.0, 3.0), 1);
    assert_eq!(curve::choose(&[0.5, 0.5], &[1.0, 1.0], 0.0, 3.0), 0);
    // Tied preference, equal Q_w and Q_s: PGR undefined.
    assert_eq!(s.apgr, None);
}

#[test]
fn a_tier_that_is_best_and_cheapest() {
    // a: q (1, 1), cost 1; b: q (1, 0), cost 5. Q = (1, .5), C = (1, 5): a is best and cheapest.
    let t = EvalTable::from_parts(&["a", "b"], vec![1., 1., 1., 0.], vec![1., 5., 1., 5.]).unwrap();
    let pr = preds(&t, &[0.9, 0.8, 0.9, 0.1], vec![0, 0]);
    let s = Evaluator::new(&t, &pr).sample(None);
    assert_eq!(
        (s.best_tier, s.tier_quality[0], s.tier_cost[0]),
        (0, 1.0, 1.0)
    );
    // The zero router's useful hull is the single point (1, 1), flat over [1, 5]: AIQ 1.
    close(s.zero_router_aiq, 1.0);
    // The router always picks a (p higher and cheaper): AIQ 1, cost_at_best 1 / 1.
    close(s.aiq, 1.0);
    some_close(s.cost_at_best, 1.0);
    // Nothing costs ≤ 0.5: undefined.
    assert_eq!(s.quality_at_50pct_cost, None);
    assert_eq!(curve::upper_hull(&[(1.0, 1.0), (5.0, 0.5)]).len(), 2);
    assert_eq!(
        curve::nondecreasing_hull(&[(1.0, 1.0), (5.0, 0.5)]),
        vec![(1.0, 1.0)]
    );
}

#[test]
fn aiq_edges_of_the_range() {
    // Hull starts right of the range (lo = 1, first point at 2): quality 0 on [1, 2],
    // then (0.5 + 1)/2 on [2, 3], flat 1 on [3, 4]: (0 + 0.75 + 1) / 3.
    close(aiq(&[(2.0, 0.5), (3.0, 1.0)], 1.0, 4.0), 1.75 / 3.0);
    // Hull starts left of the range: clipped at lo = 1 where it is 0.4;
    // [1, 2]: (0.4 + 0.6)/2 = 0.5, [2, 3]: flat 0.6 → 1.1 / 2.
    close(aiq(&[(0.0, 0.2), (2.0, 0.6)], 1.0, 3.0), 0.55);
    // A point under the hull and a dominated, dearer point change nothing.
    close(
        aiq(&[(0.0, 0.2), (1.0, 0.3), (2.0, 0.6), (2.5, 0.5)], 1.0, 3.0),
        0.55,
    );
    // Zero-width range: the curve's value there.
    close(aiq(&[(0.0, 0.2), (2.0, 0.6)], 1.0, 1.0), 0.4);
    assert_eq!(curve::lambda_grid().len(), 202);
    assert_eq!(curve::lambda_grid()[1], 1e-4);
    assert!((curve::lambda_grid()[201] - 100.0).abs() < 1e-9);
}

#[test]
fn missing_cells_are_left_out_and_counted() {
    let config = TierConfig::new(vec![Tier::new("a", "ma"), Tier::new("b", "mb")]).unwrap();
    let row = |prompt: &str, model: &str, score: Option<f64>, cost: Option<f64>| LogRow {
        score,
        cost_usd: cost,
        ..LogRow::new(prompt, model)
    };
    let rows = vec![
        row("p1", "ma", Some(1.0), Some(0.1)),
        row("p1", "mb", Some(1.0), Some(1.0)),
        row("p2", "ma", Some(0.0), Some(0.1)), // no b row: missing score
        row("p3", "ma", Some(0.0), Some(0.1)),
        row("p3", "mb", Some(1.0), None), // b has a score but no cost
        row("p4", "ma", Some(0.0), Some(0.2)),
        row("p4", "mb", Some(1.0), Some(2.0)),
    ];
    let (t, counts) = EvalTable::from_outcome(&OutcomeTable::build(&rows, &config));
    assert_eq!(t.len(), 2);
    assert_eq!(t.texts, vec!["p1", "p4"]);
    assert_eq!(
        (counts.in_logs, counts.used, counts.skipped_missing_score),
        (4, 2, 1)
    );
    assert_eq!(counts.skipped_missing_cost, 1);
    assert_eq!(counts.missing_cells_per_tier["b"], 2);
    assert_eq!(counts.missing_cells_per_tier["a"], 0);
    // On the two kept prompts: Q_a = 1/2, Q_b = 1; C_a = 0.15, C_b = 1.5.
    let pr = preds(&t, &[0.9, 0.9, 0.1, 0.9], vec![0, 1]);
    let s = Evaluator::new(&t, &pr).sample(None);
    close(s.tier_quality[0], 0.5);
    close(s.tier_cost[1], 1.5);
}

#[test]
fn bootstrap_is_seeded_and_brackets_the_estimate() {
    let t = ladder().select(&[0, 1, 2, 3, 0, 1, 2, 3, 1, 2]);
    let p: Vec<f32> = t.q.iter().map(|&x| x as f32).collect();
    let pr = Predictions {
        p,
        cost: t.c.clone(),
        chosen: vec![0, 1, 2, 0, 0, 1, 2, 0, 1, 2],
        choosable: vec![],
    };
    let opts = BootstrapOptions {
        resamples: 200,
        seed: 7,
    };
    let a = evaluate(&t, &pr, opts).unwrap();
    let b = evaluate(&t, &pr, opts).unwrap();
    assert_eq!(a.metrics, b.metrics);
    let q = a.metrics["quality"];
    let (lo, hi) = (q.lo.unwrap(), q.hi.unwrap());
    assert!(lo <= q.value.unwrap() && q.value.unwrap() <= hi && lo < hi);
    // Costs are the same on every prompt: C_a has no spread at all.
    assert_eq!(
        (a.tier_cost[0].lo, a.tier_cost[0].hi),
        (Some(1.0), Some(1.0))
    );
    let c = evaluate(&t, &pr, BootstrapOptions { seed: 8, ..opts }).unwrap();
    assert_ne!(a.metrics["quality"], c.metrics["quality"]);
    // One resample's "interval" is a single draw that need not contain the estimate: refused.
    for resamples in [0, 1, 99] {
        let e = evaluate(&t, &pr, BootstrapOptions { resamples, ..opts })
            .unwrap_err()
            .to_string();
        assert!(e.contains("too few") && e.contains("at least 100"), "{e}");
    }
    evaluate(
        &t,
        &pr,
        BootstrapOptions {
            resamples: 100,
            ..opts
        },
    )
    .unwrap();
}

#[test]
fn jumping_along_the_lambda_grid_equals_evaluating_every_lambda() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let grid = curve::lambda_grid();
    for case in 0..3000 {
        let nt = 1 + case % 6;
        // Coarse values make ties in p and in cost common.
        let p: Vec<f32> = (0..nt)
            .map(|_| rng.random_range(0..5) as f32 / 4.0)
            .collect();
        let c: Vec<f64> = (0..nt)
            .map(|_| rng.random_range(0..4) as f64 * 0.5)
            .collect();
        let scale = rng.random_range(0.1..3.0);
        // Every third case narrows the tiers the policy may choose (empty: all).
        let allowed: Vec<bool> = match case % 3 {
            0 => (0..nt).map(|_| rng.random_bool(0.6)).collect(),
            _ => Vec::new(),
        };
        let mut naive: Vec<(u16, u16)> = Vec::new();
        for (i, &l) in grid.iter().enumerate() {
            let t = curve::choose_among(&p, &c, &allowed, l, scale) as u16;
            if naive.last().is_none_or(|x| x.1 != t) {
                naive.push((i as u16, t));
            }
            let ok = !allowed.contains(&true) || allowed[t as usize];
            assert!(ok, "chose tier {t} outside {allowed:?}");
        }
        assert_eq!(
            tierwise_eval::metrics::segments(&p, &c, &allowed, &grid, scale),
            naive,
            "p {p:?} c {c:?} allowed {allowed:?} scale {scale}"
        );
    }
}
