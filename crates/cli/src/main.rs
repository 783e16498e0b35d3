//! The `tierwise` binary: one module per subcommand; all logic lives in the library crates.
use anyhow::Result;
use clap::{Parser, Subcommand};

mod demo;
mod eval;
mod gate;
mod import;
mod route;
mod stats;
mod train;

/// Learn from logged LLM calls which model tier each prompt needs, prove it with held-out evals,
/// and serve the decision in-process.
#[derive(Parser)]
#[command(name = "tierwise", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn public outcome data (RouterBench, RouteLLM) into tierwise logs.
    Import(import::Args),
    /// Cost and quality dashboard over logs.
    Stats(stats::Args),
    /// Generate the synthetic demo workload (seeded).
    Demo(demo::Args),
    /// Train a router from logs.
    Train(train::Args),
    /// Route prompts with a trained router.
    Route(route::Args),
    /// Evaluate tiers and a router on held-out logs.
    Eval(eval::Args),
    /// Check an eval report against a gate file (exit 0 pass, 1 fail, 2 error).
    Gate(gate::Args),
}

fn main() {
    // Before any thread starts: candle's thread settings for training (kept if the user set them).
    tierwise_train::threads::apply_env_defaults();
    let cli = Cli::parse();
    let result: Result<i32> = match cli.command {
        Command::Import(a) => import::run(a).map(|_| 0),
        Command::Stats(a) => stats::run(a).map(|_| 0),
        Command::Demo(a) => demo::run(a).map(|_| 0),
        Command::Train(a) => train::run(a).map(|_| 0),
        Command::Route(a) => route::run(a).map(|_| 0),
        Command::Eval(a) => eval::run(a).map(|_| 0),
        Command::Gate(a) => gate::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
