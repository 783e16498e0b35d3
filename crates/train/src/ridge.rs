//! Exact L2-regularised logistic regression on a few dense inputs (Newton's method), and the
//! leading principal subspace of a set of vectors (subspace iteration): the linear member's
//! dense part ([`crate::linear`]).
//!
//! Why exact: on a few hundred prompts, SGD stopped early lands wherever its first epochs went,
//! and each tier somewhere else; ridge regression's solution depends only on the data and the
//! penalty, so every tier is regularised alike and the tiers' probabilities stay comparable.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Penalties `1 / C` tried (C as in scikit-learn: the objective is the summed log loss plus
/// `||w||² / (2C)`; the bias is not penalised, but see [`fit`]), strongest first.
pub const C_GRID: [f64; 6] = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0];

/// Weights and bias of one regression.
#[derive(Debug, Clone, PartialEq)]
pub struct Ridge {
    /// One weight per input.
    pub w: Vec<f64>,
    /// The bias.
    pub b: f64,
}

impl Ridge {
    /// The start of a penalty path over `cells` with `d` inputs: no weights, and the bias at the
    /// logit of the rate [`fit`]'s bias prior keeps, (passes + 1) / (cells + 2).
    pub fn start(cells: &[(&[f64], f64, f64)], d: usize) -> Ridge {
        let pos = cells.iter().map(|c| c.1).sum::<f64>() + 1.0;
        Ridge {
            w: vec![0.0; d],
            b: (pos / (cells.len() as f64 + 2.0 - pos)).ln(),
        }
    }

    /// The logit of input `x`.
    pub fn logit(&self, x: &[f64]) -> f64 {
        self.b + x.iter().zip(&self.w).map(|(x, w)| x * w).sum::<f64>()
    }
}

/// The log loss of logit `z` against label `y` in its stable form,
/// `max(z, 0) − z·y + ln(1 + e^−|z|)`.
pub fn bce(z: f64, y: f64) -> f64 {
    z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
}

/// Summed log loss of `r` on the `(input, label, offset)` cells.
pub fn log_loss(r: &Ridge, cells: &[(&[f64], f64, f64)]) -> f64 {
    cells.iter().map(|&(x, y, o)| bce(r.logit(x) + o, y)).sum()
}

/// Minimise `Σ log loss(x·w + b + offset, y) + ||w||² / (2c)` over `cells`, plus one pass and
/// one fail at input 0 (the bias's prior: with cells that all pass, or all fail, the bias would
/// otherwise run to ±∞; it stays at the rate (passes + 1) / (cells + 2)), by Newton's method
/// from `start` (a warm start along a penalty path), to a step below 1e-8 or 50 iterations.
pub fn fit(cells: &[(&[f64], f64, f64)], c: f64, start: &Ridge) -> Ridge {
    let d = start.w.len();
    let m = d + 1; // the bias last
    let alpha = 1.0 / c;
    let objective = |r: &Ridge| {
        log_loss(r, cells)
            + bce(r.b, 1.0)
            + bce(r.b, 0.0)
            + 0.5 * alpha * r.w.iter().map(|w| w * w).sum::<f64>()
    };
    let mut r = start.clone();
    let mut f = objective(&r);
    for _ in 0..50 {
        let mut g = vec![0f64; m];
        let mut h = vec![0f64; m * m];
        for &(x, y, o) in cells {
            let p = 1.0 / (1.0 + (-(r.logit(x) + o)).exp());
            let (e, s) = (p - y, (p * (1.0 - p)).max(1e-12));
            for i in 0..d {
                g[i] += e * x[i];
                for j in 0..=i {
                    h[i * m + j] += s * x[i] * x[j];
                }
                h[d * m + i] += s * x[i];
            }
            g[d] += e;
            h[d * m + d] += s;
        }
        for i in 0..d {
            g[i] += alpha * r.w[i];
            h[i * m + i] += alpha;
        }
        // The pass and the fail at input 0.
        let p0 = 1.0 / (1.0 + (-r.b).exp());
        g[d] += 2.0 * p0 - 1.0;
        h[d * m + d] += 2.0 * p0 * (1.0 - p0) + 1e-9;
        for i in 0..m {
            for j in 0..i {
                h[j * m + i] = h[i * m + j];
            }
        }
        let Some(step) = solve(&mut h, &g, m) else {
            break;
        };
        // Halve the step until the objective does not rise (it rarely needs to).
        let mut t = 1.0;
        let mut next = r.clone();
        loop {
            for ((n, w), s) in next.w.iter_mut().zip(&r.w).zip(&step) {
                *n = w - t * s;
            }
            next.b = r.b - t * step[d];
            let fn_ = objective(&next);
            if fn_ <= f + 1e-12 || t < 1e-4 {
                f = fn_;
                break;
            }
            t *= 0.5;
        }
        r = next;
        if step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max) < 1e-8 {
            break;
        }
    }
    r
}

/// Solve `h · x = g` for a symmetric positive definite `m × m` `h` (Cholesky, in place);
/// `None` when it is not positive definite.
fn solve(h: &mut [f64], g: &[f64], m: usize) -> Option<Vec<f64>> {
    for j in 0..m {
        let mut s = h[j * m + j];
        for k in 0..j {
            s -= h[j * m + k] * h[j * m + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let l = s.sqrt();
        h[j * m + j] = l;
        for i in j + 1..m {
            let mut s = h[i * m + j];
            for k in 0..j {
                s -= h[i * m + k] * h[j * m + k];
            }
            h[i * m + j] = s / l;
        }
    }
    let mut x = g.to_vec();
    for i in 0..m {
        for k in 0..i {
            x[i] -= h[i * m + k] * x[k];
        }
        x[i] /= h[i * m + i];
    }
    for i in (0..m).rev() {
        for k in i + 1..m {
            x[i] -= h[k * m + i] * x[k];
        }
        x[i] /= h[i * m + i];
    }
    Some(x)
}

/// An orthonormal basis (`k` rows of `dim`) of the leading `k`-dimensional principal subspace
/// of the centred `rows` (each `dim` wide): 30 rounds of subspace iteration on their
/// covariance from a seeded start. Ridge regression is rotation-invariant, so the basis's
/// orientation within the subspace does not matter.
pub fn principal_subspace(rows: &[&[f32]], mean: &[f64], k: usize, seed: u64) -> Vec<Vec<f64>> {
    let dim = mean.len();
    let k = k.min(dim);
    let mut cov = vec![0f64; dim * dim];
    let mut c = vec![0f64; dim];
    for r in rows {
        for (j, x) in r.iter().enumerate() {
            c[j] = *x as f64 - mean[j];
        }
        for i in 0..dim {
            let ci = c[i];
            for j in 0..=i {
                cov[i * dim + j] += ci * c[j];
            }
        }
    }
    for i in 0..dim {
        for j in 0..i {
            cov[j * dim + i] = cov[i * dim + j];
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut q: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    orthonormalise(&mut q);
    for _ in 0..30 {
        q = q
            .iter()
            .map(|v| {
                (0..dim)
                    .map(|i| (0..dim).map(|j| cov[i * dim + j] * v[j]).sum())
                    .collect()
            })
            .collect();
        orthonormalise(&mut q);
    }
    q
}

/// Modified Gram–Schmidt; a vector that vanishes is left at 0.
fn orthonormalise(q: &mut [Vec<f64>]) {
    for i in 0..q.len() {
        for j in 0..i {
            let dot: f64 = q[i].iter().zip(&q[j]).map(|(a, b)| a * b).sum();
            let (head, tail) = q.split_at_mut(i);
            tail[0]
                .iter_mut()
                .zip(&head[j])
                .for_each(|(a, b)| *a -= dot * b);
        }
        let norm = q[i].iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-12 {
            q[i].iter_mut().for_each(|a| *a /= norm);
        } else {
            q[i].iter_mut().for_each(|a| *a = 0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At the optimum the gradient vanishes: Σ (p − y) x + w / c = 0 and
    /// Σ (p − y) + (2 σ(b) − 1) = 0 (the bias's pass and fail at input 0).
    #[test]
    fn newton_reaches_the_penalised_optimum() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let xs: Vec<Vec<f64>> = (0..300)
            .map(|_| (0..4).map(|_| rng.random_range(-2.0..2.0)).collect())
            .collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| (x[0] - 0.5 * x[1] + rng.random_range(-1.0..1.0) > 0.3) as u8 as f64)
            .collect();
        let offsets: Vec<f64> = (0..300).map(|i| (i % 3) as f64 * 0.1).collect();
        let cells: Vec<(&[f64], f64, f64)> = xs
            .iter()
            .zip(&ys)
            .zip(&offsets)
            .map(|((x, &y), &o)| (x.as_slice(), y, o))
            .collect();
        for c in [0.01, 1.0, 100.0] {
            let r = fit(
                &cells,
                c,
                &Ridge {
                    w: vec![0.0; 4],
                    b: 0.0,
                },
            );
            let mut g = vec![0f64; 5];
            for &(x, y, o) in &cells {
                let e = 1.0 / (1.0 + (-(r.logit(x) + o)).exp()) - y;
                (0..4).for_each(|i| g[i] += e * x[i]);
                g[4] += e;
            }
            (0..4).for_each(|i| g[i] += r.w[i] / c);
            g[4] += 2.0 / (1.0 + (-r.b).exp()) - 1.0;
            assert!(g.iter().all(|v| v.abs() < 1e-6), "c {c}: {g:?}");
        }
        // A stronger penalty gives smaller weights.
        let norm = |c| {
            fit(
                &cells,
                c,
                &Ridge {
                    w: vec![0.0; 4],
                    b: 0.0,
                },
            )
            .w
            .iter()
            .map(|w| w * w)
            .sum::<f64>()
        };
        assert!(norm(0.01) < norm(1.0));
    }

    /// Points spread along (1, 1, 0) and less along (0, 0, 1): the leading direction is found.
    #[test]
    fn finds_the_leading_direction() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let rows: Vec<Vec<f32>> = (0..500)
            .map(|_| {
                let (a, b): (f32, f32) = (rng.random_range(-3.0..3.0), rng.random_range(-0.3..0.3));
                vec![a + 1.0, a - 2.0, b]
            })
            .collect();
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let mean: Vec<f64> = (0..3)
            .map(|j| rows.iter().map(|r| r[j] as f64).sum::<f64>() / 500.0)
            .collect();
        let q = principal_subspace(&refs, &mean, 1, 3);
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (q[0][0].abs() - s).abs() < 1e-3 && (q[0][1].abs() - s).abs() < 1e-3,
            "{q:?}"
        );
        assert!(q[0][2].abs() < 1e-3);
    }
}
