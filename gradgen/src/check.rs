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
    /// The largest relative error over all entries (see [`compare`]).
    pub max_rel_error: f64,
    /// The `(row, col)` of that entry.
    pub index: (usize, usize),
    /// The analytic gradient there.
    pub analytic: f64,
    /// The numeric gradient there.
    pub numeric: f64,
    /// The largest absolute error over all entries.
    pub max_abs_error: f64,
    /// The rounding noise allowed for in the numeric estimate (see [`compare`]).
    pub noise: f64,
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
            "max relative error {:.3e} at ({}, {}): analytic {:.9e}, numeric {:.9e} (max absolute error {:.3e}, rounding noise allowed {:.1e})",
            self.max_rel_error,
            self.index.0,
            self.index.1,
            self.analytic,
            self.numeric,
            self.max_abs_error,
            self.noise
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
/// The relative error of an entry is `max(0, |a − n| − noise) / max(|a|, |n|, s)`, where `noise`
/// is the numeric estimate's own rounding error (a disagreement within it tells nothing) and
/// `s` is a thousandth of the largest numeric entry (so that an entry whose true gradient is
/// zero is judged against the gradient's scale, not against itself). A wrong factor on any
/// entry within a thousandth of the largest is reported in full. `noise = 0.0` gives the plain
/// relative error.
#[must_use]
pub fn compare<const R: usize, const C: usize, T: Scalar>(
    analytic: &Mat<R, C, T>,
    numeric: &Mat<R, C, T>,
    noise: f64,
) -> Report {
    let mut report = Report {
        max_rel_error: 0.0,
        index: (0, 0),
        analytic: 0.0,
        numeric: 0.0,
        max_abs_error: 0.0,
        noise,
    };
    let largest = numeric
        .as_array()
        .iter()
        .fold(0.0f64, |m, &v| m.max(Scalar::to_f64(v).abs()));
    let mut first = true;
    for i in 0..R {
        for j in 0..C {
            let a = Scalar::to_f64(analytic[(i, j)]);
            let n = Scalar::to_f64(numeric[(i, j)]);
            let abs = (a - n).abs();
            let excess = (abs - noise).max(0.0);
            let scale = a.abs().max(n.abs()).max(1e-3 * largest);
            let rel = if excess == 0.0 { 0.0 } else { excess / scale };
            // The worst entry: the largest relative error, then the largest absolute one (so
            // that the report points somewhere useful when every error is within the noise).
            // NaN never compares greater: it is reported explicitly.
            let nan = rel.is_nan() || abs.is_nan();
            let worse = rel > report.max_rel_error
                || rel == report.max_rel_error && abs > report.max_abs_error;
            if first || worse || nan && !report.max_rel_error.is_nan() {
                report.max_rel_error = if nan { f64::NAN } else { rel };
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
/// default step `h` ([`Scalar::FD_STEP`]). The rounding noise allowed for is
/// `10 · ε · max|f| / h`, with `ε` the type's machine epsilon and `max|f|` over the evaluations.
pub fn gradient<const R: usize, const C: usize, T: Scalar>(
    mut f: impl FnMut(&Mat<R, C, T>) -> T,
    x: &Mat<R, C, T>,
    analytic: &Mat<R, C, T>,
) -> Report {
    let mut largest_value = 0.0f64;
    let numeric = numeric_gradient(
        |probe| {
            let value = f(probe);
            largest_value = largest_value.max(Scalar::to_f64(value).abs());
            value
        },
        x,
        T::FD_STEP,
    );
    let epsilon = Scalar::to_f64(T::epsilon());
    let noise = 10.0 * epsilon * largest_value / Scalar::to_f64(T::FD_STEP);
    compare(analytic, &numeric, noise)
}

/// A fixed upstream gradient for checking a function whose value is a matrix: entries between
/// −1.5 and 1.5, different from each other in every row and column, so that a gradient with
/// rows or columns mixed up cannot pass. A generated `<name>_gradcheck` checks the gradient of
/// `⟨upstream, value⟩`.
#[must_use]
pub fn upstream<const R: usize, const C: usize, T: Scalar>() -> Mat<R, C, T> {
    Mat::from_fn(|i, j| {
        let k = (i * 7 + j * 3 + 1) % 11;
        let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        T::from_f64(sign * (0.5 + 0.1 * k as f64))
    })
}

/// The result of a generated `<name>_gradcheck`: for each differentiable input, the worst
/// disagreement between the generated gradient and central finite differences.
///
/// ```
/// use gradgen::prelude::*;
///
/// #[differentiable]
/// fn energy<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>) -> f64 {
///     (a * b).sum() + a.square().mean()
/// }
///
/// let a = Mat::<2, 3>::from_fn(|i, j| (i + j) as f64 / 3.0);
/// let b = Mat::<2, 3>::from_fn(|i, j| 1.0 - (i * j) as f64);
/// let check = energy_gradcheck(&a, &b);
/// assert!(check.passes(1e-6), "{check}");
/// assert_eq!(check.inputs.len(), 2); // a and b
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// The checked function's name.
    pub function: &'static str,
    /// Its value at the checked point.
    pub value: f64,
    /// Each differentiable input's name and report, in parameter order.
    pub inputs: Vec<(&'static str, Report)>,
}

impl GradCheck {
    /// An empty check of `function`, whose value at the checked point is `value`.
    #[must_use]
    pub fn new(function: &'static str, value: f64) -> Self {
        GradCheck {
            function,
            value,
            inputs: Vec::new(),
        }
    }

    /// Records the report of one input.
    pub fn push(&mut self, input: &'static str, report: Report) {
        self.inputs.push((input, report));
    }

    /// The input with the largest relative error (a `NaN` counts as the largest).
    #[must_use]
    pub fn worst(&self) -> Option<&(&'static str, Report)> {
        self.inputs.iter().max_by(|a, b| {
            let (x, y) = (a.1.max_rel_error, b.1.max_rel_error);
            x.is_nan().cmp(&y.is_nan()).then(x.total_cmp(&y))
        })
    }

    /// Whether every input's largest relative error is at most `tolerance`.
    #[must_use]
    pub fn passes(&self, tolerance: f64) -> bool {
        self.inputs.iter().all(|(_, r)| r.passes(tolerance))
    }
}

impl fmt::Display for GradCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient check of `{}` (value {:.6e}) against central differences:",
            self.function, self.value
        )?;
        if self.inputs.is_empty() {
            write!(f, " no differentiable input")?;
        }
        for (name, report) in &self.inputs {
            write!(f, "\n  {name}: {report}")?;
        }
        Ok(())
    }
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
    fn a_grad_check_names_its_worst_input() {
        let good = Report {
            max_rel_error: 1e-9,
            index: (0, 0),
            analytic: 1.0,
            numeric: 1.0,
            max_abs_error: 1e-9,
            noise: 0.0,
        };
        let bad = Report {
            max_rel_error: 0.5,
            index: (1, 2),
            ..good
        };
        let mut check = GradCheck::new("loss", 2.0);
        check.push("w", good);
        check.push("b", bad);
        assert_eq!(check.worst().map(|w| w.0), Some("b"));
        assert!(check.passes(0.5) && !check.passes(0.1));
        let text = check.to_string();
        assert!(text.starts_with("gradient check of `loss`"), "{text}");
        assert!(
            text.contains("\n  b: max relative error 5.000e-1 at (1, 2)"),
            "{text}"
        );
    }

    #[test]
    fn rounding_noise_on_a_zero_gradient_is_not_an_error() {
        // f(x) = 0.1·x₀ + 0·x₁, with the numeric estimate off by rounding noise only.
        let analytic = Mat::<1, 2>::from_rows([[0.1, 1e-17]]);
        let numeric = Mat::<1, 2>::from_rows([[0.1 + 1e-12, -2e-11]]);
        let report = compare(&analytic, &numeric, 1e-9);
        assert!(report.passes(1e-6), "{report}");
        // Without the noise allowance, the zero entry's noise is a relative error of 2e-7.
        assert!(!compare(&analytic, &numeric, 0.0).passes(1e-7));
        // A wrong factor on a small but significant entry is still caught.
        let numeric = Mat::<1, 2>::from_rows([[0.1, 2e-3]]);
        let analytic = Mat::<1, 2>::from_rows([[0.1, 1e-3]]);
        assert!(!compare(&analytic, &numeric, 0.0).passes(0.1));
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
