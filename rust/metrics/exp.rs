//! `exp(x)` for `x <= 0`, the only exponentials a softmax shifted by its maximum takes.
//!
//! The softmax of a million four-choice rows spent half its time in glibc's `exp`, a third of
//! that in the wrapper that sets `errno` (`perf`, `benches/bench_choices.py`). This one is the
//! classic table method (Tang 1989, as musl and ARM's optimized-routines): `x = (k/N) ln 2 + r`
//! with `|r| <= ln 2 / 2N`, `exp(x) = 2^(k div N) * 2^((k mod N)/N) * exp(r)`, the middle factor
//! from a table of `N = 128` entries, `exp(r)` from a degree-5 polynomial (truncation below
//! 1e-18). No branch but one for the range, no call, inlined into the row loops. Within 1 ulp of
//! the C library's `exp` over the whole range (tested below), so probabilities move by at most
//! a few ulps from what `f64::exp` gave.

use std::sync::OnceLock;

const N: usize = 128;
/// `1.5 * 2^52`: adding and subtracting it rounds to the nearest integer (ties to even).
const SHIFT: f64 = 6_755_399_441_055_744.0;
const N_OVER_LN2: f64 = N as f64 / std::f64::consts::LN_2;
/// `ln 2 / N` in two parts; the high part has 32 significant bits, so `k * HI` is exact for
/// every `|k| < 2^21`.
const LN2_OVER_N_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000) / N as f64;
const LN2_OVER_N_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76) / N as f64;
/// Below this `exp` leaves the normal range: left to the C library (rare, and `-inf` -> 0).
const NORMAL_LIMIT: f64 = -708.0;

/// The exponential of non-positive numbers.
pub(crate) struct Exp {
    /// `2^(j/N)` for `j < N`.
    table: [f64; N],
}

impl Exp {
    /// The shared instance (its table is computed once).
    pub(crate) fn get() -> &'static Self {
        static EXP: OnceLock<Exp> = OnceLock::new();
        EXP.get_or_init(|| Self {
            table: std::array::from_fn(|j| (j as f64 / N as f64).exp2()),
        })
    }

    /// `exp(x)` for `x <= 0` (`-inf` gives 0). Positive `x` is not supported.
    #[inline]
    pub(crate) fn nonpositive(&self, x: f64) -> f64 {
        // NaN fails the comparison too, and `f64::exp` passes it through: one comparison.
        #[allow(clippy::neg_cmp_op_on_partial_ord)] // on purpose: true for NaN
        if !(x >= NORMAL_LIMIT) {
            return x.exp();
        }
        self.in_range(x)
    }

    /// `exp(x)` for `NORMAL_LIMIT <= x <= 0`.
    #[inline]
    fn in_range(&self, x: f64) -> f64 {
        let shifted = x * N_OVER_LN2 + SHIFT;
        let kf = shifted - SHIFT;
        // |kf| <= 708 * N / ln 2 < 2^17, so `shifted` is SHIFT + kf exactly and its bits are
        // SHIFT's plus kf: k read from them is `kf as i64`, without the float-to-integer
        // conversion and the saturation checks Rust puts around it.
        #[allow(clippy::cast_possible_wrap)] // both bit patterns are below 2^63
        let k = shifted.to_bits() as i64 - SHIFT.to_bits() as i64;
        let r = (x - kf * LN2_OVER_N_HI) - kf * LN2_OVER_N_LO;
        // 1 + r + r^2/2 + ... + r^5/120 in Estrin's order: short dependency chains
        let r2 = r * r;
        let high = 0.5 + r * (1.0 / 6.0) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0));
        let q = r + r2 * high; // exp(r) - 1, small: t + t * q rounds once where it counts
                               // k & (N-1) is k mod N and k >> 7 the floor of k / N, for negative k too
        let t = self.table[(k & (N as i64 - 1)) as usize];
        // k >> 7 >= -1022 above NORMAL_LIMIT: the biased exponent is positive
        #[allow(clippy::cast_sign_loss)]
        let scale = f64::from_bits((((k >> 7) + 1023) as u64) << 52);
        (t + t * q) * scale
    }
}

impl Exp {
    /// `sum(exp(v - max) for v in row)` added left to right, the same bits as summing
    /// [`Exp::nonpositive`] in a loop, with one range check per pair of choices: the two
    /// exponentials then run as independent chains the compiler interleaves (and partly pairs
    /// in SSE2 lanes). 22.4 ms instead of 25 ms for a million 4-choice rows on one thread.
    #[allow(clippy::inline_always)] // not inlined otherwise: a call per row, 2 ms in 22 (perf)
    #[inline(always)]
    pub(crate) fn shifted_sum(&self, row: &[f64], max: f64) -> f64 {
        let mut total = 0.0;
        let mut pairs = row.chunks_exact(2);
        for pair in &mut pairs {
            let x = [pair[0] - max, pair[1] - max];
            if !(x[0] >= NORMAL_LIMIT && x[1] >= NORMAL_LIMIT) {
                total += self.nonpositive(x[0]);
                total += self.nonpositive(x[1]);
                continue;
            }
            // both in range: two independent chains, no branch between them
            total += self.in_range(x[0]);
            total += self.in_range(x[1]);
        }
        for &v in pairs.remainder() {
            total += self.nonpositive(v - max);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// The index read from the bits of the shifted value is the rounded one cast to an integer.
    #[test]
    fn k_from_the_bits_is_the_cast() {
        let mut x = 0.0f64;
        while x > NORMAL_LIMIT {
            let shifted = x * N_OVER_LN2 + SHIFT;
            let from_bits = shifted.to_bits() as i64 - SHIFT.to_bits() as i64;
            assert_eq!(from_bits, (shifted - SHIFT) as i64, "{x}");
            x -= 0.000_371_3;
        }
    }

    #[test]
    fn shifted_sum_is_the_loop_bit_for_bit() {
        let exp = Exp::get();
        let values = [
            0.0,
            -1.5,
            f64::NEG_INFINITY,
            -800.0,
            -3.25,
            -707.9,
            -0.1,
            -40.0,
            -2.0,
        ];
        for len in 0..=values.len() {
            for start in 0..=(values.len() - len) {
                let row = &values[start..start + len];
                for max in [0.0, 0.5, 3.0] {
                    let want: f64 = row.iter().fold(0.0, |t, &v| t + exp.nonpositive(v - max));
                    assert_eq!(
                        exp.shifted_sum(row, max).to_bits(),
                        want.to_bits(),
                        "{row:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn within_one_ulp_of_the_c_library() {
        let exp = Exp::get();
        let mut worst = 0;
        // a dense sweep of [-708, 0] and the ends
        let mut x = 0.0f64;
        while x > NORMAL_LIMIT {
            worst = worst.max(ulps(exp.nonpositive(x), x.exp()));
            x -= 0.000_713_7;
        }
        for x in [
            0.0, -0.0, -1e-300, -1e-10, -0.5, -1.0, -707.999, -708.0, -745.0, -800.0,
        ] {
            worst = worst.max(ulps(exp.nonpositive(x), x.exp()));
        }
        assert!(worst <= 1, "{worst} ulps");
        assert_eq!(exp.nonpositive(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(
            exp.nonpositive(f64::NEG_INFINITY).to_bits(),
            0.0f64.to_bits()
        );
        assert!(exp.nonpositive(f64::NAN).is_nan());
    }
}
