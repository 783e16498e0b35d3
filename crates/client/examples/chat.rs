//! Route one prompt, call the provider, print the reply, tier and cost.
//!
//! ```text
//! cargo run -p tierwise-client --example chat -- "Explain TCP slow start in two sentences"
//! cargo run -p tierwise-client --example chat -- --tiers tiers.toml --router models/demo "…"
//! cargo run -p tierwise-client --example chat -- --tiers tiers.toml --tier large "…"
//! ```
//!
//! `--router DIR` routes with a trained router (`tierwise train` output). Without it, a demo rule
//! (prompts over 300 characters go to the last tier) stands in. Without `--tiers` it uses two
//! OpenAI tiers (gpt-4o-mini, gpt-4o). With no API key set for the
//! chosen tier it names the missing variable and exits with status 2.
use std::process::ExitCode;

use tierwise_client::{ChatRequest, Client, JsonlSink, Tiers};
use tierwise_core::{Price, Tier};
use tierwise_router::Router;

fn default_tiers() -> Tiers {
    let mut small = Tier::new("small", "gpt-4o-mini");
    small.price = Price {
        input: 0.15,
        output: 0.60,
        cache_read: Some(0.075),
        cache_write: None,
    };
    small.max_tokens = Some(512);
    let mut large = Tier::new("large", "gpt-4o");
    large.price = Price {
        input: 2.50,
        output: 10.0,
        cache_read: Some(1.25),
        cache_write: None,
    };
    large.max_tokens = Some(1024);
    Tiers {
        tiers: vec![small, large],
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut tiers_path, mut router, mut tier, mut prompt) = (None, None, None, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tiers" => tiers_path = args.next(),
            "--tier" => tier = args.next(),
            "--router" => router = args.next(),
            "-h" | "--help" => {
                eprintln!("usage: chat [--tiers tiers.toml] [--router DIR] [--tier NAME] PROMPT…");
                return ExitCode::SUCCESS;
            }
            _ => prompt.push(a),
        }
    }
    if prompt.is_empty() {
        eprintln!("error: give a prompt, e.g. `chat \"What is a mutex?\"`");
        return ExitCode::from(2);
    }
    let tiers = match tiers_path {
        Some(p) => match Tiers::from_file(&p) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => default_tiers(),
    };
    let last = tiers
        .tiers
        .last()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let first = tiers.tiers[0].name.clone();
    let builder = Client::builder()
        .tiers(tiers)
        .log_sink(JsonlSink::daily("logs/"));
    let builder = match router {
        Some(dir) => match Router::load(&dir) {
            Ok(r) => builder.router(r),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => builder.router(move |r: &ChatRequest| {
            let len: usize = r.messages.iter().map(|m| m.text().len()).sum();
            if len > 300 {
                last.clone()
            } else {
                first.clone()
            }
        }),
    };
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut req = ChatRequest::user(prompt.join(" ")).feature("example");
    if let Some(t) = tier {
        req = req.tier(t);
    }
    // Say which key is missing before making the call.
    let chosen = match client.tier_for(&req) {
        Ok(t) => client.tiers().tiers[t].name.clone(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some((_, var)) = client
        .missing_api_keys()
        .into_iter()
        .find(|(t, _)| *t == chosen)
    {
        eprintln!(
            "error: no API key: the routed tier `{chosen}` reads it from the environment variable \
             {var}, which is not set.\n       export {var}=… and run again."
        );
        return ExitCode::from(2);
    }
    match client.chat(req).await {
        Ok(r) => {
            println!("{}", r.text);
            eprintln!(
                "tier {} ({}), {} in / {} out tokens ({} cached), ${:.6}, {:?}, {} attempt(s)",
                r.tier,
                r.model,
                r.usage.input,
                r.usage.output,
                r.usage.cache_read,
                r.cost_usd,
                r.latency,
                r.attempts
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
