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
mod whole;

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
            eprintln!("error: {}", message(&e));
            std::process::exit(2);
        }
    }
}

/// The error and its causes, joined by `: `, leaving out a cause that the message so far
/// already says (the libraries' errors name their source in their own text, `path: reason`).
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if text.is_empty() {
            text = cause;
        } else if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::message;
    use anyhow::Context;

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        // A library error that names its source in its text and also returns it as `source()`.
        #[derive(Debug)]
        struct Lib(std::io::Error);
        impl std::fmt::Display for Lib {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "m/router.json: {}", self.0)
            }
        }
        impl std::error::Error for Lib {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = anyhow::Error::new(Lib(io()));
        assert_eq!(message(&e), "m/router.json: no such file");
        // Context the binary adds still reads outermost first, and new causes are kept.
        let e = Err::<(), _>(io()).context("reading prompts").unwrap_err();
        assert_eq!(message(&e), "reading prompts: no such file");
        let e = anyhow::Error::new(Lib(io())).context("loading the router");
        assert_eq!(
            message(&e),
            "loading the router: m/router.json: no such file"
        );
    }
}
