//! Sparse ridge least squares for the low-rank member ([`crate::lowrank`]): the design (each
//! prompt's bag entries and dense features) and a Jacobi-preconditioned conjugate-gradient
//! solver that fits several targets on the same prompts in lockstep.
//!
//! Why lockstep: on benchmark logs every tier is known on every prompt, so the per-tier
//! regressions of one fold share their design and differ only in the target. The solver's
//! cost is the sparse products (`X̃ᵀX̃ v`); run side by side, one pass over a prompt's bag entries
//! serves every target (RouterBench, 11 tiers, release build: `tierwise train --members 0
//! --no-linear` 4.5 → 3.7 s, 7.7 → 5.7 s of CPU, medians of 3; RouteLLM MMLU's 2 tiers gain
//! nothing). Each target's arithmetic is that of a solve on its own, operation for operation,
//! so the weights are the same bytes either way.
use rayon::prelude::*;

/// The design: per prompt its `(row, weight)` bag entries, then its scaled dense features.
pub(crate) struct Design {
    pub(crate) sparse: Vec<Vec<(u32, f64)>>,
    pub(crate) dense: Vec<Vec<f64>>,
    pub(crate) rows: usize,
}

impl Design {
    pub(crate) fn width(&self) -> usize {
        self.rows + self.dense.first().map_or(0, Vec::len)
    }

    /// `x_p · θ`.
    pub(crate) fn dot(&self, p: usize, theta: &[f64]) -> f64 {
        let s: f64 = self.sparse[p]
            .iter()
            .map(|&(r, v)| theta[r as usize] * v)
            .sum();
        let d: f64 = self.dense[p]
            .iter()
            .zip(&theta[self.rows..])
            .map(|(x, u)| x * u)
            .sum();
        s + d
    }

    /// `out += c · x_p` (`sq`: `out += c · x_p²`, elementwise).
    pub(crate) fn add(&self, p: usize, c: f64, sq: bool, out: &mut [f64]) {
        for &(r, v) in &self.sparse[p] {
            out[r as usize] += c * if sq { v * v } else { v };
        }
        for (o, x) in out[self.rows..].iter_mut().zip(&self.dense[p]) {
            *o += c * if sq { x * x } else { *x };
        }
    }

    /// Per lane j, `x_p · v[·][j]`, summed in the order [`Design::dot`] sums.
    fn dot_lanes<const L: usize>(&self, p: usize, v: &[[f64; L]]) -> [f64; L] {
        let mut s = [-0.0; L];
        for &(r, w) in &self.sparse[p] {
            let row = &v[r as usize];
            for j in 0..L {
                s[j] += row[j] * w;
            }
        }
        let mut d = [-0.0; L];
        for (x, u) in self.dense[p].iter().zip(&v[self.rows..]) {
            for j in 0..L {
                d[j] += x * u[j];
            }
        }
        std::array::from_fn(|j| s[j] + d[j])
    }

    /// Per lane j, `out[·][j] += c[j] · x_p`.
    fn add_lanes<const L: usize>(&self, p: usize, c: [f64; L], out: &mut [[f64; L]]) {
        for &(r, w) in &self.sparse[p] {
            let row = &mut out[r as usize];
            for j in 0..L {
                row[j] += c[j] * w;
            }
        }
        for (o, x) in out[self.rows..].iter_mut().zip(&self.dense[p]) {
            for j in 0..L {
                o[j] += c[j] * x;
            }
        }
    }
}

/// A ridge regression: weights `theta` and intercept `c`.
#[derive(Clone)]
pub(crate) struct Lsq {
    pub(crate) theta: Vec<f64>,
    pub(crate) c: f64,
}

impl Lsq {
    pub(crate) fn predict(&self, x: &Design, p: usize) -> f64 {
        self.c + x.dot(p, &self.theta)
    }
}

/// Per entry of `cells` (each `(prompt, s)` pairs), minimise `Σ (s − c − x_p·θ)² + α ||θ||²`,
/// the intercept unpenalised, by conjugate gradients (Jacobi-preconditioned) on the centred
/// normal equations from `starts[i]`, to a residual below 1e-4 of the right-hand side's.
/// Entries over the same prompts in the same order are solved in lockstep, batches in
/// parallel; each fit is the one it would be alone.
pub(crate) fn solve_grouped(
    x: &Design,
    cells: &[Vec<(usize, f64)>],
    alpha: f64,
    starts: &[Vec<f64>],
) -> Vec<Lsq> {
    assert_eq!(cells.len(), starts.len(), "one start per regression");
    // Group by prompt list (first seen first), then cut each group into batches of LANES.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        let same = |g: &Vec<usize>| {
            let o = &cells[g[0]];
            o.len() == c.len() && o.iter().zip(c).all(|(a, b)| a.0 == b.0)
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    // Even batches of at most LANES (11 tiers: 6 and 5, not 8 and 3).
    let batches: Vec<&[usize]> = groups
        .iter()
        .flat_map(|g| g.chunks(g.len().div_ceil(g.len().div_ceil(LANES))))
        .collect();
    let solved: Vec<Vec<Lsq>> = batches
        .par_iter()
        .map(|b| {
            let prompts: Vec<usize> = cells[b[0]].iter().map(|c| c.0).collect();
            let targets: Vec<Vec<f64>> = b
                .iter()
                .map(|&i| cells[i].iter().map(|c| c.1).collect())
                .collect();
            let starts: Vec<&[f64]> = b.iter().map(|&i| starts[i].as_slice()).collect();
            match b.len() {
                1 => lockstep::<1>(x, &prompts, &targets, alpha, &starts),
                2 => lockstep::<2>(x, &prompts, &targets, alpha, &starts),
                3 | 4 => lockstep::<4>(x, &prompts, &targets, alpha, &starts),
                _ => lockstep::<LANES>(x, &prompts, &targets, alpha, &starts),
            }
        })
        .collect();
    let mut out: Vec<Option<Lsq>> = vec![None; cells.len()];
    for (b, fits) in batches.iter().zip(solved) {
        for (&i, f) in b.iter().zip(fits) {
            out[i] = Some(f);
        }
    }
    out.into_iter()
        .map(|f| f.expect("every regression in a batch"))
        .collect()
}

/// Regressions solved side by side at most: each sparse entry's loads then serve that many,
/// and the lanes' sums do not wait on each other.
const LANES: usize = 8;

/// Up to `L` conjugate-gradient solves in lockstep; unused lanes get a zero target, which is
/// solved before the first step (a zero right-hand side) and never moves.
fn lockstep<const L: usize>(
    x: &Design,
    prompts: &[usize],
    targets: &[Vec<f64>],
    alpha: f64,
    starts: &[&[f64]],
) -> Vec<Lsq> {
    let g = targets.len();
    assert!(g <= L, "{g} regressions for {L} lanes");
    let m = x.width();
    let n = prompts.len().max(1) as f64;
    let mut mean = vec![0f64; m];
    let mut diag = vec![0f64; m];
    for &p in prompts {
        x.add(p, 1.0 / n, false, &mut mean);
        x.add(p, 1.0, true, &mut diag);
    }
    diag.iter_mut()
        .zip(&mean)
        .for_each(|(d, mu)| *d = (*d - n * mu * mu).max(0.0) + alpha);
    let s_mean: [f64; L] = std::array::from_fn(|j| match targets.get(j) {
        Some(s) => s.iter().sum::<f64>() / n,
        None => 0.0,
    });
    // Per lane, a·b over the weights, summed in row order.
    let dot = |a: &[[f64; L]], b: &[[f64; L]]| -> [f64; L] {
        let mut s = [-0.0; L];
        for (a, b) in a.iter().zip(b) {
            for j in 0..L {
                s[j] += a[j] * b[j];
            }
        }
        s
    };
    // A·v = X̃ᵀX̃ v + α v, X̃ the rows minus their mean.
    let apply = |v: &[[f64; L]]| -> Vec<[f64; L]> {
        let mut shift = [-0.0; L];
        for (mu, v) in mean.iter().zip(v) {
            for j in 0..L {
                shift[j] += mu * v[j];
            }
        }
        let mut out: Vec<[f64; L]> = v.iter().map(|v| v.map(|x| alpha * x)).collect();
        for &p in prompts {
            let d = x.dot_lanes(p, v);
            x.add_lanes(p, std::array::from_fn(|j| d[j] - shift[j]), &mut out);
        }
        out
    };
    let mut b = vec![[0f64; L]; m];
    for (i, &p) in prompts.iter().enumerate() {
        x.add_lanes(
            p,
            std::array::from_fn(|j| targets.get(j).map_or(0.0, |s| s[i] - s_mean[j])),
            &mut b,
        );
    }
    let stop = dot(&b, &b).map(|bb| 1e-8 * bb);
    let mut theta: Vec<[f64; L]> = (0..m)
        .map(|r| std::array::from_fn(|j| starts.get(j).map_or(0.0, |s| s[r])))
        .collect();
    let mut r: Vec<[f64; L]> = b
        .iter()
        .zip(apply(&theta))
        .map(|(b, a)| std::array::from_fn(|j| b[j] - a[j]))
        .collect();
    let precond = |r: &[[f64; L]]| -> Vec<[f64; L]> {
        r.iter().zip(&diag).map(|(r, d)| r.map(|r| r / d)).collect()
    };
    let z = precond(&r);
    let mut rz = dot(&r, &z);
    let mut dir = z;
    // A lane stops for good at the first check its residual passes, as a lone solve breaks.
    let mut live = [true; L];
    for _ in 0..2000 {
        let rr = dot(&r, &r);
        (0..L).for_each(|j| live[j] &= rr[j] > stop[j]);
        if !live.contains(&true) {
            break;
        }
        let ad = apply(&dir);
        let dad = dot(&dir, &ad);
        let step: [f64; L] = std::array::from_fn(|j| rz[j] / dad[j]);
        for (((t, d), r), a) in theta.iter_mut().zip(&dir).zip(&mut r).zip(&ad) {
            for j in (0..L).filter(|&j| live[j]) {
                t[j] += step[j] * d[j];
                r[j] -= step[j] * a[j];
            }
        }
        let z = precond(&r);
        let next = dot(&r, &z);
        for (d, z) in dir.iter_mut().zip(&z) {
            for j in (0..L).filter(|&j| live[j]) {
                d[j] = z[j] + next[j] / rz[j] * d[j];
            }
        }
        (0..L).filter(|&j| live[j]).for_each(|j| rz[j] = next[j]);
    }
    (0..g)
        .map(|j| {
            let theta: Vec<f64> = theta.iter().map(|t| t[j]).collect();
            let c = s_mean[j] - mean.iter().zip(&theta).map(|(a, b)| a * b).sum::<f64>();
            Lsq { theta, c }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Gaussian elimination with partial pivoting on a small dense system.
    fn gauss(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
        let n = b.len();
        for i in 0..n {
            let p = (i..n)
                .max_by(|&x, &y| a[x][i].abs().total_cmp(&a[y][i].abs()))
                .unwrap();
            a.swap(i, p);
            b.swap(i, p);
            for r in i + 1..n {
                let f = a[r][i] / a[i][i];
                let pivot = a[i].clone();
                a[r].iter_mut()
                    .zip(&pivot)
                    .skip(i)
                    .for_each(|(x, p)| *x -= f * p);
                b[r] -= f * b[i];
            }
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|c| a[i][c] * x[c]).sum();
            x[i] = (b[i] - s) / a[i][i];
        }
        x
    }

    /// `n` prompts, each holding about half of `rows` bag rows, and `d` dense features.
    fn design(rng: &mut ChaCha8Rng, n: usize, rows: usize, d: usize) -> Design {
        Design {
            sparse: (0..n)
                .map(|_| {
                    (0..rows as u32)
                        .filter_map(|r| {
                            let (keep, v) =
                                (rng.random_range(0.0..1.0), rng.random_range(0.0..1.0));
                            (keep < 0.5).then_some((r, v))
                        })
                        .collect()
                })
                .collect(),
            dense: (0..n)
                .map(|_| (0..d).map(|_| rng.random_range(-1.0..1.0)).collect())
                .collect(),
            rows,
        }
    }

    /// The ridge fit over `cells`, dense: centred rows, normal equations.
    fn exact(x: &Design, cells: &[(usize, f64)], alpha: f64) -> (Vec<f64>, f64) {
        let (m, n) = (x.width(), cells.len() as f64);
        let dense: Vec<Vec<f64>> = cells
            .iter()
            .map(|&(p, _)| {
                let mut r = vec![0.0; m];
                x.add(p, 1.0, false, &mut r);
                r
            })
            .collect();
        let mean: Vec<f64> = (0..m)
            .map(|j| dense.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let s_mean = cells.iter().map(|c| c.1).sum::<f64>() / n;
        let a: Vec<Vec<f64>> = (0..m)
            .map(|i| {
                (0..m)
                    .map(|j| {
                        let xx: f64 = dense
                            .iter()
                            .map(|r| (r[i] - mean[i]) * (r[j] - mean[j]))
                            .sum();
                        xx + if i == j { alpha } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        let b: Vec<f64> = (0..m)
            .map(|i| {
                dense
                    .iter()
                    .zip(cells)
                    .map(|(r, c)| (r[i] - mean[i]) * (c.1 - s_mean))
                    .sum()
            })
            .collect();
        let theta = gauss(a, b);
        let c = s_mean - mean.iter().zip(&theta).map(|(a, b)| a * b).sum::<f64>();
        (theta, c)
    }

    type Case = (Design, Vec<Vec<(usize, f64)>>, Vec<Vec<f64>>);

    /// A [`design`] of `n` prompts, and eleven regressions on it with their starts: nine on
    /// every prompt (lockstep batches of 5 and 4), one on the first 30 prompts, one on every
    /// other prompt, some from zero and some from a random start.
    fn case(seed: u64, n: usize, rows: usize, d: usize) -> Case {
        let rng = &mut ChaCha8Rng::seed_from_u64(seed);
        let x = design(rng, n, rows, d);
        let mut cells: Vec<Vec<(usize, f64)>> = (0..9)
            .map(|_| (0..n).map(|p| (p, rng.random_range(-1.0..1.0))).collect())
            .collect();
        cells.push((0..30).map(|p| (p, rng.random_range(-1.0..1.0))).collect());
        cells.push(
            (0..n)
                .step_by(2)
                .map(|p| (p, rng.random_range(-1.0..1.0)))
                .collect(),
        );
        let starts = (0..cells.len())
            .map(|i| match i % 3 {
                0 => vec![0.0; x.width()],
                _ => (0..x.width())
                    .map(|_| rng.random_range(-1.0..1.0))
                    .collect(),
            })
            .collect();
        (x, cells, starts)
    }

    #[test]
    fn every_fit_is_the_exact_ridge_fit() {
        let (x, cells, starts) = case(5, 40, 6, 2);
        let alpha = 0.3;
        let got = solve_grouped(&x, &cells, alpha, &starts);
        for (fit, cells) in got.iter().zip(&cells) {
            let (theta, c) = exact(&x, cells, alpha);
            for (g, w) in fit.theta.iter().zip(&theta) {
                assert!((g - w).abs() < 1e-4, "{:?} vs {theta:?}", fit.theta);
            }
            assert!((fit.c - c).abs() < 1e-4, "{} vs {c}", fit.c);
        }
    }

    /// The solver as it was before lockstep (one regression at a time, scalar sums): the
    /// arithmetic every lane must repeat.
    fn one_at_a_time(x: &Design, cells: &[(usize, f64)], alpha: f64, start: &[f64]) -> Lsq {
        let m = x.width();
        let n = cells.len().max(1) as f64;
        let mut mean = vec![0f64; m];
        let mut diag = vec![0f64; m];
        for &(p, _) in cells {
            x.add(p, 1.0 / n, false, &mut mean);
            x.add(p, 1.0, true, &mut diag);
        }
        diag.iter_mut()
            .zip(&mean)
            .for_each(|(d, mu)| *d = (*d - n * mu * mu).max(0.0) + alpha);
        let s_mean = cells.iter().map(|c| c.1).sum::<f64>() / n;
        // A·v = X̃ᵀX̃ v + α v, X̃ the rows minus their mean.
        let apply = |v: &[f64]| -> Vec<f64> {
            let shift: f64 = mean.iter().zip(v).map(|(a, b)| a * b).sum();
            let mut out: Vec<f64> = v.iter().map(|&x| alpha * x).collect();
            for &(p, _) in cells {
                x.add(p, x.dot(p, v) - shift, false, &mut out);
            }
            out
        };
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        let mut b = vec![0f64; m];
        for &(p, s) in cells {
            x.add(p, s - s_mean, false, &mut b);
        }
        let stop = 1e-8 * dot(&b, &b);
        let mut theta = start.to_vec();
        let mut r: Vec<f64> = b.iter().zip(apply(&theta)).map(|(b, a)| b - a).collect();
        let precond = |r: &[f64]| -> Vec<f64> { r.iter().zip(&diag).map(|(r, d)| r / d).collect() };
        let mut z = precond(&r);
        let mut dir = z.clone();
        let mut rz = dot(&r, &z);
        for _ in 0..2000 {
            if dot(&r, &r) <= stop {
                break;
            }
            let ad = apply(&dir);
            let step = rz / dot(&dir, &ad);
            theta.iter_mut().zip(&dir).for_each(|(t, d)| *t += step * d);
            r.iter_mut().zip(&ad).for_each(|(r, a)| *r -= step * a);
            z = precond(&r);
            let next = dot(&r, &z);
            let beta = next / rz;
            rz = next;
            dir.iter_mut().zip(&z).for_each(|(d, z)| *d = z + beta * *d);
        }
        let c = s_mean - dot(&mean, &theta);
        Lsq { theta, c }
    }

    #[test]
    fn fits_in_lockstep_are_the_fits_alone_to_the_bit() {
        let (x, cells, starts) = case(9, 60, 25, 3);
        for alpha in [0.01, 1.0] {
            let together = solve_grouped(&x, &cells, alpha, &starts);
            for (i, fit) in together.iter().enumerate() {
                let alone = one_at_a_time(&x, &cells[i], alpha, &starts[i]);
                let bits = |f: &Lsq| -> Vec<u64> {
                    f.theta.iter().chain([&f.c]).map(|v| v.to_bits()).collect()
                };
                assert_eq!(bits(fit), bits(&alone), "regression {i}, alpha {alpha}");
            }
        }
    }
}
