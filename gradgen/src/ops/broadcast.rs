//! Broadcasts: a [1 × C] row applied to every row, an [R × 1] column applied to every column.
//! The backward of a broadcast is the matching sum.

use crate::{Mat, Scalar};

macro_rules! broadcast_ops {
    ($(($row:ident, $into_row:ident, $col:ident, $into_col:ident, $sym:tt, $assign:tt, $what:literal, $grad_row:literal, $grad_col:literal)),*) => {
        impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
            $(
                #[doc = concat!("`a ", stringify!($sym), " b` for every row of `a`, with `b` a [1 × C] row: [R × C] → [R × C] (", $what, ").")]
                ///
                #[doc = concat!("Gradient of `out = a.", stringify!($row), "(b)`: ", $grad_row, ".")]
                #[must_use]
                pub fn $row(&self, row: &Mat<1, C, T>) -> Self {
                    Mat::from_array_unchecked(self.as_array() $sym row.as_array())
                }

                #[doc = concat!("`a ", stringify!($sym), " b` for every column of `a`, with `b` an [R × 1] column: [R × C] → [R × C].")]
                ///
                #[doc = concat!("Gradient of `out = a.", stringify!($col), "(b)`: ", $grad_col, ".")]
                #[must_use]
                pub fn $col(&self, col: &Mat<R, 1, T>) -> Self {
                    Mat::from_array_unchecked(self.as_array() $sym col.as_array())
                }

                #[doc = concat!("[`", stringify!($row), "`](Mat::", stringify!($row), ") in this matrix's own buffer, without allocating.")]
                #[must_use]
                #[doc(hidden)]
                pub fn $into_row(mut self, row: &Mat<1, C, T>) -> Self {
                    self.view_mut().zip_mut_with(&row.view(), |a, &b| *a $assign b);
                    self
                }

                #[doc = concat!("[`", stringify!($col), "`](Mat::", stringify!($col), ") in this matrix's own buffer, without allocating.")]
                #[must_use]
                #[doc(hidden)]
                pub fn $into_col(mut self, col: &Mat<R, 1, T>) -> Self {
                    self.view_mut().zip_mut_with(&col.view(), |a, &b| *a $assign b);
                    self
                }
            )*
        }
    };
}

broadcast_ops!(
    (add_row, into_add_row, add_col, into_add_col, +, +=, "a bias",
     "`d_a = d_out`, `d_b = d_out.col_sums()`",
     "`d_a = d_out`, `d_b = d_out.row_sums()`"),
    (sub_row, into_sub_row, sub_col, into_sub_col, -, -=, "centring",
     "`d_a = d_out`, `d_b = −d_out.col_sums()`",
     "`d_a = d_out`, `d_b = −d_out.row_sums()`"),
    (mul_row, into_mul_row, mul_col, into_mul_col, *, *=, "a scale per column",
     "`d_a = d_out.mul_row(b)`, `d_b = (d_out ∘ a).col_sums()`",
     "`d_a = d_out.mul_col(b)`, `d_b = (d_out ∘ a).row_sums()`"),
    (div_row, into_div_row, div_col, into_div_col, /, /=, "a normalisation per column",
     "`d_a = d_out.div_row(b)`, `d_b = −(d_out ∘ out).div_row(b).col_sums()`",
     "`d_a = d_out.div_col(b)`, `d_b = −(d_out ∘ out).div_col(b).row_sums()`")
);

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
    #[doc(hidden)]
    pub fn broadcast_rows<const R: usize>(&self) -> Mat<R, C, T> {
        Mat::from_fn(|_, j| self[(0, j)])
    }

    /// Spreads this row evenly over `R` rows, `self / R` in each: the backward of
    /// [`col_means`](Mat::col_means).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let r = Mat::from_rows([[2.0, 4.0]]);
    /// assert_eq!(r.spread_rows::<2>(), Mat::from_rows([[1.0, 2.0], [1.0, 2.0]]));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn spread_rows<const R: usize>(&self) -> Mat<R, C, T> {
        let n = T::from_usize(R);
        Mat::from_fn(|_, j| self[(0, j)] / n)
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
    #[doc(hidden)]
    pub fn broadcast_cols<const C: usize>(&self) -> Mat<R, C, T> {
        Mat::from_fn(|i, _| self[(i, 0)])
    }

    /// Spreads this column evenly over `C` columns, `self / C` in each: the backward of
    /// [`row_means`](Mat::row_means).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let c = Mat::from_rows([[3.0], [6.0]]);
    /// assert_eq!(c.spread_cols::<3>(), Mat::from_rows([[1.0; 3], [2.0; 3]]));
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn spread_cols<const C: usize>(&self) -> Mat<R, C, T> {
        let n = T::from_usize(C);
        Mat::from_fn(|i, _| self[(i, 0)] / n)
    }
}

#[cfg(test)]
mod tests {
    use crate::Mat;

    #[test]
    fn rows_and_columns_broadcast_the_right_way() {
        let a = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let row = Mat::from_rows([[10.0, 20.0, 30.0]]);
        let col = Mat::from_rows([[10.0], [20.0]]);
        assert_eq!(
            a.sub_row(&row),
            Mat::from_rows([[-9.0, -18.0, -27.0], [-6.0, -15.0, -24.0]])
        );
        assert_eq!(
            a.mul_col(&col),
            Mat::from_rows([[10.0, 20.0, 30.0], [80.0, 100.0, 120.0]])
        );
        assert_eq!(
            a.div_row(&row),
            Mat::from_fn(|i, j| a[(i, j)] / row[(0, j)])
        );
        assert_eq!(
            a.add_col(&col),
            Mat::from_fn(|i, j| a[(i, j)] + col[(i, 0)])
        );
        assert_eq!(
            a.div_col(&col),
            Mat::from_fn(|i, j| a[(i, j)] / col[(i, 0)])
        );
        assert_eq!(
            a.mul_row(&row),
            Mat::from_fn(|i, j| a[(i, j)] * row[(0, j)])
        );
        assert_eq!(
            a.sub_col(&col),
            Mat::from_fn(|i, j| a[(i, j)] - col[(i, 0)])
        );
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// Adds `row` to every row, in place: the backward of [`col_sums`](Mat::col_sums) added
    /// into an existing gradient without building the broadcast.
    #[doc(hidden)]
    pub fn add_row_assign(&mut self, row: &Mat<1, C, T>) {
        self.view_mut().zip_mut_with(&row.view(), |a, &b| *a += b);
    }

    /// Adds `col` to every column, in place: the backward of [`row_sums`](Mat::row_sums) added
    /// into an existing gradient.
    #[doc(hidden)]
    pub fn add_col_assign(&mut self, col: &Mat<R, 1, T>) {
        self.view_mut().zip_mut_with(&col.view(), |a, &b| *a += b);
    }

    /// Adds `row / R` to every row, in place: the backward of [`col_means`](Mat::col_means)
    /// added into an existing gradient.
    #[doc(hidden)]
    pub fn add_spread_rows(&mut self, row: &Mat<1, C, T>) {
        let n = T::from_usize(R);
        self.view_mut()
            .zip_mut_with(&row.view(), |a, &b| *a += b / n);
    }

    /// Adds `col / C` to every column, in place: the backward of [`row_means`](Mat::row_means)
    /// added into an existing gradient.
    #[doc(hidden)]
    pub fn add_spread_cols(&mut self, col: &Mat<R, 1, T>) {
        let n = T::from_usize(C);
        self.view_mut()
            .zip_mut_with(&col.view(), |a, &b| *a += b / n);
    }
}

#[cfg(test)]
mod assign_tests {
    use crate::Mat;

    #[test]
    fn in_place_accumulation_equals_adding_the_broadcast() {
        let a = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let row = Mat::from_rows([[3.0, 6.0, 9.0]]);
        let col = Mat::from_rows([[3.0], [6.0]]);
        let mut m = a.clone();
        m.add_row_assign(&row);
        assert_eq!(m, &a + &row.broadcast_rows::<2>());
        let mut m = a.clone();
        m.add_col_assign(&col);
        assert_eq!(m, &a + &col.broadcast_cols::<3>());
        let mut m = a.clone();
        m.add_spread_rows(&row);
        assert_eq!(m, &a + &row.spread_rows::<2>());
        let mut m = a.clone();
        m.add_spread_cols(&col);
        assert_eq!(m, &a + &col.spread_cols::<3>());
    }
}
