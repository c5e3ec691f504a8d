//! Reductions: to a scalar, to a column, to a row.

use ndarray::Axis;

use crate::{Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The sum of all entries.
    ///
    /// Gradient of `out = a.sum()`: every entry of `d_a` is `d_out` ([`Mat::full`]).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<2, 3>::full(0.5).sum(), 3.0);
    /// ```
    #[must_use]
    pub fn sum(&self) -> T {
        self.as_array().sum()
    }

    /// The mean of all entries.
    ///
    /// Gradient of `out = a.mean()`: every entry of `d_a` is `d_out / (R·C)`
    /// (`mean_backward`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::from_rows([[1.0, 2.0], [3.0, 6.0]]).mean(), 3.0);
    /// ```
    #[must_use]
    pub fn mean(&self) -> T {
        self.sum() / T::from_usize(R * C)
    }

    /// The gradient of [`mean`](Mat::mean) with respect to its `[R × C]` operand: `d_out / (R·C)`
    /// in every entry.
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<2, 2>::mean_backward(1.0), Mat::full(0.25));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn mean_backward(d_out: T) -> Self {
        Self::full(d_out / T::from_usize(R * C))
    }

    /// Adds `mean_backward``(d_out)` to this matrix in place: how the
    /// generated code adds a mean's gradient to one that exists already.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let mut d = Mat::<2, 2>::full(1.0);
    /// d.add_mean_backward(2.0);
    /// assert_eq!(d, Mat::full(1.5));
    /// ```
    #[doc(hidden)]
    pub fn add_mean_backward(&mut self, d_out: T) {
        let share = d_out / T::from_usize(R * C);
        self.view_mut().mapv_inplace(|v| v + share);
    }

    /// The sum of each row: `[R × C] → [R × 1]`.
    ///
    /// Gradient of `out = a.row_sums()`: `d_a = d_out` repeated over the `C` columns
    /// (`broadcast_cols`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// assert_eq!(a.row_sums(), Mat::from_rows([[3.0], [7.0], [11.0]]));
    /// ```
    #[must_use]
    pub fn row_sums(&self) -> Mat<R, 1, T> {
        Mat::from_array_unchecked(self.as_array().sum_axis(Axis(1)).insert_axis(Axis(1)))
    }

    /// The sum of each column: `[R × C] → [1 × C]`.
    ///
    /// Gradient of `out = a.col_sums()`: `d_a = d_out` repeated over the `R` rows
    /// (`broadcast_rows`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// assert_eq!(a.col_sums(), Mat::from_rows([[9.0, 12.0]]));
    /// ```
    #[must_use]
    pub fn col_sums(&self) -> Mat<1, C, T> {
        Mat::from_array_unchecked(self.as_array().sum_axis(Axis(0)).insert_axis(Axis(0)))
    }
}

impl<const C: usize, T: Scalar> Mat<1, C, T> {
    /// `self += m.col_sums()`, in place: a broadcast row's gradient added up over the steps of
    /// a loop without a temporary row per step.
    #[doc(hidden)]
    pub fn add_col_sums<const R: usize>(&mut self, m: &Mat<R, C, T>) {
        let mut out = self.view_mut();
        let mut out = out.row_mut(0);
        for row in m.as_array().rows() {
            out.zip_mut_with(&row, |a, &b| *a += b);
        }
    }
}

impl<const R: usize, T: Scalar> Mat<R, 1, T> {
    /// `self += m.row_sums()`, in place: a broadcast column's gradient added up without a
    /// temporary.
    #[doc(hidden)]
    pub fn add_row_sums<const C: usize>(&mut self, m: &Mat<R, C, T>) {
        for (a, row) in self.view_mut().iter_mut().zip(m.as_array().rows()) {
            *a += row.sum();
        }
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The mean of each row: `[R × C] → [R × 1]`.
    ///
    /// Gradient of `out = a.row_means()`: `d_a = d_out / C` repeated over the columns
    /// (`spread_cols`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 5.0]]);
    /// assert_eq!(a.row_means(), Mat::from_rows([[1.5], [4.0]]));
    /// ```
    #[must_use]
    pub fn row_means(&self) -> Mat<R, 1, T> {
        self.row_sums() / T::from_usize(C)
    }

    /// The mean of each column: `[R × C] → [1 × C]`.
    ///
    /// Gradient of `out = a.col_means()`: `d_a = d_out / R` repeated over the rows
    /// (`spread_rows`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 5.0]]);
    /// assert_eq!(a.col_means(), Mat::from_rows([[2.0, 3.5]]));
    /// ```
    #[must_use]
    pub fn col_means(&self) -> Mat<1, C, T> {
        self.col_sums() / T::from_usize(R)
    }

    /// The column of each row's largest entry (the first one on a tie; `NaN` entries are never
    /// the largest unless the whole row is `NaN`).
    fn argmax(&self, i: usize) -> usize {
        let mut best = 0;
        for j in 1..C {
            if self[(i, j)] > self[(i, best)] || self[(i, best)].is_nan() && !self[(i, j)].is_nan()
            {
                best = j;
            }
        }
        best
    }

    /// The column of each row's largest entry, in row order: the predicted class of each row
    /// of a classifier's scores. On a tie, the first (leftmost); a `NaN` entry is never the
    /// largest unless the whole row is `NaN`. Not differentiable (an index has no gradient).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let scores = Mat::from_rows([[0.1, 0.7, 0.2], [2.0, 2.0, -1.0]]);
    /// assert_eq!(scores.argmax_rows(), [1, 0]);
    /// ```
    #[must_use]
    pub fn argmax_rows(&self) -> Vec<usize> {
        (0..R).map(|i| self.argmax(i)).collect()
    }

    /// The largest entry of each row: `[R × C] → [R × 1]`.
    ///
    /// Gradient of `out = a.row_max()`: `d_out[i]` goes to the arg-max entry of row `i` and the
    /// others get 0 (`row_max_backward`). On a tie, the first (leftmost)
    /// largest entry takes the whole gradient.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 3.0, 3.0], [-1.0, -2.0, -5.0]]);
    /// assert_eq!(a.row_max(), Mat::from_rows([[3.0], [-1.0]]));
    /// let d = a.row_max_backward(&Mat::from_rows([[1.0], [2.0]]));
    /// assert_eq!(d, Mat::from_rows([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]]));
    /// ```
    #[must_use]
    pub fn row_max(&self) -> Mat<R, 1, T> {
        Mat::from_fn(|i, _| self[(i, self.argmax(i))])
    }

    /// The gradient of [`row_max`](Mat::row_max)'s input `self`: `d_out[i]` at each row's
    /// arg-max, 0 elsewhere.
    #[must_use]
    #[doc(hidden)]
    pub fn row_max_backward(&self, d_out: &Mat<R, 1, T>) -> Self {
        let mut d = Self::zeros();
        for i in 0..R {
            d[(i, self.argmax(i))] = d_out[(i, 0)];
        }
        d
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The dot product of each column with the same column of `other`:
    /// `(self ∘ other).col_sums()` without the intermediate matrix. The backward of a row
    /// broadcast multiplied in ([`mul_row`](Mat::mul_row)).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Mat::from_rows([[5.0, 6.0], [7.0, 8.0]]);
    /// assert_eq!(a.col_dots(&b), (&a * &b).col_sums());
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn col_dots(&self, other: &Self) -> Mat<1, C, T> {
        let mut out = Mat::<1, C, T>::zeros();
        for (a, b) in self
            .as_array()
            .rows()
            .into_iter()
            .zip(other.as_array().rows())
        {
            for j in 0..C {
                out[(0, j)] += a[j] * b[j];
            }
        }
        out
    }

    /// The dot product of each row with the same row of `other`: `(self ∘ other).row_sums()`
    /// without the intermediate matrix, `[R × C], [R × C] → [R × 1]`.
    ///
    /// Gradient of `out = a.row_dots(b)`: `d_a = b.mul_col(d_out)` and `d_b = a.mul_col(d_out)`,
    /// the `[R × 1]` gradient repeated over the columns.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Mat::from_rows([[5.0, 6.0], [7.0, 8.0]]);
    /// assert_eq!(a.row_dots(&b), (&a * &b).row_sums());
    /// ```
    #[must_use]
    pub fn row_dots(&self, other: &Self) -> Mat<R, 1, T> {
        Mat::from_fn(|i, _| {
            let (a, b) = (self.as_array().row(i), other.as_array().row(i));
            a.dot(&b)
        })
    }
}
