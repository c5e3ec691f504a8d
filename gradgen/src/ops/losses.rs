//! Fused losses: each computes its value and the gradient of its receiver in one pass over the
//! data, like [`cross_entropy`](crate::Mat::cross_entropy), and stays finite for any finite
//! input (logits of ±1000, differences of 10¹⁰⁰, rows of 10⁻²⁰⁰).
//!
//! The elementwise losses ([`mse`](crate::Mat::mse), [`huber`](crate::Mat::huber),
//! [`bce_with_logits`](crate::Mat::bce_with_logits)) average over all `R·C` entries, as
//! PyTorch's `reduction='mean'` does; [`cosine_rows`](crate::Mat::cosine_rows) averages over the
//! `R` rows. Each has five methods: the value (`mse`), the gradient of the receiver as a new
//! matrix (`mse_backward`) or in the receiver's own buffer (`into_mse_backward`), and both in
//! one pass (`mse_and_backward`, `into_mse_and_backward`). The fused value equals the plain one
//! to the last bit, and the fused gradient the separate one: they sum in the same order.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use crate::{Mat, Scalar};

/// `Σ term(a, t)` over the entries, in the order every entry point of a loss sums in.
fn sum_terms<T: Scalar>(a: ArrayView2<'_, T>, t: ArrayView2<'_, T>, term: impl Fn(T, T) -> T) -> T {
    let mut total = T::zero();
    // Zip's order depends only on the layouts, which are the same in `write_terms_and_grads`.
    Zip::from(a).and(t).for_each(|&a, &t| total += term(a, t));
    total
}

/// Overwrites every entry `a` of `d` with `grad(a, t)`.
fn write_grads<T: Scalar>(d: ArrayViewMut2<'_, T>, t: ArrayView2<'_, T>, grad: impl Fn(T, T) -> T) {
    Zip::from(d).and(t).for_each(|a, &t| *a = grad(*a, t));
}

/// Both at once: `both(a, t) = (term, grad)`; returns `Σ term` and writes `grad` over `a`.
fn write_terms_and_grads<T: Scalar>(
    d: ArrayViewMut2<'_, T>,
    t: ArrayView2<'_, T>,
    both: impl Fn(T, T) -> (T, T),
) -> T {
    let mut total = T::zero();
    Zip::from(d).and(t).for_each(|a, &t| {
        let (term, grad) = both(*a, t);
        total += term;
        *a = grad;
    });
    total
}

/// `R·C` as the scalar type: what the elementwise losses divide by.
fn entries<const R: usize, const C: usize, T: Scalar>() -> T {
    T::from_usize(R * C)
}

/// The Huber term of a difference `d`: quadratic within `delta`, linear outside.
fn huber_term<T: Scalar>(d: T, delta: T) -> T {
    let half = T::from_f64(0.5);
    if d.abs() <= delta {
        half * d * d
    } else {
        delta * (d.abs() - half * delta)
    }
}

/// `clamp(d, −delta, delta)`, keeping a `NaN`.
fn huber_slope<T: Scalar>(d: T, delta: T) -> T {
    if d.abs() <= delta {
        d
    } else {
        delta * d.signum()
    }
}

/// # Panics
/// When `delta` is not positive: the Huber loss is defined for `delta > 0` only.
fn check_delta<T: Scalar>(delta: T) {
    assert!(
        delta > T::zero(),
        "huber: `delta` must be positive, found {delta}"
    );
}

/// The binary cross-entropy term of a logit `a` and a target `t`, with `e = exp(−|a|)`:
/// `max(a, 0) − a·t + ln(1 + e)`.
fn bce_term<T: Scalar>(a: T, t: T, e: T) -> T {
    a.max(T::zero()) - a * t + e.ln_1p()
}

/// `σ(a)` from `e = exp(−|a|)`, without overflow on either side.
fn sigmoid_from<T: Scalar>(a: T, e: T) -> T {
    if a >= T::zero() {
        T::one() / (T::one() + e)
    } else {
        e / (T::one() + e)
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The mean squared error, `mean((a − t)²)` over all `R·C` entries, with `a = self` and
    /// `t = target` (PyTorch's `MSELoss`).
    ///
    /// Gradient of `out = a.mse(&t)`: `d_a = d_out · 2(a − t) / (R·C)`
    /// (`mse_backward`); the target's is its negative,
    /// `t.mse_backward(&a, d_out)`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]]);
    /// let t = Mat::from_rows([[1.0, 0.0, 3.0], [1.0, -1.0, 0.0]]);
    /// assert_eq!(a.mse(&t), (0.0 + 4.0 + 0.0 + 1.0 + 0.0 + 4.0) / 6.0);
    /// let d = a.mse_backward(&t, 1.0);
    /// assert_eq!(d, Mat::from_rows([[0.0, 4.0, 0.0], [-2.0, 0.0, 4.0]]) / 6.0);
    /// ```
    #[must_use]
    pub fn mse(&self, target: &Self) -> T {
        let squared = |a: T, t: T| (a - t) * (a - t);
        sum_terms(self.view(), target.view(), squared) / entries::<R, C, T>()
    }

    /// The gradient of [`mse`](Mat::mse)'s receiver: `d_out · 2(self − target) / (R·C)`.
    #[must_use]
    #[doc(hidden)]
    pub fn mse_backward(&self, target: &Self, d_out: T) -> Self {
        self.clone().into_mse_backward(target, d_out)
    }

    /// `mse_backward` in the receiver's own buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_mse_backward(mut self, target: &Self, d_out: T) -> Self {
        let k = d_out * T::from_usize(2) / entries::<R, C, T>();
        write_grads(self.view_mut(), target.view(), |a, t| k * (a - t));
        self
    }

    /// [`mse`](Mat::mse) and `mse_backward` in one pass: what the
    /// generated code calls when the loss is the function's value.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]]);
    /// let t = Mat::from_rows([[0.5, 2.0], [3.0, 3.0], [5.5, 6.0]]);
    /// assert_eq!(a.mse_and_backward(&t, 2.0), (a.mse(&t), a.mse_backward(&t, 2.0)));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn mse_and_backward(&self, target: &Self, d_out: T) -> (T, Self) {
        self.clone().into_mse_and_backward(target, d_out)
    }

    /// `mse_and_backward` in the receiver's own buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_mse_and_backward(mut self, target: &Self, d_out: T) -> (T, Self) {
        let k = d_out * T::from_usize(2) / entries::<R, C, T>();
        let total = write_terms_and_grads(self.view_mut(), target.view(), |a, t| {
            ((a - t) * (a - t), k * (a - t))
        });
        (total / entries::<R, C, T>(), self)
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The Huber loss (PyTorch's `HuberLoss`), the mean over all `R·C` entries of
    /// `0.5·d²` where `|d| ≤ delta` and `delta·(|d| − 0.5·delta)` elsewhere, with
    /// `d = self − target`: quadratic near the target, linear (robust to outliers) far from it.
    ///
    /// Gradient of `out = a.huber(&t, delta)`: `d_a = d_out · clamp(d, −delta, delta) / (R·C)`
    /// (`huber_backward`); the target's is its negative,
    /// `t.huber_backward(&a, delta, d_out)`. `delta` is a constant.
    ///
    /// # Panics
    /// When `delta` is not positive (as PyTorch).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[0.5, 3.0], [-2.0, 1.0]]);
    /// let t = Mat::zeros();
    /// // 0.5·0.5², then 1·(3 − 0.5) and 1·(2 − 0.5), then 0.5·1²
    /// assert_eq!(a.huber(&t, 1.0), (0.125 + 2.5 + 1.5 + 0.5) / 4.0);
    /// assert_eq!(a.huber_backward(&t, 1.0, 4.0), Mat::from_rows([[0.5, 1.0], [-1.0, 1.0]]));
    /// ```
    #[must_use]
    pub fn huber(&self, target: &Self, delta: T) -> T {
        check_delta(delta);
        let term = |a: T, t: T| huber_term(a - t, delta);
        sum_terms(self.view(), target.view(), term) / entries::<R, C, T>()
    }

    /// The gradient of [`huber`](Mat::huber)'s receiver:
    /// `d_out · clamp(self − target, −delta, delta) / (R·C)`.
    ///
    /// # Panics
    /// When `delta` is not positive.
    #[must_use]
    #[doc(hidden)]
    pub fn huber_backward(&self, target: &Self, delta: T, d_out: T) -> Self {
        self.clone().into_huber_backward(target, delta, d_out)
    }

    /// `huber_backward` in the receiver's own buffer.
    ///
    /// # Panics
    /// When `delta` is not positive.
    #[must_use]
    #[doc(hidden)]
    pub fn into_huber_backward(mut self, target: &Self, delta: T, d_out: T) -> Self {
        check_delta(delta);
        let k = d_out / entries::<R, C, T>();
        write_grads(self.view_mut(), target.view(), |a, t| {
            k * huber_slope(a - t, delta)
        });
        self
    }

    /// [`huber`](Mat::huber) and `huber_backward` in one pass.
    ///
    /// # Panics
    /// When `delta` is not positive.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[0.5, 3.0, -7.0], [-2.0, 1.0, 0.25]]);
    /// let t = Mat::from_rows([[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]);
    /// let fused = a.huber_and_backward(&t, 1.5, 1.0);
    /// assert_eq!(fused, (a.huber(&t, 1.5), a.huber_backward(&t, 1.5, 1.0)));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn huber_and_backward(&self, target: &Self, delta: T, d_out: T) -> (T, Self) {
        self.clone().into_huber_and_backward(target, delta, d_out)
    }

    /// `huber_and_backward` in the receiver's own buffer.
    ///
    /// # Panics
    /// When `delta` is not positive.
    #[must_use]
    #[doc(hidden)]
    pub fn into_huber_and_backward(mut self, target: &Self, delta: T, d_out: T) -> (T, Self) {
        check_delta(delta);
        let k = d_out / entries::<R, C, T>();
        let total = write_terms_and_grads(self.view_mut(), target.view(), |a, t| {
            let d = a - t;
            (huber_term(d, delta), k * huber_slope(d, delta))
        });
        (total / entries::<R, C, T>(), self)
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The binary cross-entropy of the sigmoid of the logits `a = self` against targets `t` in
    /// `[0, 1]` (PyTorch's `BCEWithLogitsLoss`): the mean over all `R·C` entries of
    /// `−t·ln σ(a) − (1 − t)·ln(1 − σ(a))`, computed as `max(a, 0) − a·t + ln(1 + e^−|a|)`,
    /// which never overflows: logits of ±1000 give finite values and gradients.
    ///
    /// Gradient of `out = a.bce_with_logits(&t)`: `d_a = d_out · (σ(a) − t) / (R·C)`
    /// (`bce_with_logits_backward`) and
    /// `d_t = d_out · (−a) / (R·C)`
    /// (`bce_with_logits_backward_target`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[0.0, 1000.0, -1000.0]]);
    /// let t = Mat::from_rows([[1.0, 1.0, 1.0]]);
    /// // ln 2, then 0 (confidently right), then 1000 (confidently wrong)
    /// assert!((a.bce_with_logits(&t) - (f64::ln(2.0) + 1000.0) / 3.0).abs() < 1e-12);
    /// let d = a.bce_with_logits_backward(&t, 3.0);
    /// assert_eq!(d, Mat::from_rows([[-0.5, 0.0, -1.0]]));
    /// ```
    #[must_use]
    pub fn bce_with_logits(&self, target: &Self) -> T {
        let term = |a: T, t: T| bce_term(a, t, (-a.abs()).exp());
        sum_terms(self.view(), target.view(), term) / entries::<R, C, T>()
    }

    /// The gradient of [`bce_with_logits`](Mat::bce_with_logits)'s logits:
    /// `d_out · (σ(self) − target) / (R·C)`.
    #[must_use]
    #[doc(hidden)]
    pub fn bce_with_logits_backward(&self, target: &Self, d_out: T) -> Self {
        self.clone().into_bce_with_logits_backward(target, d_out)
    }

    /// `bce_with_logits_backward` in the logits' own buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_bce_with_logits_backward(mut self, target: &Self, d_out: T) -> Self {
        let k = d_out / entries::<R, C, T>();
        write_grads(self.view_mut(), target.view(), |a, t| {
            k * (sigmoid_from(a, (-a.abs()).exp()) - t)
        });
        self
    }

    /// [`bce_with_logits`](Mat::bce_with_logits) and
    /// `bce_with_logits_backward` in one pass, exponentiating
    /// once per entry.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[0.3, -2.0], [40.0, -0.7]]);
    /// let t = Mat::from_rows([[1.0, 0.0], [0.25, 1.0]]);
    /// let fused = a.bce_with_logits_and_backward(&t, 1.0);
    /// assert_eq!(fused, (a.bce_with_logits(&t), a.bce_with_logits_backward(&t, 1.0)));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn bce_with_logits_and_backward(&self, target: &Self, d_out: T) -> (T, Self) {
        self.clone()
            .into_bce_with_logits_and_backward(target, d_out)
    }

    /// `bce_with_logits_and_backward` in the logits' own
    /// buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_bce_with_logits_and_backward(mut self, target: &Self, d_out: T) -> (T, Self) {
        let k = d_out / entries::<R, C, T>();
        let total = write_terms_and_grads(self.view_mut(), target.view(), |a, t| {
            let e = (-a.abs()).exp();
            (bce_term(a, t, e), k * (sigmoid_from(a, e) - t))
        });
        (total / entries::<R, C, T>(), self)
    }

    /// The gradient of [`bce_with_logits`](Mat::bce_with_logits)'s target, called on the
    /// logits: `d_out · (−self) / (R·C)` (the loss is linear in the target).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[2.0, -4.0]]);
    /// assert_eq!(a.bce_with_logits_backward_target(1.0), Mat::from_rows([[-1.0, 2.0]]));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn bce_with_logits_backward_target(&self, d_out: T) -> Self {
        let k = d_out / entries::<R, C, T>();
        Mat::from_array_unchecked(self.as_array().mapv(|a| k * -a))
    }
}

/// Whether a sum of squares can be used as it is: no underflow lost precision in it, and the
/// products of two square roots cannot overflow.
fn in_safe_range<T: Scalar>(sum_of_squares: T) -> bool {
    sum_of_squares >= T::min_positive_value() / T::epsilon()
        && sum_of_squares <= T::max_value().sqrt()
}

/// The largest `|x|` of a row; `NaN` if any entry is `NaN`.
fn max_abs<T: Scalar>(row: ArrayView1<'_, T>) -> T {
    row.fold(T::zero(), |m, &x| {
        if x.abs() > m || x.is_nan() {
            x.abs()
        } else {
            m
        }
    })
}

/// The Euclidean norm of a row, `sqrt(Σ x²)`, without overflow or underflow in `Σ x²`.
fn norm<T: Scalar>(row: ArrayView1<'_, T>) -> T {
    let sum = row.dot(&row);
    if in_safe_range(sum) {
        return sum.sqrt();
    }
    // Too large or too small to square: scale the row by its largest entry first.
    let m = max_abs(row);
    if m == T::zero() || m.is_infinite() {
        return m;
    }
    m * row.fold(T::zero(), |s, &x| s + (x / m) * (x / m)).sqrt()
}

/// The norms of two rows and the cosine of their angle (0 when either row is zero).
struct RowPair<T> {
    norm_a: T,
    norm_b: T,
    cos: T,
}

impl<T: Scalar> RowPair<T> {
    fn new(a: ArrayView1<'_, T>, b: ArrayView1<'_, T>) -> Self {
        let zero = (T::zero(), T::zero(), T::zero());
        let (aa, bb, ab) = Zip::from(&a).and(&b).fold(zero, |(aa, bb, ab), &x, &y| {
            (aa + x * x, bb + y * y, ab + x * y)
        });
        if in_safe_range(aa) && in_safe_range(bb) {
            let (norm_a, norm_b) = (aa.sqrt(), bb.sqrt());
            let cos = ab / (norm_a * norm_b);
            return RowPair {
                norm_a,
                norm_b,
                cos,
            };
        }
        // Each row scaled by its largest entry, which leaves the cosine unchanged.
        let (norm_a, norm_b) = (norm(a), norm(b));
        if norm_a == T::zero() || norm_b == T::zero() {
            let cos = T::zero();
            return RowPair {
                norm_a,
                norm_b,
                cos,
            };
        }
        let (ma, mb) = (max_abs(a), max_abs(b));
        let (aa, bb, ab) = Zip::from(&a).and(&b).fold(zero, |(aa, bb, ab), &x, &y| {
            let (x, y) = (x / ma, y / mb);
            (aa + x * x, bb + y * y, ab + x * y)
        });
        let cos = ab / (aa.sqrt() * bb.sqrt());
        RowPair {
            norm_a,
            norm_b,
            cos,
        }
    }

    /// Writes `k · ∂cos/∂a = k · (b/|b| − cos · a/|a|) / |a|` over the row `a`, or 0 for a zero
    /// row pair.
    fn write_grad(&self, mut a: ArrayViewMut1<'_, T>, b: ArrayView1<'_, T>, k: T) {
        let RowPair {
            norm_a,
            norm_b,
            cos,
        } = *self;
        if norm_a == T::zero() || norm_b == T::zero() {
            a.fill(T::zero());
            return;
        }
        // Divided entry by entry: `1 / |a|` alone could overflow for a tiny row.
        Zip::from(&mut a)
            .and(&b)
            .for_each(|x, &y| *x = k * (y / norm_b - cos * (*x / norm_a)) / norm_a);
    }
}

impl<T: Copy> Clone for RowPair<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Copy> Copy for RowPair<T> {}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The cosine distance of each row of `self` to the same row of `other`, meaned over the
    /// `R` rows: `mean over i of 1 − cos(aᵢ, bᵢ)`, with `cos(aᵢ, bᵢ) = aᵢ·bᵢ / (|aᵢ||bᵢ|)`.
    ///
    /// A row pair in which either row is zero has no angle: its cosine is defined as 0 (a loss
    /// of 1) and its gradient as 0, with no `NaN`. Rows of any magnitude (10⁻²⁰⁰ or 10²⁰⁰) are
    /// handled without overflow or underflow.
    ///
    /// Gradient of `out = a.cosine_rows(&b)`: row `i` of `d_a` is
    /// `−(d_out / R) · (bᵢ / (|aᵢ||bᵢ|) − cos · aᵢ / |aᵢ|²)`
    /// (`cosine_rows_backward`); the other operand's gradient is
    /// the same with the roles swapped, `b.cosine_rows_backward(&a, d_out)`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a: Mat<3, 2> = Mat::from_rows([[1.0, 0.0], [3.0, 4.0], [0.0, 0.0]]);
    /// let b = Mat::from_rows([[0.0, 2.0], [6.0, 8.0], [1.0, 1.0]]);
    /// // orthogonal (loss 1), parallel (loss 0), a zero row (loss 1 by definition)
    /// assert!((a.cosine_rows(&b) - 2.0 / 3.0).abs() < 1e-15);
    /// let d = a.cosine_rows_backward(&b, 3.0);
    /// assert_eq!(d.as_array().row(0).to_vec(), [0.0, -1.0]); // −b₀ / (|a₀||b₀|)
    /// assert_eq!(d.as_array().row(2).to_vec(), [0.0, 0.0]);
    /// ```
    #[must_use]
    pub fn cosine_rows(&self, other: &Self) -> T {
        let total = (0..R).fold(T::zero(), |s, i| {
            let pair = RowPair::new(self.as_array().row(i), other.as_array().row(i));
            s + (T::one() - pair.cos)
        });
        total / T::from_usize(R)
    }

    /// The gradient of [`cosine_rows`](Mat::cosine_rows)'s receiver: row `i` is
    /// `−(d_out / R) · (bᵢ / (|aᵢ||bᵢ|) − cos · aᵢ / |aᵢ|²)`, and 0 where either row is zero.
    #[must_use]
    #[doc(hidden)]
    pub fn cosine_rows_backward(&self, other: &Self, d_out: T) -> Self {
        self.clone().into_cosine_rows_backward(other, d_out)
    }

    /// `cosine_rows_backward` in the receiver's own buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_cosine_rows_backward(self, other: &Self, d_out: T) -> Self {
        self.into_cosine_rows_and_backward(other, d_out).1
    }

    /// [`cosine_rows`](Mat::cosine_rows) and
    /// `cosine_rows_backward` in one pass over the rows.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]);
    /// let b = Mat::from_rows([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]);
    /// let fused = a.cosine_rows_and_backward(&b, 1.0);
    /// assert_eq!(fused, (a.cosine_rows(&b), a.cosine_rows_backward(&b, 1.0)));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn cosine_rows_and_backward(&self, other: &Self, d_out: T) -> (T, Self) {
        self.clone().into_cosine_rows_and_backward(other, d_out)
    }

    /// `cosine_rows_and_backward` in the receiver's own
    /// buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_cosine_rows_and_backward(mut self, other: &Self, d_out: T) -> (T, Self) {
        let k = -d_out / T::from_usize(R);
        let mut total = T::zero();
        for (a, b) in self
            .view_mut()
            .rows_mut()
            .into_iter()
            .zip(other.as_array().rows())
        {
            let pair = RowPair::new(a.view(), b);
            total += T::one() - pair.cos;
            pair.write_grad(a, b, k);
        }
        (total / T::from_usize(R), self)
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The Euclidean norm of each row, `sqrt(Σⱼ aᵢⱼ²)`: `[R × C] → [R × 1]`, without overflow
    /// or underflow for rows of any magnitude.
    ///
    /// Gradient of `out = a.row_norms()`: `d_aᵢⱼ = d_outᵢ · aᵢⱼ / outᵢ`, and 0 in a zero row,
    /// where the norm has no derivative (0 is the smallest subgradient, and keeps `NaN` out)
    /// (`row_norms_backward`, given the norms).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[3.0, 4.0], [0.0, 0.0], [1e200, 1e200]]);
    /// let n = a.row_norms();
    /// assert_eq!(n[(0, 0)], 5.0);
    /// assert_eq!(n[(1, 0)], 0.0);
    /// assert!((n[(2, 0)] / 1e200 - 2f64.sqrt()).abs() < 1e-15);
    /// let d = a.row_norms_backward(&n, &Mat::from_rows([[10.0], [1.0], [1.0]]));
    /// assert_eq!(d.as_array().row(0).to_vec(), [6.0, 8.0]);
    /// assert_eq!(d.as_array().row(1).to_vec(), [0.0, 0.0]);
    /// ```
    #[must_use]
    pub fn row_norms(&self) -> Mat<R, 1, T> {
        Mat::from_fn(|i, _| norm(self.as_array().row(i)))
    }

    /// The gradient of [`row_norms`](Mat::row_norms)'s input `self`, given its output `norms`:
    /// `d_outᵢ · selfᵢⱼ / normsᵢ`, and 0 in a row whose norm is 0.
    #[must_use]
    #[doc(hidden)]
    pub fn row_norms_backward(&self, norms: &Mat<R, 1, T>, d_out: &Mat<R, 1, T>) -> Self {
        self.clone().into_row_norms_backward(norms, d_out)
    }

    /// `row_norms_backward` in this matrix's own buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_row_norms_backward(mut self, norms: &Mat<R, 1, T>, d_out: &Mat<R, 1, T>) -> Self {
        for (i, mut row) in self.view_mut().rows_mut().into_iter().enumerate() {
            let (n, g) = (norms[(i, 0)], d_out[(i, 0)]);
            if n == T::zero() {
                row.fill(T::zero());
            } else {
                // `a / n` is at most 1: no overflow however small the norm.
                row.mapv_inplace(|a| a / n * g);
            }
        }
        self
    }
}
