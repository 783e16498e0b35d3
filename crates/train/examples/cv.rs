//! k-fold cross-validation of the router against two baselines on the public data in
//! `../shared/datasets` (see `benches/quality.sh`). Usage: `cv [--folds K] [--seed S] [SET…]`
//! with SET among rb-mix rb-arc rb-mbpp rb-winogrande gsm8k mmlu (default: all).
//!
//! Every method gets the same folds and the same cost model (fitted on the training folds);
//! out-of-fold predictions are pooled and the metrics computed once over all prompts.
use std::path::{Path, PathBuf};
use std::time::Instant;

use tierwise_core::import::{import_routellm, import_routerbench, RouteLlmOptions};
use tierwise_core::{folds, text, LogRow, OutcomeTable, TierConfig};
use tierwise_router::policy::lambda_grid;
use tierwise_router::Prompt;
use tierwise_train::{baselines, cost, curve, train, TrainOptions};

// ---- Minimal metrics of docs/metrics.md (to be swapped for tierwise-eval at integration) ----
type Point = (f64, f64);

fn hull(points: &[Point]) -> Vec<Point> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut frontier: Vec<Point> = Vec::new();
    for p in pts {
        if frontier.last().is_none_or(|l| p.1 > l.1) {
            frontier.push(p);
        }
    }
    let mut h: Vec<Point> = Vec::new();
    for p in frontier {
        while h.len() >= 2 {
            let (o, a) = (h[h.len() - 2], h[h.len() - 1]);
            if (a.0 - o.0) * (p.1 - o.1) - (a.1 - o.1) * (p.0 - o.0) >= 0.0 {
                h.pop();
            } else {
                break;
            }
        }
        h.push(p);
    }
    h
}

/// AIQ over [lo, hi]; flat after the last hull point, 0 left of the first (eval's reading).
fn aiq(points: &[Point], lo: f64, hi: f64) -> f64 {
    let h = hull(points);
    let value = |x: f64| {
        if x < h[0].0 {
            0.0
        } else if x >= h[h.len() - 1].0 {
            h[h.len() - 1].1
        } else {
            let i = h.partition_point(|p| p.0 <= x);
            let (a, b) = (h[i - 1], h[i]);
            a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
        }
    };
    let steps = 20_000;
    (0..steps)
        .map(|i| value(lo + (hi - lo) * (i as f64 + 0.5) / steps as f64))
        .sum::<f64>()
        / steps as f64
}

struct Scores {
    aiq: f64,
    cost_at_best: Option<f64>,
    apgr: Option<f64>,
    cpt50: Option<f64>,
    cpt80: Option<f64>,
}

fn score(q: &[Vec<f64>], c: &[Vec<f64>], p: &[Vec<f32>], e: &[Vec<f64>], scale: f64) -> Scores {
    let (n, nt) = (q.len() as f64, q[0].len());
    let single: Vec<Point> = (0..nt)
        .map(|t| {
            (
                c.iter().map(|r| r[t]).sum::<f64>() / n,
                q.iter().map(|r| r[t]).sum::<f64>() / n,
            )
        })
        .collect();
    let best = single.iter().copied().fold(single[0], |b, s| {
        if s.1 > b.1 || (s.1 == b.1 && s.0 < b.0) {
            s
        } else {
            b
        }
    });
    let lo = single.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let hi = single.iter().map(|s| s.0).fold(0.0, f64::max);
    let pr: Vec<&[f32]> = p.iter().map(Vec::as_slice).collect();
    let er: Vec<&[f64]> = e.iter().map(Vec::as_slice).collect();
    let pts: Vec<Point> = curve::sweep(q, c, &pr, &er, scale)
        .iter()
        .map(|x| (x.cost_usd, x.quality))
        .collect();
    assert_eq!(pts.len(), lambda_grid().len());
    let cost_at_best = pts
        .iter()
        .filter(|x| x.1 >= best.1 - 1e-12)
        .map(|x| x.0)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
        .map(|x| x / best.0);
    let (mut apgr, mut cpt50, mut cpt80) = (None, None, None);
    if nt == 2 {
        let mut order: Vec<usize> = (0..q.len()).collect();
        order.sort_by(|&a, &b| (p[b][1] - p[b][0]).total_cmp(&(p[a][1] - p[a][0])));
        let (qw, qs) = (single[0].1, single[1].1);
        let mut sum = qw * n;
        let mut pgr = vec![0.0];
        for &i in &order {
            sum += q[i][1] - q[i][0];
            pgr.push((sum / n - qw) / (qs - qw));
        }
        let m = pgr.len() - 1;
        apgr = Some(pgr.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum::<f64>() / m as f64);
        let cpt = |x: f64| {
            pgr.iter()
                .position(|&g| g >= x)
                .map(|k| k as f64 / m as f64)
        };
        cpt50 = cpt(0.5);
        cpt80 = cpt(0.8);
    }
    Scores {
        aiq: aiq(&pts, lo, hi),
        cost_at_best,
        apgr,
        cpt50,
        cpt80,
    }
}
// ---- end of minimal metrics ----

struct Set {
    name: &'static str,
    rows: Vec<LogRow>,
    config: TierConfig,
    grouped: bool,
}

fn load(name: &'static str, data: &Path, root: &Path) -> Set {
    let mut rows = Vec::new();
    let rb = |files: &[&str], rows: &mut Vec<LogRow>| {
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|f| data.join("routerbench").join(f))
            .collect();
        import_routerbench(&paths, &mut |r| {
            rows.push(r);
            Ok(())
        })
        .expect("routerbench import");
    };
    let rb_tiers = || TierConfig::from_file(root.join("datasets/routerbench/tiers.toml")).unwrap();
    let rl_tiers = TierConfig::from_file(root.join("datasets/routellm/tiers.toml")).unwrap();
    let rl_opts = RouteLlmOptions {
        tiers: Some((rl_tiers.clone(), "datasets/routellm/tiers.toml".into())),
        ..Default::default()
    };
    let rl = |paths: Vec<PathBuf>, rows: &mut Vec<LogRow>| {
        import_routellm(&paths, &rl_opts, &mut |r| {
            rows.push(r);
            Ok(())
        })
        .expect("routellm import");
    };
    let (config, grouped) = match name {
        "rb-mix" => {
            rb(
                &[
                    "arc_challenge_train.csv",
                    "mbpp_train.csv",
                    "winograde_train.csv",
                ],
                &mut rows,
            );
            (rb_tiers(), false)
        }
        "rb-arc" => {
            rb(&["arc_challenge_train.csv"], &mut rows);
            (rb_tiers(), false)
        }
        "rb-mbpp" => {
            rb(&["mbpp_train.csv"], &mut rows);
            (rb_tiers(), false)
        }
        "rb-winogrande" => {
            rb(&["winograde_train.csv"], &mut rows);
            (rb_tiers(), false)
        }
        "gsm8k" => {
            rl(vec![data.join("routellm/gsm8k_responses.csv")], &mut rows);
            (rl_tiers.clone(), false)
        }
        "mmlu" => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("routellm/mmlu"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            rl(files, &mut rows);
            (rl_tiers.clone(), true)
        }
        other => panic!("unknown set {other}"),
    };
    Set {
        name,
        rows,
        config,
        grouped,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut k = 5;
    let mut seed = 7u64;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--folds" => k = it.next().unwrap().parse().unwrap(),
            "--seed" => seed = it.next().unwrap().parse().unwrap(),
            s => names.push(s.to_string()),
        }
    }
    let all = [
        "rb-mix",
        "rb-arc",
        "rb-mbpp",
        "rb-winogrande",
        "gsm8k",
        "mmlu",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = root.join("../shared/datasets");
    if !data.exists() {
        eprintln!("skipped: {} not found", data.display());
        return;
    }
    println!("| set | prompts | method | AIQ | cost_at_best | APGR | CPT(50%) | CPT(80%) |");
    println!("|---|---|---|---|---|---|---|---|");
    for name in all
        .iter()
        .filter(|n| names.is_empty() || names.iter().any(|x| x == *n))
    {
        let t0 = Instant::now();
        let set = load(name, &data, &root);
        let table = OutcomeTable::build(&set.rows, &set.config);
        let nt = table.n_tiers();
        let groups: Vec<String> = table
            .prompts
            .iter()
            .map(|p| p.feature.clone().unwrap_or_default())
            .collect();
        let assign = folds::assign(
            table.len(),
            k,
            seed,
            set.grouped.then_some(groups.as_slice()),
        );
        let n = table.len();
        let mut preds: [Vec<Vec<f32>>; 3] = [vec![vec![]; n], vec![vec![]; n], vec![vec![]; n]];
        let mut expected = vec![vec![0.0; nt]; n];
        let mut scale = 0.0;
        for f in 0..k {
            let (tr, te) = folds::split(&assign, f);
            let train_table = table.subset(&tr);
            let mut opts = TrainOptions {
                seed,
                ..TrainOptions::default()
            };
            // Tuning knobs for experiments (defaults = the shipped settings).
            let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
            if let Some(v) = env("TW_LR") {
                opts.net.lr = v;
            }
            if let Some(v) = env("TW_DIM") {
                opts.net.dim = v as usize;
            }
            if let Some(v) = env("TW_HIDDEN") {
                opts.net.hidden = v as usize;
            }
            if let Some(v) = env("TW_WD") {
                opts.net.weight_decay = v;
            }
            if let Some(v) = env("TW_PATIENCE") {
                opts.net.patience = v as usize;
            }
            if let Some(v) = env("TW_BATCH") {
                opts.net.batch = v as usize;
            }
            if let Some(v) = env("TW_VAL") {
                opts.val_split = v;
            }
            let trained = train(&train_table, &set.config, set.rows.len(), vec![], &opts).unwrap();
            let costs = cost::fit(&train_table, &set.config).unwrap();
            let exp_of = |p: usize| -> Vec<f64> {
                let tokens = text::estimate_tokens(&table.prompts[p].text) as f64;
                costs.iter().map(|c| c.cost(tokens)).collect()
            };
            let tr_exp: Vec<Vec<f64>> = tr.iter().map(|&p| exp_of(p)).collect();
            scale += curve::cost_scale(&tr_exp) / k as f64;
            let prior = baselines::prior(&train_table);
            let lr = baselines::TfidfLr::fit(&train_table, seed);
            for &p in &te {
                let info = &table.prompts[p];
                let mut prompt = Prompt::text(info.text.clone()).with_turns(info.turns);
                if let Some(feat) = &info.feature {
                    prompt = prompt.with_feature(feat.clone());
                }
                preds[0][p] = trained.router.predict(&prompt).p;
                preds[1][p] = prior.clone();
                preds[2][p] = lr.predict(&info.text);
                expected[p] = exp_of(p);
            }
        }
        let full: Vec<usize> = (0..n)
            .filter(|&p| (0..nt).all(|t| table.cell(p, t).score.is_some()))
            .collect();
        let q: Vec<Vec<f64>> = full
            .iter()
            .map(|&p| (0..nt).map(|t| table.cell(p, t).score.unwrap()).collect())
            .collect();
        let c: Vec<Vec<f64>> = full
            .iter()
            .map(|&p| {
                (0..nt)
                    .map(|t| table.cell(p, t).cost.unwrap_or(expected[p][t]))
                    .collect()
            })
            .collect();
        let e: Vec<Vec<f64>> = full.iter().map(|&p| expected[p].clone()).collect();
        let fmt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.3}"));
        for (m, method) in ["router", "prior", "tfidf-lr"].iter().enumerate() {
            let p: Vec<Vec<f32>> = full.iter().map(|&i| preds[m][i].clone()).collect();
            let s = score(&q, &c, &p, &e, scale);
            println!(
                "| {} | {} | {} | {:.4} | {} | {} | {} | {} |",
                set.name,
                full.len(),
                method,
                s.aiq,
                fmt(s.cost_at_best),
                fmt(s.apgr),
                fmt(s.cpt50),
                fmt(s.cpt80)
            );
        }
        eprintln!(
            "{}: {} prompts, {k} folds in {:.1} s",
            set.name,
            n,
            t0.elapsed().as_secs_f64()
        );
    }
}
