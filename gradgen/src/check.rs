//! Finite-difference gradient checking.
//!
//! [`numeric_gradient`] estimates the gradient of a scalar function of one matrix by central
//! differences, `(f(x + h·eᵢⱼ) − f(x − h·eᵢⱼ)) / 2h`; [`compare`] judges an analytic gradient
//! against that estimate entry by entry; [`gradient`] does both.
//!
//! ```
//! use gradgen::{check, Mat};
//!
//! let x = Mat::<2, 3>::from_fn(|i, j| (i as f64) - 0.5 * (j as f64));
//! // f(x) = Σ x², whose gradient is 2x
//! let report = check::gradient(|x: &Mat<2, 3>| x.inner(x), &x, &(&x * 2.0));
//! assert!(report.passes(1e-8), "{report}");
//! ```
//!
//! # What a pass means
//!
//! The numeric estimate carries rounding noise: `f` is evaluated to a relative precision of
//! about `ε` (the type's machine epsilon), and dividing a difference of two evaluations by `2h`
//! magnifies that to about `10 · ε · max|f| / h` ([`gradient`] computes this allowance; in f32
//! with `max|f| = 15` it is 1.8e-3). Each entry is judged against its *scale*,
//! `max(|analytic|, |numeric|, 10⁻³ · the largest numeric entry, 10⁻⁷ · max|f|)` (the last
//! in [`gradient`], which knows `f`; see [`NEGLIGIBLE`]): an entry far
//! below the gradient's largest, or so small that it moves `f` by less than a ten-millionth of
//! its size over a unit change of the input, is judged against that floor instead of against
//! itself (a zero gradient has no scale of its own).
//!
//! - **Unverified**: when the noise exceeds [`RESOLUTION`] (1%) of the entry's scale, the
//!   estimate cannot tell a right entry from one that is wrong by several percent, so the entry
//!   is reported as unverified and never counted as a pass. An analytic 0 against a true 4.29e-4
//!   in f32 (noise 1.8e-3) is such an entry.
//! - **Verified**: otherwise the noise is at most 1% of the scale, and an entry passes a
//!   tolerance `tol` when its error beyond the noise, `max(0, |a − n| − noise) / scale`, is at
//!   most `tol`. Its true relative error is then at most `tol + 1%`: an error of 5% of the
//!   entry's scale fails every tolerance below 4%.
//!
//! [`Report::passes`] is false while any entry is unverified. In f32 that is common for small
//! entries; the cure is a more precise numeric side, not a looser test: when the function is
//! generic over [`Scalar`], estimate the gradient of its `f64` instance at the input
//! [cast](Mat::cast) to `f64`, against the analytic gradient cast to `f64`:
//!
//! ```
//! use gradgen::{check, Mat, Scalar};
//!
//! fn f<T: Scalar>(x: &Mat<2, 3, T>) -> T {
//!     x.exp().sum()
//! }
//! let x = Mat::<2, 3, f32>::from_fn(|i, j| i as f32 - 0.4 * j as f32);
//! let analytic = x.exp(); // the gradient of Σ exp(x), computed in f32
//! let report = check::gradient(|x: &Mat<2, 3>| f(x), &x.cast(), &analytic.cast());
//! assert!(report.passes(1e-6), "{report}");
//! ```
//!
//! Where that is impossible, [`Report::passes_where_resolvable`] ignores the unverified entries;
//! use it knowingly, with a comment saying why.

use std::fmt;

use crate::{Mat, Scalar};

/// The largest share of an entry's scale that the numeric estimate's rounding noise may reach
/// for the entry to count as verified (see the [module docs](self)): 1%.
pub const RESOLUTION: f64 = 0.01;

/// The judgement of an analytic gradient against a numeric one: its worst entry, and the entries
/// the numeric estimate cannot resolve.
///
/// Judge it with [`passes`](Report::passes); its `Display` names the worst entry with its true
/// relative error, says whether that error lies within the rounding-noise allowance, and names
/// the unverified entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    /// The true relative error `|a − n| / scale` of the worst entry, not reduced by the noise
    /// allowance: 0 only where the analytic and the numeric entry are equal. `NaN` when an
    /// entry is `NaN`. The worst entry is the one with the largest
    /// [error beyond the noise](Report::rel_error_beyond_noise), and where every error lies
    /// within the noise, the one with the largest relative error (over all entries, verified or
    /// not).
    pub max_rel_error: f64,
    /// The part of the relative error that the rounding noise cannot explain, largest over all
    /// entries: `max(0, |a − n| − noise) / scale`, at [`index`](Report::index). What
    /// [`passes`](Report::passes) compares with its tolerance. A disagreement beyond the noise
    /// is a proven error, so unverified entries count here too.
    pub rel_error_beyond_noise: f64,
    /// The `(row, col)` of the worst entry.
    pub index: (usize, usize),
    /// The analytic gradient there.
    pub analytic: f64,
    /// The numeric gradient there.
    pub numeric: f64,
    /// The largest absolute error `|a − n|` over all entries.
    pub max_abs_error: f64,
    /// The rounding noise allowed for in the numeric estimate, an absolute error (see
    /// [`gradient`]).
    pub noise: f64,
    /// The number of entries the numeric estimate cannot resolve: whose noise is more than
    /// [`RESOLUTION`] of their scale. Any makes [`passes`](Report::passes) false.
    pub unverified: usize,
    /// The worst of them: the largest relative error, and on a tie the least resolvable.
    pub worst_unverified: Option<Unverified>,
}

/// An entry of a gradient that the numeric estimate cannot resolve: its rounding noise is more
/// than [`RESOLUTION`] of the entry's scale, so an error of several percent could hide in it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unverified {
    /// The `(row, col)` of the entry.
    pub index: (usize, usize),
    /// The analytic gradient there.
    pub analytic: f64,
    /// The numeric gradient there.
    pub numeric: f64,
    /// The rounding noise of the numeric estimate (the same for every entry of a report).
    pub noise: f64,
    /// The entry's scale, `max(|analytic|, |numeric|, floor)` (see [`compare`] and
    /// [`gradient`] for the floor).
    pub scale: f64,
}

impl Report {
    /// Whether every entry is verified and none has an error beyond the rounding noise larger
    /// than `tolerance` (relative to its scale). A `NaN` anywhere fails.
    ///
    /// Every entry of a passing gradient has a true relative error of at most
    /// `tolerance + RESOLUTION`: a 5% error never passes a tolerance below 4%.
    #[must_use]
    pub fn passes(&self, tolerance: f64) -> bool {
        self.unverified == 0 && self.passes_where_resolvable(tolerance)
    }

    /// Like [`passes`](Report::passes), but ignoring the unverified entries: it is true even
    /// when the numeric estimate could not resolve some entries, and says nothing about them.
    /// A disagreement larger than the noise still fails, resolvable or not.
    ///
    /// Use it knowingly: prefer a numeric side in `f64` (see the [module docs](self)), and
    /// say next to the call why that was impossible.
    #[must_use]
    pub fn passes_where_resolvable(&self, tolerance: f64) -> bool {
        // `NaN <= tolerance` is false.
        self.rel_error_beyond_noise <= tolerance
    }

    /// Whether the worst entry's error lies within the rounding-noise allowance (and is not 0).
    #[must_use]
    pub fn within_noise(&self) -> bool {
        let abs = (self.analytic - self.numeric).abs();
        abs > 0.0 && abs <= self.noise
    }
}

impl fmt::Display for Report {
    /// `max relative error 5.000e-2 at (1, 2) (4.990e-2 beyond the rounding-noise allowance):
    /// analytic …, numeric … (…); 1 entry unverified: …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (i, j) = self.index;
        write!(
            f,
            "max relative error {:.3e} at ({i}, {j})",
            self.max_rel_error
        )?;
        if self.within_noise() {
            write!(f, ", within the rounding-noise allowance")?;
        } else if self.rel_error_beyond_noise > 0.0 && self.noise > 0.0 {
            let beyond = self.rel_error_beyond_noise;
            write!(f, " ({beyond:.3e} beyond the rounding-noise allowance)")?;
        }
        write!(
            f,
            ": analytic {:.9e}, numeric {:.9e} (max absolute error {:.3e}, rounding noise allowed {:.1e})",
            self.analytic, self.numeric, self.max_abs_error, self.noise
        )?;
        if let Some(u) = &self.worst_unverified {
            let n = self.unverified;
            let entries = if n == 1 { "entry" } else { "entries" };
            write!(
                f,
                "; UNVERIFIED: {n} {entries} that the numeric estimate cannot resolve (its rounding noise {:.1e} is more than {}% of their scale), the worst at ({}, {}): analytic {:.9e}, numeric {:.9e}, scale {:.3e}",
                u.noise, RESOLUTION * 100.0, u.index.0, u.index.1, u.analytic, u.numeric, u.scale
            )?;
        }
        Ok(())
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

/// One entry, judged.
#[derive(Clone, Copy)]
struct Entry {
    index: (usize, usize),
    analytic: f64,
    numeric: f64,
    abs: f64,
    scale: f64,
    /// `|a − n| / scale`, 0 where both are 0.
    rel: f64,
    /// `max(0, |a − n| − noise) / scale`.
    beyond: f64,
    unverified: bool,
}

impl Entry {
    fn new(index: (usize, usize), analytic: f64, numeric: f64, noise: f64, floor: f64) -> Self {
        let abs = (analytic - numeric).abs();
        let scale = analytic.abs().max(numeric.abs()).max(floor);
        // `abs > 0` implies `scale > 0`; `0 / 0` is an exact agreement. NaN propagates.
        let ratio = |x: f64| if x == 0.0 { 0.0 } else { x / scale };
        let nan = analytic.is_nan() || numeric.is_nan();
        let rel = if nan { f64::NAN } else { ratio(abs) };
        let beyond = if nan {
            f64::NAN
        } else {
            ratio((abs - noise).max(0.0))
        };
        Entry {
            index,
            analytic,
            numeric,
            abs,
            scale,
            rel,
            beyond,
            // A `NaN` noise leaves every entry unverified.
            unverified: noise.is_nan() || noise > RESOLUTION * scale,
        }
    }

    /// Whether this entry is worse than `other`: a `NaN` first, then the larger error beyond
    /// the noise, then the larger relative error (so that the report points somewhere useful
    /// when every error is within the noise).
    fn is_worse_than(&self, other: &Entry) -> bool {
        let key = |e: &Entry| (e.rel.is_nan(), e.beyond, e.rel);
        let ((n1, b1, r1), (n2, b2, r2)) = (key(self), key(other));
        n1.cmp(&n2)
            .then(b1.total_cmp(&b2))
            .then(r1.total_cmp(&r2))
            .is_gt()
    }

    /// Whether this unverified entry is worse than `other`: the larger relative error, then the
    /// larger noise-to-scale ratio (the smaller scale).
    fn is_less_resolved_than(&self, other: &Entry) -> bool {
        let key = |e: &Entry| (e.rel.is_nan(), e.rel, -e.scale);
        let ((n1, r1, s1), (n2, r2, s2)) = (key(self), key(other));
        n1.cmp(&n2)
            .then(r1.total_cmp(&r2))
            .then(s1.total_cmp(&s2))
            .is_gt()
    }
}

/// The fraction of the function's size below which [`gradient`] judges a gradient entry
/// against this floor, `NEGLIGIBLE · max|f|`, rather than against itself: 10⁻⁷.
///
/// An entry that small changes `f`, over a unit change of its input, by less than a
/// ten-millionth of `f`'s size. In f64 the rounding noise (`2.2·10⁻¹⁰ · max|f|`) is 0.2% of
/// this floor, so a gradient that is zero, or zero up to rounding (a symmetric weight matrix),
/// is verified; in f32 the noise (`1.2·10⁻⁴ · max|f|`) is far above it, and such a gradient
/// stays unverified.
pub const NEGLIGIBLE: f64 = 1e-7;

/// Compares an analytic gradient with a numeric one, entry by entry, allowing for `noise`, the
/// numeric estimate's own absolute rounding error (see the [module docs](self) for the rule).
///
/// The scale of an entry is `max(|a|, |n|, s)` with `s` a thousandth of the largest numeric
/// entry, so that an entry whose true gradient is zero is judged against the gradient's scale,
/// not against itself. An entry is unverified when `noise > RESOLUTION · scale`; its relative
/// error is `|a − n| / scale` and its error beyond the noise `max(0, |a − n| − noise) / scale`.
/// `noise = 0.0` judges the plain relative error, and leaves every entry verified.
#[must_use]
pub fn compare<const R: usize, const C: usize, T: Scalar>(
    analytic: &Mat<R, C, T>,
    numeric: &Mat<R, C, T>,
    noise: f64,
) -> Report {
    judge(analytic, numeric, noise, 0.0)
}

/// [`compare`], with the scale of every entry at least `floor`.
fn judge<const R: usize, const C: usize, T: Scalar>(
    analytic: &Mat<R, C, T>,
    numeric: &Mat<R, C, T>,
    noise: f64,
    floor: f64,
) -> Report {
    let largest = numeric
        .as_array()
        .iter()
        .fold(0.0f64, |m, &v| m.max(Scalar::to_f64(v).abs()));
    let floor = floor.max(1e-3 * largest);
    let entry = |i, j| {
        let (a, n) = (analytic[(i, j)], numeric[(i, j)]);
        Entry::new((i, j), a.to_f64(), n.to_f64(), noise, floor)
    };
    let mut worst: Option<Entry> = None;
    let mut worst_unverified: Option<Entry> = None;
    let (mut unverified, mut max_abs_error) = (0, 0.0f64);
    for i in 0..R {
        for j in 0..C {
            let e = entry(i, j);
            max_abs_error = max_abs_error.max(e.abs);
            if e.unverified {
                unverified += 1;
                if worst_unverified.is_none_or(|w| e.is_less_resolved_than(&w)) {
                    worst_unverified = Some(e);
                }
            }
            if worst.is_none_or(|w| e.is_worse_than(&w)) {
                worst = Some(e);
            }
        }
    }
    // A gradient with no entries agrees with anything.
    let worst = worst.unwrap_or(Entry::new((0, 0), 0.0, 0.0, 0.0, 0.0));
    Report {
        max_rel_error: worst.rel,
        rel_error_beyond_noise: worst.beyond,
        index: worst.index,
        analytic: worst.analytic,
        numeric: worst.numeric,
        max_abs_error,
        noise,
        unverified,
        worst_unverified: worst_unverified.map(|e| Unverified {
            index: e.index,
            analytic: e.analytic,
            numeric: e.numeric,
            noise,
            scale: e.scale,
        }),
    }
}

/// Checks `analytic` against the central-difference gradient of `f` at `x`, with the type's
/// default step `h` ([`Scalar::FD_STEP`]). The rounding noise allowed for is
/// `10 · ε · max|f| / h`, with `ε` the type's machine epsilon and `max|f|` over the evaluations.
/// Entries are judged as by [`compare`], with the scale of every entry at least
/// [`NEGLIGIBLE`]` · max|f|`; those whose scale is below 100 times the noise are unverified (see
/// the [module docs](self)).
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
    judge(analytic, &numeric, noise, NEGLIGIBLE * largest_value)
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

/// The result of a generated `<name>_gradcheck`: for each differentiable input, the judgement
/// of the generated gradient against central finite differences.
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
    /// Each differentiable input's name and report, in parameter order (`xs[0]`, `xs[1]`, …
    /// for the elements of a sequence).
    pub inputs: Vec<(String, Report)>,
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
    pub fn push(&mut self, input: impl Into<String>, report: Report) {
        self.inputs.push((input.into(), report));
    }

    /// The input whose worst entry is worst: a `NaN` first, then the largest
    /// [error beyond the noise](Report::rel_error_beyond_noise), then the largest
    /// [relative error](Report::max_rel_error). Unverified entries are counted by
    /// [`unverified`](GradCheck::unverified).
    #[must_use]
    pub fn worst(&self) -> Option<&(String, Report)> {
        self.inputs.iter().max_by(|a, b| {
            let key = |r: &Report| (r.max_rel_error.is_nan(), r.rel_error_beyond_noise);
            let ((n1, b1), (n2, b2)) = (key(&a.1), key(&b.1));
            n1.cmp(&n2)
                .then(b1.total_cmp(&b2))
                .then(a.1.max_rel_error.total_cmp(&b.1.max_rel_error))
        })
    }

    /// The number of unverified entries over every input (see [`Report::unverified`]).
    #[must_use]
    pub fn unverified(&self) -> usize {
        self.inputs.iter().map(|(_, r)| r.unverified).sum()
    }

    /// Whether every input [passes](Report::passes) at `tolerance`: false when any entry of
    /// any input is unverified.
    #[must_use]
    pub fn passes(&self, tolerance: f64) -> bool {
        self.inputs.iter().all(|(_, r)| r.passes(tolerance))
    }

    /// Whether every input [passes where resolvable](Report::passes_where_resolvable) at
    /// `tolerance`: the unverified entries are ignored. Use it knowingly.
    #[must_use]
    pub fn passes_where_resolvable(&self, tolerance: f64) -> bool {
        self.inputs
            .iter()
            .all(|(_, r)| r.passes_where_resolvable(tolerance))
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
        assert!(report.passes(1e-9), "{report}");
        assert!(report.max_rel_error < 1e-8, "{report}");
    }

    #[test]
    fn numeric_gradient_of_exp_sum() {
        // f(X) = Σ exp(X)  ⇒  ∇f = exp(X)
        let x = Mat::<2, 3>::from_rows([[0.1, -0.4, 1.2], [2.0, 0.0, -1.0]]);
        let report = gradient(|x: &Mat<2, 3>| x.exp().sum(), &x, &x.exp());
        assert!(report.passes(1e-8), "{report}");
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
        assert!(report.rel_error_beyond_noise <= report.max_rel_error);
        assert!((report.rel_error_beyond_noise - 4.0 / 12.0).abs() < 1e-6);
        assert_eq!(report.unverified, 0);
        assert!(!report.passes(1e-3));
        assert!(!report.passes_where_resolvable(1e-3));
    }

    #[test]
    fn f32_gradients_are_checked_at_f32_precision() {
        let x = Mat::<2, 2, f32>::from_rows([[0.3, -0.7], [1.1, 0.2]]);
        let report = gradient(|x: &Mat<2, 2, f32>| x.exp().sum(), &x, &x.exp());
        assert_eq!(report.unverified, 0, "{report}");
        assert!(report.passes(1e-3), "{report}");
    }

    fn report(rel: f64, beyond: f64) -> Report {
        Report {
            max_rel_error: rel,
            rel_error_beyond_noise: beyond,
            index: (0, 0),
            analytic: 1.0,
            numeric: 1.0 + rel,
            max_abs_error: rel,
            noise: rel - beyond,
            unverified: 0,
            worst_unverified: None,
        }
    }

    #[test]
    fn a_grad_check_names_its_worst_input() {
        let good = report(1e-9, 0.0);
        let bad = Report {
            index: (1, 2),
            noise: 0.0,
            ..report(0.5, 0.5)
        };
        let mut check = GradCheck::new("loss", 2.0);
        check.push("w", good);
        check.push("b", bad);
        assert_eq!(check.worst().map(|w| w.0.as_str()), Some("b"));
        assert!(check.passes(0.5) && !check.passes(0.1));
        let text = check.to_string();
        assert!(text.starts_with("gradient check of `loss`"), "{text}");
        assert!(
            text.contains("\n  b: max relative error 5.000e-1 at (1, 2): analytic"),
            "{text}"
        );
    }

    #[test]
    fn the_worst_input_is_the_one_that_fails() {
        // `a` has the larger relative error, but within its noise; `b` fails beyond it.
        let within = report(4e-3, 0.0);
        let beyond = report(1e-3, 5e-4);
        let mut check = GradCheck::new("loss", 0.0);
        check.push("a", within);
        check.push("b", beyond);
        assert_eq!(check.worst().map(|w| w.0.as_str()), Some("b"));
        assert!(!check.passes(1e-4) && check.passes(1e-3));
        check.push("c", report(f64::NAN, f64::NAN));
        assert_eq!(check.worst().map(|w| w.0.as_str()), Some("c"));
        assert!(!check.passes(1.0) && !check.passes_where_resolvable(1.0));
    }

    #[test]
    fn rounding_noise_on_a_zero_gradient_is_not_an_error() {
        // f(x) = 0.1·x₀ + 0·x₁, with the numeric estimate off by rounding noise only.
        let analytic = Mat::<1, 2>::from_rows([[0.1, 1e-17]]);
        let numeric = Mat::<1, 2>::from_rows([[0.1 + 1e-12, -2e-11]]);
        let report = compare(&analytic, &numeric, 1e-9);
        assert_eq!(report.unverified, 0, "{report}");
        assert!(report.passes(1e-6), "{report}");
        // The true error is reported, and said to be within the noise.
        assert!(
            (report.max_rel_error - 2e-11 / 1e-4).abs() < 1e-12,
            "{report}"
        );
        assert!(report
            .to_string()
            .contains("within the rounding-noise allowance"));
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
        assert!(!report.passes_where_resolvable(1.0));
        assert_eq!(report.index, (0, 1));
        // A NaN noise (a function that returned NaN somewhere) verifies nothing.
        let report = compare(&Mat::<1, 2>::full(1.0), &Mat::full(1.0), f64::NAN);
        assert_eq!(report.unverified, 2);
        assert!(!report.passes(1.0));
    }

    #[test]
    fn an_empty_gradient_passes() {
        let report = compare(&Mat::<0, 3>::zeros(), &Mat::zeros(), 1e-3);
        assert_eq!(report.unverified, 0);
        assert!(report.passes(0.0), "{report}");
    }

    // ---- unverified entries: a wrong gradient never passes through the noise allowance ----

    /// The gradient entries of [`weighted`], of magnitudes from 2.5 down to 5e-5, one of them
    /// the 4.29e-4 of the f32 case the rule was made for.
    const WEIGHTS: [[f64; 4]; 3] = [
        [2.0, -0.8, 0.3, 4.29e-4],
        [0.05, -1e-2, 3e-3, 1.0],
        [-5e-5, 0.6, -0.15, 2.5],
    ];

    /// `15 + Σ w ∘ (x + x²/2)`: its value near 15 makes the f32 noise allowance
    /// `10 · ε · 15 / h` = 1.8e-3; its gradient is `w ∘ (1 + x)`, and a quadratic has no
    /// truncation error, so the numeric estimate is off by rounding only.
    fn weighted<T: Scalar>(x: &Mat<3, 4, T>) -> T {
        let w = Mat::<3, 4>::from_rows(WEIGHTS).cast::<T>();
        (x + &(x.square() * T::from_f64(0.5))).inner(&w) + T::from_f64(15.0)
    }

    fn weighted_gradient<T: Scalar>(x: &Mat<3, 4, T>) -> Mat<3, 4, T> {
        Mat::<3, 4>::from_rows(WEIGHTS).cast::<T>() * (x + T::one())
    }

    fn point<T: Scalar>() -> Mat<3, 4, T> {
        // (0, 3) at 0: its gradient is exactly 4.29e-4.
        Mat::from_fn(|i, j| {
            T::from_f64(if (i, j) == (0, 3) {
                0.0
            } else {
                0.01 * (i as f64 - j as f64)
            })
        })
    }

    #[test]
    fn the_f32_entry_that_passed_while_wrong_is_now_unverified() {
        // Analytic 0.0 where the true entry is 4.29e-4, against an allowance of 1.8e-3.
        let x = point::<f32>();
        let mut wrong = weighted_gradient(&x);
        wrong[(0, 3)] = 0.0;
        let report = gradient(weighted::<f32>, &x, &wrong);
        assert!((report.noise - 1.79e-3).abs() < 1e-5, "{report}");
        assert!(!report.passes(1e-6), "{report}");
        assert!(!report.passes(1e-2), "{report}");
        let worst = report.worst_unverified.expect("unverified entries");
        assert_eq!(worst.index, (0, 3), "{report}");
        assert_eq!(worst.analytic, 0.0);
        assert!((worst.numeric - 4.29e-4).abs() < 1e-4, "{report}");
        // Its true relative error is 100%, printed as such, and named unverified.
        assert_eq!(report.index, (0, 3), "{report}");
        // Its true relative error (to the floor of its scale, 10⁻³ · 2.5) is printed as such.
        assert_eq!(
            report.max_rel_error,
            worst.numeric / worst.scale,
            "{report}"
        );
        assert!(report.max_rel_error > 0.17, "{report}");
        let text = report.to_string();
        let expected = format!(
            "max relative error {:.3e} at (0, 3), within the rounding-noise allowance",
            report.max_rel_error
        );
        assert!(text.starts_with(&expected), "{text}");
        assert!(text.contains("UNVERIFIED: 6 entries"), "{text}");
        assert!(
            text.contains("the worst at (0, 3): analytic 0.000000000e0"),
            "{text}"
        );
        // Estimated in f64, the same wrong entry is resolved and fails outright.
        let report = gradient(weighted::<f64>, &x.cast(), &wrong.cast());
        assert_eq!(report.unverified, 0, "{report}");
        assert!(!report.passes_where_resolvable(0.1), "{report}");
    }

    /// Whether `compare`'s rule verifies entry `(i, j)`: its noise is at most 1% of its scale.
    fn verified(
        analytic: &Mat<3, 4, f32>,
        numeric: &Mat<3, 4, f32>,
        noise: f64,
        (i, j): (usize, usize),
    ) -> bool {
        let largest = numeric
            .to_vec()
            .iter()
            .fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
        let (a, n) = (f64::from(analytic[(i, j)]), f64::from(numeric[(i, j)]));
        // (The other floor, `NEGLIGIBLE · 15`, is a thousand times smaller here.)
        noise <= RESOLUTION * a.abs().max(n.abs()).max(1e-3 * largest)
    }

    /// `Σ log_softmax(x · w)` with every column of `w` equal: the scores of a row are all equal,
    /// so the value is `−6 ln 4` whatever `x`, and the gradient is zero up to rounding.
    fn flat<T: Scalar>(x: &Mat<3, 2, T>) -> T {
        x.matmul(&Mat::<2, 4, T>::full(T::from_f64(0.25)))
            .log_softmax_rows()
            .sum()
    }

    #[test]
    fn a_gradient_that_is_zero_up_to_rounding_is_verified_in_f64_only() {
        let x = Mat::<3, 2>::from_rows([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
        let report = gradient(flat::<f64>, &x, &Mat::zeros());
        assert_eq!(report.unverified, 0, "{report}");
        assert!(report.passes(1e-6), "{report}");
        // A wrong entry far below the function's size is still found.
        let mut wrong = Mat::zeros();
        wrong[(2, 1)] = 1e-5;
        assert!(!gradient(flat::<f64>, &x, &wrong).passes(1e-2));
        // In f32 the estimate cannot tell zero from a few parts in 10⁴ of the function.
        let report = gradient(flat::<f32>, &x.cast(), &Mat::zeros());
        assert_eq!(report.unverified, 6, "{report}");
        assert!(
            !report.passes(1e-2) && report.passes_where_resolvable(1e-2),
            "{report}"
        );
    }

    #[test]
    fn an_f32_gradient_with_an_entry_zeroed_or_off_by_5_percent_never_passes() {
        let x = point::<f32>();
        let right = weighted_gradient(&x);
        let numeric = numeric_gradient(weighted::<f32>, &x, f32::FD_STEP);
        let noise = gradient(weighted::<f32>, &x, &right).noise;
        let (mut resolved, mut unresolved) = (0, 0);
        for i in 0..3 {
            for j in 0..4 {
                for factor in [0.0, 1.05, 0.95, -1.0] {
                    let mut wrong = right.clone();
                    wrong[(i, j)] *= factor;
                    let report = gradient(weighted::<f32>, &x, &wrong);
                    for tol in [1e-6, 1e-3, 1e-2, 3.9e-2] {
                        assert!(
                            !report.passes(tol),
                            "({i}, {j}) × {factor}, tol {tol}: {report}"
                        );
                    }
                    // Where the entry is resolvable, the error is found, not merely unverified.
                    if verified(&wrong, &numeric, noise, (i, j)) {
                        resolved += 1;
                        assert!(
                            !report.passes_where_resolvable(3.9e-2),
                            "({i}, {j}) × {factor}: {report}"
                        );
                    } else {
                        unresolved += 1;
                        assert!(report.unverified > 0, "({i}, {j}) × {factor}: {report}");
                    }
                }
            }
        }
        // Both kinds of entry were exercised.
        assert!(
            resolved >= 20 && unresolved >= 12,
            "{resolved} resolved, {unresolved} not"
        );
    }

    #[test]
    fn a_correct_f32_gradient_passes_against_an_f64_estimate() {
        let x = point::<f32>();
        let right = weighted_gradient(&x);
        // In f32 itself, the small entries cannot be resolved: not a pass, but nothing wrong.
        let report = gradient(weighted::<f32>, &x, &right);
        assert!(report.unverified > 0 && !report.passes(1e-2), "{report}");
        assert!(report.passes_where_resolvable(1e-3), "{report}");
        // The numeric side in f64 resolves every entry.
        let report = gradient(weighted::<f64>, &x.cast(), &right.cast());
        assert_eq!(report.unverified, 0, "{report}");
        assert!(report.passes(1e-3), "{report}");
        // And a correct f64 gradient passes at f64 precision.
        let report = gradient(weighted::<f64>, &point(), &weighted_gradient(&point()));
        assert!(report.passes(1e-9), "{report}");
    }

    #[test]
    fn an_error_of_5_percent_never_hides_in_the_noise_of_a_verified_entry() {
        // One entry of scale 1 next to a large one, at every noise-to-scale ratio and error.
        for noise in [
            0.0, 1e-6, 1e-3, 5e-3, 0.01, 0.0101, 0.02, 0.04, 0.1, 1.0, 10.0,
        ] {
            // Analytic entries whose error is 5% of their scale or more, above and below 1.
            for a in [1.0 / 0.95, 0.95, 1.0 / 0.94, 0.9, 2.0, 0.5, 0.0, -1.0] {
                let numeric = Mat::<1, 2>::from_rows([[1.0, 3.0]]);
                let analytic = Mat::<1, 2>::from_rows([[a, 3.0]]);
                let true_error = (a - 1.0f64).abs() / a.abs().max(1.0);
                assert!(true_error >= 0.05 - 1e-15);
                let report = compare(&analytic, &numeric, noise);
                let resolvable = noise <= RESOLUTION * a.abs().max(1.0);
                assert_eq!(
                    report.unverified == 0,
                    resolvable,
                    "noise {noise}: {report}"
                );
                assert!(
                    !report.passes(0.039),
                    "noise {noise}, analytic {a}: {report}"
                );
                if resolvable {
                    assert!(
                        !report.passes_where_resolvable(0.039),
                        "noise {noise}, analytic {a}: {report}"
                    );
                }
                // The reported relative error is the true one.
                assert!(
                    (report.max_rel_error - true_error).abs() < 1e-12,
                    "{report}"
                );
            }
        }
    }

    #[test]
    fn report_lines_print_the_true_error_and_how_it_stands_to_the_noise() {
        let numeric = Mat::<1, 3>::from_rows([[1.0, 2.0, -4.0]]);
        let analytic = Mat::<1, 3>::from_rows([[1.0, 2.0, -4.2]]);
        let beyond = compare(&analytic, &numeric, 0.01).to_string();
        assert!(beyond.starts_with("max relative error 4.762e-2 at (0, 2) (4.524e-2 beyond the rounding-noise allowance): analytic -4.2"), "{beyond}");
        assert!(!beyond.contains("UNVERIFIED"), "{beyond}");
        let analytic = Mat::<1, 3>::from_rows([[1.0, 2.0, -4.002]]);
        let within = compare(&analytic, &numeric, 0.01).to_string();
        assert!(
            within.starts_with(
                "max relative error 4.998e-4 at (0, 2), within the rounding-noise allowance:"
            ),
            "{within}"
        );
        let analytic = Mat::<1, 3>::from_rows([[1.0, 0.0, -4.0]]);
        let unverified = compare(&analytic, &Mat::from_rows([[1.0, 1e-3, -4.0]]), 0.01);
        let text = unverified.to_string();
        assert!(text.contains("; UNVERIFIED: 1 entry that the numeric estimate cannot resolve (its rounding noise 1.0e-2 is more than 1% of their scale), the worst at (0, 1): analytic 0.000000000e0, numeric 1.000000000e-3, scale 4.000e-3"), "{text}");
        assert_eq!(unverified.unverified, 1);
    }
}
