//! Shared test fixtures: seeded random inputs and the gradient-check macro.
#![allow(dead_code)]

use gradgen::init::{self, SeededRng};
use gradgen::rand::RngExt;
use gradgen::{Labels, Mat, Scalar};

/// Random test inputs from a seed: the same seed gives the same inputs on every machine
/// (`gradgen::init`'s generator, xoshiro256++ from the `rand` crate).
pub struct Rng(SeededRng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(init::rng(seed))
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0.random_range(lo..hi)
    }

    /// A matrix of entries uniform in `[lo, hi)`.
    pub fn mat<const R: usize, const C: usize, T: Scalar>(
        &mut self,
        lo: f64,
        hi: f64,
    ) -> Mat<R, C, T> {
        init::uniform(&mut self.0, lo, hi).expect("lo < hi")
    }

    /// Labels drawn uniformly from `0..C`.
    pub fn labels<const N: usize, const C: usize>(&mut self) -> Labels<N, C> {
        let classes = (0..N).map(|_| self.0.random_range(0..C)).collect();
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
