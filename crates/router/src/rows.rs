//! Summing embedding rows into the bag, the innermost loop of a decide. The sum runs lane by
//! lane in row order, so every vector width gives the same bits; on x86-64 CPUs with AVX2 (found
//! at load time) the same loop is compiled for 256-bit registers, half the instructions of the
//! SSE2 baseline.

/// How rows are summed on this CPU, decided once when a model loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowSum {
    /// The baseline build (SSE2 on x86-64).
    Baseline,
    /// The AVX2 build of the same loop (only chosen when the CPU has AVX2).
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl RowSum {
    /// The widest version this CPU runs.
    pub(crate) fn detect() -> RowSum {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return RowSum::Avx2;
        }
        RowSum::Baseline
    }

    /// Add the embedding rows `rows` (`D` floats each, of `emb`) to `acc`, in order.
    #[inline(always)]
    pub(crate) fn add<const D: usize>(self, acc: &mut [f32; D], emb: &[f32], rows: &[u32]) {
        match self {
            RowSum::Baseline => add_rows(acc, emb, rows),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2` is only ever built by `detect` after the CPU reported AVX2.
            RowSum::Avx2 => unsafe { add_rows_avx2(acc, emb, rows) },
        }
    }
}

/// The loop itself, inlined into each build.
#[inline(always)]
fn sum<const D: usize>(acc: &mut [f32; D], emb: &[f32], rows: &[u32]) {
    let mut a = *acc;
    for &r in rows {
        let row: &[f32; D] = emb[r as usize * D..][..D].try_into().expect("a row");
        for k in 0..D {
            a[k] += row[k];
        }
    }
    *acc = a;
}

#[inline(never)]
fn add_rows<const D: usize>(acc: &mut [f32; D], emb: &[f32], rows: &[u32]) {
    sum(acc, emb, rows)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
fn add_rows_avx2<const D: usize>(acc: &mut [f32; D], emb: &[f32], rows: &[u32]) {
    sum(acc, emb, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_build_gives_the_same_bits() {
        let emb: Vec<f32> = (0..64 * 32)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
            .collect();
        let rows: Vec<u32> = (0..500).map(|i| (i * 37 % 64) as u32).collect();
        let mut want = [0f32; 32];
        add_rows(&mut want, &emb, &rows);
        let mut got = [0f32; 32];
        RowSum::detect().add(&mut got, &emb, &rows);
        assert_eq!(want.map(f32::to_bits), got.map(f32::to_bits));
        // The plain loop, one row at a time, lane by lane.
        let mut plain = [0f32; 32];
        for &r in &rows {
            for k in 0..32 {
                plain[k] += emb[r as usize * 32 + k];
            }
        }
        assert_eq!(want.map(f32::to_bits), plain.map(f32::to_bits));
    }
}
