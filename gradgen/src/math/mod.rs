//! `exp`, `ln`, `tanh` and the logistic sigmoid, written so that a loop applying them entry by
//! entry vectorises, and accurate to about an ulp in `f32` and `f64`.
//!
//! `f32::exp` and its kin call the C math library once per entry: a loop over a matrix cannot
//! use vector instructions, and `tanhf` costs about 10 ns an entry. These functions have no call
//! and no branch: each is a range reduction, a polynomial, and special cases folded in with
//! selects (`if c { a } else { b }` on values, which LLVM turns into a blend). A loop over a
//! slice or an ndarray that applies them becomes SIMD code. Wrapped in [`vectorised!`] (as the
//! `*_in_place` functions are), it uses AVX-512 or AVX2 wherever the CPU has them, even in the
//! default build, which otherwise targets the x86-64 baseline (SSE2, 4 `f32` wide).
//!
//! ```
//! use gradgen::math;
//! use gradgen::Mat;
//!
//! assert_eq!(math::exp(0.0_f32), 1.0);
//! assert_eq!(math::sigmoid(-1000.0_f64), 0.0); // the stable form: no 1 / ∞, no NaN
//!
//! let mut h = vec![-2.0_f32, -0.5, 0.0, 0.5, 2.0];
//! math::tanh_in_place(&mut h); // one pass, vectorised for this CPU
//! assert!((h[4] - 2.0_f32.tanh()).abs() <= f32::EPSILON);
//!
//! // Any elementwise pass over a matrix: in ndarray's `mapv` or `Zip` as well.
//! let z: Mat<2, 3, f32> = Mat::from_fn(|i, j| i as f32 - j as f32);
//! #[allow(clippy::redundant_closure)] // see below
//! let a = math::vectorised!(z.as_array().mapv(|v| math::sigmoid(v)));
//! assert_eq!(a[(0, 0)], 0.5);
//! ```
//!
//! Call them in the loop's body, or in a closure as above, rather than passing the function
//! itself (`mapv(math::tanh)`): every closure is a function of its own that the compiler inlines
//! into its one caller, while a function passed by name goes through one shared shim that the
//! compiler may leave as a call once it has several callers (the `f64` `tanh` and `sigmoid`
//! are large enough for that), and a call per entry does not vectorise.
//!
//! # Methods
//!
//! - [`exp`]: Cody and Waite's reduction x = n·ln 2 + r with |r| ≤ ln 2 / 2, ln 2 split in two
//!   parts so that r is exact; eʳ ≈ 1 + r + r²·q(r); then the scaling by 2ⁿ built from the
//!   exponent bits, in two halves so that the overflow edge (x ≈ 88.72 in `f32`, 709.78 in `f64`)
//!   and subnormal results round once. This is the scheme of Cephes' `expf` and of SLEEF, with
//!   n found by adding 1.5·2ᵖ⁻¹ (no rounding instruction or integer conversion is needed).
//! - [`ln`]: fdlibm's scheme (`e_log.c`): x = 2ᵏ·m with m in [√2/2, √2) read off the bits,
//!   s = (m − 1)/(m + 1), ln m = 2·atanh(s) = 2s + s·R(s²), and k·ln 2 in two parts. Subnormal
//!   inputs are first scaled by 2²⁵ (2⁵⁴ in `f64`).
//! - [`tanh`]: x + x³·P(x²) below |x| = 0.625 (Cephes' split), 1 − 2 / (e²ˣ + 1) above it.
//! - [`sigmoid`]: 1 / (1 + e⁻ˣ) for x ≥ 0 and eˣ / (1 + eˣ) for x < 0, through one
//!   e^(−|x|): no overflow, 0 and 1 exactly in the far tails, and the subnormal tail correct.
//!
//! In [`tanh`] and [`sigmoid`] the rounding errors of eˣ and of 1 + eˣ are carried along as
//! second terms (Fast2Sum), which keeps them within about an ulp instead of two.
//!
//! The polynomials are minimax (Remez exchange on the relative error, in 60-digit arithmetic
//! with `mpmath`); `remez.py` next to this module's source computes every coefficient. Where
//! the crate is built with FMA (`-C target-cpu=native` on a machine that has it), `a·b + c` is
//! one fused instruction, which is faster and slightly more accurate: a default build and such
//! a build may differ in the last bit. Within one build, every path (scalar, slice,
//! [`vectorised!`] on any CPU) gives the same bits.
//!
//! # Accuracy
//!
//! The largest error in ulps. `f32`: over every one of the 2³² inputs, against the standard
//! library's `f64` function. `f64`: against 30 000 random inputs per interval (exp on ±700, ln
//! on [0.01, 100], tanh on [0, 3], sigmoid on [−40, 10]) evaluated in 200-bit arithmetic
//! (`mpmath`); the tests check 2.6 million inputs per function against the standard library's
//! `f64` functions, within 1 representable number (exp, ln) or 2 (tanh, sigmoid, whose
//! references are themselves up to an ulp off).
//!
//! | function  | `f32` | `f64` |
//! |-----------|------:|------:|
//! | [`exp`]     | 0.96 | 0.91 |
//! | [`ln`]      | 0.84 | 0.72 |
//! | [`tanh`]    | 0.88 | 0.82 |
//! | [`sigmoid`] | 1.43 | 1.31 |
//!
//! The special values are the standard library's: NaN in, NaN out (not necessarily with the
//! input's payload); `exp(+∞) = +∞`, `exp(−∞) = 0`, +∞ from the first x whose eˣ rounds to it,
//! 0 from the first whose eˣ rounds to 0; `ln(±0) = −∞`, `ln(+∞) = +∞`, `ln(x < 0) = NaN`;
//! `tanh(±∞) = ±1`, `tanh(−0) = −0`, ±1 exactly from where the true value rounds to it;
//! `sigmoid(+∞) = 1`, `sigmoid(−∞) = 0`, likewise exact in both tails.

mod double;
mod single;

use crate::Scalar;

/// The per-type kernels behind [`exp`], [`ln`], [`tanh`] and [`sigmoid`]: a supertrait of
/// [`Scalar`], implemented for `f32` and `f64` only (sealed). Call the free functions of this
/// module rather than these.
///
/// They are associated functions, not methods, and their names are not `num_traits::Float`'s,
/// so that `x.exp()` and `T::exp(x)` keep meaning the standard library's function for any
/// `T: Scalar`.
pub trait Kernels: sealed::Sealed + Copy {
    /// eˣ; see [`exp`].
    fn exp_kernel(x: Self) -> Self;
    /// ln x; see [`ln`].
    fn ln_kernel(x: Self) -> Self;
    /// tanh x; see [`tanh`].
    fn tanh_kernel(x: Self) -> Self;
    /// 1 / (1 + e⁻ˣ); see [`sigmoid`].
    fn sigmoid_kernel(x: Self) -> Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

macro_rules! impl_kernels {
    ($t:ty, $imp:ident) => {
        impl Kernels for $t {
            #[inline(always)]
            fn exp_kernel(x: $t) -> $t {
                $imp::exp(x)
            }
            #[inline(always)]
            fn ln_kernel(x: $t) -> $t {
                $imp::ln(x)
            }
            #[inline(always)]
            fn tanh_kernel(x: $t) -> $t {
                $imp::tanh(x)
            }
            #[inline(always)]
            fn sigmoid_kernel(x: $t) -> $t {
                $imp::sigmoid(x)
            }
        }
    };
}

impl_kernels!(f32, single);
impl_kernels!(f64, double);

/// eˣ, within an ulp. +∞ above ln(`MAX`) (88.72284 in `f32`, 709.7827 in `f64`), subnormal
/// then 0 below ln(`MIN_POSITIVE`); `exp(−∞) = 0`, `exp(+∞) = +∞`.
///
/// ```
/// use std::f64::consts::E;
/// assert!((gradgen::math::exp(1.0_f64) - E).abs() <= E * f64::EPSILON); // within an ulp
/// assert_eq!(gradgen::math::exp(88.8_f32), f32::INFINITY);
/// ```
#[inline(always)]
pub fn exp<T: Scalar>(x: T) -> T {
    T::exp_kernel(x)
}

/// ln x, within an ulp. `ln(0) = −∞`, `ln(+∞) = +∞`, NaN for x < 0; subnormal `x` are exact
/// inputs like any other.
///
/// ```
/// assert_eq!(gradgen::math::ln(1.0_f32), 0.0);
/// assert_eq!(gradgen::math::ln(0.0_f64), f64::NEG_INFINITY);
/// assert!(gradgen::math::ln(-1.0_f64).is_nan());
/// ```
#[inline(always)]
pub fn ln<T: Scalar>(x: T) -> T {
    T::ln_kernel(x)
}

/// tanh x, within an ulp. ±1 exactly where the true value rounds to ±1 (from |x| ≈ 9.01 in
/// `f32`, 19.06 in `f64`), and x itself for tiny x; `tanh(−0) = −0`.
///
/// ```
/// assert_eq!(gradgen::math::tanh(20.0_f32), 1.0);
/// assert_eq!(gradgen::math::tanh(-1e-30_f64), -1e-30);
/// ```
#[inline(always)]
pub fn tanh<T: Scalar>(x: T) -> T {
    T::tanh_kernel(x)
}

/// The logistic function σ(x) = 1 / (1 + e⁻ˣ), within 1.5 ulp, computed without overflow for
/// any x: 1 exactly for large x, eˣ in the negative tail (subnormal, then 0 exactly).
///
/// ```
/// assert_eq!(gradgen::math::sigmoid(0.0_f32), 0.5);
/// assert_eq!(gradgen::math::sigmoid(1000.0_f32), 1.0);
/// assert_eq!(gradgen::math::sigmoid(-1000.0_f32), 0.0);
/// ```
#[inline(always)]
pub fn sigmoid<T: Scalar>(x: T) -> T {
    T::sigmoid_kernel(x)
}

/// Replaces every entry `v` of `xs` by eᵛ ([`exp`]), in one pass [`vectorised!`] for this CPU.
#[inline]
pub fn exp_in_place<T: Scalar>(xs: &mut [T]) {
    vectorised!(for v in xs.iter_mut() {
        *v = exp(*v);
    });
}

/// Replaces every entry `v` of `xs` by ln v ([`ln`]), in one pass [`vectorised!`] for this CPU.
#[inline]
pub fn ln_in_place<T: Scalar>(xs: &mut [T]) {
    vectorised!(for v in xs.iter_mut() {
        *v = ln(*v);
    });
}

/// Replaces every entry `v` of `xs` by tanh v ([`tanh`]), in one pass [`vectorised!`] for this
/// CPU.
#[inline]
pub fn tanh_in_place<T: Scalar>(xs: &mut [T]) {
    vectorised!(for v in xs.iter_mut() {
        *v = tanh(*v);
    });
}

/// Replaces every entry `v` of `xs` by σ(v) ([`sigmoid`]), in one pass [`vectorised!`] for this
/// CPU.
#[inline]
pub fn sigmoid_in_place<T: Scalar>(xs: &mut [T]) {
    vectorised!(for v in xs.iter_mut() {
        *v = sigmoid(*v);
    });
}

/// Evaluates an expression, typically a loop, compiled for the widest vector instructions this
/// CPU has, so that it vectorises 8 or 16 `f32` wide instead of SSE2's 4, whatever
/// `-C target-cpu` the crate was built with.
///
/// A library cannot choose its users' `RUSTFLAGS`, and the default build targets the x86-64
/// baseline (SSE2). On x86-64 the expression is therefore compiled three times: for AVX-512F,
/// for AVX2 and for the baseline, and the CPU's features (detected once, then cached) choose
/// one. Elsewhere it is simply evaluated. The instructions differ, the arithmetic does not:
/// every version gives the same bits. (FMA is not switched on here, as it would round
/// differently from the baseline; a crate built with FMA enabled uses it in all three.)
///
/// The expression becomes the body of a closure that is called once, and so inlined into each
/// version (so a `return` or `?` in it leaves the closure, not the enclosing function). Functions it calls are compiled for the wider instructions only where they are
/// inlined too: this module's functions are `#[inline(always)]`, ndarray's `Zip` and iterator
/// adapters are inlined in practice.
///
/// ```
/// use gradgen::math;
///
/// let z = vec![0.5_f32; 1000];
/// let mut h = vec![0.0_f32; 1000];
/// math::vectorised!(for (h, &z) in h.iter_mut().zip(&z) {
///     *h = math::tanh(z);
/// });
/// assert_eq!(h[999], math::tanh(0.5));
/// ```
///
/// The expression is checked as safe code: an unsafe operation in it needs its own `unsafe`.
///
/// ```compile_fail,E0133
/// let x = 2.0_f32;
/// let p: *const f32 = &x;
/// let y = gradgen::math::vectorised!(*p); // error: dereference of raw pointer is unsafe
/// ```
#[macro_export]
#[doc(hidden)]
macro_rules! __vectorised {
    ($body:expr) => {
        // The closure is built outside the `unsafe` blocks, so that the caller's expression is
        // checked as the safe code it is: an unsafe operation in it still needs its own
        // `unsafe`.
        if $crate::math::__private::has_avx512() {
            let body = || $body;
            // SAFETY: the only requirement of a `target_feature` function is that the CPU has
            // the feature, which was just checked.
            unsafe { $crate::math::__private::avx512(body) }
        } else if $crate::math::__private::has_avx2() {
            let body = || $body;
            // SAFETY: as above, for AVX2.
            unsafe { $crate::math::__private::avx2(body) }
        } else {
            $crate::math::__private::baseline(|| $body)
        }
    };
}

#[doc(inline)]
pub use crate::__vectorised as vectorised;

/// What [`vectorised!`] expands to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    /// Whether the CPU has AVX-512F (detected once, then cached by the standard library).
    #[inline]
    #[must_use]
    pub fn has_avx512() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx512f");
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }

    /// Whether the CPU has AVX2 (detected once, then cached by the standard library).
    #[inline]
    #[must_use]
    pub fn has_avx2() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }

    /// Calls `body` compiled with AVX-512F.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx512f"))]
    pub unsafe fn avx512<R>(body: impl FnOnce() -> R) -> R {
        body()
    }

    /// Calls `body` compiled with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
    pub unsafe fn avx2<R>(body: impl FnOnce() -> R) -> R {
        body()
    }

    /// Calls `body` as the crate was compiled.
    #[inline(always)]
    pub fn baseline<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
}

#[cfg(test)]
mod tests;
