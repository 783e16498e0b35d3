#!/usr/bin/env bash
# k-fold cross-validation of the router vs the prior router and TF-IDF + logistic regression on
# ../shared/datasets (RouterBench mix and tasks, RouteLLM GSM8K, RouteLLM MMLU with whole
# subjects held out per fold). Prints a markdown table. Usage: benches/quality.sh [--folds K] [SET…]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q -p tierwise-train --example cv -- "$@"
