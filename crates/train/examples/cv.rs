//! k-fold cross-validation of the router against baselines on the public data in
//! `../shared/datasets` (see `benches/quality.sh`). Usage:
//! `cv [--folds K] [--seed S] [--seeds N] [--null] [SET…]` with SET among rb-mix rb-arc rb-mbpp
//! rb-winogrande gsm8k mmlu (default: all); `--seeds N` repeats the CV with fold seeds S, S+1, …
//! and prints each metric's mean over the repeats, and the router's AIQ minus each baseline's
//! (mean, standard deviation, repeats the router won). `--null` adds two baselines that know
//! nothing of the prompt: the router trained on the training folds with their texts shuffled
//! within each tag (`shuffle_texts`), and the router's own predictions dealt to the wrong
//! prompts (`tierwise_eval::null::permuted`). AIQ takes the upper hull of a router's points, so
//! scattering prompts across the tiers lifts it above the prior's even without signal; how far
//! the router is ahead of these two is what its features learned.
//!
//! Every method gets the same folds and the same cost model (fitted on the training folds);
//! out-of-fold predictions are pooled and the metrics computed once over all prompts by
//! tierwise-eval (the code behind `tierwise eval`), with paired bootstrap intervals of the
//! router's AIQ minus each baseline's. The router chooses among the tiers its artifact allows
//! for each prompt's feature tag, the baselines among all.
//!
//! Experiments set `TW_*` variables (see `options`); besides the training knobs, `TW_NO_TAGS=1`
//! drops every prompt's feature tag (as if the log did not say which task a prompt is),
//! `TW_UNGROUPED=1` draws MMLU's folds by prompt instead of holding whole subjects out, and
//! `TW_DUMP=DIR` writes each repeat's out-of-fold predictions to `DIR/SET.SEED.json`.
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use tierwise_core::import::{import_routellm, import_routerbench, RouteLlmOptions};
use tierwise_core::{folds, text, LogRow, OutcomeTable, TierConfig};
use tierwise_eval::{resample_weights, EvalTable, Evaluator, Predictions, Sample};
use tierwise_router::Prompt;
use tierwise_train::shrink::Shrink;
use tierwise_train::{baselines, cost, train, Calibration, TrainOptions};

/// The methods compared, the router first; the last two only with `--null`.
const METHODS: [&str; 5] = ["router", "prior", "tfidf-lr", "shuffled", "permuted"];
const RESAMPLES: usize = 1000;

/// Each method's metrics through tierwise-eval (the code `tierwise eval` runs); prints the
/// router's AIQ minus each baseline's with a paired bootstrap interval (stderr).
fn intervals(name: &str, table: &EvalTable, preds: &[Predictions], seed: u64) -> Vec<Sample> {
    let bases = &METHODS[1..preds.len()];
    let evs: Vec<Evaluator> = preds.iter().map(|p| Evaluator::new(table, p)).collect();
    let points: Vec<Sample> = evs.iter().map(|e| e.sample(None)).collect();
    let n = table.len();
    let mut diffs: Vec<Vec<f64>> = (0..RESAMPLES)
        .into_par_iter()
        .map(|r| {
            let w = resample_weights(n, seed, r);
            let aiq: Vec<f64> = evs.iter().map(|e| e.sample(Some(&w)).aiq).collect();
            aiq[1..].iter().map(|a| aiq[0] - a).collect::<Vec<f64>>()
        })
        .collect();
    let mut line = format!("{name} (seed {seed}): router AIQ minus");
    for (k, base) in bases.iter().enumerate() {
        diffs.sort_by(|a, b| a[k].total_cmp(&b[k]));
        let (lo, hi) = (
            diffs[RESAMPLES / 40][k],
            diffs[RESAMPLES - 1 - RESAMPLES / 40][k],
        );
        let d = points[0].aiq - points[k + 1].aiq;
        line += &format!(" {base}: {d:+.4} [{lo:+.4}, {hi:+.4}];");
    }
    eprintln!("{line} (95% paired bootstrap, {RESAMPLES} resamples)");
    points
}

/// One table row per method: each metric's mean over the seeds (`samples[seed][method]`); a
/// metric some seeds leave undefined (cost_at_best when no point reaches the best tier's
/// quality) is the mean of the others with how many they are, e.g. `0.848 (2/5)`.
fn print_rows(name: &str, prompts: usize, samples: &[Vec<Sample>]) {
    let mean = |m: usize, f: &dyn Fn(&Sample) -> Option<f64>| -> String {
        let v: Vec<f64> = samples.iter().filter_map(|s| f(&s[m])).collect();
        let avg = v.iter().sum::<f64>() / v.len() as f64;
        match v.len() {
            0 => "–".to_string(),
            k if k == samples.len() => format!("{avg:.3}"),
            k => format!("{avg:.3} ({k}/{})", samples.len()),
        }
    };
    for (m, method) in METHODS[..samples[0].len()].iter().enumerate() {
        let aiq = samples.iter().map(|s| s[m].aiq).sum::<f64>() / samples.len() as f64;
        println!(
            "| {name} | {prompts} | {method} | {aiq:.4} | {} | {} | {} | {} |",
            mean(m, &|s| s.cost_at_best),
            mean(m, &|s| s.apgr),
            mean(m, &|s| s.cpt50),
            mean(m, &|s| s.cpt80),
        );
    }
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

/// The shipped training options with `seed`, changed by the tuning knobs for experiments
/// (`TW_*` environment variables; unset, the defaults).
fn options(seed: u64) -> TrainOptions {
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
    if let (Ok(v), Some(l)) = (std::env::var("TW_LIN_L2"), opts.linear.as_mut()) {
        l.l2 = v.split(',').map(|x| x.parse().unwrap()).collect();
    }
    if let (Some(v), Some(l)) = (env("TW_LIN_MINCOUNT"), opts.linear.as_mut()) {
        l.min_count = v as usize;
    }
    if let (Ok("1"), Some(l)) = (std::env::var("TW_LIN_IDF").as_deref(), opts.linear.as_mut()) {
        l.idf = true;
    }
    if let (Some(v), Some(l)) = (env("TW_LIN_EPOCHS"), opts.linear.as_mut()) {
        l.epochs = v as usize;
    }
    match env("TW_LOWRANK") {
        Some(0.0) => opts.lowrank = None,
        Some(v) => opts.lowrank.as_mut().unwrap().share = v,
        None => {}
    }
    if let (Ok(v), Some(l)) = (std::env::var("TW_LOWRANK_RANKS"), opts.lowrank.as_mut()) {
        l.ranks = v.split(',').map(|x| x.parse().unwrap()).collect();
    }
    if let (Some(v), Some(l)) = (env("TW_LOWRANK_NUM"), opts.lowrank.as_mut()) {
        l.numeric_scale = v;
    }
    if std::env::var("TW_ALL_TIERS").as_deref() == Ok("1") {
        opts.all_tiers = true;
    }
    if let Some(v) = env("TW_VAL") {
        opts.val_split = v;
    }
    if std::env::var("TW_OWN_SPLITS").as_deref() == Ok("1") {
        opts.own_splits = true;
    }
    if let Ok(v) = std::env::var("TW_TOKENIZER") {
        opts.tokenizer = Some(PathBuf::from(v));
    }
    if let Ok(v) = std::env::var("TW_VECTORS") {
        opts.token_vectors = Some(PathBuf::from(v));
    }
    if let Some(v) = env("TW_VOCAB") {
        opts.vocab_size = v as usize;
    }
    opts
}

/// Out-of-fold predictions of every method on `set` with `k` folds drawn by `seed`: the eval
/// table (prompts with every tier's outcome) and one [`Predictions`] per method of [`METHODS`]
/// (the two nulls only when `null`).
fn cross_validate(
    set: &Set,
    table: &OutcomeTable,
    k: usize,
    seed: u64,
    null: bool,
) -> (EvalTable, Vec<Predictions>) {
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
        (set.grouped && std::env::var("TW_UNGROUPED").as_deref() != Ok("1"))
            .then_some(groups.as_slice()),
    );
    let n = table.len();
    let methods = if null { 4 } else { 3 };
    // preds[method][prompt]; allowed[method][prompt]: the tiers it may choose (routers only).
    let mut preds: Vec<Vec<Vec<f32>>> = vec![vec![vec![]; n]; methods];
    let mut allowed: Vec<Vec<Vec<bool>>> = vec![vec![vec![true; nt]; n]; methods];
    let mut expected = vec![vec![0.0; nt]; n];
    for f in 0..k {
        let (tr, te) = folds::split(&assign, f);
        let train_table = table.subset(&tr);
        let fit = |t: &OutcomeTable| {
            train(t, &set.config, set.rows.len(), vec![], &options(seed)).unwrap()
        };
        let t_fold = Instant::now();
        let trained = fit(&train_table);
        let shuffled = null.then(|| {
            let mut t = train_table.clone();
            shuffle_texts(&mut t, seed * 1000 + f as u64);
            fit(&t)
        });
        if std::env::var("TW_VERBOSE").is_ok() {
            let m = trained.router.meta();
            eprintln!(
                "  fold {f}: {:.1} s, {} rows, epochs {}/{}, {}",
                t_fold.elapsed().as_secs_f64(),
                m.network.embedding_rows,
                m.training.best_epoch,
                m.training.epochs,
                m.training.calibration
            );
        }
        let costs = cost::fit(&train_table, &set.config).unwrap();
        let prior = baselines::prior(&train_table);
        let lr = baselines::TfidfLr::fit(&train_table, seed);
        for &p in &te {
            let info = &table.prompts[p];
            let mut prompt = Prompt::text(info.text.clone()).with_turns(info.turns);
            if let Some(feat) = &info.feature {
                prompt = prompt.with_feature(feat.clone());
            }
            let routers = std::iter::once((0, &trained)).chain(shuffled.iter().map(|s| (3, s)));
            for (m, router) in routers {
                let pred = router.router.predict(&prompt);
                if !pred.choosable.is_empty() {
                    allowed[m][p] = pred.choosable;
                }
                preds[m][p] = pred.p;
            }
            preds[1][p] = prior.clone();
            preds[2][p] = lr.predict(&info.text);
            let tokens = text::estimate_tokens(&info.text) as f64;
            expected[p] = costs.iter().map(|c| c.cost(tokens)).collect();
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
    if let Ok(dir) = std::env::var("TW_DUMP") {
        // Out-of-fold predictions for analysis elsewhere: outcomes, logged and expected costs,
        // and each method's probabilities, row-major over the scored prompts.
        let pick =
            |pm: &Vec<Vec<f32>>| -> Vec<f32> { full.iter().flat_map(|&i| pm[i].clone()).collect() };
        let mut dump = serde_json::json!({
            "tiers": tiers, "q": q, "c": c,
            "expected": full.iter().flat_map(|&i| expected[i].clone()).collect::<Vec<f64>>(),
            "router": pick(&preds[0]), "prior": pick(&preds[1]), "tfidf": pick(&preds[2]),
        });
        if null {
            dump["shuffled"] = pick(&preds[3]).into();
        }
        let path = Path::new(&dir).join(format!("{}.{seed}.json", set.name));
        std::fs::write(&path, dump.to_string()).expect("TW_DUMP: write");
    }
    let eval_table = EvalTable::from_parts(&tiers, q, c).expect("valid outcomes");
    let mut preds: Vec<Predictions> = preds
        .iter()
        .enumerate()
        .map(|(m, pm)| Predictions {
            p: full.iter().flat_map(|&i| pm[i].clone()).collect(),
            cost: full.iter().flat_map(|&i| expected[i].clone()).collect(),
            chosen: vec![0; full.len()],
            // The routers' choice is narrowed per feature tag; the baselines choose any tier.
            choosable: match m {
                0 | 3 => full.iter().flat_map(|&i| allowed[m][i].clone()).collect(),
                _ => Vec::new(),
            },
        })
        .collect();
    if null {
        preds.push(tierwise_eval::null::permuted(&preds[0], nt, seed));
    }
    (eval_table, preds)
}

/// A permutation null: reassigns the training prompts' texts (and turns) among the prompts of
/// the same feature tag, so the outcomes keep their tag but lose their text. A router trained
/// on that can still beat the prior's AIQ only by chance, and by the lift the upper hull of
/// the router's own (noisier) points gives it; its AIQ minus the prior's shows that level.
fn shuffle_texts(table: &mut OutcomeTable, seed: u64) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut groups: std::collections::BTreeMap<Option<String>, Vec<usize>> = Default::default();
    for (i, p) in table.prompts.iter().enumerate() {
        groups.entry(p.feature.clone()).or_default().push(i);
    }
    for idx in groups.values() {
        let mut from = idx.clone();
        from.shuffle(&mut rng);
        let moved: Vec<(String, usize)> = from
            .iter()
            .map(|&j| (table.prompts[j].text.clone(), table.prompts[j].turns))
            .collect();
        for (&i, (text, turns)) in idx.iter().zip(moved) {
            table.prompts[i].text = text;
            table.prompts[i].turns = turns;
        }
    }
}

/// Mean, sample standard deviation and count above zero of `xs`.
fn spread(xs: &[f64]) -> (f64, f64, usize) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt(), xs.iter().filter(|&&x| x > 0.0).count())
}

fn main() {
    tierwise_train::threads::apply_env_defaults();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut k = 5;
    let mut seed = 7u64;
    let mut repeats = 1u64;
    let mut null = false;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{a} needs a number"))
        };
        match a.as_str() {
            "--folds" => k = value() as usize,
            "--seed" => seed = value(),
            "--seeds" => repeats = value().max(1),
            "--null" => null = true,
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
    let seeds: Vec<u64> = (seed..seed + repeats).collect();
    if repeats > 1 {
        println!(
            "Means over {repeats} repeats of {k}-fold CV (seeds {seed}–{}):\n",
            seed + repeats - 1
        );
    }
    println!("| set | prompts | method | AIQ | cost_at_best | APGR | CPT(50%) | CPT(80%) |");
    println!("|---|---|---|---|---|---|---|---|");
    for name in all
        .iter()
        .filter(|n| names.is_empty() || names.iter().any(|x| x == *n))
    {
        let t0 = Instant::now();
        let mut set = load(name, &data, &root);
        if std::env::var("TW_NO_TAGS").as_deref() == Ok("1") {
            // As if the log did not say which task (feature) each prompt belongs to.
            set.rows.iter_mut().for_each(|r| r.feature = None);
        }
        let table = OutcomeTable::build(&set.rows, &set.config);
        // samples[seed][method]; the metrics are over the prompts with every tier's outcome.
        let mut scored = 0;
        let samples: Vec<Vec<Sample>> = seeds
            .iter()
            .map(|&s| {
                let (eval_table, preds) = cross_validate(&set, &table, k, s, null);
                scored = eval_table.len();
                intervals(name, &eval_table, &preds, s)
            })
            .collect();
        print_rows(name, scored, &samples);
        if repeats > 1 {
            let mut line = format!("{name}: over {repeats} seeds, router AIQ minus");
            for (m, base) in METHODS[..samples[0].len()].iter().enumerate().skip(1) {
                let d: Vec<f64> = samples.iter().map(|s| s[0].aiq - s[m].aiq).collect();
                let (mean, sd, wins) = spread(&d);
                line += &format!(
                    " {base}: {mean:+.4} (sd {sd:.4}, router better on {wins}/{repeats});"
                );
            }
            eprintln!("{line}");
        }
        eprintln!(
            "{}: {} prompts, {k} folds × {repeats} seeds in {:.1} s",
            set.name,
            table.len(),
            t0.elapsed().as_secs_f64()
        );
    }
}
