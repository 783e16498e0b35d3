//! A dense layer's weights laid out for serving, transposed (one column of outputs per input):
//! [`Columns`] cut to the span of outputs each input reaches (the hidden layer), [`Padded`]
//! whole and padded to whole vectors (the output layer). A folded ensemble's hidden layer is
//! block diagonal (a member's embedding columns reach only its own hidden units, padding
//! columns reach none), and most dense inputs are 0 for a given prompt (one-hot feature slots),
//! so the cut columns and the skipped inputs spare most of the multiply-adds.
//!
//! Every output still sums its products in order of the inputs; a skipped product is an exact
//! zero (weight or input 0, all finite), and adding ±0 to a sum changes nothing but the sign of
//! a sum that is itself zero. So the logits have the bits of the plain dot products.
use crate::simd::multiversion;

/// Where an input's weights sit: outputs `lo..lo + len`, at `at` in [`Columns`]' weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    lo: u32,
    len: u32,
    at: u32,
}

/// A layer's weights as cut columns.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    outs: usize,
    spans: Vec<Span>,
    w: Vec<f32>,
}

impl Columns {
    /// From the row-major `[outs, ins]` matrix `m` (row j: output j's weights).
    pub(crate) fn new(m: &[f32], outs: usize, ins: usize) -> Self {
        let mut spans = Vec::with_capacity(ins);
        let mut w = Vec::new();
        for i in 0..ins {
            let col = |j: usize| m[j * ins + i];
            let lo = (0..outs).find(|&j| col(j) != 0.0).unwrap_or(outs);
            let hi = (lo..outs).rfind(|&j| col(j) != 0.0).map_or(lo, |j| j + 1);
            spans.push(Span {
                lo: lo as u32,
                len: (hi - lo) as u32,
                at: w.len() as u32,
            });
            w.extend((lo..hi).map(col));
        }
        Columns { outs, spans, w }
    }

    /// `out += Σ_i x[i] · column_i`, in order of `i` (`out`: the layer's outputs, `x`: its
    /// inputs).
    #[inline]
    pub(crate) fn add_to(&self, out: &mut [f32], x: &[f32]) {
        assert!(out.len() >= self.outs && x.len() >= self.spans.len());
        add_cut(&mut out[..self.outs], &self.spans, &self.w, x)
    }

    /// Multiply-adds per call when no input is 0 (the dense layer's would be `outs · ins`).
    #[cfg(test)]
    fn work(&self) -> usize {
        self.w.len()
    }
}

/// A layer with few outputs (the output layer: one per tier) as columns padded with zeros to
/// `width` (the outputs rounded up to 8): for up to 32 outputs one call keeps them all in
/// registers, with the same whole-vector steps for every input and no branch on the inputs (a
/// ReLU layer's outputs are 0 at random, which no predictor guesses).
#[derive(Debug, Clone)]
pub(crate) struct Padded {
    outs: usize,
    width: usize,
    w: Vec<f32>,
}

impl Padded {
    /// From the row-major `[outs, ins]` matrix `m` (row j: output j's weights).
    pub(crate) fn new(m: &[f32], outs: usize, ins: usize) -> Self {
        let width = outs.div_ceil(8) * 8;
        let mut w = vec![0f32; width * ins];
        for (i, col) in w.chunks_exact_mut(width).enumerate() {
            for (j, c) in col[..outs].iter_mut().enumerate() {
                *c = m[j * ins + i];
            }
        }
        Padded { outs, width, w }
    }

    /// `out[j] = start + Σ_i w[j][i] · x[i]`, summed in order of `i`: the bits of a plain dot
    /// product per output that starts from `start`.
    #[inline]
    pub(crate) fn apply(&self, x: &[f32], start: f32, out: &mut [f32]) {
        assert!(out.len() >= self.outs && x.len() * self.width >= self.w.len());
        let out = &mut out[..self.outs];
        match self.width {
            8 => out.copy_from_slice(&padded::<8>(&self.w, x, start)[..self.outs]),
            16 => out.copy_from_slice(&padded::<16>(&self.w, x, start)[..self.outs]),
            24 => out.copy_from_slice(&padded::<24>(&self.w, x, start)[..self.outs]),
            32 => out.copy_from_slice(&padded::<32>(&self.w, x, start)[..self.outs]),
            width => {
                out.fill(start);
                for (col, &xi) in self.w.chunks_exact(width).zip(x) {
                    out.iter_mut().zip(col).for_each(|(a, w)| *a += w * xi);
                }
            }
        }
    }
}

#[inline(always)]
fn padded_body<const P: usize>(w: &[f32], x: &[f32], start: f32) -> [f32; P] {
    let mut acc = [start; P];
    for (col, &xi) in w.chunks_exact(P).zip(x) {
        for k in 0..P {
            acc[k] += col[k] * xi;
        }
    }
    acc
}

multiversion! {
    /// [`Padded::apply`]'s loop for `P` outputs (padding included).
    fn padded<const P: usize>(w: &[f32], x: &[f32], start: f32) -> [f32; P] = padded_body
}

#[inline(always)]
fn add_cut_body(out: &mut [f32], spans: &[Span], w: &[f32], x: &[f32]) {
    for (s, &xi) in spans.iter().zip(x) {
        if xi == 0.0 || s.len == 0 {
            continue;
        }
        let (lo, len, at) = (s.lo as usize, s.len as usize, s.at as usize);
        out[lo..lo + len]
            .iter_mut()
            .zip(&w[at..at + len])
            .for_each(|(a, w)| *a += w * xi);
    }
}

multiversion! {
    /// [`Columns::add_to`]'s loop (`spans` within `out`, checked at construction).
    fn add_cut(out: &mut [f32], spans: &[Span], w: &[f32], x: &[f32]) = add_cut_body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain dot products, one output at a time, from the same start as `Iterator::sum`.
    fn dense(m: &[f32], outs: usize, ins: usize, x: &[f32]) -> Vec<f32> {
        (0..outs)
            .map(|j| (0..ins).map(|i| m[j * ins + i] * x[i]).sum::<f32>())
            .collect()
    }

    #[test]
    fn cut_columns_give_the_dense_layers_bits_with_less_work() {
        let (outs, ins) = (24, 40);
        // Block diagonal on the first 32 inputs (4 blocks of 8 inputs × 6 outputs), two inputs
        // reaching nothing, the last 8 reaching every output.
        let m: Vec<f32> = (0..outs * ins)
            .map(|k| {
                let (j, i) = (k / ins, k % ins);
                let v = ((k * 7919) % 1000) as f32 * 1e-3 - 0.4995; // never 0
                let reaches = match i {
                    5 | 17 => false,
                    0..32 => i / 8 == j / 6,
                    _ => true,
                };
                if reaches {
                    v
                } else {
                    0.0
                }
            })
            .collect();
        let c = Columns::new(&m, outs, ins);
        assert_eq!(c.work(), 30 * 6 + 8 * outs);
        let mut x: Vec<f32> = (0..ins).map(|i| (i as f32 * 0.37).sin()).collect();
        x[3] = 0.0;
        x[35] = 0.0;
        let start = std::iter::empty::<f32>().sum::<f32>();
        let mut got = vec![start; outs];
        c.add_to(&mut got, &x);
        let want = dense(&m, outs, ins, &x);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want));
        let mut base = vec![start; outs];
        add_cut_body(&mut base, &c.spans, &c.w, &x);
        assert_eq!(bits(&base), bits(&want));
    }

    #[test]
    fn padded_columns_give_the_dense_layers_bits_at_every_width() {
        let ins = 37;
        for outs in [1, 3, 8, 11, 16, 17, 24, 31, 32, 33, 50] {
            let m: Vec<f32> = (0..outs * ins)
                .map(|k| ((k * 7919) % 1000) as f32 * 1e-3 - 0.4995)
                .collect();
            // Inputs 0 at random, as a ReLU layer's are.
            let x: Vec<f32> = (0..ins)
                .map(|i| ((i as f32 * 0.37).sin()).max(0.0))
                .collect();
            let start = std::iter::empty::<f32>().sum::<f32>();
            let mut got = vec![f32::NAN; outs + 1];
            Padded::new(&m, outs, ins).apply(&x, start, &mut got);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&got[..outs]),
                bits(&dense(&m, outs, ins, &x)),
                "{outs}"
            );
            assert!(got[outs].is_nan(), "{outs}: wrote past the outputs");
        }
    }
}
