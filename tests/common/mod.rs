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

/// Checks the generated f32 gradient of each named input against central finite differences of
/// the function's f64 instance, at every argument widened to f64 (matrices cast, f32 scalars
/// converted, labels as they are).
///
/// The f64 estimate resolves every entry; an f32 estimate cannot resolve entries whose scale is
/// below a hundred times its rounding noise, which `gradgen::check` reports as unverified.
/// `assert_gradients_in_f64!(f(a, b, r), f_backward(a, b, r, 1.0), wrt [a, b], tol)`: `f` is
/// generic over `T: Scalar`, every argument a variable (a `&Mat`, `&Labels` or `f32`).
#[macro_export]
macro_rules! assert_gradients_in_f64 {
    ($f:ident ($($a:ident),*), $backward:expr, wrt [$($x:ident),+], $tol:expr) => {
        assert_gradients_in_f64!(@ $f ($($a),*) [$($a)*], $backward, wrt [$($x),+], $tol)
    };
    // The arguments twice: as one token tree to call `f` with, and one by one to widen.
    (@ $f:ident $args:tt [$($a:ident)*], $backward:expr, wrt [$($x:ident),+], $tol:expr) => {{
        let grads = $backward;
        let value = $f $args;
        // Up to rounding: a fused backward sums the value in another order than the forward
        // (about 80 f32 ulps).
        assert!(
            (grads.value - value).abs() <= 1e-5 * value.abs().max(1.0),
            "{}: the backward's value {} differs from the forward's {}",
            stringify!($f), grads.value, value
        );
        // Each argument's f64 twin, then what the function takes (a reference or a scalar).
        $(let $a = $crate::common::Wide::wide($a);)*
        $(let $a = $crate::common::Widened::arg(&$a);)*
        $(
            let analytic = grads.$x.cast::<f64>();
            let report = gradgen::check::gradient(|$x: &_| $f $args, $x, &analytic);
            assert!(
                report.passes($tol),
                "{}: f32 gradient with respect to `{}`, against an f64 estimate: {report}",
                stringify!($f), stringify!($x)
            );
        )+
    }};
}

/// An f32 argument's f64 twin, for [`assert_gradients_in_f64!`].
pub trait Wide {
    type Wide: Widened;
    fn wide(self) -> Self::Wide;
}

impl<const R: usize, const C: usize> Wide for &Mat<R, C, f32> {
    type Wide = Mat<R, C, f64>;
    fn wide(self) -> Mat<R, C, f64> {
        self.cast()
    }
}

impl Wide for f32 {
    type Wide = f64;
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

impl<const N: usize, const C: usize> Wide for &Labels<N, C> {
    type Wide = Labels<N, C>;
    fn wide(self) -> Labels<N, C> {
        self.clone()
    }
}

/// How an f64 twin is passed: matrices and labels by reference, scalars by value.
pub trait Widened {
    type Arg<'a>
    where
        Self: 'a;
    fn arg(&self) -> Self::Arg<'_>;
}

impl<const R: usize, const C: usize> Widened for Mat<R, C, f64> {
    type Arg<'a> = &'a Mat<R, C, f64>;
    fn arg(&self) -> &Mat<R, C, f64> {
        self
    }
}

impl Widened for f64 {
    type Arg<'a> = f64;
    fn arg(&self) -> f64 {
        *self
    }
}

impl<const N: usize, const C: usize> Widened for Labels<N, C> {
    type Arg<'a> = &'a Labels<N, C>;
    fn arg(&self) -> &Labels<N, C> {
        self
    }
}
