//! `tierwise route`: decide a tier for every prompt of a JSONL file with a trained router.
//! Input lines are log rows or `{"id", "prompt" | "messages", "feature"}` objects; each output
//! line is `{"id", "tier", "model", "difficulty", "p": {tier: prob}, "expected_cost_usd": {…}}`.
use std::collections::hash_map::{Entry, HashMap};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

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
    /// Where to write decisions (default: stdout).
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
        router.set_target(t.parse::<Target>().context("--target")?)?;
    }
    let file = a.input.display().to_string();
    let input = std::fs::File::open(&a.input).with_context(|| file.clone())?;
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(BufWriter::new(
            std::fs::File::create(p).with_context(|| p.display().to_string())?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let names: Vec<String> = router.tiers().iter().map(|t| t.name.clone()).collect();
    let mut n = 0usize;
    let mut d = Decision::default();
    // Per tier: prompts routed there, and the expected cost had every prompt gone there.
    let mut routed = vec![0usize; names.len()];
    let mut all_on = vec![0f64; names.len()];
    let mut spent = 0f64;
    // Prompt id → (hash of its text, the line it was routed from).
    let mut seen: HashMap<String, (u64, usize)> = HashMap::new();
    let mut repeats = 0usize;
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("{file}:{}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, prompt) = prompt_of(&file, i + 1, &line)?;
        let hash = text::fnv1a64(prompt.text_str().as_bytes());
        match seen.entry(id.clone()) {
            Entry::Occupied(e) if e.get().0 == hash => {
                repeats += 1;
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
        let rec = json!({
            "id": id, "tier": d.tier, "model": d.model, "difficulty": names[d.difficulty],
            "p": p, "expected_cost_usd": c,
        });
        writeln!(out, "{rec}")?;
        n += 1;
        routed[d.tier_index] += 1;
        spent += d.expected_cost_usd[d.tier_index];
        all_on
            .iter_mut()
            .zip(&d.expected_cost_usd)
            .for_each(|(a, c)| *a += c);
    }
    out.flush()?;
    eprintln!(
        "{}",
        summary(n, router.lambda(), &names, &routed, spent, &all_on)
    );
    if repeats > 0 {
        eprintln!("{repeats} line(s) repeated a prompt id already routed: one decision per prompt");
    }
    Ok(())
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
    let mut s = format!("routed {n} prompts with λ = {}", num(lambda));
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
