//! Finite-difference gradient checking.
//!
//! [`numeric_gradient`] estimates the gradient of a scalar function of one matrix by central
//! differences, `(f(x + h·eᵢⱼ) − f(x − h·eᵢⱼ)) / 2h`; [`compare`] reports the worst disagreement
//! between that estimate and an analytic gradient; [`gradient`] does both.
//!
//! ```
//! use gradgen::{check, Mat};
//!
//! let x = Mat::<2, 3>::from_fn(|i, j| (i as f64) - 0.5 * (j as f64));
//! // f(x) = Σ x², whose gradient is 2x
//! let report = check::gradient(|x: &Mat<2, 3>| x.inner(x), &x, &(&x * 2.0));
//! assert!(report.max_rel_error < 1e-8, "{report}");
//! ```

use std::fmt;

use crate::{Mat, Scalar};

/// The worst disagreement between an analytic and a numeric gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    /// The largest relative error over all entries, `|a − n| / max(|a|, |n|, floor)`.
    pub max_rel_error: f64,
    /// The `(row, col)` of that entry.
    pub index: (usize, usize),
    /// The analytic gradient there.
    pub analytic: f64,
    /// The numeric gradient there.
    pub numeric: f64,
    /// The largest absolute error over all entries.
    pub max_abs_error: f64,
}

impl Report {
    /// Whether the largest relative error is at most `tolerance`.
    #[must_use]
    pub fn passes(&self, tolerance: f64) -> bool {
        self.max_rel_error <= tolerance
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "max relative error {:.3e} at ({}, {}): analytic {:.9e}, numeric {:.9e} (max absolute error {:.3e})",
            self.max_rel_error,
            self.index.0,
            self.index.1,
            self.analytic,
            self.numeric,
            self.max_abs_error
        )
    }
}

/// The central-difference estimate of the gradient of `f` at `x`, with step `h`.
///
/// `f` is evaluated `2·R·C` times; `x` itself is left unchanged.
pub fn numeric_gradient<const R: usize, const C: usize, T: Scalar>(
    mut f: impl FnMut(&Mat<R, C, T>) -> T,
    x: &Mat<R, C, T>,
    h: T,
) -> Mat<R, C, T> {
    let mut probe = x.clone();
    let two = T::from_usize(2);
    Mat::from_fn(|i, j| {
        let original = probe[(i, j)];
        probe[(i, j)] = original + h;
        let up = f(&probe);
        probe[(i, j)] = original - h;
        let down = f(&probe);
        probe[(i, j)] = original;
        (up - down) / (two * h)
    })
}

/// Compares an analytic gradient with a numeric one, entry by entry.
///
/// The relative error of an entry is `|a − n| / max(|a|, |n|, floor)`: `floor` keeps entries
/// whose true gradient is (near) zero from reporting the rounding noise of the numeric estimate
/// as a large relative error. A floor of `0.0` gives the plain relative error.
#[must_use]
pub fn compare<const R: usize, const C: usize, T: Scalar>(
    analytic: &Mat<R, C, T>,
    numeric: &Mat<R, C, T>,
    floor: f64,
) -> Report {
    let mut report = Report {
        max_rel_error: 0.0,
        index: (0, 0),
        analytic: 0.0,
        numeric: 0.0,
        max_abs_error: 0.0,
    };
    let mut first = true;
    for i in 0..R {
        for j in 0..C {
            let a = analytic[(i, j)].to_f64();
            let n = numeric[(i, j)].to_f64();
            let abs = (a - n).abs();
            let scale = a.abs().max(n.abs()).max(floor);
            let rel = if scale == 0.0 { 0.0 } else { abs / scale };
            // NaN never compares greater: report it explicitly.
            if first || rel > report.max_rel_error || rel.is_nan() && !report.max_rel_error.is_nan()
            {
                report.max_rel_error = rel;
                report.index = (i, j);
                report.analytic = a;
                report.numeric = n;
                first = false;
            }
            report.max_abs_error = report.max_abs_error.max(abs);
        }
    }
    report
}

/// Checks `analytic` against the central-difference gradient of `f` at `x`, with the type's
/// default step ([`Scalar::FD_STEP`]) and a floor of `1e-6` (f64) or `1e-3` (f32).
pub fn gradient<const R: usize, const C: usize, T: Scalar>(
    f: impl FnMut(&Mat<R, C, T>) -> T,
    x: &Mat<R, C, T>,
    analytic: &Mat<R, C, T>,
) -> Report {
    let numeric = numeric_gradient(f, x, T::FD_STEP);
    let floor = if T::NAME == "f32" { 1e-3 } else { 1e-6 };
    compare(analytic, &numeric, floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The checker is itself checked on functions whose gradients are known in closed form.

    #[test]
    fn numeric_gradient_of_a_quadratic_is_exact_up_to_rounding() {
        let x = Mat::<3, 2>::from_rows([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]]);
        let g = numeric_gradient(|x: &Mat<3, 2>| x.inner(x), &x, 1e-4);
        for i in 0..3 {
            for j in 0..2 {
                assert!((g[(i, j)] - 2.0 * x[(i, j)]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn numeric_gradient_of_a_bilinear_form() {
        // f(X) = Σ (A·X)ᵢⱼ Bᵢⱼ  ⇒  ∇f = Aᵀ·B
        let a = Mat::<2, 3>::from_rows([[1.0, 2.0, -1.0], [0.0, 3.0, 1.0]]);
        let b = Mat::<2, 4>::from_rows([[1.0, 0.0, 2.0, -1.0], [0.5, 1.0, 0.0, 2.0]]);
        let x = Mat::<3, 4>::from_fn(|i, j| (i as f64) * 0.3 - (j as f64) * 0.2);
        let expected = Mat::<3, 4>::from_rows([
            [1.0, 0.0, 2.0, -1.0],
            [3.5, 3.0, 4.0, 4.0],
            [-0.5, 1.0, -2.0, 3.0],
        ]);
        let report = gradient(|x: &Mat<3, 4>| a.matmul(x).inner(&b), &x, &expected);
        assert!(report.max_rel_error < 1e-9, "{report}");
    }

    #[test]
    fn numeric_gradient_of_exp_sum() {
        // f(X) = Σ exp(X)  ⇒  ∇f = exp(X)
        let x = Mat::<2, 3>::from_rows([[0.1, -0.4, 1.2], [2.0, 0.0, -1.0]]);
        let report = gradient(|x: &Mat<2, 3>| x.exp().sum(), &x, &x.exp());
        assert!(report.max_rel_error < 1e-8, "{report}");
    }

    #[test]
    fn a_wrong_gradient_is_reported_where_it_is_wrong() {
        let x = Mat::<2, 3>::from_fn(|i, j| 1.0 + (i + j) as f64);
        let mut wrong = &x * 2.0;
        wrong[(1, 2)] *= 1.5;
        let report = gradient(|x: &Mat<2, 3>| x.inner(x), &x, &wrong);
        assert_eq!(report.index, (1, 2));
        assert!((report.analytic - 12.0).abs() < 1e-12);
        assert!((report.numeric - 8.0).abs() < 1e-6);
        assert!((report.max_rel_error - 4.0 / 12.0).abs() < 1e-6);
        assert!(!report.passes(1e-3));
    }

    #[test]
    fn f32_gradients_are_checked_at_f32_precision() {
        let x = Mat::<2, 2, f32>::from_rows([[0.3, -0.7], [1.1, 0.2]]);
        let report = gradient(|x: &Mat<2, 2, f32>| x.exp().sum(), &x, &x.exp());
        assert!(report.passes(1e-3), "{report}");
    }

    #[test]
    fn nan_is_never_hidden() {
        let x = Mat::<1, 2>::from_rows([[1.0, 2.0]]);
        let analytic = Mat::from_rows([[2.0, f64::NAN]]);
        let report = gradient(|x: &Mat<1, 2>| x.inner(x), &x, &analytic);
        assert!(report.max_rel_error.is_nan());
        assert!(!report.passes(1.0));
        assert_eq!(report.index, (0, 1));
    }
}
