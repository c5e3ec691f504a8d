//! Reductions of squares (`Σ a²`, the mean of each column's squares, …) in one pass, and the
//! inner product `Σ a∘b`.
//!
//! The macro folds `a.square().col_means()` into `a.col_mean_squares()` and `(a * b).sum()`
//! into `a.inner(&b)` when the intermediate has no other use: the `[R × C]` temporary (`a²`,
//! `a∘b`) is then never built, and neither is the broadcast gradient that flows back into it.
//! The ops are also there to be called directly.
//!
//! Every reduction of squares has the gradient `d_a = 2·k·d_out ∘ a`, with `d_out` repeated
//! over what was reduced and `k` the reduction's averaging factor (1 for sums). Each has three
//! backward forms: a new matrix (`*_backward`), the same computed in the operand's own buffer
//! when the operand is dead afterwards (`into_*_backward`), and the same added into an existing
//! gradient (`add_*_backward`).

use ndarray::{ArrayView2, Axis, Zip};

use crate::{Mat, Scalar};

/// How `d_a` is formed from `a`: `factor · a ∘ g`, with `g` the upstream gradient broadcast to
/// `[R × C]` (a row, a column, or absent for a scalar, which is folded into `factor`).
fn squares_grad<T: Scalar>(
    d: ndarray::ArrayViewMut2<'_, T>,
    a: Option<ArrayView2<'_, T>>,
    g: Option<ArrayView2<'_, T>>,
    factor: T,
    accumulate: bool,
) {
    let shape = d.dim();
    // `a` is `None` when `d` holds `a` itself (the consuming form).
    match (a, g) {
        (Some(a), Some(g)) => {
            let g = g
                .broadcast(shape)
                .expect("a row or column broadcasts to its matrix");
            let z = Zip::from(d).and(a).and(g);
            if accumulate {
                z.for_each(|d, &a, &g| *d += factor * g * a);
            } else {
                z.for_each(|d, &a, &g| *d = factor * g * a);
            }
        }
        (Some(a), None) => {
            let z = Zip::from(d).and(a);
            if accumulate {
                z.for_each(|d, &a| *d += factor * a);
            } else {
                z.for_each(|d, &a| *d = factor * a);
            }
        }
        (None, Some(g)) => {
            let g = g
                .broadcast(shape)
                .expect("a row or column broadcasts to its matrix");
            Zip::from(d).and(g).for_each(|d, &g| *d *= factor * g);
        }
        (None, None) => Zip::from(d).for_each(|d| *d *= factor),
    }
}

/// The sum of the squares of a contiguous run of values, or of any view.
fn sum_sq<T: Scalar>(a: ArrayView2<'_, T>) -> T {
    match a.as_slice_memory_order() {
        Some(s) => {
            let v = ndarray::ArrayView1::from(s);
            v.dot(&v)
        }
        None => a.fold(T::zero(), |acc, &x| acc + x * x),
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The sum of the squares of all entries, `Σᵢⱼ aᵢⱼ²`, without building `a²`.
    ///
    /// Gradient of `out = a.sum_squares()`: `d_a = 2·d_out · a`
    /// (`sum_squares_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, -2.0], [3.0, 0.5]]);
    /// assert_eq!(a.sum_squares(), a.square().sum());
    /// ```
    #[must_use]
    pub fn sum_squares(&self) -> T {
        sum_sq(self.view())
    }

    /// The mean of the squares of all entries, `Σᵢⱼ aᵢⱼ² / (R·C)`: a mean squared error when
    /// `a` is a difference.
    ///
    /// Gradient of `out = a.mean_squares()`: `d_a = 2·d_out / (R·C) · a`
    /// (`mean_squares_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, -2.0], [3.0, 0.5]]);
    /// assert_eq!(a.mean_squares(), a.square().mean());
    /// ```
    #[must_use]
    pub fn mean_squares(&self) -> T {
        self.sum_squares() / T::from_usize(R * C)
    }

    /// The sum of the squares of each row: `[R × C] → [R × 1]`.
    ///
    /// Gradient of `out = a.row_sum_squares()`: `d_a = 2·d_out ∘ a`, `d_out` repeated over the
    /// columns (`row_sum_squares_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, -2.0], [3.0, 0.5]]);
    /// assert_eq!(a.row_sum_squares(), a.square().row_sums());
    /// ```
    #[must_use]
    pub fn row_sum_squares(&self) -> Mat<R, 1, T> {
        let sums = self.as_array().map_axis(Axis(1), |row| row.dot(&row));
        Mat::from_array_unchecked(sums.insert_axis(Axis(1)))
    }

    /// The sum of the squares of each column: `[R × C] → [1 × C]`.
    ///
    /// Gradient of `out = a.col_sum_squares()`: `d_a = 2·d_out ∘ a`, `d_out` repeated over the
    /// rows (`col_sum_squares_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, -2.0], [3.0, 0.5]]);
    /// assert_eq!(a.col_sum_squares(), a.square().col_sums());
    /// ```
    #[must_use]
    pub fn col_sum_squares(&self) -> Mat<1, C, T> {
        let sums = self
            .as_array()
            .fold_axis(Axis(0), T::zero(), |&acc, &v| acc + v * v);
        Mat::from_array_unchecked(sums.insert_axis(Axis(0)))
    }

    /// The mean of the squares of each row: `[R × C] → [R × 1]` (a variance when the rows are
    /// centred).
    ///
    /// Gradient of `out = a.row_mean_squares()`: `d_a = 2·d_out / C ∘ a`, `d_out` repeated
    /// over the columns (`row_mean_squares_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, -2.0], [3.0, 0.5]]);
    /// assert_eq!(a.row_mean_squares(), a.square().row_means());
    /// ```
    #[must_use]
    pub fn row_mean_squares(&self) -> Mat<R, 1, T> {
        self.row_sum_squares() / T::from_usize(C)
    }

    /// The mean of the squares of each column: `[R × C] → [1 × C]` (a variance when the
    /// columns are centred, as in batch norm).
    ///
    /// Gradient of `out = a.col_mean_squares()`: `d_a = 2·d_out / R ∘ a`, `d_out` repeated
    /// over the rows (`col_mean_squares_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, -2.0], [3.0, 0.5]]);
    /// assert_eq!(a.col_mean_squares(), a.square().col_means());
    /// ```
    #[must_use]
    pub fn col_mean_squares(&self) -> Mat<1, C, T> {
        self.col_sum_squares() / T::from_usize(R)
    }
}

/// The three backward forms of one reduction of squares. `$g` is the upstream gradient's type;
/// `|d| factor` the scalar that multiplies `self` (2 times the averaging factor, times `d`
/// itself for a scalar gradient); `$view` how a row or column gradient broadcasts (`None` for a
/// scalar, which is in the factor).
macro_rules! squares_backward {
    ($op:literal, $fresh:ident, $into:ident, $add:ident, $g:ty, |$d:ident| $factor:expr, $view:expr) => {
        impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
            #[doc = concat!("The gradient of [`", $op, "`](Mat::", $op, ")'s input `self`: `2·d_out ∘ self`, averaged as the op averages, as a new matrix.")]
            #[must_use]
            #[doc(hidden)]
            pub fn $fresh(&self, d_out: $g) -> Self {
                let mut d = Self::zeros();
                let $d = &d_out;
                squares_grad(d.view_mut(), Some(self.view()), $view, $factor, false);
                d
            }

            #[doc = concat!("[`", stringify!($fresh), "`](Mat::", stringify!($fresh), ") in this matrix's own buffer: what the generated code calls when the operand is dead afterwards.")]
            #[must_use]
            #[doc(hidden)]
            pub fn $into(mut self, d_out: $g) -> Self {
                let $d = &d_out;
                squares_grad(self.view_mut(), None, $view, $factor, false);
                self
            }

            #[doc = concat!("Adds [`", stringify!($fresh), "`](Mat::", stringify!($fresh), ") of `a` into this gradient, in place.")]
            #[doc(hidden)]
            pub fn $add(&mut self, a: &Self, d_out: $g) {
                let $d = &d_out;
                squares_grad(self.view_mut(), Some(a.view()), $view, $factor, true);
            }
        }
    };
}

fn two<T: Scalar>() -> T {
    T::from_usize(2)
}

squares_backward!(
    "sum_squares",
    sum_squares_backward,
    into_sum_squares_backward,
    add_sum_squares_backward,
    T,
    |d| two::<T>() * *d,
    None
);
squares_backward!(
    "mean_squares",
    mean_squares_backward,
    into_mean_squares_backward,
    add_mean_squares_backward,
    T,
    |d| two::<T>() * *d / T::from_usize(R * C),
    None
);
squares_backward!("row_sum_squares", row_sum_squares_backward, into_row_sum_squares_backward,
    add_row_sum_squares_backward, &Mat<R, 1, T>, |d| two::<T>(), Some(d.view()));
squares_backward!("col_sum_squares", col_sum_squares_backward, into_col_sum_squares_backward,
    add_col_sum_squares_backward, &Mat<1, C, T>, |d| two::<T>(), Some(d.view()));
squares_backward!("row_mean_squares", row_mean_squares_backward, into_row_mean_squares_backward,
    add_row_mean_squares_backward, &Mat<R, 1, T>, |d| two::<T>() / T::from_usize(C), Some(d.view()));
squares_backward!("col_mean_squares", col_mean_squares_backward, into_col_mean_squares_backward,
    add_col_mean_squares_backward, &Mat<1, C, T>, |d| two::<T>() / T::from_usize(R), Some(d.view()));

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The sum of the entrywise products, `Σᵢⱼ selfᵢⱼ · otherᵢⱼ` (the Frobenius inner
    /// product), without building `self ∘ other`.
    ///
    /// Gradient of `out = a.inner(&b)`: `d_a = d_out · b` and `d_b = d_out · a`. The gradient
    /// of `a * s` with respect to a scalar `s` is `d_out.inner(&a)`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.inner(&a), 30.0);
    /// ```
    #[must_use]
    pub fn inner(&self, other: &Self) -> T {
        let (a, b) = (self.as_array(), other.as_array());
        match (a.as_slice(), b.as_slice()) {
            // Contiguous and in the same order: ndarray's unrolled dot product, which is both
            // faster and more accurate than one running sum.
            (Some(a), Some(b)) => ndarray::ArrayView1::from(a).dot(&ndarray::ArrayView1::from(b)),
            _ => Zip::from(a)
                .and(b)
                .fold(T::zero(), |total, &a, &b| total + a * b),
        }
    }

    /// Adds `s · other` into this matrix, in place: the backward of [`inner`](Mat::inner) added
    /// into an existing gradient.
    #[doc(hidden)]
    pub fn add_scaled(&mut self, other: &Self, s: T) {
        self.view_mut().scaled_add(s, &other.view());
    }

    /// `s · other`, written into this matrix's buffer (its old entries are discarded): the
    /// backward of [`inner`](Mat::inner) when this operand is dead afterwards, so its buffer
    /// holds its own gradient instead of a new allocation.
    #[must_use]
    #[doc(hidden)]
    pub fn into_scaled_copy_of(mut self, other: &Self, s: T) -> Self {
        Zip::from(self.view_mut())
            .and(other.view())
            .for_each(|d, &b| *d = s * b);
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::Mat;

    fn a() -> Mat<3, 4> {
        Mat::from_fn(|i, j| (i as f64 - 1.2) * (j as f64 + 0.5))
    }

    fn close<const R: usize, const C: usize>(x: &Mat<R, C>, y: &Mat<R, C>) -> bool {
        x.as_array()
            .iter()
            .zip(y.as_array())
            .all(|(p, q)| (p - q).abs() < 1e-12)
    }

    #[test]
    fn fused_reductions_equal_the_unfused_ones() {
        let a = a();
        assert!((a.sum_squares() - a.square().sum()).abs() < 1e-12);
        assert!((a.mean_squares() - a.square().mean()).abs() < 1e-12);
        assert!(close(&a.row_sum_squares(), &a.square().row_sums()));
        assert!(close(&a.col_sum_squares(), &a.square().col_sums()));
        assert!(close(&a.row_mean_squares(), &a.square().row_means()));
        assert!(close(&a.col_mean_squares(), &a.square().col_means()));
        let b = Mat::from_fn(|i, j| (i * j) as f64 - 0.7);
        assert!((a.inner(&b) - (&a * &b).sum()).abs() < 1e-12);
        // A transposed operand is read in its own order.
        assert!((a.t().into_t().inner(&b) - (&a * &b).sum()).abs() < 1e-12);
    }

    #[test]
    fn the_three_backward_forms_agree_with_the_unfused_chain() {
        let a = a();
        let row = Mat::from_rows([[0.5, -1.0, 2.0, 0.25]]);
        let col = Mat::from_rows([[0.5], [-1.0], [2.0]]);
        // col_mean_squares = col_means ∘ square: d_a = square_backward(spread_rows(d)).
        let expected = a.square_backward(row.spread_rows::<3>());
        assert!(close(&a.col_mean_squares_backward(&row), &expected));
        assert!(close(
            &a.clone().into_col_mean_squares_backward(&row),
            &expected
        ));
        let mut d = Mat::full(1.0);
        d.add_col_mean_squares_backward(&a, &row);
        assert!(close(&d, &(expected + 1.0)));

        let expected = a.square_backward(col.broadcast_cols::<4>());
        assert!(close(&a.row_sum_squares_backward(&col), &expected));
        let expected = a.square_backward(col.spread_cols::<4>());
        assert!(close(
            &a.clone().into_row_mean_squares_backward(&col),
            &expected
        ));
        let expected = a.square_backward(row.broadcast_rows::<3>());
        let mut d = Mat::zeros();
        d.add_col_sum_squares_backward(&a, &row);
        assert!(close(&d, &expected));
        let expected = a.square_backward(Mat::full(1.5));
        assert!(close(&a.sum_squares_backward(1.5), &expected));
        let expected = a.square_backward(Mat::mean_backward(1.5));
        assert!(close(&a.clone().into_mean_squares_backward(1.5), &expected));
        let mut d = Mat::zeros();
        d.add_mean_squares_backward(&a, 1.5);
        assert!(close(&d, &expected));

        let b = Mat::from_fn(|i, j| (i + j) as f64);
        assert!(close(&a.clone().into_scaled_copy_of(&b, 2.0), &(&b * 2.0)));
        let mut d = a.clone();
        d.add_scaled(&b, 2.0);
        assert!(close(&d, &(&a + &(&b * 2.0))));
    }
}
