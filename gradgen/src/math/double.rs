//! The `f64` kernels of [`math`](super): the `f32` ones (`single.rs`) with `f64` constants and
//! longer polynomials. Without AVX-512 there is no vector instruction that converts between
//! `i64` and `f64` or shifts an `i64` right arithmetically, so every integer here is moved in
//! and out of a float by the `ROUND` addition instead.

/// `a·b + c`: one fused instruction where the target has FMA, otherwise a product and a sum
/// (`f64::mul_add` without the instruction is a call to `fma`, which no loop vectorises).
#[inline(always)]
fn mad(a: f64, b: f64, c: f64) -> f64 {
    #[cfg(target_feature = "fma")]
    return a.mul_add(b, c);
    #[cfg(not(target_feature = "fma"))]
    return a * b + c;
}

/// `c[0] + c[1]·x + … + c[N−1]·x^(N−1)` by Horner's rule.
#[inline(always)]
fn horner<const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut acc = c[N - 1];
    for &k in c[..N - 1].iter().rev() {
        acc = mad(acc, x, k);
    }
    acc
}

/// 1.5·2⁵²: adding it to `|k| < 2⁵¹` rounds `k` to the nearest integer, held in the low bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 to 32 significant bits, so that `n·LN2_HI` is exact for every `|n| < 2²¹`.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
/// ln 2 − `LN2_HI`: Cody and Waite's two-part reduction constant.
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// Above ln(`f64::MAX`) ≈ 709.7827: the scaling by 2¹⁰²⁴ then overflows to +∞.
const EXP_HI: f64 = 710.0;
/// Below ln(2⁻¹⁰⁷⁵) ≈ −745.13: the result rounds to 0.
const EXP_LO: f64 = -746.0;
/// eʳ ≈ 1 + r + r²·q(r) on |r| ≤ ln2 / 2, q of degree 10: relative error 2⁻⁶¹·⁶.
const EXP_Q: [f64; 11] = [
    0.5,
    0.16666666666666677,
    0.04166666666666662,
    0.0083333333333211,
    0.001388888888889062,
    0.00019841269887189465,
    2.4801587339575892e-05,
    2.7557243359106494e-06,
    2.755724005432832e-07,
    2.510927033562981e-08,
    2.0931316561293483e-09,
];

/// eˣ.
#[inline(always)]
pub(super) fn exp(x: f64) -> f64 {
    exp_parts(x).0
}

/// eˣ as `hi + lo`, where `hi` is [`exp`]'s result and `lo` the rounding error of its last
/// addition: [`tanh`] and [`sigmoid`] divide by 1 + eˣ, and this keeps them within an ulp.
/// (Where only `hi` is used, the compiler drops the rest.)
#[inline(always)]
fn exp_parts(x: f64) -> (f64, f64) {
    // Written as selects: a NaN compares false and passes through, where `clamp` would not.
    let x = if x > EXP_HI { EXP_HI } else { x };
    let x = if x < EXP_LO { EXP_LO } else { x };
    let t = mad(x, std::f64::consts::LOG2_E, ROUND);
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

/// 2ᵐ from the bits of `m + ROUND`, for `m` in [−1022, 1023]: the low 12 bits of `m + 1023`
/// are the exponent field, and the shift drops `ROUND`'s own bits.
#[inline(always)]
fn pow2(bits: u64) -> f64 {
    f64::from_bits(bits.wrapping_add(1023) << 52)
}

/// The bits of √2 / 2, the lower end of the reduced argument of [`ln`].
const LN_M_LOW: u64 = 0x3fe6_a09e_667f_3bcd;
/// 2⁵², whose bits or-ed with a small integer `i` are the bits of 2⁵² + i.
const TWO_52: f64 = 4_503_599_627_370_496.0;
/// R(z) / z ≈ P(z), where ln(1 + f) = 2s + s·R(s²) and s = f / (2 + f), on s² ≤ (3 − 2√2)²:
/// relative error of the logarithm 2⁻⁵⁹·⁵.
const LN_P: [f64; 7] = [
    0.6666666666666735,
    0.3999999999941109,
    0.2857142874326284,
    0.222221984759735,
    0.18183569740334388,
    0.15313903235806467,
    0.147975077970053,
];

/// ln x.
#[inline(always)]
pub(super) fn ln(x: f64) -> f64 {
    // Subnormals are scaled into the normal range, exactly, and the exponent corrected.
    let subnormal = x < f64::MIN_POSITIVE;
    let scaled = if subnormal {
        x * 18_014_398_509_481_984.0
    } else {
        x
    }; // 2⁵⁴
    let offset = if subnormal {
        TWO_52 + 1077.0
    } else {
        TWO_52 + 1023.0
    };
    // x = 2ᵏ·m with m in [√2/2, √2): the addition carries into the exponent exactly when the
    // mantissa is at least √2.
    let bits = scaled
        .to_bits()
        .wrapping_add(0x3ff0_0000_0000_0000 - LN_M_LOW);
    let k = f64::from_bits(TWO_52.to_bits() | (bits >> 52)) - offset;
    let f = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) + LN_M_LOW) - 1.0;
    let y = mad(k, LN2_HI, log1p_reduced(f, k));
    let y = if x == 0.0 { f64::NEG_INFINITY } else { y };
    let y = if x == f64::INFINITY { x } else { y };
    // Negative and NaN inputs: a NaN compares false.
    if x >= 0.0 {
        y
    } else {
        f64::NAN
    }
}

/// ln(1 + f) + k·`LN2_LO` for f in [√2/2 − 1, √2 − 1], as fdlibm writes it:
/// with s = f / (2 + f), ln(1 + f) = 2·atanh(s) = f − f²/2 + s·(f²/2 + R(s²)).
#[inline(always)]
fn log1p_reduced(f: f64, k: f64) -> f64 {
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * horner(z, &LN_P);
    let hfsq = 0.5 * f * f;
    f - (hfsq - mad(s, hfsq + r, k * LN2_LO))
}

/// Beyond this, tanh rounds to 1 (from 9.01 in `f32`, 19.06 in `f64`).
const TANH_ONE: f64 = 20.0;
/// Below this, tanh is the odd polynomial; from it on, 1 − 2 / (e²ˣ + 1).
const TANH_SMALL: f64 = 0.625;
/// tanh x ≈ x + x³·P(x²) on |x| ≤ 0.625: relative error 2⁻⁵⁶·⁴.
const TANH_P: [f64; 11] = [
    -0.3333333333333285,
    0.13333333333261438,
    -0.05396825393096502,
    0.02186948756919581,
    -0.008863220912672613,
    0.0035919884510851176,
    -0.001454955179002016,
    0.0005863044518574063,
    -0.0002285397963955402,
    7.711660903371223e-05,
    -1.6058986454943034e-05,
];

/// tanh x.
#[inline(always)]
pub(super) fn tanh(x: f64) -> f64 {
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
pub(super) fn sigmoid(x: f64) -> f64 {
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
