//! Accuracy of [`math`](super) against the standard library, over the whole input range.
//!
//! `f32` results are measured against the standard library's `f64` function of the same
//! argument, which is exact to far below an `f32` ulp (`tanhf` and `expf` themselves are not
//! always correctly rounded), as a fraction of the `f32` ulp at the exact value. `f64` results
//! are measured as the distance in representable numbers to the standard library's `f64`
//! result (glibc's `exp` and `log` are within about 0.5 ulp of the truth, its `tanh` within 2),
//! or, for the sigmoid, to a reference that evaluates the stable formula with a compensated sum.
//!
//! Each function is run over dense grids and uniform random points of the ranges where it
//! varies, random bit patterns of every kind (every exponent, subnormals, ±0, ±∞, NaN), and its
//! edges. `cargo test -p gradgen --release math -- --ignored --nocapture` runs every `f32` input.

use super::{exp, exp_in_place, ln, ln_in_place, sigmoid, sigmoid_in_place, tanh, tanh_in_place};

/// The inputs' draws, from `gradgen::init`'s seeded generator (xoshiro256++): a fixed seed
/// gives the same inputs on every run and platform.
struct Draws(crate::init::SeededRng);

impl Draws {
    fn new(seed: u64) -> Self {
        Draws(rand::SeedableRng::seed_from_u64(seed))
    }

    fn next(&mut self) -> u64 {
        rand::Rng::next_u64(&mut self.0)
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        #[allow(clippy::cast_precision_loss)] // 53 bits: exact
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }
}

/// The error of the `f32` result `y` in `f32` ulps of `exact`, a value known far more
/// precisely than an `f32` ulp; ∞ for a NaN where the exact value is a number or the reverse.
/// An infinite `y` counts as ±2¹²⁸, the value where the exponent range ends, so that +∞ one ulp
/// early at the overflow edge costs one ulp, not an infinite error.
fn ulps_f32(y: f32, exact: f64) -> f64 {
    if exact.is_nan() || y.is_nan() {
        return if exact.is_nan() && y.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    // Beyond 2¹²⁸ only ±∞ is right; below it, up from `f32::MAX` + ulp/2, ∞ counts as 2¹²⁸.
    if exact.abs() >= 2f64.powi(128) {
        return if f64::from(y) == exact.signum() * f64::INFINITY {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let y = if y.is_infinite() {
        f64::from(y.signum()) * 2f64.powi(128)
    } else {
        f64::from(y)
    };
    let magnitude = exact.abs().max(f64::from(f32::MIN_POSITIVE));
    // The ulp of f32 at `magnitude` (an f64 here, so also beyond f32::MAX): 2^(e − 23).
    let e = i32::try_from((magnitude.to_bits() >> 52) & 0x7ff).expect("11 bits") - 1023;
    (y - exact).abs() / 2f64.powi(e - 23)
}

/// The number of `f64` values between `y` and `reference` (0 when equal, 1 when adjacent);
/// +∞ follows `f64::MAX`, and ±0 are one value. ∞ when only one of them is a NaN.
fn ulps_f64(y: f64, reference: f64) -> f64 {
    if y.is_nan() || reference.is_nan() {
        return if y.is_nan() && reference.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let ordered = |v: f64| {
        let magnitude = i128::from(v.to_bits() & !(1 << 63));
        if v.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    };
    #[allow(clippy::cast_precision_loss)] // distances of interest are small
    let d = (ordered(y) - ordered(reference)).abs() as f64;
    d
}

/// The largest error seen, and where.
#[derive(Default)]
struct Worst {
    ulps: f64,
    at: f64,
    count: u64,
}

impl Worst {
    fn record(&mut self, x: f64, ulps: f64) {
        self.count += 1;
        // A NaN error is recorded too, and fails the bound.
        if ulps.is_nan() || ulps > self.ulps {
            self.ulps = ulps;
            self.at = x;
        }
    }

    fn merge(mut self, other: Worst) -> Worst {
        let count = self.count + other.count;
        self.record(other.at, other.ulps);
        self.count = count;
        self
    }

    fn assert_within(&self, name: &str, bound: f64) {
        println!(
            "{name:<12} max {:.3} ulp at x = {:e} ({} inputs)",
            self.ulps, self.at, self.count
        );
        assert!(
            self.ulps <= bound,
            "{name}: {} ulp at x = {:e} ({:?}), bound {bound}",
            self.ulps,
            self.at,
            self.at
        );
    }
}

/// One function under test: ours, the reference, and the ranges where it varies.
struct Case<T> {
    name: &'static str,
    ours: fn(T) -> T,
    reference: fn(f64) -> f64,
    ranges: &'static [(f64, f64)],
    bound: f64,
}

/// σ in `f64` by the stable formula, with 1 + e as an exact sum of two `f64` (Knuth's TwoSum)
/// so that the only error left is that of `exp` (≈ 0.5 ulp) and the final rounding.
fn sigmoid_reference(x: f64) -> f64 {
    let e = (-x.abs()).exp();
    let numerator = if x < 0.0 { e } else { 1.0 };
    let hi = 1.0 + e;
    let lo = e - (hi - 1.0); // exact: |e| ≤ 1
    let q = numerator / hi;
    q - q * (lo / hi)
}

/// Bit patterns drawn uniformly: every exponent equally likely, so the far ranges, ±∞, NaN
/// and subnormals all appear, and then the same count in the ranges where the function varies.
const RANDOM: usize = 1 << 20;
/// Points of the uniform grid over each range.
const GRID: usize = 1 << 17;

fn inputs_f32(ranges: &[(f64, f64)], seed: u64, mut each: impl FnMut(f32)) {
    let mut rng = Draws::new(seed);
    for _ in 0..RANDOM {
        each(f32::from_bits((rng.next() >> 32) as u32));
    }
    for &(lo, hi) in ranges {
        for i in 0..=GRID {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            each((lo + (hi - lo) * i as f64 / GRID as f64) as f32);
        }
        for _ in 0..RANDOM / ranges.len() {
            #[allow(clippy::cast_possible_truncation)]
            each(rng.uniform(lo, hi) as f32);
        }
    }
    // Every subnormal exponent and a few mantissas each, with both signs.
    for bits in (1u32..0x0080_0000).step_by(977) {
        each(f32::from_bits(bits));
        each(-f32::from_bits(bits));
    }
}

fn inputs_f64(ranges: &[(f64, f64)], seed: u64, mut each: impl FnMut(f64)) {
    let mut rng = Draws::new(seed);
    for _ in 0..RANDOM {
        each(f64::from_bits(rng.next()));
    }
    for &(lo, hi) in ranges {
        for i in 0..=GRID {
            #[allow(clippy::cast_precision_loss)]
            each(lo + (hi - lo) * i as f64 / GRID as f64);
        }
        for _ in 0..RANDOM / ranges.len() {
            each(rng.uniform(lo, hi));
        }
    }
    for _ in 0..RANDOM / 16 {
        let subnormal = f64::from_bits(rng.next() & 0x000f_ffff_ffff_ffff);
        each(subnormal);
        each(-subnormal);
    }
}

fn check_f32(case: &Case<f32>) {
    let mut worst = Worst::default();
    inputs_f32(case.ranges, 0xf32, |x| {
        let exact = (case.reference)(f64::from(x));
        worst.record(f64::from(x), ulps_f32((case.ours)(x), exact));
    });
    worst.assert_within(&format!("{} f32", case.name), case.bound);
}

fn check_f64(case: &Case<f64>) {
    let mut worst = Worst::default();
    inputs_f64(case.ranges, 0xf64, |x| {
        worst.record(x, ulps_f64((case.ours)(x), (case.reference)(x)));
    });
    worst.assert_within(&format!("{} f64", case.name), case.bound);
}

const EXP_RANGES_32: &[(f64, f64)] = &[(-105.0, 90.0), (-1.0, 1.0), (-1e-6, 1e-6)];
const EXP_RANGES_64: &[(f64, f64)] = &[(-750.0, 712.0), (-1.0, 1.0), (-1e-12, 1e-12)];
const LN_RANGES: &[(f64, f64)] = &[(0.0, 10.0), (0.5, 2.0), (1.0 - 1e-4, 1.0 + 1e-4)];
const TANH_RANGES_32: &[(f64, f64)] = &[(-12.0, 12.0), (-1.0, 1.0), (0.6, 0.65), (-1e-3, 1e-3)];
const TANH_RANGES_64: &[(f64, f64)] = &[(-22.0, 22.0), (-1.0, 1.0), (0.6, 0.65), (-1e-3, 1e-3)];
const SIGMOID_RANGES_32: &[(f64, f64)] = &[(-110.0, 20.0), (-5.0, 5.0)];
const SIGMOID_RANGES_64: &[(f64, f64)] = &[(-750.0, 40.0), (-5.0, 5.0)];

// The bounds: for `f32`, ulps of the exact value; for `f64`, representable numbers between
// ours and the reference, which is itself up to an ulp or two off (glibc's `tanh`).

#[test]
fn exp_is_within_an_ulp() {
    check_f32(&Case {
        name: "exp",
        ours: exp,
        reference: f64::exp,
        ranges: EXP_RANGES_32,
        bound: 1.0,
    });
    check_f64(&Case {
        name: "exp",
        ours: exp,
        reference: f64::exp,
        ranges: EXP_RANGES_64,
        bound: 1.0,
    });
}

#[test]
fn ln_is_within_an_ulp() {
    check_f32(&Case {
        name: "ln",
        ours: ln,
        reference: f64::ln,
        ranges: LN_RANGES,
        bound: 1.0,
    });
    check_f64(&Case {
        name: "ln",
        ours: ln,
        reference: f64::ln,
        ranges: LN_RANGES,
        bound: 1.0,
    });
}

#[test]
fn tanh_is_within_an_ulp() {
    check_f32(&Case {
        name: "tanh",
        ours: tanh,
        reference: f64::tanh,
        ranges: TANH_RANGES_32,
        bound: 1.0,
    });
    check_f64(&Case {
        name: "tanh",
        ours: tanh,
        reference: f64::tanh,
        ranges: TANH_RANGES_64,
        bound: 2.0,
    });
}

#[test]
fn sigmoid_is_within_an_ulp_and_a_half() {
    check_f32(&Case {
        name: "sigmoid",
        ours: sigmoid,
        reference: sigmoid_reference,
        ranges: SIGMOID_RANGES_32,
        bound: 1.5,
    });
    check_f64(&Case {
        name: "sigmoid",
        ours: sigmoid,
        reference: sigmoid_reference,
        ranges: SIGMOID_RANGES_64,
        bound: 2.0,
    });
}

/// The last value of the ordered `f32` range [lo, hi] at which `holds` is true, where `holds`
/// is true at `lo` and turns false once: bisection over the bit patterns (positive values).
fn last_f32(lo: f32, hi: f32, holds: impl Fn(f32) -> bool) -> f32 {
    let (mut lo, mut hi) = (lo.to_bits(), hi.to_bits());
    assert!(holds(f32::from_bits(lo)) && !holds(f32::from_bits(hi)));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if holds(f32::from_bits(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f32::from_bits(lo)
}

/// [`last_f32`] for `f64`.
fn last_f64(lo: f64, hi: f64, holds: impl Fn(f64) -> bool) -> f64 {
    let (mut lo, mut hi) = (lo.to_bits(), hi.to_bits());
    assert!(holds(f64::from_bits(lo)) && !holds(f64::from_bits(hi)));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if holds(f64::from_bits(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f64::from_bits(lo)
}

/// The `f32` value of the reference, rounded as the standard library would.
#[allow(clippy::cast_possible_truncation)]
fn rounded(reference: fn(f64) -> f64, x: f32) -> f32 {
    reference(f64::from(x)) as f32
}

#[test]
fn exp_overflows_and_underflows_where_the_standard_library_does() {
    // The largest x whose eˣ is finite, and the next float.
    let top = last_f32(88.0, 89.0, |x| rounded(f64::exp, x).is_finite());
    assert_eq!(top, 88.722_83);
    assert!(exp(top).is_finite() && ulps_f32(exp(top), f64::from(top).exp()) <= 1.0);
    assert_eq!(exp(top.next_up()), f32::INFINITY);
    let top = last_f64(709.0, 710.0, |x| x.exp().is_finite());
    assert_eq!(top, 709.782_712_893_384);
    assert_eq!(exp(top), top.exp());
    assert_eq!(exp(top.next_up()), f64::INFINITY);

    // The smallest x whose eˣ is not 0 (a subnormal), and the float below it.
    let bottom = -last_f32(100.0, 110.0, |x| rounded(f64::exp, -x) > 0.0);
    assert_eq!(exp(bottom), f32::from_bits(1));
    assert_eq!(exp(bottom.next_down()), 0.0);
    let bottom64 = -last_f64(740.0, 750.0, |x| (-x).exp() > 0.0);
    assert_eq!(exp(bottom64), f64::from_bits(1));
    assert_eq!(exp(bottom64.next_down()), 0.0);

    // Where the results turn subnormal, every one is within an ulp of the subnormal grid.
    let mut x = -87.3_f32;
    while x > bottom {
        assert!(ulps_f32(exp(x), f64::from(x).exp()) <= 1.0, "exp({x})");
        x = x.next_down();
    }
}

#[test]
fn tanh_and_sigmoid_saturate_exactly_where_the_true_value_rounds_to_1() {
    let one = |f: fn(f64) -> f64| last_f32(1.0, 100.0, |x| rounded(f, x) < 1.0).next_up();
    for (name, ours, reference) in [
        ("tanh", tanh as fn(f32) -> f32, f64::tanh as fn(f64) -> f64),
        ("sigmoid", sigmoid, sigmoid_reference),
    ] {
        let mut x = one(reference);
        while x < f32::MAX {
            assert_eq!(ours(x), 1.0, "{name}({x})");
            x *= 1.01;
        }
    }
    for (name, ours, reference) in [
        ("tanh", tanh as fn(f64) -> f64, f64::tanh as fn(f64) -> f64),
        ("sigmoid", sigmoid, sigmoid_reference),
    ] {
        let mut x = last_f64(1.0, 100.0, |x| reference(x) < 1.0).next_up();
        while x < f64::MAX {
            assert_eq!(ours(x), 1.0, "{name}({x})");
            x *= 1.01;
        }
    }
    // The negative tails: −1 for tanh; for the sigmoid eˣ, subnormal and then exactly 0.
    assert_eq!(tanh(-20.0_f32), -1.0);
    assert_eq!(tanh(-40.0_f64), -1.0);
    let tail = sigmoid(-100.0_f32);
    assert!(tail > 0.0 && tail < f32::MIN_POSITIVE && ulps_f32(tail, (-100f64).exp()) <= 1.0);
    assert_eq!(sigmoid(-104.0_f32), 0.0);
    assert_eq!(sigmoid(-1000.0_f32), 0.0);
    assert_eq!(sigmoid(1000.0_f32), 1.0);
    let tail = sigmoid(-740.0_f64);
    assert!(tail > 0.0 && tail < f64::MIN_POSITIVE && ulps_f64(tail, (-740f64).exp()) <= 1.0);
    assert_eq!(sigmoid(-746.0_f64), 0.0);
    assert_eq!(sigmoid(-1000.0_f64), 0.0);
    assert_eq!(sigmoid(1000.0_f64), 1.0);
}

#[test]
fn special_values_are_the_standard_librarys() {
    specials::<f32>();
    specials::<f64>();
}

fn specials<T: crate::Scalar>() {
    let (zero, one, inf, nan) = (T::zero(), T::one(), T::infinity(), T::nan());
    let half = T::from_f64(0.5);
    let (tiny, big) = (T::min_positive_value(), T::max_value());
    let same = |a: T, b: T| a.to_bits_eq(b);
    // exp
    assert!(same(exp(zero), one) && same(exp(-zero), one));
    assert!(same(exp(inf), inf) && same(exp(-inf), zero) && same(exp(-big), zero));
    assert!(exp(nan).is_nan());
    // ln
    assert!(same(ln(one), zero) && same(ln(inf), inf) && same(ln(big), big.ln()));
    assert!(same(ln(zero), -inf) && same(ln(-zero), -inf));
    assert!(ln(-one).is_nan() && ln(-inf).is_nan() && ln(-tiny).is_nan() && ln(nan).is_nan());
    // tanh: odd, including the sign of zero; ±1 at the ends; x itself for tiny x.
    assert!(same(tanh(zero), zero) && same(tanh(-zero), -zero));
    assert!(same(tanh(inf), one) && same(tanh(-inf), -one));
    assert!(same(tanh(big), one) && same(tanh(-big), -one));
    assert!(same(tanh(tiny), tiny) && same(tanh(-tiny), -tiny));
    assert!(tanh(nan).is_nan());
    // sigmoid
    assert!(same(sigmoid(zero), half) && same(sigmoid(-zero), half));
    assert!(same(sigmoid(inf), one) && same(sigmoid(-inf), zero));
    assert!(same(sigmoid(big), one) && same(sigmoid(-big), zero));
    assert!(same(sigmoid(tiny), half));
    assert!(sigmoid(nan).is_nan());
}

/// Bitwise equality, so that `-0.0` and `0.0` differ.
trait BitsEq {
    fn to_bits_eq(self, other: Self) -> bool;
}

impl<T: crate::Scalar> BitsEq for T {
    fn to_bits_eq(self, other: T) -> bool {
        self == other && self.is_sign_negative() == other.is_sign_negative()
    }
}

#[test]
fn ln_of_subnormals_and_of_the_extremes() {
    let min = f32::from_bits(1);
    assert!(ulps_f32(ln(min), f64::from(min).ln()) <= 1.0);
    assert!(ulps_f32(ln(f32::MAX), f64::from(f32::MAX).ln()) <= 1.0);
    for bits in [1, 2, 3, 0x0040_0000, 0x007f_ffff, 0x0080_0000] {
        let x = f32::from_bits(bits);
        assert!(ulps_f32(ln(x), f64::from(x).ln()) <= 1.0, "ln({x:e})");
    }
    let min = f64::from_bits(1);
    assert_eq!(ulps_f64(ln(min), min.ln()), 0.0);
    assert!(ulps_f64(ln(f64::MAX), f64::MAX.ln()) <= 1.0);
    for bits in [1, 2, 3, 1 << 51, (1 << 52) - 1, 1 << 52] {
        let x = f64::from_bits(bits);
        assert!(ulps_f64(ln(x), x.ln()) <= 1.0, "ln({x:e})");
    }
}

/// The slice functions run the same arithmetic as the scalar ones, on whatever vector
/// instructions `vectorised!` picks on this machine: the same bits, entry by entry.
#[test]
fn slice_functions_equal_the_scalar_ones_bit_for_bit() {
    fn same_f32(name: &str, xs: &[f32], slice: fn(&mut [f32]), scalar: fn(f32) -> f32) {
        let mut ys = xs.to_vec();
        slice(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let s = scalar(x);
            assert!(
                y.to_bits() == s.to_bits() || (y.is_nan() && s.is_nan()),
                "{name}({x:e})"
            );
        }
    }
    fn same_f64(name: &str, xs: &[f64], slice: fn(&mut [f64]), scalar: fn(f64) -> f64) {
        let mut ys = xs.to_vec();
        slice(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let s = scalar(x);
            assert!(
                y.to_bits() == s.to_bits() || (y.is_nan() && s.is_nan()),
                "{name}({x:e})"
            );
        }
    }
    let mut xs32 = Vec::new();
    inputs_f32(&[(-110.0, 110.0)], 7, |x| xs32.push(x));
    let mut xs64 = Vec::new();
    inputs_f64(&[(-750.0, 750.0)], 7, |x| xs64.push(x));
    same_f32("exp", &xs32, exp_in_place, exp);
    same_f32("ln", &xs32, ln_in_place, ln);
    same_f32("tanh", &xs32, tanh_in_place, tanh);
    same_f32("sigmoid", &xs32, sigmoid_in_place, sigmoid);
    same_f64("exp", &xs64, exp_in_place, exp);
    same_f64("ln", &xs64, ln_in_place, ln);
    same_f64("tanh", &xs64, tanh_in_place, tanh);
    same_f64("sigmoid", &xs64, sigmoid_in_place, sigmoid);
}

/// Every one of the 2³² `f32` inputs, on two threads: about 4 minutes in release on 2 cores.
/// `cargo test -p gradgen --release --lib math::tests::every_f32 -- --ignored --nocapture`
#[test]
#[ignore = "2³² inputs per function: run it in release, by name"]
fn every_f32() {
    let case = |name, ours, reference, bound| Case {
        name,
        ours,
        reference,
        ranges: &[],
        bound,
    };
    let cases: [Case<f32>; 4] = [
        case("exp", exp, f64::exp, 1.0),
        case("ln", ln, f64::ln, 1.0),
        case("tanh", tanh, f64::tanh, 1.0),
        case("sigmoid", sigmoid, sigmoid_reference, 1.5),
    ];
    for case in &cases {
        let (ours, reference) = (case.ours, case.reference);
        let half = move |top: bool| {
            let mut worst = Worst::default();
            let sign = u32::from(top) << 31;
            for bits in 0..=u32::MAX >> 1 {
                let x = f32::from_bits(sign | bits);
                worst.record(f64::from(x), ulps_f32(ours(x), reference(f64::from(x))));
            }
            worst
        };
        let worst = std::thread::scope(|s| {
            let positive = s.spawn(move || half(false));
            let negative = half(true);
            positive.join().expect("no panic").merge(negative)
        });
        worst.assert_within(&format!("{} f32 (all)", case.name), case.bound);
    }
}
