//! Wider builds of the hot loops. [`multiversion!`] compiles one loop twice: for the target's
//! baseline (SSE2 on x86-64) and, on x86-64, for AVX2, and picks the AVX2 build at run time when
//! the CPU has it (`is_x86_feature_detected!` caches its answer: a load and a test per call).
//! The loops work lane by lane in a fixed order, so both builds give the same bits.

/// `pub(crate) fn NAME(args) -> R` calling the `#[inline(always)]` function `BODY` with the
/// same arguments, through its AVX2 build when the CPU has AVX2.
macro_rules! multiversion {
    ($(#[$m:meta])* fn $name:ident $(<const $c:ident: usize>)? ($($a:ident: $t:ty),*) $(-> $r:ty)? = $body:ident) => {
        $(#[$m])*
        pub(crate) fn $name $(<const $c: usize>)? ($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2 $(<const $c: usize>)? ($($a: $t),*) $(-> $r)? {
                    $body($($a),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, the only feature this build assumes.
                    return unsafe { avx2 $(::<$c>)? ($($a),*) };
                }
            }
            $body($($a),*)
        }
    };
}
pub(crate) use multiversion;

#[inline(always)]
fn add_rows_body<const D: usize>(acc: &mut [f32; D], emb: &[f32], rows: &[u32]) {
    let mut a = *acc;
    for &r in rows {
        let row: &[f32; D] = emb[r as usize * D..][..D].try_into().expect("a row");
        for k in 0..D {
            a[k] += row[k];
        }
    }
    *acc = a;
}

multiversion! {
    /// Add the embedding rows `rows` (`D` floats each, of `emb`) to `acc`, in order.
    fn add_rows<const D: usize>(acc: &mut [f32; D], emb: &[f32], rows: &[u32]) = add_rows_body
}

/// Whether [`add_rows_f16`] runs on this CPU (x86-64 with AVX2 and F16C; the answer is cached).
pub(crate) fn has_f16_rows() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("f16c");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// [`add_rows`] over rows stored as f16 bits (`D` a multiple of 8): each value widened to f32
/// (exact) and added in the same order, so the sums have the bits of [`add_rows`] on the
/// widened table, from half the memory. Call only where [`has_f16_rows`].
///
/// # Panics
/// Where [`has_f16_rows`] is false, or if `D` is not a multiple of 8.
pub(crate) fn add_rows_f16<const D: usize>(acc: &mut [f32; D], emb: &[u16], rows: &[u32]) {
    assert!(D % 8 == 0 && has_f16_rows(), "add_rows_f16 on this CPU");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX2 and F16C (asserted above).
    unsafe {
        add_rows_f16_avx2(acc, emb, rows)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (acc, emb, rows); // unreachable: the assert above fails on other targets
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,f16c")]
fn add_rows_f16_avx2<const D: usize>(acc: &mut [f32; D], emb: &[u16], rows: &[u32]) {
    use std::arch::x86_64::*;
    let mut a = *acc;
    for &r in rows {
        let row: &[u16; D] = emb[r as usize * D..][..D].try_into().expect("a row");
        for c in 0..D / 8 {
            // SAFETY: eight u16 of `row` and eight f32 of `a` from 8·c < D (D a multiple of 8).
            unsafe {
                let v = _mm256_cvtph_ps(_mm_loadu_si128(row.as_ptr().add(8 * c).cast()));
                let s = _mm256_add_ps(_mm256_loadu_ps(a.as_ptr().add(8 * c)), v);
                _mm256_storeu_ps(a.as_mut_ptr().add(8 * c), s);
            }
        }
    }
    *acc = a;
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
        let mut got = [0f32; 32];
        add_rows(&mut got, &emb, &rows);
        // The plain loop, one row at a time, lane by lane.
        let mut plain = [0f32; 32];
        for &r in &rows {
            for k in 0..32 {
                plain[k] += emb[r as usize * 32 + k];
            }
        }
        assert_eq!(got.map(f32::to_bits), plain.map(f32::to_bits));
        let mut base = [0f32; 32];
        add_rows_body(&mut base, &emb, &rows);
        assert_eq!(got.map(f32::to_bits), base.map(f32::to_bits));
    }

    #[test]
    fn f16_rows_give_the_bits_of_their_f32_widening() {
        if !has_f16_rows() {
            eprintln!("skipped: this CPU has no AVX2 + F16C");
            return;
        }
        let half: Vec<half::f16> = (0..64 * 32)
            .map(|i| half::f16::from_f32(((i * 7919) % 1000) as f32 * 1e-3 - 0.5))
            .collect();
        let wide: Vec<f32> = half.iter().map(|h| h.to_f32()).collect();
        let bits: Vec<u16> = half.iter().map(|h| h.to_bits()).collect();
        let rows: Vec<u32> = (0..500).map(|i| (i * 37 % 64) as u32).collect();
        let (mut got, mut want) = ([0.25f32; 32], [0.25f32; 32]);
        add_rows_f16(&mut got, &bits, &rows);
        add_rows(&mut want, &wide, &rows);
        assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits));
    }
}
