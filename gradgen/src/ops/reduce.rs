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
    /// ([`mean_backward`](Mat::mean_backward)).
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
    pub fn mean_backward(d_out: T) -> Self {
        Self::full(d_out / T::from_usize(R * C))
    }

    /// The sum of each row: `[R × C] → [R × 1]`.
    ///
    /// Gradient of `out = a.row_sums()`: `d_a = d_out` repeated over the `C` columns
    /// ([`broadcast_cols`](Mat::broadcast_cols)).
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
    /// ([`broadcast_rows`](Mat::broadcast_rows)).
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

    /// The sum of the entrywise products, `Σᵢⱼ selfᵢⱼ · otherᵢⱼ` (the Frobenius inner product).
    /// The gradient of `a * s` with respect to a scalar `s` is `d_out.inner(&a)`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.inner(&a), 30.0);
    /// ```
    #[must_use]
    pub fn inner(&self, other: &Self) -> T {
        let mut total = T::zero();
        ndarray::Zip::from(self.as_array())
            .and(other.as_array())
            .for_each(|&a, &b| total += a * b);
        total
    }
}
