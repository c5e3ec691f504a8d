//! Every row of the op table, through every code path the generator can emit for it, against
//! central finite differences.
//!
//! `paths!(name, [operands] in lo..hi -> result shape, expression)` generates, for one op, a
//! module of `#[differentiable]` functions that differ only in who owns what:
//!
//! - `borrowed`: the operands are the function's `&Mat` parameters, read by reference;
//! - `temporaries`: the operands are temporaries that nothing else reads (`let a = &(a * 1.5);`: a temporary in the generated code),
//!   so the generated code may consume them in place, forward (`into_tanh`) or backward
//!   (`into_cross_entropy_backward`);
//! - `seed` (ops with a matrix result): the op's result is the function's value, so its
//!   gradient is the borrowed upstream `&Mat` and is never moved; in `borrowed` it is moved;
//! - `accumulated`: every operand is also used by a later term, so the op's contribution is
//!   added to a gradient that exists already (`+=`, or in place);
//!
//! and one test that runs each function's generated `_gradcheck` at random non-square inputs.
//! Adding an op to the table means adding its line here (a unit test of the macro crate checks
//! that every row has one).

use crate::common::Rng;
use gradgen::prelude::*;

/// A relative error this small rules out any wrong factor, sign or missing term.
const TOL: f64 = 1e-6;

macro_rules! paths {
    // An op with a matrix result.
    ($name:ident, [$($x:ident: $r:literal x $c:literal),+] $(with $y:ident: $yr:literal x $yc:literal)?
        in $lo:literal..$hi:literal -> $or:literal x $oc:literal, $body:expr) => {
        mod $name {
            use super::*;

            #[differentiable(wrt($($x),+))]
            fn borrowed($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)? r: &Mat<$or, $oc>) -> f64 {
                ($body * r).sum()
            }

            #[differentiable(wrt($($x),+))]
            fn temporaries($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)? r: &Mat<$or, $oc>) -> f64 {
                $(let $x = &($x * 1.5);)+
                ($body * r).sum()
            }

            #[differentiable(wrt($($x),+))]
            fn seed($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)?) -> Mat<$or, $oc> {
                $body
            }

            #[differentiable(wrt($($x),+))]
            fn accumulated($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)? r: &Mat<$or, $oc>) -> f64 {
                ($body * r).sum() $(+ $x.square().sum())+
            }

            #[test]
            fn every_path_matches_finite_differences() {
                let mut rng = Rng::new(stringify!($name).len() as u64 * 7919);
                $(let $x: Mat<$r, $c> = rng.mat($lo, $hi);)+
                $(let $y: Labels<$yr, $yc> = rng.labels();)?
                let r: Mat<$or, $oc> = rng.mat(-1.0, 1.0);
                let operands = [$(stringify!($x)),+].len();
                for check in [
                    borrowed_gradcheck($(&$x,)+ $(&$y,)? &r),
                    temporaries_gradcheck($(&$x,)+ $(&$y,)? &r),
                    seed_gradcheck($(&$x,)+ $(&$y,)?),
                    accumulated_gradcheck($(&$x,)+ $(&$y,)? &r),
                ] {
                    assert!(check.passes(TOL), "{check}");
                    assert_eq!(check.inputs.len(), operands, "{check}");
                }
            }
        }
    };
    // An op with a scalar result: its gradient is a number, weighted by a constant.
    ($name:ident, [$($x:ident: $r:literal x $c:literal),+] $(with $y:ident: $yr:literal x $yc:literal)?
        in $lo:literal..$hi:literal -> scalar, $body:expr) => {
        mod $name {
            use super::*;

            #[differentiable(wrt($($x),+))]
            fn borrowed($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)? s: f64) -> f64 {
                $body * s
            }

            #[differentiable(wrt($($x),+))]
            fn temporaries($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)? s: f64) -> f64 {
                $(let $x = &($x * 1.5);)+
                $body * s
            }

            #[differentiable(wrt($($x),+))]
            fn seed($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)?) -> f64 {
                $body
            }

            #[differentiable(wrt($($x),+))]
            fn accumulated($($x: &Mat<$r, $c>,)+ $($y: &Labels<$yr, $yc>,)? s: f64) -> f64 {
                $body * s $(+ $x.square().sum())+
            }

            #[test]
            fn every_path_matches_finite_differences() {
                let mut rng = Rng::new(stringify!($name).len() as u64 * 7919);
                $(let $x: Mat<$r, $c> = rng.mat($lo, $hi);)+
                $(let $y: Labels<$yr, $yc> = rng.labels();)?
                let s = -0.75;
                let operands = [$(stringify!($x)),+].len();
                for check in [
                    borrowed_gradcheck($(&$x,)+ $(&$y,)? s),
                    temporaries_gradcheck($(&$x,)+ $(&$y,)? s),
                    seed_gradcheck($(&$x,)+ $(&$y,)?),
                    accumulated_gradcheck($(&$x,)+ $(&$y,)? s),
                ] {
                    assert!(check.passes(TOL), "{check}");
                    assert_eq!(check.inputs.len(), operands, "{check}");
                }
            }
        }
    };
}

// ---- arithmetic: two matrices, a matrix and a scalar it computes, one matrix ----
paths!(plus, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> 3 x 4, a + b);
paths!(minus, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> 3 x 4, a - b);
paths!(times, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> 3 x 4, a * b);
paths!(over, [a: 3 x 4, b: 3 x 4] in 0.5..2.0 -> 3 x 4, a / b);
paths!(negate, [a: 3 x 4] in -1.0..1.0 -> 3 x 4, -a);
paths!(plus_scalar, [a: 3 x 4, b: 2 x 5] in -1.0..1.0 -> 3 x 4, a + b.sum());
paths!(scalar_minus, [a: 3 x 4, b: 2 x 5] in -1.0..1.0 -> 3 x 4, b.mean() - a);
paths!(times_scalar, [a: 3 x 4, b: 2 x 5] in -1.0..1.0 -> 3 x 4, b.sum() * a);
paths!(over_scalar, [a: 3 x 4, b: 2 x 5] in 0.5..2.0 -> 3 x 4, a / b.sum());
paths!(scalar_over, [a: 3 x 4, b: 2 x 5] in 0.5..2.0 -> 3 x 4, b.sum() / a);
paths!(scalars, [a: 3 x 4, b: 2 x 5] in 0.5..2.0 -> scalar, (a.sum() - b.mean()) * a.mean() / b.sum());
paths!(same_operand_twice, [a: 3 x 4] in 0.5..2.0 -> 3 x 4, a * a / (a + a));

// ---- products and the transpose ----
paths!(matmul, [a: 3 x 5, b: 5 x 2] in -1.0..1.0 -> 3 x 2, a.matmul(b));
paths!(matmul_t, [a: 3 x 5, b: 2 x 5] in -1.0..1.0 -> 3 x 2, a.matmul_t(b));
paths!(t_matmul, [a: 5 x 3, b: 5 x 2] in -1.0..1.0 -> 3 x 2, a.t_matmul(b));
paths!(add_matmul, [c: 3 x 2, a: 3 x 5, b: 5 x 2] in -1.0..1.0 -> 3 x 2, c.add_matmul(a, b));
// The fold of `c + a.matmul(&b)` into `add_matmul`, with the product on either side, and two
// products (the Elman step's `x·Wx + h·Wh`).
paths!(folded_product_right, [c: 3 x 2, a: 3 x 5, b: 5 x 2] in -1.0..1.0 -> 3 x 2, c + a.matmul(b));
paths!(folded_product_left, [c: 3 x 2, a: 3 x 5, b: 5 x 2] in -1.0..1.0 -> 3 x 2, a.matmul(b) + c);
paths!(folded_two_products, [a: 3 x 5, b: 5 x 2, c: 3 x 4, d: 4 x 2] in -1.0..1.0 -> 3 x 2, a.matmul(b) + c.matmul(d));
paths!(t, [a: 3 x 5] in -1.0..1.0 -> 5 x 3, a.t());

// ---- a row or a column repeated over the entries ----
paths!(add_row, [a: 4 x 3, b: 1 x 3] in -1.0..1.0 -> 4 x 3, a.add_row(b));
paths!(sub_row, [a: 4 x 3, b: 1 x 3] in -1.0..1.0 -> 4 x 3, a.sub_row(b));
paths!(mul_row, [a: 4 x 3, b: 1 x 3] in -1.0..1.0 -> 4 x 3, a.mul_row(b));
paths!(div_row, [a: 4 x 3, b: 1 x 3] in 0.5..2.0 -> 4 x 3, a.div_row(b));
paths!(add_col, [a: 4 x 3, b: 4 x 1] in -1.0..1.0 -> 4 x 3, a.add_col(b));
paths!(sub_col, [a: 4 x 3, b: 4 x 1] in -1.0..1.0 -> 4 x 3, a.sub_col(b));
paths!(mul_col, [a: 4 x 3, b: 4 x 1] in -1.0..1.0 -> 4 x 3, a.mul_col(b));
paths!(div_col, [a: 4 x 3, b: 4 x 1] in 0.5..2.0 -> 4 x 3, a.div_col(b));

// ---- entrywise functions ----
paths!(exp, [a: 3 x 4] in -2.0..2.0 -> 3 x 4, a.exp());
paths!(ln, [a: 3 x 4] in 0.5..2.0 -> 3 x 4, a.ln());
paths!(sqrt, [a: 3 x 4] in 0.5..2.0 -> 3 x 4, a.sqrt());
paths!(powi, [a: 3 x 4] in 0.5..2.0 -> 3 x 4, a.powi(-3));
paths!(square, [a: 3 x 4] in -1.0..1.0 -> 3 x 4, a.square());
paths!(tanh, [a: 3 x 4] in -2.0..2.0 -> 3 x 4, a.tanh());
paths!(sigmoid, [a: 3 x 4] in -3.0..3.0 -> 3 x 4, a.sigmoid());
paths!(softplus, [a: 3 x 4] in -3.0..3.0 -> 3 x 4, a.softplus());
paths!(log_sigmoid, [a: 3 x 4] in -3.0..3.0 -> 3 x 4, a.log_sigmoid());
paths!(ln_1p, [a: 3 x 4] in -0.5..2.0 -> 3 x 4, a.ln_1p());
paths!(clamp, [a: 3 x 4] in -1.0..1.0 -> 3 x 4, a.clamp(-0.5, 0.5));
paths!(maximum, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> 3 x 4, a.maximum(b));
paths!(minimum, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> 3 x 4, a.minimum(b));
paths!(relu, [a: 3 x 4] in -1.0..1.0 -> 3 x 4, a.relu());
paths!(abs, [a: 3 x 4] in -1.0..1.0 -> 3 x 4, a.abs());

// ---- reductions ----
paths!(row_sums, [a: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_sums());
paths!(col_sums, [a: 3 x 4] in -1.0..1.0 -> 1 x 4, a.col_sums());
paths!(row_means, [a: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_means());
paths!(col_means, [a: 3 x 4] in -1.0..1.0 -> 1 x 4, a.col_means());
paths!(sum, [a: 3 x 4] in -1.0..1.0 -> scalar, a.sum());
paths!(mean, [a: 3 x 4] in -1.0..1.0 -> scalar, a.mean());
paths!(row_max, [a: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_max());
paths!(inner, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> scalar, a.inner(b));
paths!(row_dots, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_dots(b));
paths!(sum_squares, [a: 3 x 4] in -1.0..1.0 -> scalar, a.sum_squares());
paths!(mean_squares, [a: 3 x 4] in -1.0..1.0 -> scalar, a.mean_squares());
paths!(row_sum_squares, [a: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_sum_squares());
paths!(col_sum_squares, [a: 3 x 4] in -1.0..1.0 -> 1 x 4, a.col_sum_squares());
paths!(row_mean_squares, [a: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_mean_squares());
paths!(col_mean_squares, [a: 3 x 4] in -1.0..1.0 -> 1 x 4, a.col_mean_squares());

// ---- labels, softmax, losses ----
paths!(pick, [a: 3 x 4] with y: 3 x 4 in -1.0..1.0 -> 3 x 1, a.pick(y));
paths!(labelled_mean, [a: 3 x 1] with y: 3 x 4 in -1.0..1.0 -> scalar, a.labelled_mean(y));
paths!(row_norms, [a: 3 x 4] in -1.0..1.0 -> 3 x 1, a.row_norms());
paths!(mse, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> scalar, a.mse(b));
paths!(huber, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> scalar, a.huber(b, 0.4));
paths!(bce_with_logits, [a: 3 x 4, b: 3 x 4] in 0.1..0.9 -> scalar, a.bce_with_logits(b));
paths!(cosine_rows, [a: 3 x 4, b: 3 x 4] in -1.0..1.0 -> scalar, a.cosine_rows(b));
paths!(softmax_rows, [a: 3 x 4] in -2.0..2.0 -> 3 x 4, a.softmax_rows());
paths!(log_softmax_rows, [a: 3 x 4] in -2.0..2.0 -> 3 x 4, a.log_softmax_rows());
paths!(cross_entropy, [a: 3 x 4] with y: 3 x 4 in -2.0..2.0 -> scalar, a.cross_entropy(y));
