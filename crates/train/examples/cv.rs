//! k-fold cross-validation of the router against two baselines on the public data in
//! `../shared/datasets` (see `benches/quality.sh`). Usage: `cv [--folds K] [--seed S] [SET…]`
//! with SET among rb-mix rb-arc rb-mbpp rb-winogrande gsm8k mmlu (default: all).
//!
//! Every method gets the same folds and the same cost model (fitted on the training folds);
//! out-of-fold predictions are pooled and the metrics computed once over all prompts by
//! tierwise-eval (the code behind `tierwise eval`), with paired bootstrap intervals of the
//! router's AIQ minus each baseline's.
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use tierwise_core::import::{import_routellm, import_routerbench, RouteLlmOptions};
use tierwise_core::{folds, text, LogRow, OutcomeTable, TierConfig};
use tierwise_eval::{resample_weights, EvalTable, Evaluator, Predictions};
use tierwise_router::Prompt;
use tierwise_train::shrink::Shrink;
use tierwise_train::{baselines, cost, train, Calibration, TrainOptions};

const METHODS: [&str; 3] = ["router", "prior", "tfidf-lr"];
const RESAMPLES: usize = 1000;

/// AIQ and the other metrics of each method through tierwise-eval (the code `tierwise eval`
/// runs), plus paired bootstrap intervals of the router's AIQ minus each baseline's.
fn report(name: &str, table: &EvalTable, preds: &[Predictions], seed: u64) {
    let evs: Vec<Evaluator> = preds.iter().map(|p| Evaluator::new(table, p)).collect();
    let fmt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.3}"));
    let points: Vec<_> = evs.iter().map(|e| e.sample(None)).collect();
    for (m, s) in points.iter().enumerate() {
        println!(
            "| {name} | {} | {} | {:.4} | {} | {} | {} | {} |",
            table.len(),
            METHODS[m],
            s.aiq,
            fmt(s.cost_at_best),
            fmt(s.apgr),
            fmt(s.cpt50),
            fmt(s.cpt80)
        );
    }
    let n = table.len();
    let mut diffs: Vec<Vec<f64>> = (0..RESAMPLES)
        .into_par_iter()
        .map(|r| {
            let w = resample_weights(n, seed, r);
            let aiq: Vec<f64> = evs.iter().map(|e| e.sample(Some(&w)).aiq).collect();
            vec![aiq[0] - aiq[1], aiq[0] - aiq[2]]
        })
        .collect();
    let mut line = format!("{name}: router AIQ minus");
    for (k, base) in ["prior", "tfidf-lr"].iter().enumerate() {
        diffs.sort_by(|a, b| a[k].total_cmp(&b[k]));
        let (lo, hi) = (
            diffs[RESAMPLES / 40][k],
            diffs[RESAMPLES - 1 - RESAMPLES / 40][k],
        );
        let d = points[0].aiq - points[k + 1].aiq;
        line += &format!(" {base}: {d:+.4} [{lo:+.4}, {hi:+.4}];");
    }
    eprintln!("{line} (95% paired bootstrap, {RESAMPLES} resamples)");
}

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
    tierwise_train::threads::apply_env_defaults();
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
            match std::env::var("TW_CALIB").as_deref() {
                Ok("tier") => opts.calibration = Calibration::PerTier,
                Ok("shared") => opts.calibration = Calibration::Shared,
                Ok("none") => opts.calibration = Calibration::None,
                Ok("pooled") => opts.calibration = Calibration::Pooled,
                _ => {}
            }
            if let Some(v) = env("TW_MINCOUNT") {
                opts.net.min_count = v as usize;
            }
            if let Some(v) = env("TW_RANK") {
                opts.net.head_rank = v as usize;
            }
            if let Some(v) = env("TW_SKIP") {
                opts.net.dense_skip = v != 0.0;
            }
            if let Some(v) = env("TW_MEMBERS") {
                opts.members = v as usize;
            }
            if let Some(v) = env("TW_FLOOR") {
                opts.net.dense_floor = v;
            }
            if std::env::var("TW_LINEAR").as_deref() == Ok("0") {
                opts.linear = None;
            }
            if let (Some(v), Some(l)) = (env("TW_LINW"), opts.linear.as_mut()) {
                l.share = Some(v);
            }
            match (env("TW_SHRINK"), env("TW_SHRINK_MARGIN")) {
                (Some(v), _) => opts.shrink = Shrink::Fixed(v),
                (None, Some(m)) => {
                    if let Shrink::OutOfBag { margin, .. } = &mut opts.shrink {
                        *margin = m;
                    }
                }
                (None, None) => {}
            }
            if let Some(v) = env("TW_VAL") {
                opts.val_split = v;
            }
            if let Ok(v) = std::env::var("TW_TOKENIZER") {
                opts.tokenizer = Some(PathBuf::from(v));
            }
            if let Some(v) = env("TW_VOCAB") {
                opts.vocab_size = v as usize;
            }
            let t_fold = Instant::now();
            let trained = train(&train_table, &set.config, set.rows.len(), vec![], &opts).unwrap();
            let train_s = t_fold.elapsed().as_secs_f64();
            if std::env::var("TW_VERBOSE").is_ok() {
                let m = trained.router.meta();
                eprintln!(
                    "  fold {f}: {train_s:.1} s, {} rows, epochs {}/{}, {}",
                    m.network.embedding_rows,
                    m.training.best_epoch,
                    m.training.epochs,
                    m.training.calibration
                );
            }
            let costs = cost::fit(&train_table, &set.config).unwrap();
            let exp_of = |p: usize| -> Vec<f64> {
                let tokens = text::estimate_tokens(&table.prompts[p].text) as f64;
                costs.iter().map(|c| c.cost(tokens)).collect()
            };
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
        let mut q = Vec::with_capacity(full.len() * nt);
        let mut c = Vec::with_capacity(full.len() * nt);
        for &p in &full {
            for (t, &e) in expected[p].iter().enumerate() {
                q.push(table.cell(p, t).score.unwrap());
                c.push(table.cell(p, t).cost.unwrap_or(e));
            }
        }
        let tiers: Vec<&str> = table.tiers.iter().map(String::as_str).collect();
        let eval_table = EvalTable::from_parts(&tiers, q, c).expect("valid outcomes");
        let preds: Vec<Predictions> = (0..METHODS.len())
            .map(|m| Predictions {
                p: full.iter().flat_map(|&i| preds[m][i].clone()).collect(),
                cost: full.iter().flat_map(|&i| expected[i].clone()).collect(),
                chosen: vec![0; full.len()],
            })
            .collect();
        report(set.name, &eval_table, &preds, seed);
        eprintln!(
            "{}: {} prompts, {k} folds in {:.1} s",
            set.name,
            n,
            t0.elapsed().as_secs_f64()
        );
    }
}
