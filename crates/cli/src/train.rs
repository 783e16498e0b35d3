//! `tierwise train`: read logs, build the outcome table, train a router and write the artifact,
//! then print per-tier validation metrics and the chosen policy against every single tier.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use tierwise_core::{read_logs, OutcomeTable, ReadOptions, TierConfig};
use tierwise_eval::plot;
use tierwise_router::{policy, ArtifactMeta, Target};
use tierwise_train::shrink::Shrink;
use tierwise_train::{sha256_file, train, Calibration, TrainOptions};

/// Arguments of `tierwise train`.
#[derive(clap::Args)]
pub struct Args {
    /// JSONL log files to learn from.
    #[arg(long, required = true, num_args = 1..)]
    logs: Vec<PathBuf>,
    /// Tier config (TOML), cheapest tier first.
    #[arg(long)]
    tiers: PathBuf,
    /// Model folder to write (router.json, router.safetensors, tokenizer.json).
    #[arg(long)]
    out: PathBuf,
    /// What λ should achieve: quality=F (cheapest policy with ≥ F × best tier's validation
    /// quality), cost=F (best quality at ≤ F × best tier's cost) or lambda=X.
    #[arg(long, default_value = "quality=0.98")]
    target: String,
    /// Seed for the split, initialisation and batch order (same seed and threads ⇒ same bytes).
    #[arg(long, allow_negative_numbers = true, default_value_t = 7)]
    seed: u64,
    /// Maximum epochs (early stopping on the validation split usually ends sooner).
    #[arg(long, allow_negative_numbers = true, default_value_t = 40)]
    epochs: usize,
    /// Share of prompts held out of training for early stopping, calibration and the λ curve
    /// (the prediction at the chosen λ is the router's own on these prompts); in (0, 0.9).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.2)]
    val_split: f64,
    /// Give each member of the ensemble its own seeded validation split: every prompt trains
    /// some member (a little more AIQ), but λ is then chosen on single members' out-of-bag
    /// predictions, so the predicted quality and cost at the target are biased.
    #[arg(long)]
    own_splits: bool,
    /// MLP members of the ensemble (each its own seeded initialisation and batch order); their
    /// calibrated logits are averaged in one net with the linear and low-rank members' (steadier
    /// on small logs; training takes that many times longer, and routing a little longer). 0
    /// leaves the linear and low-rank members alone.
    #[arg(long, allow_negative_numbers = true, default_value_t = 4)]
    members: usize,
    /// Leave out the linear member (per-tier logistic regressions on the bag of tokens and the
    /// numeric features, averaged in next to the MLP members).
    #[arg(long)]
    no_linear: bool,
    /// The linear member's share of what the low-rank member leaves of the ensemble's averaged
    /// logit (the MLP members share the rest equally).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.4, value_parser = unit_share)]
    linear_share: f64,
    /// Leave out the low-rank member (one ridge regression per tier on the bag of tokens, read
    /// through 1, 2, 3 or one score per tier, whichever cross-validates best: on few prompts and
    /// many tiers it keeps the tiers' order where per-tier fits would scatter prompts on noise).
    #[arg(long)]
    no_lowrank: bool,
    /// The low-rank member's share of the ensemble's averaged logit.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5, value_parser = unit_share)]
    lowrank_share: f64,
    /// Shrink the router's logits toward each tier's training pass rate: `s·logit + (1 − s)·prior`
    /// (1 trusts the prompt's features fully, 0 is the no-features prior router). Unset, it is
    /// chosen out of bag among 0.25, 0.5, 0.75 and 1 by the λ sweep's AIQ; below 1 only if that
    /// gains at least 0.004 AIQ.
    #[arg(long, allow_negative_numbers = true, value_parser = unit_share)]
    shrink: Option<f64>,
    /// Let the router choose any tier for any prompt. By default, for each feature tag with at
    /// least 20 prompts that every tier answered, it chooses only among the tiers the
    /// no-features prior would choose for that tag at some λ (the cost–quality hull of the
    /// single tiers on those prompts), and the log's best tier: a tier under the hull is beaten
    /// at its cost by a mix of the tiers on it.
    #[arg(long)]
    all_tiers: bool,
    /// Hash buckets for token unigrams and bigrams.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1 << 18)]
    buckets: u32,
    /// Use this tokenizer instead of training a WordPiece tokenizer on the prompts: a
    /// tokenizer.json, a model folder holding one, or a Hugging Face model id `org/name` or a
    /// bare `name` (`gpt2`), with an optional `@revision` (default `main`), already in the
    /// local Hugging Face cache (HF_HUB_CACHE, else $HF_HOME/hub, else
    /// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub). Nothing is downloaded;
    /// a path that exists wins over the id.
    #[arg(long, value_name = "PATH|[ORG/]NAME[@REV]")]
    tokenizer: Option<std::ffi::OsString>,
    /// Pretrained token vectors for the linear member: a BERT-family model's `model.safetensors`
    /// (its input embedding table), a folder holding one, or a model id in the local Hugging
    /// Face cache, as for --tokenizer (e.g. `sentence-transformers/all-MiniLM-L6-v2`). The
    /// router then tokenizes with that model's `tokenizer.json` (found beside the vectors)
    /// unless --tokenizer names one. Each token's vector times the member's weights becomes
    /// its row, so routing runs no encoder (a decide costs ~12% more: every token of the
    /// vocabulary gets a row); the vectors help most on small logs.
    #[arg(long, value_name = "PATH|[ORG/]NAME[@REV]")]
    token_vectors: Option<std::ffi::OsString>,
    /// How logits become probabilities, fitted on the validation split: `pooled` (Platt per
    /// tier, pulled toward one shared map where a tier's cells say little), `per-tier` Platt,
    /// one `shared` Platt map for every tier (never reorders tiers), or `none`. The low-rank
    /// member fits its own per-tier maps and gets a shared one unless `none`.
    #[arg(long, value_enum, default_value_t = CalibrationArg::Pooled)]
    calibration: CalibrationArg,
    /// Rank of the output layer: every tier reads the same `head_rank` difficulty scores of a
    /// prompt with its own weights (1 = a single difficulty axis); 0 gives every tier its own
    /// output row.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2)]
    head_rank: usize,
    /// Skip invalid log lines (counted and reported) instead of stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
}

/// `--calibration` values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum CalibrationArg {
    Pooled,
    PerTier,
    Shared,
    None,
}

pub fn run(a: Args) -> Result<()> {
    let target: Target = a.target.parse().context("--target")?;
    anyhow::ensure!(
        !a.out.exists() || a.out.is_dir(),
        "--out {} is a file: give a folder for the model",
        a.out.display()
    );
    let config = TierConfig::from_file(&a.tiers)?;
    // Before reading the logs: a tokenizer or vectors that are not there fail at once.
    let resolve = tierwise_train::hub::resolve_file_from_env;
    let token_vectors = match &a.token_vectors {
        Some(spec) => {
            let path = resolve(spec, "model.safetensors")?;
            eprintln!("token vectors: {}", path.display());
            Some(path)
        }
        None => None,
    };
    let tokenizer = match (&a.tokenizer, &token_vectors) {
        (Some(spec), _) => Some(resolve(spec, "tokenizer.json")?),
        (None, Some(vectors)) => {
            let beside = vectors.with_file_name("tokenizer.json");
            anyhow::ensure!(
                beside.is_file(),
                "--token-vectors: no tokenizer.json beside {} (the vectors are per token of \
                 their model's tokenizer): give it with --tokenizer",
                vectors.display()
            );
            Some(beside)
        }
        (None, None) => None,
    };
    if let Some(path) = &tokenizer {
        tierwise_train::tokenizer::load(path)?;
        eprintln!("tokenizer: {}", path.display());
    }
    let mut opts = TrainOptions {
        target,
        seed: a.seed,
        epochs: a.epochs,
        val_split: a.val_split,
        own_splits: a.own_splits,
        members: a.members,
        buckets: a.buckets,
        tokenizer,
        token_vectors,
        calibration: match a.calibration {
            CalibrationArg::Pooled => Calibration::Pooled,
            CalibrationArg::PerTier => Calibration::PerTier,
            CalibrationArg::Shared => Calibration::Shared,
            CalibrationArg::None => Calibration::None,
        },
        progress: true,
        ..TrainOptions::default()
    };
    opts.net.head_rank = a.head_rank;
    opts.all_tiers = a.all_tiers;
    if let Some(x) = a.shrink {
        opts.shrink = Shrink::Fixed(x);
    }
    match opts.linear.as_mut() {
        Some(_) if a.no_linear => opts.linear = None,
        Some(l) => l.share = Some(a.linear_share),
        None => {}
    }
    match opts.lowrank.as_mut() {
        Some(_) if a.no_lowrank => opts.lowrank = None,
        Some(l) => l.share = a.lowrank_share,
        None => {}
    }
    opts.check()?;
    let start = Instant::now();
    let set = read_logs(
        &a.logs,
        ReadOptions {
            skip_invalid: a.skip_invalid,
            progress: true,
        },
    )?;
    eprintln!("{}", set.report.summary());
    let table = OutcomeTable::build(&set.rows, &config);
    if table.counts.unmapped_rows() > 0 {
        eprintln!(
            "note: {} rows name a model of no tier and were not used: {:?}",
            table.counts.unmapped_rows(),
            table.counts.unmapped_models
        );
    }
    let shas = a
        .logs
        .iter()
        .map(|p| sha256_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let trained = train(&table, &config, set.rows.len(), shas, &opts)?;
    trained.write(&a.out)?;
    for e in &trained.epochs {
        eprintln!(
            "member {:>2}  epoch {:>3}  train loss {:.4}  val loss {:.4}",
            e.member + 1,
            e.epoch,
            e.train_loss,
            e.val_loss
        );
    }
    let m = trained.router.meta();
    let s = &m.training;
    for l in s.members.iter().filter(|l| l.linear) {
        eprintln!(
            "linear member (seed {}): val loss {:.4}, bag weights from epoch {} of {} (0: none)",
            l.seed, l.val_loss, l.best_epoch, l.epochs
        );
    }
    for l in s.members.iter() {
        if let Some(f) = l.lowrank {
            eprintln!(
                "low-rank member (seed {}): cross-fitted loss {:.4}, {} score{} per prompt, \
                 penalty {}",
                l.seed,
                l.val_loss,
                f.rank,
                if f.rank == 1 { "" } else { "s" },
                f.alpha
            );
        }
    }
    println!(
        "trained {} on {} prompts ({} trained some member / {} validated some member), {} \
         epochs of the MLP members in all (best {} on average), {:.1} s",
        members_said(&s.members),
        s.prompts,
        s.train_prompts,
        s.val_prompts,
        s.epochs,
        s.best_epoch,
        start.elapsed().as_secs_f64()
    );
    println!(
        "head rank {}, calibration: {}",
        opts.net.head_rank, s.calibration
    );
    let tried: Vec<String> = s
        .shrink_oob_aiq
        .iter()
        .map(|[x, aiq]| format!("{x} → {aiq:.4}"))
        .collect();
    match tried.is_empty() {
        true => println!("shrink toward the prior: {}", s.shrink),
        false => println!(
            "shrink toward the prior: {} (out-of-bag AIQ by shrink: {})",
            s.shrink,
            tried.join(", ")
        ),
    }
    for c in &m.choosable {
        let tag = c.feature.as_deref().unwrap_or("(no tag)");
        println!("choosable for {tag}: {}", c.tiers.join(", "));
    }
    println!(
        "\n{:<16} {:>8} {:>8} {:>8} {:>10} {:>12}",
        "tier", "observed", "val AUC", "val ECE", "quality", "cost/prompt"
    );
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    for (t, (vm, st)) in s.val_metrics.iter().zip(&m.single_tiers).enumerate() {
        println!(
            "{:<16} {:>8} {:>8} {:>8} {:>10.3} {:>12.6}",
            vm.tier,
            s.prompts_per_tier[t],
            f(vm.auc),
            f(vm.ece),
            st.quality,
            st.cost_usd
        );
    }
    let best = tierwise_router::policy::best_single(&m.single_tiers);
    println!(
        "{:<16} {:>8} {:>8} {:>8} {:>10.3} {:>12.6}",
        "router", "", "", "", m.predicted.quality, m.predicted.cost_usd
    );
    if let Some(b) = best {
        // The 95% margin of the validation quality, when the curve holds its standard error.
        let margin = m
            .predicted
            .quality_se
            .map(|se| format!(" ± {:.3}", tierwise_eval::drift::Z * se))
            .unwrap_or_default();
        println!(
            "\ntarget {}: λ = {:.4}; validation quality {:.3}{margin} ({:.1}% of best tier `{}`), \
             cost {:.1}% of it (curve from {} outcomes)",
            m.target,
            m.lambda,
            m.predicted.quality,
            100.0 * m.predicted.quality / b.quality.max(1e-12),
            b.tier,
            100.0 * m.predicted.cost_usd / b.cost_usd.max(1e-300),
            m.curve_basis
        );
    }
    if let Some(miss) = target_missed(m, target) {
        eprintln!("warning: {miss}");
    }
    // The validation curve as a picture, beside the artifact (the router does not read it).
    let picture = a.out.join("validation.svg");
    match m.validation_curve.is_empty() || m.single_tiers.is_empty() {
        true => println!("wrote {} (no validation curve to draw)", a.out.display()),
        false => {
            plot::draw_figure(&plot::Figure::of_validation(m), &picture)?;
            println!(
                "wrote {} (validation curve: {})",
                a.out.display(),
                picture.display()
            );
        }
    }
    Ok(())
}

/// `4 MLP members, a linear member and a low-rank member`, `1 MLP member`, `a linear member`.
fn members_said(members: &[tierwise_router::artifact::MemberFit]) -> String {
    let mlp = members
        .iter()
        .filter(|m| !m.linear && m.lowrank.is_none())
        .count();
    let mut parts = Vec::new();
    if mlp > 0 {
        parts.push(format!(
            "{mlp} MLP member{}",
            if mlp == 1 { "" } else { "s" }
        ));
    }
    if members.iter().any(|m| m.linear) {
        parts.push("a linear member".to_string());
    }
    if members.iter().any(|m| m.lowrank.is_some()) {
        parts.push("a low-rank member".to_string());
    }
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => parts.join(""),
    }
}

/// What a router's λ falls short of, when no point of its validation curve meets `target`
/// (λ then gives the curve's best quality, or its lowest cost).
pub(crate) fn target_missed(m: &ArtifactMeta, target: Target) -> Option<String> {
    if policy::meets(target, &m.predicted, &m.single_tiers) {
        return None;
    }
    let best = policy::best_single(&m.single_tiers)?;
    let (what, share) = match target {
        Target::Quality(_) => (
            "best quality",
            m.predicted.quality / best.quality.max(1e-12),
        ),
        _ => (
            "lowest cost",
            m.predicted.cost_usd / best.cost_usd.max(1e-300),
        ),
    };
    Some(format!(
        "target {target} is out of reach on the validation prompts: the router's {what} there \
         is {:.1}% of best tier `{}`'s, and λ = {:.4} gives it",
        100.0 * share,
        best.tier,
        m.lambda
    ))
}

/// A share in [0, 1].
fn unit_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        Ok(x) => Err(format!("{x} is not a share between 0 and 1")),
        Err(e) => Err(format!("`{s}` is not a number: {e}")),
    }
}
