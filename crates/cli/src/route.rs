//! `tierwise route`: decide a tier for every prompt of a JSONL file with a trained router.
//! Input lines are log rows or `{"id", "prompt" | "messages", "feature"}` objects; each output
//! line is `{"id", "tier", "model", "difficulty", "p": {tier: prob}, "expected_cost_usd": {…}}`.
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Map, Value};
use tierwise_core::read::parse_line;
use tierwise_core::{text, Message};
use tierwise_router::{Decision, Prompt, Router, Target};

/// Arguments of `tierwise route`.
#[derive(clap::Args)]
pub struct Args {
    /// Model folder written by `tierwise train`.
    #[arg(long)]
    model: PathBuf,
    /// JSONL prompts: log rows, or {"id", "prompt"} / {"id", "messages"} objects.
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
    let v: Value =
        serde_json::from_str(line).map_err(|e| bad("(line)", &format!("not JSON: {e}")))?;
    let obj: &Map<String, Value> = v
        .as_object()
        .ok_or_else(|| bad("(line)", "not a JSON object"))?;
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
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("{file}:{}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, prompt) = prompt_of(&file, i + 1, &line)?;
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
    }
    out.flush()?;
    eprintln!("routed {n} prompts with λ = {}", router.lambda());
    Ok(())
}
