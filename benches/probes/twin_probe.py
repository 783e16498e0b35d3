#!/usr/bin/env python3
"""Probe: do Winogrande's twin sentences carry routing signal? Not part of the product; the
evidence behind the README's reading of the Winogrande row of benches/quality.sh.

Winogrande's sentences come in twins that differ by a word or two and swap the answer. For each
prompt, its twin is the other prompt of the set with the highest word Jaccard similarity (of the
prompt's last paragraph, the question) above a threshold. The probe prints:
- per tier, the correlation of its pass/fail on a prompt with that on its twin;
- by 5-fold CV over fold seeds 41, 42, ...: per tier a logistic regression (C = 1) on two
  features, "has a training twin" and that twin's outcome for the tier (free to learn either
  sign), and its RouterBench AIQ (docs/metrics.md, the sweep and AIQ of encoder_probe.py) minus
  the no-features prior's.

Setup as for encoder_probe.py. Usage:
  benches/probes/twin_probe.py [SET] [SEEDS] [THRESHOLD]   default: winogrande 10 0.7
  SET among mbpp arc winogrande.
"""
import os, re, sys

import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from encoder_probe import aiq, load, sweep  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402


def similarity(texts):
    """The word Jaccard similarity of every two prompts (-1 on the diagonal)."""
    words = [set(re.findall(r"\w+", t.split('\n\n')[-1].lower())) for t in texts]
    n = len(words)
    sim = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            union = len(words[i] | words[j])
            sim[i, j] = sim[j, i] = len(words[i] & words[j]) / union if union else 0.0
    np.fill_diagonal(sim, -1.0)
    return sim


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else 'winogrande'
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    threshold = float(sys.argv[3]) if len(sys.argv) > 3 else 0.7
    texts, q, c = load(name)
    y = (q >= 0.5).astype(float)
    n, nt = y.shape
    sim = similarity(texts)
    best = sim.argmax(1)
    has = sim[np.arange(n), best] > threshold
    print(f"{name}: {has.sum()} of {n} prompts have a twin (word Jaccard > {threshold})")
    i, j = np.where(has)[0], best[has]
    cors = [np.corrcoef(y[i, t], y[j, t])[0, 1] if y[i, t].std() > 0 else float('nan')
            for t in range(nt)]
    print("per-tier outcome correlation with the twin: " + " ".join(f"{r:+.2f}" for r in cors))

    def feats(rows, pool):
        f = np.zeros((len(rows), 1 + nt))
        for k, r in enumerate(rows):
            s = sim[r, pool]
            m = s.argmax()
            if s[m] > threshold:
                f[k, 0] = 1.0
                f[k, 1:] = y[pool[m]] - 0.5
        return f

    lo, hi = c.mean(0).min(), c.mean(0).max()
    gains = []
    for seed in range(41, 41 + seeds):
        p, p0 = np.zeros(q.shape), np.zeros(q.shape)
        for tr, te in KFold(5, shuffle=True, random_state=seed).split(texts):
            p0[te] = (y[tr].sum(0) + 0.5) / (len(tr) + 1)
            ftr, fte = feats(tr, tr), feats(te, tr)
            for t in range(nt):
                cols = [0, 1 + t]
                model = LogisticRegression(C=1.0, max_iter=2000).fit(ftr[:, cols], y[tr, t])
                p[te, t] = model.predict_proba(fte[:, cols])[:, 1]
        gains.append(aiq(sweep(p, q, c), lo, hi) - aiq(sweep(p0, q, c), lo, hi))
        print(f"seed {seed}: twin-feature AIQ minus prior {gains[-1]:+.4f}", flush=True)
    g = np.array(gains)
    print(f"mean {g.mean():+.4f}, standard error {g.std(ddof=1) / np.sqrt(len(g)):.4f}, "
          f"won {(g > 0).sum()} of {len(g)}")


if __name__ == '__main__':
    main()
