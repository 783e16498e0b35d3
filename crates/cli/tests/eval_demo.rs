//! On the demo workload (datasets/demo): a router trained on train.jsonl and evaluated on
//! heldout.jsonl. (c) report.json equals the same metrics computed here, by a small independent
//! implementation, from `tierwise route`'s decisions and the raw log lines. (d) the same gate
//! file (evals/gate.toml) passes this router and fails one trained on shuffled labels. (e) the
//! drift warning stays quiet on held-out prompts like the training ones, and speaks when the
//! realised quality falls short of the predicted.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

mod common;
use common::{ok, root, run, s};

/// A decision: chosen tier, p and expected cost per tier.
type Dec = (usize, Vec<f64>, Vec<f64>);

/// Per prompt id: per tier (score, cost), means over repeats, from raw log lines.
type Cells = BTreeMap<String, Row>;

/// One prompt's (score, cost) per tier, missing where unobserved.
type Row = Vec<Option<(f64, f64)>>;

fn independent_table(logs: &Path, models: &[String]) -> Cells {
    let mut acc: HashMap<(String, usize), (f64, f64, f64, f64)> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(logs).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().expect("demo rows carry ids").to_string();
        if !ids.contains(&id) {
            ids.push(id.clone());
        }
        let Some(t) = models
            .iter()
            .position(|m| m == v["model"].as_str().unwrap())
        else {
            continue;
        };
        let e = acc.entry((id, t)).or_default();
        if let Some(q) = v["score"].as_f64() {
            e.0 += q;
            e.1 += 1.0;
        }
        if let Some(c) = v["cost_usd"].as_f64() {
            e.2 += c;
            e.3 += 1.0;
        }
    }
    ids.into_iter()
        .map(|id| {
            let cells = (0..models.len())
                .map(|t| {
                    acc.get(&(id.clone(), t))
                        .and_then(|e| (e.1 > 0.0 && e.3 > 0.0).then(|| (e.0 / e.1, e.2 / e.3)))
                })
                .collect();
            (id, cells)
        })
        .collect()
}

/// The best quality reachable at mean cost ≤ x by mixing at most two points (0 when no point
/// is that cheap): brute force over pairs, no hull algorithm.
fn best_at(points: &[(f64, f64)], x: f64) -> f64 {
    let mut best: Option<f64> = None;
    for &(xi, yi) in points {
        if xi <= x {
            best = Some(best.map_or(yi, |b: f64| b.max(yi)));
            for &(xj, yj) in points {
                if xj > x {
                    let y = yi + (yj - yi) * (x - xi) / (xj - xi);
                    best = Some(best.unwrap().max(y));
                }
            }
        }
    }
    best.unwrap_or(0.0)
}

fn aiq(points: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    let mut xs: Vec<f64> = points
        .iter()
        .map(|p| p.0)
        .filter(|&x| x > lo && x < hi)
        .collect();
    xs.extend([lo, hi]);
    xs.sort_by(f64::total_cmp);
    let first = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    xs.windows(2)
        .filter(|w| 0.5 * (w[0] + w[1]) >= first)
        .map(|w| 0.5 * (best_at(points, w[0]) + best_at(points, w[1])) * (w[1] - w[0]))
        .sum::<f64>()
        / (hi - lo)
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn demo_router_report_matches_independent_metrics_and_gate_separates_shuffled_labels() {
    let demo = root().join("datasets/demo");
    if !demo.join("heldout.jsonl").exists() {
        eprintln!("skipping: {} not found", demo.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f);
    // `tierwise eval` of the router in `model` on `logs`, into `out`, with `extra` flags.
    let eval = |model: &str, logs: &Path, out: &str, extra: &[&str]| -> String {
        let (model, out) = (p(model), p(out));
        let mut args = vec![
            "eval",
            "--model",
            s(&model),
            "--logs",
            s(logs),
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        ok(&args)
    };
    let tiers = demo.join("tiers.toml");
    let heldout = demo.join("heldout.jsonl");
    let trained = ok(&[
        "train",
        "--logs",
        s(&demo.join("train.jsonl")),
        "--tiers",
        s(&tiers),
        "--out",
        s(&p("real")),
    ]);
    assert!(
        trained.contains("shrink toward the prior: ")
            && trained.contains("(out-of-bag AIQ by shrink: 0.25 → "),
        "{trained}"
    );
    // The predicted quality comes with its 95% margin over the validation prompts.
    let summary = trained
        .lines()
        .find(|l| l.starts_with("target quality=0.98: λ = "))
        .unwrap_or_else(|| panic!("{trained}"));
    assert!(
        summary.contains("; validation quality 0.") && summary.contains(" ± 0.0"),
        "{summary}"
    );
    // The validation curve is drawn beside the artifact, from the artifact's own figures.
    let svg = std::fs::read_to_string(p("real/validation.svg")).unwrap();
    assert!(
        trained.contains("validation curve: ") && svg.starts_with("<svg"),
        "{trained}"
    );
    assert!(
        svg.contains("target: 98% of large&apos;s quality") && svg.contains("(quality=0.98)"),
        "{svg}"
    );
    eval("real", &heldout, "r-real", &[]);
    ok(&[
        "route",
        "--model",
        s(&p("real")),
        "--input",
        s(&heldout),
        "--output",
        s(&p("d.jsonl")),
    ]);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(p("r-real/report.json")).unwrap()).unwrap();

    // --- (c) the same metrics, independently -------------------------------------------------
    let cfg = tierwise_core::TierConfig::from_file(&tiers).unwrap();
    let names: Vec<String> = cfg.tiers.iter().map(|t| t.name.clone()).collect();
    let models: Vec<String> = cfg.tiers.iter().map(|t| t.model.clone()).collect();
    let nt = names.len();
    let table = independent_table(&heldout, &models);
    let mut dec: HashMap<String, Dec> = HashMap::new();
    for line in std::fs::read_to_string(p("d.jsonl")).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let tier = names
            .iter()
            .position(|n| n == v["tier"].as_str().unwrap())
            .unwrap();
        let pr = names
            .iter()
            .map(|n| v["p"][n].as_f64().unwrap() as f32 as f64)
            .collect();
        let c = names
            .iter()
            .map(|n| v["expected_cost_usd"][n].as_f64().unwrap())
            .collect();
        dec.entry(v["id"].as_str().unwrap().to_string())
            .or_insert((tier, pr, c));
    }
    let rows: Vec<(&Row, &Dec)> = table
        .iter()
        .filter(|(_, cells)| cells.iter().all(Option::is_some))
        .map(|(id, cells)| (cells, &dec[id]))
        .collect();
    let n = rows.len();
    assert_eq!(report["prompts"]["used"].as_u64().unwrap() as usize, n);
    assert_eq!(
        report["prompts"]["in_logs"].as_u64().unwrap() as usize,
        table.len()
    );
    let qc = |r: &Row, t: usize| r[t].unwrap();
    let tq: Vec<f64> = (0..nt)
        .map(|t| mean(rows.iter().map(|r| qc(r.0, t).0)))
        .collect();
    let tc: Vec<f64> = (0..nt)
        .map(|t| mean(rows.iter().map(|r| qc(r.0, t).1)))
        .collect();
    let best = (0..nt)
        .max_by(|&a, &b| tq[a].total_cmp(&tq[b]).then(tc[b].total_cmp(&tc[a])))
        .unwrap();
    let oracle: Vec<usize> = rows
        .iter()
        .map(|r| {
            let top = (0..nt).map(|t| qc(r.0, t).0).fold(f64::MIN, f64::max);
            (0..nt)
                .filter(|&t| qc(r.0, t).0 == top)
                .min_by(|&a, &b| qc(r.0, a).1.total_cmp(&qc(r.0, b).1))
                .unwrap()
        })
        .collect();
    let scale = (0..nt)
        .map(|t| mean(rows.iter().map(|r| r.1 .2[t])))
        .fold(0.0, f64::max);
    let mut points = Vec::new();
    let lambdas = std::iter::once(0.0).chain((0..=200).map(|i| 10f64.powf(-4.0 + 0.03 * i as f64)));
    for l in lambdas {
        let pick = |d: &Dec| {
            (0..nt)
                .min_by(|&a, &b| {
                    let (ua, ub) = (d.1[a] - l * d.2[a] / scale, d.1[b] - l * d.2[b] / scale);
                    ub.total_cmp(&ua)
                        .then(d.2[a].total_cmp(&d.2[b]))
                        .then(a.cmp(&b))
                })
                .unwrap()
        };
        let ch: Vec<usize> = rows.iter().map(|r| pick(r.1)).collect();
        points.push((
            mean(rows.iter().zip(&ch).map(|(r, &t)| qc(r.0, t).1)),
            mean(rows.iter().zip(&ch).map(|(r, &t)| qc(r.0, t).0)),
        ));
    }
    let (lo, hi) = (
        tc.iter().copied().fold(f64::INFINITY, f64::min),
        tc.iter().copied().fold(0.0, f64::max),
    );
    let op_q = mean(rows.iter().map(|r| qc(r.0, r.1 .0).0));
    let op_c = mean(rows.iter().map(|r| qc(r.0, r.1 .0).1));
    let tier_points: Vec<(f64, f64)> = tc.iter().copied().zip(tq.iter().copied()).collect();
    let reach = |f: f64| {
        points
            .iter()
            .filter(|p| p.0 <= f * tc[best] * (1.0 + 1e-9))
            .map(|p| p.1)
            .reduce(f64::max)
    };
    let expected: Vec<(&str, Option<f64>)> = vec![
        ("quality", Some(op_q)),
        ("cost", Some(op_c)),
        ("quality_vs_best", Some(op_q / tq[best])),
        ("cost_vs_best", Some(op_c / tc[best])),
        ("best_tier_quality", Some(tq[best])),
        ("best_tier_cost", Some(tc[best])),
        (
            "oracle_quality",
            Some(mean(rows.iter().zip(&oracle).map(|(r, &t)| qc(r.0, t).0))),
        ),
        (
            "oracle_cost",
            Some(mean(rows.iter().zip(&oracle).map(|(r, &t)| qc(r.0, t).1))),
        ),
        ("aiq", Some(aiq(&points, lo, hi))),
        ("zero_router_aiq", Some(aiq(&tier_points, lo, hi))),
        (
            "cost_at_best",
            points
                .iter()
                .filter(|p| p.1 >= tq[best] - 1e-12)
                .map(|p| p.0 / tc[best])
                .reduce(f64::min),
        ),
        ("quality_at_50pct_cost", reach(0.5)),
        ("quality_at_20pct_cost", reach(0.2)),
    ];
    for (name, want) in expected {
        let got = report["metrics"][name]["value"].as_f64();
        match (got, want) {
            (Some(g), Some(w)) => {
                assert!((g - w).abs() < 1e-9, "{name}: report {g}, independent {w}")
            }
            (g, w) => assert_eq!(g, w, "{name}"),
        }
    }
    for t in 0..nt {
        let row = &report["tier_table"][t];
        assert!((row["quality"]["value"].as_f64().unwrap() - tq[t]).abs() < 1e-9);
        assert!((row["cost"]["value"].as_f64().unwrap() - tc[t]).abs() < 1e-9);
    }
    assert_eq!(report["best_tier"].as_str().unwrap(), names[best]);

    // --- (d) shuffled labels fail the gate that the real router passes ----------------------
    // Permute the scores among each model's rows: the text no longer says anything.
    let text = std::fs::read_to_string(demo.join("train.jsonl")).unwrap();
    let mut rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut state = 12345u64;
    for m in &models {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i]["model"] == m.as_str())
            .collect();
        let mut scores: Vec<Value> = idx.iter().map(|&i| rows[i]["score"].clone()).collect();
        for i in (1..scores.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            scores.swap(i, (state >> 33) as usize % (i + 1));
        }
        for (&i, sc) in idx.iter().zip(scores) {
            rows[i]["score"] = sc;
        }
    }
    let shuffled: String = rows.iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(p("shuffled.jsonl"), shuffled).unwrap();
    ok(&[
        "train",
        "--logs",
        s(&p("shuffled.jsonl")),
        "--tiers",
        s(&tiers),
        "--out",
        s(&p("shuf")),
    ]);
    let shuf_text = eval("shuf", &heldout, "r-shuf", &[]);
    // (e) held-out prompts like the training ones: what validation predicted holds. The same
    // prompts with every score halved: the realised quality falls short, and the report says so.
    let warnings = |dir: &str| -> Vec<String> {
        let r: Value =
            serde_json::from_str(&std::fs::read_to_string(p(dir).join("report.json")).unwrap())
                .unwrap();
        serde_json::from_value(r["warnings"].clone()).unwrap()
    };
    assert!(
        warnings("r-real").iter().all(|w| !w.starts_with("DRIFT")),
        "{:?}",
        warnings("r-real")
    );
    // The drift check weighs the artifact's own standard errors of its prediction (the spread
    // of its validation prompts at λ), which the report passes on.
    let read = |path: std::path::PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let predicted = read(p("real").join("router.json"))["predicted"].clone();
    let context = read(p("r-real").join("report.json"))["context"].clone();
    let se = predicted["quality_se"]
        .as_f64()
        .expect("a quality standard error");
    assert!(se > 0.0 && se < 0.05, "{predicted}");
    assert_eq!(context["predicted_quality_se"], predicted["quality_se"]);
    assert_eq!(context["predicted_cost_se"], predicted["cost_usd_se"]);
    let halved: String = std::fs::read_to_string(&heldout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if let Some(q) = v["score"].as_f64() {
                v["score"] = (q / 2.0).into();
            }
            v.to_string() + "\n"
        })
        .collect();
    std::fs::write(p("halved.jsonl"), halved).unwrap();
    let text = eval("real", &p("halved.jsonl"), "r-halved", &[]);
    let drift: Vec<String> = warnings("r-halved")
        .into_iter()
        .filter(|w| w.starts_with("DRIFT"))
        .collect();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert!(
        drift[0].contains("the router's quality here") && drift[0].contains("below the 0."),
        "{}",
        drift[0]
    );
    assert!(text.contains("DRIFT"), "{text}");

    let gate = root().join("evals/gate.toml");
    let gate_on = |report: &str| {
        let report = p(report).join("report.json");
        run(&["gate", "--report", s(&report), "--gate", s(&gate)])
    };
    let (c, text) = gate_on("r-real");
    assert_eq!(c, 0, "real router should pass:\n{text}");
    let (c, text) = gate_on("r-shuf");
    assert_eq!(c, 1, "shuffled-label router should fail:\n{text}");
    // It fails on chance too: its AIQ is no better than its own predictions dealt to random
    // prompts, which the real router's is (the report's permutation test).
    let chance_line = text.lines().find(|l| l.starts_with("chance warnings"));
    assert!(chance_line.is_some_and(|l| l.ends_with("FAIL")), "{text}");
    let p_value = |dir: &str| read(p(dir).join("report.json"))["permutation"]["p_value"].as_f64();
    assert!(
        p_value("r-real").unwrap() < 0.05,
        "{:?}",
        warnings("r-real")
    );
    assert!(p_value("r-shuf").unwrap() >= 0.05);
    // The same test per feature tag: the shuffled-label router is named within chance on
    // features, and every feature of both reports carries its own test.
    assert!(
        shuf_text.contains("within chance by feature: `"),
        "{shuf_text}"
    );
    for dir in ["r-real", "r-shuf"] {
        let features = read(p(dir).join("report.json"))["features"].clone();
        let features = features.as_array().unwrap();
        assert_eq!(features.len(), 5, "{dir}");
        for f in features {
            let pv = f["permutation"]["p_value"].as_f64().unwrap();
            assert!(pv > 0.0 && pv <= 1.0 && f["aiq"].is_f64(), "{dir}: {f}");
        }
    }
    // `--permutations 0` skips the test; a gate that fails on chance then refuses the report.
    let text = eval("real", &heldout, "r-untested", &["--permutations", "0"]);
    assert!(!text.contains("dealt to random prompts"), "{text}");
    assert_eq!(
        read(p("r-untested").join("report.json"))["permutation"],
        Value::Null
    );
    let (c, text) = gate_on("r-untested");
    assert!(c == 2 && text.contains("--permutations 0"), "{c}: {text}");
    // The halved-score eval of the real router fails the gate's `fail_on = [.., "drift"]`.
    let (c, text) = gate_on("r-halved");
    let drift_line = text.lines().find(|l| l.starts_with("drift warnings"));
    assert!(
        c == 1 && drift_line.is_some_and(|l| l.ends_with("FAIL")),
        "{text}"
    );
    eprintln!("{text}");
}
