//! Baselines the quality bench compares the router with, on the same folds:
//! - the no-features prior router: every prompt gets each tier's training pass rate;
//! - TF-IDF (hashed word unigrams + bigrams, L2-normalised) + one L2-regularised logistic
//!   regression per tier (AdaGrad SGD, seeded), trained on the observed cells only.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tierwise_core::{text::fnv1a64, OutcomeTable};

/// Per tier, `(passes, observed cells)` over `table`.
pub fn pass_counts(table: &OutcomeTable) -> Vec<(usize, usize)> {
    (0..table.n_tiers())
        .map(|t| {
            (0..table.len())
                .filter_map(|p| table.passed(p, t))
                .fold((0, 0), |(pos, n), pass| (pos + pass as usize, n + 1))
        })
        .collect()
}

/// Per tier, the smoothed pass rate `(passes + ½) / (observed + 1)` over `table`: never 0 or 1,
/// and ½ for a tier with no observed cell.
pub fn smoothed_rates(table: &OutcomeTable) -> Vec<f64> {
    pass_counts(table)
        .into_iter()
        .map(|(pos, n)| (pos as f64 + 0.5) / (n as f64 + 1.0))
        .collect()
}

/// Per-tier pass rate over the observed cells of `table` (0.5 when a tier has none).
pub fn prior(table: &OutcomeTable) -> Vec<f32> {
    pass_counts(table)
        .into_iter()
        .map(|(pos, n)| if n == 0 { 0.5 } else { pos as f32 / n as f32 })
        .collect()
}

const BUCKETS: usize = 1 << 18;

fn terms(text: &str) -> Vec<usize> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<usize> = words
        .iter()
        .map(|w| fnv1a64(w.as_bytes()) as usize % BUCKETS)
        .collect();
    for w in words.windows(2) {
        out.push(fnv1a64(format!("{} {}", w[0], w[1]).as_bytes()) as usize % BUCKETS);
    }
    out
}

/// TF-IDF + logistic regression per tier.
#[derive(Debug, Clone)]
pub struct TfidfLr {
    idf: Vec<f32>,
    w: Vec<Vec<f32>>,
    b: Vec<f32>,
}

impl TfidfLr {
    fn vector(&self, text: &str) -> Vec<(usize, f32)> {
        let mut t = terms(text);
        t.sort_unstable();
        let mut v: Vec<(usize, f32)> = Vec::new();
        for x in t {
            match v.last_mut() {
                Some((k, c)) if *k == x => *c += 1.0,
                _ => v.push((x, 1.0)),
            }
        }
        for (k, c) in v.iter_mut() {
            *c = (1.0 + c.ln()) * self.idf[*k];
        }
        let norm = v.iter().map(|(_, c)| c * c).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|(_, c)| *c /= norm);
        v
    }

    /// Fit on every observed cell of `table`.
    pub fn fit(table: &OutcomeTable, seed: u64) -> TfidfLr {
        let n = table.len();
        let mut df = vec![0u32; BUCKETS];
        let docs: Vec<Vec<usize>> = table.prompts.iter().map(|p| terms(&p.text)).collect();
        for d in &docs {
            let mut u = d.clone();
            u.sort_unstable();
            u.dedup();
            u.iter().for_each(|&k| df[k] += 1);
        }
        let idf = df
            .iter()
            .map(|&d| ((1.0 + n as f32) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        let mut m = TfidfLr {
            idf,
            w: Vec::new(),
            b: Vec::new(),
        };
        let xs: Vec<Vec<(usize, f32)>> = table.prompts.iter().map(|p| m.vector(&p.text)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (epochs, lr, l2) = (20, 0.5f32, 1e-4f32);
        for t in 0..table.n_tiers() {
            let mut rows: Vec<(usize, f32)> = (0..n)
                .filter_map(|p| table.passed(p, t).map(|y| (p, y as u8 as f32)))
                .collect();
            let mut w = vec![0f32; BUCKETS];
            let mut g2 = vec![1e-8f32; BUCKETS];
            let (mut b, mut gb2) = (0f32, 1e-8f32);
            for _ in 0..epochs {
                rows.shuffle(&mut rng);
                for &(p, y) in &rows {
                    let z: f32 = b + xs[p].iter().map(|&(k, v)| w[k] * v).sum::<f32>();
                    let g = 1.0 / (1.0 + (-z).exp()) - y;
                    for &(k, v) in &xs[p] {
                        let gk = g * v + l2 * w[k];
                        g2[k] += gk * gk;
                        w[k] -= lr * gk / g2[k].sqrt();
                    }
                    gb2 += g * g;
                    b -= lr * g / gb2.sqrt();
                }
            }
            m.w.push(w);
            m.b.push(b);
        }
        m
    }

    /// P(pass) per tier.
    pub fn predict(&self, text: &str) -> Vec<f32> {
        let x = self.vector(text);
        self.w
            .iter()
            .zip(&self.b)
            .map(|(w, b)| {
                let z = b + x.iter().map(|&(k, v)| w[k] * v).sum::<f32>();
                1.0 / (1.0 + (-z).exp())
            })
            .collect()
    }
}
