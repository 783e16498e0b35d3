#!/usr/bin/env python3
"""Probe: which features carry routing signal beyond chance, on the tiers the router may choose?

Not part of the product; the evidence behind the issue note's reading of RouterBench Winogrande.
AIQ takes the upper hull of a router's points, so a router that only scatters prompts across the
tiers beats the no-features prior by a little (crates/eval/src/null.rs). This probe scores
per-tier logistic regression on five featurisers (all-MiniLM-L6-v2 sentence embeddings, the
mean of its input token vectors (`static`), TF-IDF of word uni- and bigrams, and the router's
kind of bag: each uni- and bigram seen in 2 training prompts, counted and divided by the
prompt's count (`bag`), and the same times each n-gram's IDF (`bag-idf`)) at a few penalties
(the bags, whose values are ~1/length, at larger C), by 5-fold CV over fold seeds S, S+1, ...,
against:
- the no-features prior (smoothed training pass rates), and
- the same predictions dealt to random prompts (3 permutations per draw): the lead over these
  is what the featuriser learned about which prompt each tier passes.
Like the router, every method chooses only among the tiers the prior chooses over the λ grid
(`choosable`, from session 21), the best tier always among them.

Setup as for encoder_probe.py. Usage:
  benches/probes/chance_probe.py --model DIR [--seed 101] [--seeds 20] [--C 1 10]
      [--bag-C 100 1000] [SET ...]
  SET among mbpp arc winogrande (default: winogrande).
"""
import argparse, os, sys

import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from encoder_probe import DATA, MiniLM, aiq, load, sweep  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402


def choosable(y, c):
    """The tiers the no-features prior chooses over the sweep's λ grid, and the best tier."""
    rate = (y.sum(0) + 0.5) / (len(y) + 1)
    scale = c.mean(0) / c.mean(0).max()
    keep = {int(np.argmax(rate - lam * scale)) for lam in np.concatenate([[0], np.logspace(-4, 2, 200)])}
    return sorted(keep | {int(np.argmax(y.mean(0)))})


def bags(train, test):
    """The mean bag of uni- and bigrams seen in 2 training prompts, without and with IDF."""
    v = CountVectorizer(ngram_range=(1, 2), min_df=2)
    a, b = v.fit_transform(train).astype(float), v.transform(test).astype(float)
    idf = sp.diags(np.log((1 + a.shape[0]) / (1 + (a > 0).sum(0).A1)) + 1)
    a, b = (sp.diags(1 / np.maximum(x.sum(1).A1, 1)) @ x for x in (a, b))
    return {'bag': (a, b), 'bag-idf': (a @ idf, b @ idf)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--seed', type=int, default=101)
    ap.add_argument('--seeds', type=int, default=20)
    ap.add_argument('--C', type=float, nargs='+', default=[1.0, 10.0])
    ap.add_argument('--bag-C', type=float, nargs='+', default=[100.0, 1000.0])
    ap.add_argument('sets', nargs='*', default=['winogrande'])
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        print(f'skipped: {DATA} not found')
        return
    enc = MiniLM(args.model)
    for name in args.sets:
        texts, q, c = load(name)
        y = (q >= 0.5).astype(float)
        keep = choosable(y, c)
        dense = {'minilm': np.array([enc.encode(t) for t in texts]),
                 'static': np.array([enc.static(t) for t in texts])}
        lo, hi = c.mean(0).min(), c.mean(0).max()
        res = {}
        for seed in range(args.seed, args.seed + args.seeds):
            ps = {'prior': np.full(q.shape, -1.0)}
            for tr, te in KFold(5, shuffle=True, random_state=seed).split(texts):
                v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
                feats = {k: (x[tr], x[te]) for k, x in dense.items()}
                feats['tfidf'] = (v.fit_transform(texts[tr]), v.transform(texts[te]))
                feats.update(bags(texts[tr], texts[te]))
                for t in keep:
                    ps['prior'][te, t] = (y[tr, t].sum() + 0.5) / (len(tr) + 1)
                for f, (a, b) in feats.items():
                    for C in (args.bag_C if f.startswith('bag') else args.C):
                        p = ps.setdefault(f'{f} C={C:g}', np.full(q.shape, -1.0))
                        for t in keep:
                            lr = LogisticRegression(C=C, max_iter=3000).fit(a, y[tr, t])
                            p[te, t] = lr.predict_proba(b)[:, 1]
            a0 = aiq(sweep(ps['prior'], q, c), lo, hi)
            rng = np.random.default_rng(seed)
            for m, p in ps.items():
                if m != 'prior':
                    a = aiq(sweep(p, q, c), lo, hi)
                    null = np.mean([aiq(sweep(p[rng.permutation(len(p))], q, c), lo, hi)
                                    for _ in range(3)])
                    res.setdefault(m, []).append((a - a0, a - null))
        print(f'{name}: {len(texts)} prompts, choosable tiers {keep}, fold seeds '
              f'{args.seed}-{args.seed + args.seeds - 1}')
        for m, v in res.items():
            v = np.array(v)
            se = v.std(0, ddof=1) / np.sqrt(len(v))
            print(f'  {m:14s} minus prior {v[:, 0].mean():+.4f} (se {se[0]:.4f}, won '
                  f'{(v[:, 0] > 0).sum()}/{len(v)})  minus permuted {v[:, 1].mean():+.4f} '
                  f'(se {se[1]:.4f}, won {(v[:, 1] > 0).sum()}/{len(v)})', flush=True)


if __name__ == '__main__':
    sys.exit(main())
