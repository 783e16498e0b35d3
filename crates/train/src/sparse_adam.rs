//! AdamW for the embedding table, applied only to the rows a batch touched ("lazy" or sparse
//! Adam, as PyTorch's `SparseAdam`). A step costs O(rows in the batch × dim) instead of
//! O(table × dim): with tens of thousands of rows, the dense update (and the allocations of its
//! tensor ops) was most of the training time. The arithmetic per row is candle-nn's AdamW's.

/// Lazy AdamW state for a `[rows, dim]` table.
#[derive(Debug, Clone)]
pub struct SparseAdamW {
    lr: f64,
    weight_decay: f64,
    dim: usize,
    m: Vec<f32>,
    v: Vec<f32>,
    step: i32,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl SparseAdamW {
    /// State for a table of `rows` rows of `dim` values.
    pub fn new(rows: usize, dim: usize, lr: f64, weight_decay: f64) -> Self {
        SparseAdamW {
            lr,
            weight_decay,
            dim,
            m: vec![0.0; rows * dim],
            v: vec![0.0; rows * dim],
            step: 0,
        }
    }

    /// One step: `grad` holds the gradient of row `ids[k]` at `grad[k * dim..(k + 1) * dim]`
    /// (`ids` distinct). Rows not in `ids` are left as they are.
    pub fn step(&mut self, table: &mut [f32], ids: &[u32], grad: &[f32]) {
        self.step += 1;
        let scale_m = 1.0 / (1.0 - BETA1.powi(self.step));
        let scale_v = 1.0 / (1.0 - BETA2.powi(self.step));
        let decay = (1.0 - self.lr * self.weight_decay) as f32;
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        let (sm, sv, lr, eps) = (scale_m as f32, scale_v as f32, self.lr as f32, EPS as f32);
        let d = self.dim;
        for (k, &r) in ids.iter().enumerate() {
            let at = r as usize * d..(r as usize + 1) * d;
            let g = &grad[k * d..(k + 1) * d];
            let (m, v, th) = (
                &mut self.m[at.clone()],
                &mut self.v[at.clone()],
                &mut table[at],
            );
            for j in 0..d {
                m[j] = m[j] * b1 + g[j] * (1.0 - b1);
                v[j] = v[j] * b2 + g[j] * g[j] * (1.0 - b2);
                let adjusted = (m[j] * sm) / ((v[j] * sv).sqrt() + eps);
                th[j] = th[j] * decay - adjusted * lr;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_only_the_given_rows_and_descends() {
        // Minimise (θ − 3)² on row 1 of a 3-row table; rows 0 and 2 must not move.
        let mut table = vec![0.5f32; 3 * 2];
        let mut opt = SparseAdamW::new(3, 2, 0.1, 0.0);
        for _ in 0..300 {
            let g: Vec<f32> = table[2..4].iter().map(|&x| 2.0 * (x - 3.0)).collect();
            opt.step(&mut table, &[1], &g);
        }
        assert_eq!(&table[0..2], &[0.5, 0.5]);
        assert_eq!(&table[4..6], &[0.5, 0.5]);
        assert!(
            table[2..4].iter().all(|&x| (x - 3.0).abs() < 0.05),
            "{table:?}"
        );
    }
}
