//! The dense (numeric) features between training and serving: training standardises them
//! ([`DenseScale`]) and gives each tier a linear path from them to its logit; export folds both
//! into one plain MLP on raw features ([`export_layers`]), so serving only clamps the features to
//! their training range.
use crate::data::Dataset;

/// Standardisation of the dense features over the training prompts: the net sees
/// `(x − mean) / √(var + floor²)`, and [`DenseScale::fold`] moves that map into the first
/// layer on export, so serving reads the raw features. Without it the length features, which
/// vary by a few hundredths within one task, barely move the net in the epochs early stopping
/// allows; the floor keeps a feature that is almost constant (a few non-ASCII prompts) from
/// being blown up into outliers. A feature that never varied in training (a feature tag no
/// training prompt had, one turn everywhere) is scaled by 0: the net cannot have learnt what it
/// does, so serving ignores it instead of reading untrained weights.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseScale {
    /// Per-feature mean.
    pub mean: Vec<f32>,
    /// Per-feature `1 / √(var + floor²)`, 0 for a feature constant over the training prompts.
    pub inv_sd: Vec<f32>,
    /// Per-feature `[min, max]` over the training prompts: features are clamped to it, in
    /// training (the validation prompts) as in serving (`FeaturiserConfig::dense_range`).
    pub range: Vec<[f32; 2]>,
}

impl DenseScale {
    /// Mean and spread of each dense feature over `train`; only the first `continuous` are
    /// standardised. The rest (the feature tag's one-hot slots) keep their 0/1 scale: a slot
    /// shared by a few tags would otherwise be blown up, and its weights carried at many times
    /// their size to a tag that hashes there but was never trained on.
    pub fn fit(data: &Dataset, train: &[usize], continuous: usize, floor: f64) -> DenseScale {
        let d = data.examples[0].dense.len();
        let n = train.len().max(1) as f64;
        let (mut mean, mut sq) = (vec![0f64; d], vec![0f64; d]);
        let mut range = vec![[f32::INFINITY, f32::NEG_INFINITY]; d];
        for &i in train {
            for (k, &x) in data.examples[i].dense.iter().enumerate() {
                mean[k] += x as f64 / n;
                sq[k] += (x as f64).powi(2) / n;
                range[k] = [range[k][0].min(x), range[k][1].max(x)];
            }
        }
        if train.is_empty() {
            range.fill([0.0, 0.0]);
        }
        let inv_sd = mean
            .iter()
            .zip(&sq)
            .enumerate()
            .map(|(k, (m, s))| {
                let var = s - m * m;
                if var <= 1e-12 {
                    0.0 // never varied in training: nothing to learn its effect from
                } else if k < continuous {
                    (1.0 / (var + floor * floor).sqrt()) as f32
                } else {
                    1.0
                }
            })
            .collect();
        for m in mean.iter_mut().skip(continuous) {
            *m = 0.0;
        }
        DenseScale {
            mean: mean.iter().map(|&m| m as f32).collect(),
            inv_sd,
            range,
        }
    }

    /// The clamped, standardised features of `x`, appended to `out`.
    pub fn apply(&self, x: &[f32], out: &mut Vec<f32>) {
        out.extend(
            x.iter()
                .zip(&self.range)
                .zip(self.mean.iter().zip(&self.inv_sd))
                .map(|((&x, &[lo, hi]), (&m, &k))| (x.clamp(lo, hi) - m) * k),
        );
    }

    /// Rewrite `w: [rows, lead + dense]`, `b: [rows]` (acting on standardised features in the
    /// last columns) to act on raw ones: those columns times `inv_sd`, the bias minus
    /// Σₖ column · mean.
    pub fn fold(&self, w: &mut [f32], b: &mut [f32], lead: usize) {
        let width = lead + self.mean.len();
        for (r, b) in b.iter_mut().enumerate() {
            let row = &mut w[r * width + lead..(r + 1) * width];
            for (k, w) in row.iter_mut().enumerate() {
                *w *= self.inv_sd[k];
                *b -= *w * self.mean[k];
            }
        }
    }
}

/// The net's dense layers: `w1 [hidden, dim + d]`, `b1 [hidden]`, `w2 [tiers, hidden]`,
/// `b2 [tiers]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layers {
    /// First layer.
    pub w1: Vec<f32>,
    /// Its bias.
    pub b1: Vec<f32>,
    /// Output layer.
    pub w2: Vec<f32>,
    /// Its bias.
    pub b2: Vec<f32>,
    /// Hidden units.
    pub hidden: usize,
}

/// The trained layers in serving form, for raw dense features clamped to `scale.range`: the
/// standardisation folded into `w1`/`b1`, and the linear path `skip [tiers, d]` (when not
/// empty) appended as hidden units, so serving needs no extra tensor or code. On the clamped
/// box every linear function is bounded below, so a unit whose input is that function minus its
/// bound plus 1 never reaches the ReLU's kink: its output is the function itself, shifted (the
/// shift goes into `b2`). That takes one unit per tier, or one per dense feature that varied in
/// training when there are fewer of those.
pub fn export_layers(scale: &DenseScale, mut l: Layers, skip: &[f32], dim: usize) -> Layers {
    scale.fold(&mut l.w1, &mut l.b1, dim);
    if skip.is_empty() {
        return l;
    }
    let (d, nt, hidden) = (scale.mean.len(), l.b2.len(), l.hidden);
    // The path on raw features: sw_t · x + sb_t.
    let (mut sw, mut sb) = (skip.to_vec(), vec![0f32; nt]);
    scale.fold(&mut sw, &mut sb, 0);
    let used: Vec<usize> = (0..d)
        .filter(|&k| (0..nt).any(|t| sw[t * d + k] != 0.0))
        .collect();
    // (the unit's weights on the dense features, its bias, its weight into each tier)
    let mut units: Vec<(Vec<f32>, f32, Vec<f32>)> = Vec::new();
    if used.len() < nt {
        for &k in &used {
            let lo = scale.range[k][0];
            let mut row = vec![0f32; d];
            row[k] = 1.0;
            // unit = x_k − lo + 1, so x_k = unit + lo − 1.
            let into: Vec<f32> = (0..nt).map(|t| sw[t * d + k]).collect();
            for (b, &w) in l.b2.iter_mut().zip(&into) {
                *b += w * (lo - 1.0);
            }
            units.push((row, 1.0 - lo, into));
        }
        l.b2.iter_mut().zip(&sb).for_each(|(b, s)| *b += s);
    } else {
        for t in 0..nt {
            let row = sw[t * d..(t + 1) * d].to_vec();
            let low = sb[t]
                + row
                    .iter()
                    .zip(&scale.range)
                    .map(|(&w, &[lo, hi])| (w * lo).min(w * hi))
                    .sum::<f32>();
            // unit = path − low + 1, so path = unit + low − 1.
            let mut into = vec![0f32; nt];
            into[t] = 1.0;
            l.b2[t] += low - 1.0;
            units.push((row, sb[t] - low + 1.0, into));
        }
    }
    let wide = hidden + units.len();
    let mut w2 = vec![0f32; nt * wide];
    for t in 0..nt {
        w2[t * wide..t * wide + hidden].copy_from_slice(&l.w2[t * hidden..(t + 1) * hidden]);
    }
    for (u, (row, bias, into)) in units.into_iter().enumerate() {
        l.w1.extend(std::iter::repeat_n(0.0, dim));
        l.w1.extend(row);
        l.b1.push(bias);
        for (t, w) in into.into_iter().enumerate() {
            w2[t * wide + hidden + u] = w;
        }
    }
    Layers {
        w2,
        hidden: wide,
        ..l
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::data::{Dataset, Example};

    fn uniform_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn dense_scale_standardises_with_a_floor_and_ignores_constant_features() {
        let ex = |dense: Vec<f32>| Example {
            buckets: vec![],
            weights: vec![],
            dense,
        };
        let data = Dataset {
            examples: vec![
                ex(vec![0.5, 1.0, 0.0]),
                ex(vec![0.7, 1.0, 0.0]),
                ex(vec![9.0, 9.0, 9.0]), // not in `train`
            ],
            y: vec![0.0; 3],
            mask: vec![1.0; 3],
            tiers: 1,
        };
        let s = DenseScale::fit(&data, &[0, 1], 3, 0.0);
        assert!((s.mean[0] - 0.6).abs() < 1e-6 && (s.inv_sd[0] - 10.0).abs() < 1e-3);
        assert_eq!((s.mean[1], s.inv_sd[1]), (1.0, 0.0));
        assert_eq!((s.mean[2], s.inv_sd[2]), (0.0, 0.0));
        assert_eq!(s.range, [[0.5, 0.7], [1.0, 1.0], [0.0, 0.0]]);
        // The floor adds to the variance: 1 / √(0.01 + 0.01).
        let f = DenseScale::fit(&data, &[0, 1], 3, 0.1);
        assert!((f.inv_sd[0] - 1.0 / 0.02f32.sqrt()).abs() < 1e-3, "{f:?}");
        // Clamped to the training range first: 0.65 → +0.5 sd, 0.8 → 0.7 → +1 sd.
        for (x, z) in [(0.65, 0.5), (0.8, 1.0), (-3.0, -1.0)] {
            let mut out = vec![];
            s.apply(&[x, 5.0, 1.0], &mut out);
            assert!(
                (out[0] - z).abs() < 1e-5 && out[1] == 0.0 && out[2] == 0.0,
                "{out:?}"
            );
        }
    }

    /// The training forward pass (standardised, clamped features; MLP plus linear path) and the
    /// exported one (raw clamped features, one MLP) give the same logits, with one unit per
    /// tier (more varying features than tiers) and one per varying feature (fewer).
    #[test]
    fn exported_layers_on_raw_features_match_training_forward() {
        let (dim, d, hidden) = (3, 4, 5);
        let input = dim + d;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let scale = DenseScale {
            mean: uniform_vec(&mut rng, d),
            // Feature 2 never varied: 3 varying features.
            inv_sd: vec![2.0, 0.5, 0.0, 7.0],
            range: vec![[-2.0, 3.0], [0.0, 1.0], [0.5, 0.5], [-1.0, -0.5]],
        };
        let relu_layer = |w: &[f32], b: &[f32], x: &[f32]| -> Vec<f32> {
            b.iter()
                .enumerate()
                .map(|(h, &bh)| {
                    let z = bh + (0..x.len()).map(|k| w[h * x.len() + k] * x[k]).sum::<f32>();
                    z.max(0.0)
                })
                .collect()
        };
        let head = |w: &[f32], b: &[f32], h: &[f32], t: usize| -> f32 {
            b[t] + (0..h.len()).map(|k| w[t * h.len() + k] * h[k]).sum::<f32>()
        };
        for (nt, with_skip, units) in [(2, true, 2), (5, true, 3), (2, false, 0)] {
            let layers = Layers {
                w1: uniform_vec(&mut rng, hidden * input),
                b1: uniform_vec(&mut rng, hidden),
                w2: uniform_vec(&mut rng, nt * hidden),
                b2: uniform_vec(&mut rng, nt),
                hidden,
            };
            let skip = if with_skip {
                uniform_vec(&mut rng, nt * d)
            } else {
                vec![]
            };
            let e = export_layers(&scale, layers.clone(), &skip, dim);
            assert_eq!(e.hidden, hidden + units);
            assert_eq!(
                (e.w1.len(), e.b1.len(), e.w2.len(), e.b2.len()),
                (e.hidden * input, e.hidden, nt * e.hidden, nt)
            );
            for _ in 0..50 {
                let bag = uniform_vec(&mut rng, dim);
                // Some beyond the ranges: both sides clamp (serving in `Featuriser::dense`).
                let raw: Vec<f32> = uniform_vec(&mut rng, d).iter().map(|x| 4.0 * x).collect();
                let mut std_in = bag.clone();
                scale.apply(&raw, &mut std_in);
                let mut raw_in = bag.clone();
                raw_in.extend(
                    raw.iter()
                        .zip(&scale.range)
                        .map(|(x, r)| x.clamp(r[0], r[1])),
                );
                let h = relu_layer(&layers.w1, &layers.b1, &std_in);
                let eh = relu_layer(&e.w1, &e.b1, &raw_in);
                for t in 0..nt {
                    let mut want = head(&layers.w2, &layers.b2, &h, t);
                    if with_skip {
                        want += (0..d)
                            .map(|k| skip[t * d + k] * std_in[dim + k])
                            .sum::<f32>();
                    }
                    let got = head(&e.w2, &e.b2, &eh, t);
                    assert!((want - got).abs() < 1e-4, "tier {t}: {want} vs {got}");
                }
            }
        }
    }
}
