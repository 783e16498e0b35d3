//! An ensemble folded into one net. Each member is fitted with its own seed (initialisation,
//! batch order; with `--own-splits` also its own validation split), early-stopped and
//! calibrated on its validation prompts, and their averaged logits vary less with the seed than
//! any one of them: on small logs that variance is a large part of a router's error. [`fold`]
//! writes the average of the members' calibrated logits as one plain net of the same form
//! (members side by side), so serving still runs one embedding bag and one MLP.
use tierwise_router::policy::Platt;

use crate::dense::Layers;
use crate::net::Net;

/// One net whose logit for tier t is `mean_k (a_kt · logit_kt + b_kt)` over the members
/// `(net_k, maps_k)`: embedding columns side by side (a bucket without a row in one member is 0
/// there, as it was for that member), hidden units side by side (each reading its own member's
/// columns and the shared dense features), output rows and linear paths scaled by `a_kt / K`.
/// Every member must share the dense width and the tiers; widths and row counts may differ.
pub fn fold(members: &[(&Net, &[Platt])]) -> Net {
    let k = members.len();
    let (net0, _) = members[0];
    let nt = net0.layers.b2.len();
    let d = net0.layers.w1.len() / net0.layers.hidden.max(1) - net0.dim;
    // Member m's embedding columns start at offset[m].
    let offset: Vec<usize> = members
        .iter()
        .scan(0, |at, (n, _)| {
            *at += n.dim;
            Some(*at - n.dim)
        })
        .collect();
    let width: usize = members.iter().map(|(n, _)| n.dim).sum();
    // Union of the rows, each with the most prompts any member counted for it.
    let mut rows: Vec<u32> = members
        .iter()
        .flat_map(|(n, _)| n.rows.iter().copied())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let mut row_prompts = vec![0u32; rows.len()];
    let mut embedding = vec![0f32; rows.len() * width];
    for (m, (n, _)) in members.iter().enumerate() {
        let dim = n.dim;
        for (i, &b) in n.rows.iter().enumerate() {
            let r = rows.binary_search(&b).expect("row in the union");
            row_prompts[r] = row_prompts[r].max(n.row_prompts[i]);
            let at = r * width + offset[m];
            embedding[at..at + dim].copy_from_slice(&n.embedding[i * dim..(i + 1) * dim]);
        }
    }
    let hidden: usize = members.iter().map(|(n, _)| n.layers.hidden).sum();
    let mut w1 = Vec::with_capacity(hidden * (width + d));
    let mut b1 = Vec::with_capacity(hidden);
    let mut w2 = vec![0f32; nt * hidden];
    let mut b2 = vec![0f32; nt];
    let with_skip = members.iter().all(|(n, _)| !n.skip.is_empty());
    let mut skip = vec![0f32; if with_skip { nt * d } else { 0 }];
    let mut at = 0;
    for (m, (n, maps)) in members.iter().enumerate() {
        let (h, dim) = (n.layers.hidden, n.dim);
        for row in n.layers.w1.chunks(dim + d) {
            w1.extend(std::iter::repeat_n(0.0, offset[m]));
            w1.extend_from_slice(&row[..dim]);
            w1.extend(std::iter::repeat_n(0.0, width - offset[m] - dim));
            w1.extend_from_slice(&row[dim..]);
        }
        b1.extend_from_slice(&n.layers.b1);
        for (t, map) in maps.iter().enumerate() {
            let a = (map.a / k as f64) as f32;
            for j in 0..h {
                w2[t * hidden + at + j] = a * n.layers.w2[t * h + j];
            }
            b2[t] += a * n.layers.b2[t] + (map.b / k as f64) as f32;
            if with_skip {
                for j in 0..d {
                    skip[t * d + j] += a * n.skip[t * d + j];
                }
            }
        }
        at += h;
    }
    Net {
        dim: width,
        layers: Layers {
            w1,
            b1,
            w2,
            b2,
            hidden,
        },
        skip,
        rows,
        row_prompts,
        embedding,
    }
}

/// `net` with zero embedding columns appended up to a multiple of `multiple`, so that serving's
/// bag loops specialised for those widths apply (the logits do not change).
pub fn pad_width(mut net: Net, multiple: usize) -> Net {
    let (dim, wide) = (net.dim, net.dim.div_ceil(multiple.max(1)) * multiple.max(1));
    if wide == dim {
        return net;
    }
    let input = net.layers.w1.len() / net.layers.hidden.max(1);
    let widen = |v: &[f32], row: usize| -> Vec<f32> {
        v.chunks(row)
            .flat_map(|r| {
                r[..dim]
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(0.0, wide - dim))
                    .chain(r[dim..].iter().copied())
            })
            .collect()
    };
    net.embedding = widen(&net.embedding, dim);
    net.layers.w1 = widen(&net.layers.w1, input);
    net.dim = wide;
    net
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::net::reference_logits as logits;

    fn uniform(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn folded_net_gives_the_mean_of_the_members_calibrated_logits() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (d, nt) = (4, 2);
        let member = |rng: &mut ChaCha8Rng, rows: Vec<u32>, hidden: usize, dim: usize| Net {
            dim,
            layers: Layers {
                w1: uniform(rng, hidden * (dim + d)),
                b1: uniform(rng, hidden),
                w2: uniform(rng, nt * hidden),
                b2: uniform(rng, nt),
                hidden,
            },
            skip: uniform(rng, nt * d),
            row_prompts: (0..rows.len() as u32).collect(),
            embedding: uniform(rng, rows.len() * dim),
            rows,
        };
        // Overlapping but different rows, different hidden and embedding widths.
        let nets = [
            member(&mut rng, vec![1, 4, 9], 5, 3),
            member(&mut rng, vec![4, 7], 3, 3),
            member(&mut rng, vec![0, 9, 12], 4, 2),
        ];
        let maps: Vec<Vec<Platt>> = (0..3)
            .map(|_| {
                (0..nt)
                    .map(|_| Platt {
                        a: rng.random_range(0.2..2.0),
                        b: rng.random_range(-1.0..1.0),
                    })
                    .collect()
            })
            .collect();
        let pairs: Vec<(&Net, &[Platt])> = nets
            .iter()
            .zip(&maps)
            .map(|(n, m)| (n, m.as_slice()))
            .collect();
        let f = fold(&pairs);
        assert_eq!(
            (f.dim, f.layers.hidden, f.rows.clone()),
            (8, 12, vec![0, 1, 4, 7, 9, 12])
        );
        // Padding to a multiple of 16 adds zero columns only.
        let padded = pad_width(f.clone(), 16);
        assert_eq!((padded.dim, padded.embedding.len()), (16, 6 * 16));
        // Bucket 9's prompt count is the larger of the two members' (0 + ... : 2 and 1).
        assert_eq!(f.row_prompts[4], 2);
        for _ in 0..30 {
            let bag: Vec<(u32, f32)> = [0u32, 1, 4, 7, 9, 12, 30]
                .iter()
                .map(|&b| (b, rng.random_range(0.0..0.3)))
                .collect();
            let x = uniform(&mut rng, d);
            let got = logits(&f, &bag, &x);
            assert_eq!(got, logits(&padded, &bag, &x));
            for t in 0..nt {
                let want: f64 = nets
                    .iter()
                    .zip(&maps)
                    .map(|(n, m)| m[t].a * logits(n, &bag, &x)[t] as f64 + m[t].b)
                    .sum::<f64>()
                    / 3.0;
                assert!(
                    (got[t] as f64 - want).abs() < 1e-4,
                    "tier {t}: {} vs {want}",
                    got[t]
                );
            }
        }
    }
}
