//! Scalars the natural way: dimensions cast to a scalar (`N as f64`, `N as T`), constants of the
//! enclosing scope, scalar functions of constants and of differentiable values, `f64::sqrt(x)`
//! calls, and parameters that are constants of other types.

use crate::common::Rng;
use gradgen::prelude::*;

const EPS: f64 = 1e-5;

mod consts {
    pub const SCALE: f64 = 0.5;
}

/// A mean written by hand, a constant of the module and one of another module, a square root
/// of a dimension, and a scalar function of a differentiable scalar.
#[differentiable]
fn scalar_soup<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<D, 1>) -> f64 {
    let n = N as f64;
    let scale = 1.0 / (D as f64).sqrt();
    let h = x.matmul(w) * scale;
    let mean = h.sum() / n;
    let spread = (h.square().mean() + EPS).sqrt();
    let shrunk = mean * consts::SCALE + f64::sqrt(0.5) * spread.exp().ln();
    shrunk / (N * D) as f64 + x.mean().tanh().powi(2) - w.sum().abs()
}

#[test]
fn scalars_of_constants_and_of_values_are_differentiated() {
    let mut rng = Rng::new(301);
    let x: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let w: Mat<3, 1> = rng.mat(-1.0, 1.0);
    let check = scalar_soup_gradcheck(&x, &w);
    assert!(check.passes(1e-6), "{check}");
    let grads = scalar_soup_backward(&x, &w, 1.0);
    assert_eq!(grads.value, scalar_soup(&x, &w));
}

/// `N as T` in a function generic over the element type, and an integer parameter cast.
#[differentiable(wrt(x))]
fn generic_mean<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    k: usize,
    _train: bool,
) -> T {
    let total = x.sum() / (N as T) / (D as T);
    total * (k as T)
}

#[test]
fn a_dimension_cast_to_the_element_type_parameter_works_in_f32_and_f64() {
    let x = Mat::<4, 3, f32>::from_fn(|i, j| (i * 3 + j) as f32 / 10.0);
    let g32 = generic_mean_backward(&x, 3, true, 1.0);
    assert!((g32.value - 3.0 * x.mean()).abs() < 1e-6);
    assert!(g32
        .x
        .to_vec()
        .iter()
        .all(|&v| (v - 3.0 / 12.0).abs() < 1e-7));
    let x64 = Mat::<4, 3>::from_fn(|i, j| (i * 3 + j) as f64 / 10.0);
    assert!(generic_mean_gradcheck(&x64, 2, false).passes(1e-6));
    // In f32, the generated check differentiates the f64 instance numerically, which resolves
    // every entry: no entry is left unverified, and the f32 gradient agrees to f32 precision.
    let check = generic_mean_gradcheck(&x, 3, true);
    assert_eq!(check.unverified(), 0, "{check}");
    assert!(check.passes(1e-5), "{check}");
}
