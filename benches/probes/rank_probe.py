#!/usr/bin/env python3
"""Probe: how many shared scores should the tiers read? Not part of the product; the evidence
behind the low-rank member (crates/train/src/lowrank.rs).

Per tier a ridge regression (scikit-learn, one penalty for all tiers chosen by 5-fold CV on the
summed squared error) of the outcome minus the tier's pass rate, on mean-pooled word uni- and
bigram counts; the scores are the leading principal directions of the out-of-fold predictions
(YPCA=1: of the outcomes instead), and each tier's logistic regression (C = 1) is fitted on the
out-of-fold scores. RouterBench AIQ as docs/metrics.md defines it (the sweep and AIQ of
encoder_probe.py), minus the no-features prior's, by 5-fold CV over fold seeds 41, 42, ...;
for GSM8K (list-price-like costs 0.3 and 10 per 1,000 calls) also APGR.

Setup as for encoder_probe.py. Usage:
  benches/probes/rank_probe.py SET SEEDS RANKS   e.g. rank_probe.py mbpp 40 1,2,3,11
  SET among mbpp arc winogrande gsm8k.
"""
import os, sys

import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from encoder_probe import load, aiq, sweep, apgr
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
import warnings; warnings.filterwarnings('ignore')
name = sys.argv[1]; nseeds = int(sys.argv[2]); RANKS = [int(r) for r in sys.argv[3].split(',')]
X, q, c = load(name)
YPCA = os.environ.get('YPCA') == '1'
if c is None:  # gsm8k: list-price-like costs
    c = np.tile([0.3, 10.0], (len(q), 1)) * 1e-3
GRID = [0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 100, 1000]
def crossfit(a, S, al, seed):
    d = np.zeros(S.shape)
    for itr, iva in KFold(5, shuffle=True, random_state=seed).split(a):
        d[iva] = Ridge(alpha=al).fit(a[itr], S[itr]).predict(a[iva])
    return d
def model(a, b, y, seed, r):
    pr = (y.sum(0) + .5) / (len(y) + 1)
    S = y - pr
    if YPCA:
        mu0 = S.mean(0)
        _, _, Vt0 = np.linalg.svd(S - mu0, full_matrices=False)
        S = (S - mu0) @ Vt0[:r].T
    errs = [((crossfit(a, S, g, seed) - S) ** 2).sum() for g in GRID]
    al = GRID[int(np.argmin(errs))]
    oof = crossfit(a, S, al, seed)
    full = Ridge(alpha=al).fit(a, S)
    te = full.predict(b)
    mu = oof.mean(0)
    if YPCA:
        V = np.eye(S.shape[1])
    else:
        U, s, Vt = np.linalg.svd(oof - mu, full_matrices=False)
        V = Vt[:r].T
    ztr, zte = (oof - mu) @ V, (te - mu) @ V
    sd = ztr.std(0) + 1e-9
    ztr, zte = ztr / sd, zte / sd
    out = np.zeros((b.shape[0], y.shape[1]))
    for t in range(y.shape[1]):
        out[:, t] = LogisticRegression(C=1.0).fit(ztr, y[:, t]).predict_proba(zte)[:, 1]
    return out
res = {}
for seed in range(41, 41 + nseeds):
    P = {}
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(X):
        y = q[tr]
        P.setdefault('prior', np.zeros_like(q))[te] = (y.sum(0) + .5) / (len(y) + 1)
        v = CountVectorizer(ngram_range=(1, 2), min_df=2)
        a = normalize(v.fit_transform(X[tr]).astype(float), norm='l1'); b = normalize(v.transform(X[te]).astype(float), norm='l1')
        for r in RANKS:
            P.setdefault(f'rank{r}', np.zeros_like(q))[te] = model(a, b, y, seed, min(r, q.shape[1]))
    lo, hi = c.mean(0).min(), c.mean(0).max()
    base = aiq(sweep(P['prior'], q, c), lo, hi)
    for k in P:
        if k != 'prior':
            res.setdefault(k, []).append(aiq(sweep(P[k], q, c), lo, hi) - base)
            if q.shape[1] == 2: res.setdefault(k + ' apgr', []).append(apgr(P[k][:, 1] - P[k][:, 0], q[:, 0], q[:, 1]))
for k, v in res.items():
    v = np.array(v); print(f'{name} {k}: {v.mean():+.4f} sd {v.std():.4f} won {(v>0).sum()}/{len(v)}')
