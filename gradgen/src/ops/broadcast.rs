//! Broadcasts. The backward of a broadcast is the matching sum.

use crate::{Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// Adds the row `row` to every row: `[R × C] + [1 × C] → [R × C]` (a bias).
    ///
    /// Gradient of `out = a.add_row(b)`: `d_a = d_out`, `d_b = d_out.col_sums()`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::<2, 3>::zeros();
    /// let b = Mat::from_rows([[1.0, 2.0, 3.0]]);
    /// assert_eq!(a.add_row(&b), Mat::from_rows([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]));
    /// ```
    #[must_use]
    pub fn add_row(&self, row: &Mat<1, C, T>) -> Self {
        Mat::from_array_unchecked(self.as_array() + row.as_array())
    }
}

impl<const C: usize, T: Scalar> Mat<1, C, T> {
    /// Repeats this row `R` times: `[1 × C] → [R × C]`. The backward of
    /// [`col_sums`](Mat::col_sums).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let r = Mat::from_rows([[1.0, 2.0]]);
    /// assert_eq!(r.broadcast_rows::<2>(), Mat::from_rows([[1.0, 2.0], [1.0, 2.0]]));
    /// ```
    #[must_use]
    pub fn broadcast_rows<const R: usize>(&self) -> Mat<R, C, T> {
        Mat::from_array_unchecked(
            self.as_array()
                .broadcast((R, C))
                .expect("a [1 × C] row broadcasts to [R × C]")
                .to_owned(),
        )
    }
}

impl<const R: usize, T: Scalar> Mat<R, 1, T> {
    /// Repeats this column `C` times: `[R × 1] → [R × C]`. The backward of
    /// [`row_sums`](Mat::row_sums).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let c = Mat::from_rows([[1.0], [2.0]]);
    /// assert_eq!(c.broadcast_cols::<3>(), Mat::from_rows([[1.0; 3], [2.0; 3]]));
    /// ```
    #[must_use]
    pub fn broadcast_cols<const C: usize>(&self) -> Mat<R, C, T> {
        Mat::from_array_unchecked(
            self.as_array()
                .broadcast((R, C))
                .expect("an [R × 1] column broadcasts to [R × C]")
                .to_owned(),
        )
    }
}
