//! The `f32` kernels of [`math`](super): branch-free, no calls, so that a loop over a slice
//! vectorises. The method of each is described on the module; the coefficients are minimax
//! polynomials that `remez.py` (next to this file) computes.

/// `a·b + c`: one fused instruction where the target has FMA (for instance with
/// `-C target-cpu=native` on an AVX2 machine). Otherwise a product and a sum: `f32::mul_add`
/// without the instruction is a call to `fmaf`, which no loop vectorises.
#[inline(always)]
fn mad(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(target_feature = "fma")]
    return a.mul_add(b, c);
    #[cfg(not(target_feature = "fma"))]
    return a * b + c;
}

/// `c[0] + c[1]·x + … + c[N−1]·x^(N−1)` by Horner's rule.
#[inline(always)]
fn horner<const N: usize>(x: f32, c: &[f32; N]) -> f32 {
    let mut acc = c[N - 1];
    for &k in c[..N - 1].iter().rev() {
        acc = mad(acc, x, k);
    }
    acc
}

/// Adding 1.5·2²³ to `|k| < 2²²` rounds it to the nearest integer, which the sum then holds in
/// its low mantissa bits: rounding and conversion to an integer without a call or a branch.
const ROUND: f32 = 12_582_912.0;
/// ln 2 to 9 significant bits, so that `n·LN2_HI` is exact for every `|n| < 2¹⁵`.
const LN2_HI: f32 = 355.0 / 512.0;
/// ln 2 − `LN2_HI`: Cody and Waite's two-part reduction constant.
const LN2_LO: f32 = -2.121_944_4e-4;
/// Above ln(`f32::MAX`) ≈ 88.72284: the scaling by 2¹²⁸ then overflows to +∞.
const EXP_HI: f32 = 89.0;
/// Below ln(2⁻¹⁵⁰) ≈ −103.97: the result rounds to 0.
const EXP_LO: f32 = -104.0;
/// eʳ ≈ 1 + r + r²·q(r) on |r| ≤ ln2 / 2, q of degree 5: relative error 2⁻³¹.
const EXP_Q: [f32; 6] = [
    0.5,
    0.16666664,
    0.04166646,
    0.008333998,
    0.0013932894,
    0.00019421121,
];

/// eˣ.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    exp_parts(x).0
}

/// eˣ as `hi + lo`, where `hi` is [`exp`]'s result and `lo` the rounding error of its last
/// addition: [`tanh`] and [`sigmoid`] divide by 1 + eˣ, and this keeps them within an ulp.
/// (Where only `hi` is used, the compiler drops the rest.)
#[inline(always)]
fn exp_parts(x: f32) -> (f32, f32) {
    // Written as selects: a NaN compares false and passes through, where `clamp` would not.
    let x = if x > EXP_HI { EXP_HI } else { x };
    let x = if x < EXP_LO { EXP_LO } else { x };
    let t = mad(x, std::f32::consts::LOG2_E, ROUND);
    let n = t - ROUND;
    let r = mad(n, -LN2_LO, mad(n, -LN2_HI, x));
    let s = mad(r * r, horner(r, &EXP_Q), r);
    let p = s + 1.0;
    let p_lo = (1.0 - p) + s; // exact (Fast2Sum): |s| < 1
                              // 2ⁿ in two halves, so that neither 2^(max exponent + 1) nor a subnormal power has to
                              // exist, and the product rounds once, also when it is subnormal.
    let half = mad(n, 0.5, ROUND).to_bits();
    let (a, b) = (
        pow2(half),
        pow2(t.to_bits().wrapping_sub(half).wrapping_add(ROUND.to_bits())),
    );
    (p * a * b, p_lo * a * b)
}

/// 2ᵐ from the bits of `m + ROUND`, for `m` in [−126, 127]: the low 9 bits of `m + 127` are the
/// exponent field, and the shift drops `ROUND`'s own bits.
#[inline(always)]
fn pow2(bits: u32) -> f32 {
    f32::from_bits(bits.wrapping_add(127) << 23)
}

/// The bits of √2 / 2, the lower end of the reduced argument of [`ln`].
const LN_M_LOW: u32 = 0x3f35_04f3;
/// R(z) / z ≈ P(z), where ln(1 + f) = 2s + s·R(s²) and s = f / (2 + f), on s² ≤ (3 − 2√2)²:
/// relative error of the logarithm 2⁻³⁰.
const LN_P: [f32; 3] = [0.66666776, 0.39977497, 0.29873073];

/// ln x.
#[inline(always)]
pub(super) fn ln(x: f32) -> f32 {
    // Subnormals are scaled into the normal range, exactly, and the exponent corrected.
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * 33_554_432.0 } else { x }; // 2²⁵
    let offset: i32 = if subnormal { 127 + 25 } else { 127 };
    // x = 2ᵏ·m with m in [√2/2, √2): the addition carries into the exponent exactly when the
    // mantissa is at least √2.
    let bits = scaled.to_bits().wrapping_add(0x3f80_0000 - LN_M_LOW);
    #[allow(clippy::cast_possible_wrap)] // bits >> 23 < 2⁹
    let k = ((bits >> 23) as i32 - offset) as f32;
    let f = f32::from_bits((bits & 0x007f_ffff) + LN_M_LOW) - 1.0;
    let y = mad(k, LN2_HI, log1p_reduced(f, k));
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    let y = if x == f32::INFINITY { x } else { y };
    // Negative and NaN inputs: a NaN compares false.
    if x >= 0.0 {
        y
    } else {
        f32::NAN
    }
}

/// ln(1 + f) + k·`LN2_LO` for f in [√2/2 − 1, √2 − 1], as fdlibm writes it:
/// with s = f / (2 + f), ln(1 + f) = 2·atanh(s) = f − f²/2 + s·(f²/2 + R(s²)).
#[inline(always)]
fn log1p_reduced(f: f32, k: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * horner(z, &LN_P);
    let hfsq = 0.5 * f * f;
    f - (hfsq - mad(s, hfsq + r, k * LN2_LO))
}

/// Beyond this, tanh rounds to 1 (from 9.01 in `f32`, 19.06 in `f64`).
const TANH_ONE: f32 = 20.0;
/// Below this, tanh is the odd polynomial; from it on, 1 − 2 / (e²ˣ + 1).
const TANH_SMALL: f32 = 0.625;
/// tanh x ≈ x + x³·P(x²) on |x| ≤ 0.625: relative error 2⁻²⁷·⁸.
const TANH_P: [f32; 5] = [
    -0.3333328,
    0.13331436,
    -0.053739116,
    0.020637047,
    -0.0057026115,
];

/// tanh x.
#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = a * a;
    let small = mad(a * z, horner(z, &TANH_P), a);
    // 1 − 2 / (e + 1) with e = e²ᵃ: the rounding errors of e and of e + 1 are carried along
    // (`e_lo`, `d_lo`), and so is that of 1 − q (`h_lo`), leaving the division's and the last
    // addition's. Beyond `TANH_ONE`, e stays finite (∞ − ∞ would give a NaN) and the result is
    // 1 exactly.
    let (e, e_lo) = exp_parts(if a > TANH_ONE { TANH_ONE } else { a } * 2.0);
    let d = e + 1.0;
    let d_lo = (1.0 - (d - e)) + e_lo; // Fast2Sum: e ≥ 1
    let inv = 1.0 / d; // the one division: 2·(1/d) rounds as 2/d does
    let q = 2.0 * inv;
    let h = 1.0 - q;
    let h_lo = (1.0 - h) - q; // Fast2Sum: q < 1
    let large = h + mad(q, d_lo * inv, h_lo);
    let t = if a < TANH_SMALL { small } else { large };
    // tanh is odd; this also keeps the sign of −0.
    t.copysign(x)
}

/// σ(x) = 1 / (1 + e⁻ˣ).
#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    // e^(−|x|) never overflows: σ(x) = 1 / (1 + e) for x ≥ 0 and e / (1 + e) for x < 0, so the
    // far negative tail is e^x itself (subnormal, then 0) rather than 1 / +∞.
    let (e, e_lo) = exp_parts(-x.abs());
    let (numerator, numerator_lo) = if x < 0.0 { (e, e_lo) } else { (1.0, 0.0) };
    // The rounding errors of e and of 1 + e are carried along (`lo`), leaving the division's
    // and the last addition's: (n + n_lo) / (hi + lo) ≈ q + (n_lo − q·lo) / hi. The correction
    // is an ulp or less, and 1 / hi is close enough to 1 / (1 + e), which is q for x ≥ 0 and
    // 1 − q for x < 0: one division.
    let hi = 1.0 + e;
    let lo = (e - (hi - 1.0)) + e_lo; // Fast2Sum: e ≤ 1
    let q = numerator / hi;
    let inv = if x < 0.0 { 1.0 - q } else { q };
    q + mad(-q, lo, numerator_lo) * inv
}
