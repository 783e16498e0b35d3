//! Calibration and its checks: Platt scaling per tier (Newton's method on the two parameters,
//! with Platt's smoothed targets), pooled or shared across tiers ([`Calibration`]), ROC AUC and
//! expected calibration error.
use tierwise_router::policy::Platt;

/// How raw logits become probabilities (fitted on the validation split).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Calibration {
    /// Platt scaling per tier (its own slope and intercept each).
    PerTier,
    /// One Platt map shared by every tier, fitted on all their cells together: it rescales the
    /// logits without reordering the tiers for any prompt.
    Shared,
    /// Platt scaling per tier, partially pooled toward the shared map ([`crate::POOLING`]): a
    /// tier whose validation cells say little (e.g. almost all pass) stays near the shared map.
    #[default]
    Pooled,
    /// The network's logits as they are.
    None,
}

/// Strength of the pull toward the shared map in [`Calibration::Pooled`], in units of the
/// log-likelihood's curvature (about 4 × that many validation cells with p near ½).
pub const POOLING: f64 = 20.0;

impl std::fmt::Display for Calibration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Calibration::PerTier => "platt per tier",
            Calibration::Shared => "shared platt",
            Calibration::Pooled => "platt per tier, pooled toward the shared map",
            Calibration::None => "none",
        })
    }
}

/// One map per tier, fitted `how` on each tier's `(logits, labels)`.
pub fn fit_maps(cells: &[(Vec<f32>, Vec<f32>)], how: Calibration) -> Vec<Platt> {
    match how {
        Calibration::PerTier => cells.iter().map(|(z, y)| fit_platt(z, y)).collect(),
        Calibration::Shared | Calibration::Pooled => {
            let z: Vec<f32> = cells.iter().flat_map(|(z, _)| z.iter().copied()).collect();
            let y: Vec<f32> = cells.iter().flat_map(|(_, y)| y.iter().copied()).collect();
            let shared = fit_platt(&z, &y);
            if how == Calibration::Shared {
                vec![shared; cells.len()]
            } else {
                cells
                    .iter()
                    .map(|(z, y)| fit_platt_toward(z, y, shared, POOLING))
                    .collect()
            }
        }
        Calibration::None => vec![Platt::IDENTITY; cells.len()],
    }
}

/// Fit p = σ(a·z + b) to binary labels `y` (0/1).
pub fn fit_platt(z: &[f32], y: &[f32]) -> Platt {
    fit_platt_toward(z, y, Platt::IDENTITY, 0.0)
}

/// Fit p = σ(a·z + b) with a penalty `kappa/2 · ((a − a₀)² + (b − b₀)²)` pulling the map toward
/// `prior`: partial pooling. The penalty counts for more where the tier's own cells say little
/// (few positives or few negatives carry little curvature), so noisy tiers stay near `prior`.
pub fn fit_platt_toward(z: &[f32], y: &[f32], prior: Platt, kappa: f64) -> Platt {
    let pos = y.iter().filter(|&&v| v > 0.5).count() as f64;
    let neg = y.len() as f64 - pos;
    if y.is_empty() {
        return if kappa > 0.0 { prior } else { Platt::IDENTITY };
    }
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let t: Vec<f64> = y.iter().map(|&v| if v > 0.5 { hi } else { lo }).collect();
    let (mut a, mut b) = if kappa > 0.0 {
        (prior.a, prior.b)
    } else {
        (1.0f64, 0.0f64)
    };
    let loss = |a: f64, b: f64| -> f64 {
        z.iter()
            .zip(&t)
            .map(|(&zi, &ti)| crate::ridge::bce(a * zi as f64 + b, ti))
            .sum::<f64>()
            + 0.5 * kappa * ((a - prior.a).powi(2) + (b - prior.b).powi(2))
    };
    let mut cur = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (
            kappa * (a - prior.a),
            kappa * (b - prior.b),
            1e-9 + kappa,
            0.0,
            1e-9 + kappa,
        );
        for (&zi, &ti) in z.iter().zip(&t) {
            let zi = zi as f64;
            let p = 1.0 / (1.0 + (-(a * zi + b)).exp());
            let (g, w) = (p - ti, (p * (1.0 - p)).max(1e-12));
            ga += g * zi;
            gb += g;
            haa += w * zi * zi;
            hab += w * zi;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        let mut step = 1.0;
        loop {
            let (na, nb) = (a - step * da, b - step * db);
            let l = loss(na, nb);
            if l <= cur + 1e-12 {
                a = na;
                b = nb;
                let done = cur - l < 1e-10;
                cur = l;
                if done {
                    return Platt { a, b };
                }
                break;
            }
            step /= 2.0;
            if step < 1e-8 {
                return Platt { a, b };
            }
        }
    }
    Platt { a, b }
}

/// ROC AUC of scores `p` for labels `y` (ties count half); `None` with one class only.
pub fn auc(p: &[f32], y: &[f32]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let pos = y.iter().filter(|&&v| v > 0.5).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    // Sum of positive ranks with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if y[k] > 0.5 {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Expected calibration error over 10 equal-width probability bins.
pub fn ece(p: &[f32], y: &[f32]) -> Option<f64> {
    if p.is_empty() {
        return None;
    }
    let mut bins = [(0.0f64, 0.0f64, 0usize); 10];
    for (&pi, &yi) in p.iter().zip(y) {
        let b = ((pi * 10.0) as usize).min(9);
        bins[b].0 += pi as f64;
        bins[b].1 += yi as f64;
        bins[b].2 += 1;
    }
    let n = p.len() as f64;
    Some(
        bins.iter()
            .filter(|b| b.2 > 0)
            .map(|b| (b.0 - b.1).abs() / n)
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_recovers_a_known_scale_and_auc_is_rank_based() {
        // Labels drawn so that P(y=1 | z) = σ(2z − 1), deterministically by quantiles.
        let mut z = Vec::new();
        let mut y = Vec::new();
        for i in 0..400 {
            let zi = -3.0 + 6.0 * (i as f32) / 399.0;
            let p = 1.0 / (1.0 + (-(2.0 * zi - 1.0)).exp());
            for k in 0..10 {
                z.push(zi);
                y.push(if (k as f32 + 0.5) / 10.0 < p {
                    1.0
                } else {
                    0.0
                });
            }
        }
        let c = fit_platt(&z, &y);
        assert!((c.a - 2.0).abs() < 0.2 && (c.b + 1.0).abs() < 0.2, "{c:?}");
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4], &[0.0, 0.0, 1.0, 1.0]), Some(1.0));
        assert_eq!(auc(&[0.5, 0.5], &[0.0, 1.0]), Some(0.5));
        assert_eq!(auc(&[0.5, 0.5], &[1.0, 1.0]), None);
        let e = ece(&[0.9, 0.9, 0.1, 0.1], &[1.0, 1.0, 0.0, 0.0]).unwrap();
        assert!((e - 0.1).abs() < 1e-6);
    }

    #[test]
    fn pooled_platt_moves_from_the_prior_to_the_data_as_the_data_grows() {
        let prior = Platt { a: 0.5, b: 1.0 };
        // The data say σ(2z): perfectly informative cells near 0 and 1.
        let cells = |n: usize| -> (Vec<f32>, Vec<f32>) {
            let (mut z, mut y) = (Vec::new(), Vec::new());
            for i in 0..n {
                let zi = -2.0 + 4.0 * (i as f32 + 0.5) / n as f32;
                let p = 1.0 / (1.0 + (-2.0 * zi).exp());
                for k in 0..10 {
                    z.push(zi);
                    y.push(((k as f32 + 0.5) / 10.0 < p) as u8 as f32);
                }
            }
            (z, y)
        };
        // No cells: exactly the prior. A huge κ: the prior whatever the data.
        assert_eq!(fit_platt_toward(&[], &[], prior, 20.0), prior);
        let (z, y) = cells(50);
        let stiff = fit_platt_toward(&z, &y, prior, 1e9);
        assert!(
            (stiff.a - 0.5).abs() < 1e-3 && (stiff.b - 1.0).abs() < 1e-3,
            "{stiff:?}"
        );
        // κ = 0 is plain Platt; with κ = 20 a few cells stay near the prior, many reach the data.
        assert_eq!(fit_platt_toward(&z, &y, prior, 0.0), fit_platt(&z, &y));
        let (z, y) = cells(400);
        let plain = fit_platt(&z, &y);
        let to = |p: Platt, q: Platt| (p.a - q.a).abs() + (p.b - q.b).abs();
        let few = fit_platt_toward(&z[1990..2030], &y[1990..2030], prior, 20.0);
        let many = fit_platt_toward(&z, &y, prior, 20.0);
        assert!(to(many, plain) < 0.2, "{many:?} vs {plain:?}");
        assert!(to(few, prior) < to(many, prior) - 0.5, "{few:?} {many:?}");
    }
}
