//! Shared test fixtures: a small deterministic random source and the gradient-check macro.
#![allow(dead_code)]

use gradgen::{Labels, Mat, Scalar};

/// SplitMix64: deterministic, seedable, good enough for test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    pub fn mat<const R: usize, const C: usize, T: Scalar>(
        &mut self,
        lo: f64,
        hi: f64,
    ) -> Mat<R, C, T> {
        Mat::from_fn(|_, _| T::from_f64(self.uniform(lo, hi)))
    }

    pub fn labels<const N: usize, const C: usize>(&mut self) -> Labels<N, C> {
        let classes = (0..N)
            .map(|_| (self.next_u64() % C as u64) as usize)
            .collect();
        Labels::new(classes).expect("labels below C")
    }
}

/// Checks the generated gradient of each named input against central finite differences.
///
/// `assert_gradients!(f(a, b, r), f_backward(a, b, r, 1.0), wrt [a, b], tol)`: every argument
/// is a variable (a `&Mat`, `&Labels` or scalar); for each input in `wrt`, `f` is re-evaluated
/// with that input perturbed and the others fixed.
#[macro_export]
macro_rules! assert_gradients {
    ($f:ident $args:tt, $backward:expr, wrt [$($x:ident),+], $tol:expr) => {{
        let grads = $backward;
        let value = $f $args;
        assert!(
            (grads.value - value).abs() <= 1e-12 * value.abs().max(1.0),
            "{}: the backward's value {} differs from the forward's {}",
            stringify!($f), grads.value, value
        );
        $(
            let report = gradgen::check::gradient(|$x: &_| $f $args, $x, &grads.$x);
            assert!(
                report.passes($tol),
                "{}: gradient with respect to `{}`: {report}",
                stringify!($f), stringify!($x)
            );
        )+
    }};
}
