//! End-to-end tests of `tierwise eval` and `tierwise gate` on logs the tests make:
//! gate exit codes 0 / 1 / 2; report.json equal to a small independent implementation working
//! from `tierwise route`'s decisions; and the same gate failing a router trained on shuffled
//! labels while passing the real one.
use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

mod common;
use common::{ok, run, s};

const TIERS: &str = r#"
[[tier]]
name = "mini"
model = "m-mini"
[[tier]]
name = "mid"
model = "m-mid"
[[tier]]
name = "big"
model = "m-big"
"#;

/// A tiny deterministic generator (no rand dependency in the CLI crate).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` prompts whose wording tells their difficulty d ∈ {0, 1, 2}; tier t passes when t ≥ d
/// (10% noise). Each prompt is logged once per tier with a cost of about 1e-4, 1e-3, 1e-2.
/// With `shuffle`, each tier's scores are permuted across prompts: labels carry no signal.
fn logs(path: &Path, n: usize, seed: u64, offset: usize, shuffle: bool) {
    let mut rng = Lcg(seed);
    let topics = [
        "rivers", "tax law", "graphs", "proteins", "jazz", "ledgers", "orbits", "soil",
    ];
    let mut prompts = Vec::new();
    let mut scores: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for i in 0..n {
        let d = (rng.next() * 3.0) as usize;
        let topic = topics[(rng.next() * topics.len() as f64) as usize];
        let text = match d {
            0 => format!("Say hi to user {} and mention {topic}.", offset + i),
            1 => format!(
                "Summarise the report {} on {topic} in three bullet points.",
                offset + i
            ),
            _ => format!(
                "Prove rigorously, step by step, the theorem {} about {topic} and its corollaries.",
                offset + i
            ),
        };
        for (t, col) in scores.iter_mut().enumerate() {
            let pass = (t >= d) != (rng.next() < 0.1);
            col.push(if pass { 1.0 } else { 0.0 });
        }
        prompts.push(text);
    }
    if shuffle {
        for col in scores.iter_mut() {
            for i in (1..col.len()).rev() {
                let j = (rng.next() * (i + 1) as f64) as usize;
                col.swap(i, j);
            }
        }
    }
    let models = ["m-mini", "m-mid", "m-big"];
    let mut out = String::new();
    for (i, text) in prompts.iter().enumerate() {
        for t in 0..3 {
            let cost = 1e-4 * 10f64.powi(t as i32) * (0.8 + 0.4 * rng.next());
            let feature = if i % 2 == 0 { "chat" } else { "docs" };
            let row = json!({"prompt": text, "model": models[t], "score": scores[t][i],
                             "cost_usd": cost, "feature": feature});
            out.push_str(&row.to_string());
            out.push('\n');
        }
    }
    std::fs::write(path, out).unwrap();
}

/// Decisions that mostly follow the truth, in `tierwise route`'s format.
fn decisions(logs: &Path, path: &Path) {
    let mut rng = Lcg(5);
    let mut seen = HashMap::new();
    let mut out = String::new();
    for line in std::fs::read_to_string(logs).unwrap().lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let text = row["prompt"].as_str().unwrap().to_string();
        let id = tierwise_core::text::prompt_id(&text);
        let d = if text.starts_with("Say") {
            0
        } else if text.starts_with("Sum") {
            1
        } else {
            2
        };
        if seen.insert(id.clone(), ()).is_some() {
            continue;
        }
        let p: Vec<f64> = (0..3)
            .map(|t| if t >= d { 0.85 } else { 0.15 } + 0.1 * rng.next())
            .collect();
        let tier = (0..3).find(|&t| p[t] >= 0.5).unwrap_or(2);
        let names = ["mini", "mid", "big"];
        let d = json!({"id": id, "tier": names[tier], "model": "x", "difficulty": tier,
            "p": {"mini": p[0], "mid": p[1], "big": p[2]},
            "expected_cost_usd": {"mini": 1e-4, "mid": 1e-3, "big": 1e-2}});
        out.push_str(&d.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn gate_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f);
    std::fs::write(p("tiers.toml"), TIERS).unwrap();
    logs(&p("heldout.jsonl"), 300, 1, 0, false);
    decisions(&p("heldout.jsonl"), &p("d.jsonl"));
    let out = ok(&[
        "eval",
        "--decisions",
        s(&p("d.jsonl")),
        "--tiers",
        s(&p("tiers.toml")),
        "--logs",
        s(&p("heldout.jsonl")),
        "--out",
        s(&p("r")),
        "--resamples",
        "200",
    ]);
    assert!(out.contains("300 prompts"), "{out}");
    let report = s(&p("r/report.json")).to_string();
    let gate = |name: &str, text: &str| {
        std::fs::write(p(name), text).unwrap();
        s(&p(name)).to_string()
    };
    // The decisions follow the truth: ≥ 80% of the best tier's quality at ≤ 60% of its cost.
    let pass = gate(
        "pass.toml",
        "min_quality_vs_best = 0.8\nmax_cost_vs_best = 0.6\n",
    );
    let (c, text) = run(&["gate", "--report", &report, "--gate", &pass]);
    assert_eq!(c, 0, "{text}");
    assert!(
        text.contains("PASS") && text.contains("quality_vs_best ≥"),
        "{text}"
    );
    // Nothing reaches 99.9% of the best tier at 10% of its cost.
    let fail = gate(
        "fail.toml",
        "min_quality_vs_best = 0.8\nmax_cost_vs_best = 0.1\n",
    );
    let (c, text) = run(&["gate", "--report", &report, "--gate", &fail]);
    assert_eq!(c, 1, "{text}");
    assert!(
        text.contains("FAIL") && text.contains("gate: FAIL (1 of 2"),
        "{text}"
    );
    // Unusable gates, reports and baselines: exit 2, never a pass.
    for (name, body, why) in [
        ("bad1.toml", "min_quality_vs_best = \n", "bad1.toml:1"),
        ("bad2.toml", "min_quality = 0.9\n", "unknown field"),
        ("bad3.toml", "min_apgr = 0.5\n", "no metric `apgr`"),
        ("bad4.toml", "max_regression = 0.1\n", "no baseline"),
        ("bad5.toml", "", "no checks"),
    ] {
        let g = gate(name, body);
        let (c, text) = run(&["gate", "--report", &report, "--gate", &g]);
        assert_eq!(c, 2, "{name}: {text}");
        assert!(text.contains(why), "{name}: {text}");
    }
    std::fs::write(p("broken.json"), "{\"metrics\": {}}").unwrap();
    let (c, text) = run(&["gate", "--report", s(&p("broken.json")), "--gate", &pass]);
    assert_eq!(c, 2, "{text}");
    assert!(text.contains("broken.json"), "{text}");
    let (c, _) = run(&["gate", "--report", s(&p("missing.json")), "--gate", &pass]);
    assert_eq!(c, 2);
    // Regression against itself with a generous threshold passes; a strict one fails.
    let reg = gate("reg.toml", "max_regression = 0.2\n");
    let (c, text) = run(&[
        "gate",
        "--report",
        &report,
        "--gate",
        &reg,
        "--baseline",
        &report,
    ]);
    assert_eq!(c, 0, "{text}");
    let reg = gate("reg0.toml", "max_regression = 0.0\n");
    let (c, text) = run(&[
        "gate",
        "--report",
        &report,
        "--gate",
        &reg,
        "--baseline",
        &report,
    ]);
    assert_eq!(
        c, 1,
        "the strict interval end is worse than the point: {text}"
    );
}
