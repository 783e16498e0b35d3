//! `tierwise route`: decide a tier for every prompt of a JSONL file with a trained router.
//! Input lines are log rows or `{"id", "prompt" | "messages", "feature"}` objects; each output
//! line is `{"id", "tier", "model", "difficulty", "p": {tier: prob}, "expected_cost_usd": {…}}`
//! (`difficulty`: the cheapest tier with p ≥ 0.5, else the last), with `"choosable": [tier, …]`
//! when the router may choose only those tiers for the prompt's feature tag.
use std::collections::hash_map::{Entry, HashMap};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};
use tierwise_core::read::{json_object, parse_line};
use tierwise_core::{text, Message};
use tierwise_router::{Decision, Prompt, Router, Target};

/// Arguments of `tierwise route`.
#[derive(clap::Args)]
pub struct Args {
    /// Model folder written by `tierwise train`.
    #[arg(long)]
    model: PathBuf,
    /// JSONL prompts: log rows, or {"id", "prompt"} / {"id", "messages"} objects. One decision
    /// per prompt id: a line repeating an id already routed with the same text (a log has a row
    /// per model that answered) is skipped and counted; with another text it is an error.
    #[arg(long)]
    input: PathBuf,
    /// Where to write decisions (default: stdout); written whole or not at all, and never the
    /// input file.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Override the stored target: quality=F, cost=F or lambda=X.
    #[arg(long)]
    target: Option<String>,
}

fn prompt_of(file: &str, line_no: usize, line: &str) -> Result<(String, Prompt)> {
    let bad = |field: &str, reason: &str| anyhow!("{file}:{line_no}: field `{field}`: {reason}");
    let obj: Map<String, Value> = json_object(file, line_no, line)?;
    if obj.contains_key("model") {
        let row = parse_line(file, line_no, line)?;
        return Ok((row.prompt_id(), Prompt::from_row(&row)));
    }
    let mut prompt = match (obj.get("prompt"), obj.get("messages")) {
        (Some(Value::String(s)), _) => Prompt::text(s.clone()),
        (Some(_), _) => return Err(bad("prompt", "must be a string")),
        (None, Some(m)) => {
            let msgs: Vec<Message> = serde_json::from_value(m.clone())
                .map_err(|e| bad("messages", &format!("not a list of messages: {e}")))?;
            Prompt::from_messages(&msgs)
        }
        (None, None) => return Err(bad("prompt", "missing (give `prompt` or `messages`)")),
    };
    if prompt.text_str().trim().is_empty() {
        // As the log reader says of a row without text to route on.
        let field = if obj.contains_key("prompt") {
            "prompt"
        } else {
            "messages"
        };
        return Err(bad(field, "the prompt text is empty"));
    }
    match obj.get("feature") {
        Some(Value::String(f)) => prompt = prompt.with_feature(f.clone()),
        Some(Value::Null) | None => {}
        Some(_) => return Err(bad("feature", "must be a string")),
    }
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Null) | None => text::prompt_id(prompt.text_str()),
        Some(_) => return Err(bad("id", "must be a string or a number")),
    };
    Ok((id, prompt))
}

pub fn run(a: Args) -> Result<()> {
    let mut router = Router::load(&a.model)?;
    if let Some(t) = &a.target {
        let target = t.parse::<Target>().context("--target")?;
        router.set_target(target)?;
        if let Some(miss) = crate::train::target_missed(router.meta(), target) {
            eprintln!("warning: {miss}");
        }
    }
    let file = a.input.display().to_string();
    let input = std::fs::File::open(&a.input).with_context(|| file.clone())?;
    let input = BufReader::new(input);
    let tally = match &a.output {
        Some(p) => {
            let same = |q: &Path| std::fs::canonicalize(q).ok();
            if same(p).is_some() && same(p) == same(&a.input) {
                bail!(
                    "--output {} is the --input file: write the decisions elsewhere",
                    p.display()
                );
            }
            // Written whole or not at all: an error leaves no partial file (and an existing
            // `p` untouched).
            crate::whole::write(p, |tmp| {
                let created =
                    std::fs::File::create(tmp).with_context(|| tmp.display().to_string())?;
                let mut out = BufWriter::new(created);
                let tally = route_all(&router, &file, input, &mut out)?;
                out.flush()?;
                Ok(tally)
            })?
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            match route_all(&router, &file, input, &mut out)
                .and_then(|t| Ok(out.flush().map(|_| t)?))
            {
                // `tierwise route … | head`: the reader has what it wanted.
                Err(e) if is_broken_pipe(&e) => return Ok(()),
                t => t?,
            }
        }
    };
    let names: Vec<String> = router.tiers().iter().map(|t| t.name.clone()).collect();
    eprintln!(
        "{}",
        summary(
            tally.n,
            router.lambda(),
            &names,
            &tally.routed,
            tally.spent,
            &tally.all_on
        )
    );
    if tally.repeats > 0 {
        eprintln!(
            "{} line(s) repeated a prompt id already routed: one decision per prompt",
            tally.repeats
        );
    }
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// What [`route_all`] routed.
struct Tally {
    /// Prompts routed.
    n: usize,
    /// Per tier: prompts routed there.
    routed: Vec<usize>,
    /// Per tier: the expected cost had every prompt gone there.
    all_on: Vec<f64>,
    /// The expected cost of the decisions.
    spent: f64,
    /// Lines that repeated a prompt id already routed.
    repeats: usize,
}

/// Route every line of `input` (named `file` in errors) and write a decision per prompt to `out`.
fn route_all(
    router: &Router,
    file: &str,
    input: impl BufRead,
    out: &mut impl Write,
) -> Result<Tally> {
    let names: Vec<String> = router.tiers().iter().map(|t| t.name.clone()).collect();
    let mut t = Tally {
        n: 0,
        routed: vec![0; names.len()],
        all_on: vec![0.0; names.len()],
        spent: 0.0,
        repeats: 0,
    };
    let mut d = Decision::default();
    // Prompt id → (hash of its text, the line it was routed from).
    let mut seen: HashMap<String, (u64, usize)> = HashMap::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("{file}:{}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, prompt) = prompt_of(file, i + 1, &line)?;
        let hash = text::fnv1a64(prompt.text_str().as_bytes());
        match seen.entry(id.clone()) {
            Entry::Occupied(e) if e.get().0 == hash => {
                t.repeats += 1;
                continue;
            }
            Entry::Occupied(e) => bail!(
                "{file}:{}: field `id`: `{}` was routed at line {} with another prompt",
                i + 1,
                e.key(),
                e.get().1
            ),
            Entry::Vacant(e) => {
                e.insert((hash, i + 1));
            }
        }
        router.decide_into(&prompt, &mut d);
        let p: Map<String, Value> = names
            .iter()
            .zip(&d.p)
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let c: Map<String, Value> = names
            .iter()
            .zip(&d.expected_cost_usd)
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut rec = json!({
            "id": id, "tier": d.tier, "model": d.model, "difficulty": names[d.difficulty],
            "p": p, "expected_cost_usd": c,
        });
        let mask = router.choosable(&prompt);
        if !mask.is_empty() {
            let only: Vec<&String> = names
                .iter()
                .zip(mask)
                .filter(|(_, &m)| m)
                .map(|(n, _)| n)
                .collect();
            rec["choosable"] = json!(only);
        }
        writeln!(out, "{rec}")?;
        t.n += 1;
        t.routed[d.tier_index] += 1;
        t.spent += d.expected_cost_usd[d.tier_index];
        t.all_on
            .iter_mut()
            .zip(&d.expected_cost_usd)
            .for_each(|(a, c)| *a += c);
    }
    Ok(t)
}

/// `routed N prompts with λ = L: tier n (share), …; expected cost $X, Y% of $Z all on T` (T the
/// tier that would cost most).
fn summary(
    n: usize,
    lambda: f64,
    names: &[String],
    routed: &[usize],
    spent: f64,
    all_on: &[f64],
) -> String {
    let num = tierwise_eval::markdown::num;
    let plural = if n == 1 { "" } else { "s" };
    let mut s = format!("routed {n} prompt{plural} with λ = {}", num(lambda));
    if n == 0 {
        return s;
    }
    let shares: Vec<String> = names
        .iter()
        .zip(routed)
        .filter(|(_, &k)| k > 0)
        .map(|(t, &k)| format!("{t} {k} ({:.0}%)", 100.0 * k as f64 / n as f64))
        .collect();
    s += &format!(": {}", shares.join(", "));
    let top = (0..all_on.len()).max_by(|&a, &b| all_on[a].total_cmp(&all_on[b]));
    if let Some(t) = top.filter(|&t| all_on[t] > 0.0) {
        s += &format!(
            "; expected cost ${}, {:.0}% of ${} all on {}",
            num(spent),
            100.0 * spent / all_on[t],
            num(all_on[t]),
            names[t]
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{prompt_of, summary};

    #[test]
    fn a_leading_byte_order_mark_is_skipped_and_bad_json_is_labelled_like_stats() {
        let line = "\u{feff}{\"id\":\"a\",\"prompt\":\"hello\"}";
        let (id, prompt) = prompt_of("in.jsonl", 1, line).unwrap();
        assert_eq!((id.as_str(), prompt.text_str()), ("a", "hello"));
        let row = "\u{feff}{\"id\":\"a\",\"prompt\":\"hello\",\"model\":\"m\"}";
        assert_eq!(prompt_of("in.jsonl", 1, row).unwrap().0, "a");
        for (bad, reason) in [
            ("{\"id\":", "malformed JSON at column"),
            ("[1]", "the line is not a JSON object"),
        ] {
            let e = prompt_of("in.jsonl", 2, bad).unwrap_err().to_string();
            assert!(
                e.starts_with("in.jsonl:2: field `(json)`: ") && e.contains(reason),
                "{e}"
            );
        }
    }

    #[test]
    fn the_summary_gives_each_tiers_share_and_the_expected_saving() {
        let names = ["mini".to_string(), "large".to_string()];
        let s = summary(4, 0.05, &names, &[3, 1], 0.25, &[0.04, 1.0]);
        assert_eq!(
            s,
            "routed 4 prompts with λ = 0.0500: mini 3 (75%), large 1 (25%); \
             expected cost $0.250, 25% of $1.00 all on large"
        );
        assert_eq!(
            summary(0, 0.05, &names, &[0, 0], 0.0, &[0.0, 0.0]),
            "routed 0 prompts with λ = 0.0500"
        );
    }
}
