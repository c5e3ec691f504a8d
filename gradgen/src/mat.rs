//! `Mat<R, C, T>`: an owned matrix whose shape is part of its type.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, Index, IndexMut};

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::{Error, Scalar};

/// An owned `R × C` matrix of `f64` (or `f32`), backed by an [`ndarray::Array2`].
///
/// The shape is part of the type, so the typed operations ([`matmul`](Mat::matmul),
/// [`add_row`](Mat::add_row), …) only compile on operands that fit. Data from outside (a
/// `Vec`, an ndarray array) is checked once, when the matrix is built, and a wrong shape is an
/// [`Error`] that names the expected and the found shape.
///
/// ```
/// use gradgen::Mat;
///
/// let m = Mat::<2, 3>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!(m[(1, 0)], 4.0);
/// assert!(Mat::<2, 3>::from_vec(vec![1.0; 5]).is_err());
/// # Ok::<(), gradgen::Error>(())
/// ```
///
/// # What a differentiable function can use
///
/// The methods on this page are of two kinds:
///
/// - **Differentiable operations**, the ones the table below lists: a `#[differentiable]`
///   function may use them, and each one's documentation states its gradient. The operators
///   `+ - * /` (of two matrices of the same shape, or of a matrix and a scalar) and unary `-`
///   are differentiable too.
/// - **Everything else** (building a matrix, reading it back, [`cast`](Mat::cast),
///   [`argmax_rows`](Mat::argmax_rows)) is ordinary runtime code and says that it is not
///   differentiable. Using one of them in a `#[differentiable]` function is a compile error that
///   names the operations it could use.
///
/// The generated backward passes also call kernels of `Mat` that are public only so that
/// code generated in your crate can reach them: the in-place variants (`into_exp`), the
/// backward kernels (`exp_backward`, `cross_entropy_backward`), value and gradient fused
/// (`cross_entropy_and_backward`) and in-place accumulations (`add_mean_backward`). They are
/// hidden from this page and are not a stable API; a backward function's own documentation and
/// `cargo expand` show where each is called.
///
#[doc = include_str!("ops/table.md")]
#[derive(Clone, PartialEq)]
pub struct Mat<const R: usize, const C: usize, T: Scalar = f64> {
    // Invariant: `data.dim() == (R, C)`. Nothing hands out an `&mut Array2`, which could
    // replace it with an array of another shape.
    data: Array2<T>,
}

/// Building a matrix and reading it back. These are not differentiable operations: a
/// `#[differentiable]` function receives its matrices as parameters.
impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// Number of rows.
    pub const ROWS: usize = R;
    /// Number of columns.
    pub const COLS: usize = C;

    /// Wraps an array whose shape the caller has established. Private: the ops use it.
    pub(crate) fn from_array_unchecked(data: Array2<T>) -> Self {
        debug_assert_eq!(data.dim(), (R, C));
        Mat { data }
    }

    /// The matrix of zeros.
    #[must_use]
    pub fn zeros() -> Self {
        Self::full(T::zero())
    }

    /// The matrix whose every entry is `value`.
    #[must_use]
    pub fn full(value: T) -> Self {
        Mat::from_array_unchecked(Array2::from_elem((R, C), value))
    }

    /// The matrix whose entry `(i, j)` is `f(i, j)`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let eye = Mat::<3, 3>::from_fn(|i, j| if i == j { 1.0 } else { 0.0 });
    /// assert_eq!(eye.sum(), 3.0);
    /// ```
    #[must_use]
    pub fn from_fn(mut f: impl FnMut(usize, usize) -> T) -> Self {
        Mat::from_array_unchecked(Array2::from_shape_fn((R, C), |(i, j)| f(i, j)))
    }

    /// The matrix with these rows; the shape is checked by the type.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let m = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let _: &Mat<2, 3> = &m;
    /// ```
    #[must_use]
    pub fn from_rows(rows: [[T; C]; R]) -> Self {
        Self::from_fn(|i, j| rows[i][j])
    }

    /// Builds the matrix from `R · C` values in row-major order.
    ///
    /// # Errors
    /// [`Error::Len`] when `values.len() != R · C`.
    pub fn from_vec(values: Vec<T>) -> Result<Self, Error> {
        if values.len() != R * C {
            return Err(Error::Len {
                expected: (R, C),
                found: values.len(),
            });
        }
        Array2::from_shape_vec((R, C), values)
            .map(Mat::from_array_unchecked)
            .map_err(|_| Error::Len {
                expected: (R, C),
                found: R * C,
            })
    }

    /// Builds the matrix from nested rows, checking that there are `R` rows of `C` values each.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong number of rows, [`Error::RowLen`] for a row of the wrong
    /// length.
    pub fn from_nested<Row: AsRef<[T]>>(rows: &[Row]) -> Result<Self, Error> {
        if rows.len() != R {
            let found_cols = rows.first().map_or(0, |r| r.as_ref().len());
            return Err(Error::Shape {
                expected: (R, C),
                found: (rows.len(), found_cols),
            });
        }
        for (row, values) in rows.iter().enumerate() {
            if values.as_ref().len() != C {
                return Err(Error::RowLen {
                    row,
                    expected: C,
                    found: values.as_ref().len(),
                });
            }
        }
        Ok(Self::from_fn(|i, j| rows[i].as_ref()[j]))
    }

    /// Takes ownership of an ndarray array without copying it, checking its shape.
    ///
    /// # Errors
    /// [`Error::Shape`] when the array is not `R × C`.
    pub fn from_array(data: Array2<T>) -> Result<Self, Error> {
        if data.dim() == (R, C) {
            Ok(Mat::from_array_unchecked(data))
        } else {
            Err(Error::Shape {
                expected: (R, C),
                found: data.dim(),
            })
        }
    }

    /// The underlying array, without copying.
    #[must_use]
    pub fn as_array(&self) -> &Array2<T> {
        &self.data
    }

    /// A read-only view of the entries.
    #[must_use]
    pub fn view(&self) -> ArrayView2<'_, T> {
        self.data.view()
    }

    /// A mutable view of the entries (the shape cannot change through it).
    pub fn view_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.data.view_mut()
    }

    /// The underlying array, without copying.
    #[must_use]
    pub fn into_array(self) -> Array2<T> {
        self.data
    }

    /// The entries in row-major order (copied).
    #[must_use]
    pub fn to_vec(&self) -> Vec<T> {
        self.data.iter().copied().collect()
    }

    /// The same matrix with every entry converted to the element type `U`: `f32 → f64` is
    /// exact, `f64 → f32` rounds to the nearest `f32` (a value beyond `f32`'s range becomes
    /// ±∞, and `NaN` stays `NaN`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let x = Mat::from_rows([[0.1f32, -2.5]]);
    /// let wide: Mat<1, 2, f64> = x.cast();
    /// assert_eq!(wide[(0, 0)], f64::from(0.1f32)); // exactly the f32 value, not 0.1
    /// assert_eq!(wide.cast::<f32>(), x); // and back, losslessly
    /// assert_eq!(Mat::from_rows([[0.1f64]]).cast::<f32>()[(0, 0)], 0.1f32); // rounded
    /// ```
    #[must_use]
    pub fn cast<U: Scalar>(&self) -> Mat<R, C, U> {
        Mat::from_array_unchecked(self.data.mapv(|v| U::from_f64(v.to_f64())))
    }
}

/// Row-major access to the entries, for the fused passes that `#[differentiable]` generates:
/// `x[i][j]` is entry `(i, j)`, and every index that the pass writes as a loop bound is checked
/// by the type, not at run time. Not part of the stable API.
impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The entries as `R` rows of `C`, borrowed, or copied once into row-major order when the
    /// matrix is stored otherwise (after [`into_t`](Mat::into_t), or from a column-major array).
    #[doc(hidden)]
    #[must_use]
    pub fn entries(&self) -> Entries<'_, R, C, T> {
        Entries {
            flat: match self.data.as_slice() {
                Some(flat) => Cow::Borrowed(flat),
                None => Cow::Owned(self.data.iter().copied().collect()),
            },
        }
    }

    /// The entries as `R` mutable rows of `C`; a matrix stored otherwise than row-major is
    /// rewritten in row-major order first.
    #[doc(hidden)]
    pub fn entries_mut(&mut self) -> &mut [[T; C]; R] {
        if !self.data.is_standard_layout() {
            self.data = self.data.as_standard_layout().into_owned();
        }
        let flat = self
            .data
            .as_slice_mut()
            .expect("a standard-layout array is one slice");
        assert_eq!(flat.len(), R * C, "a Mat<R, C> holds R × C entries");
        // SAFETY: `[[T; C]; R]` is laid out as `R * C` consecutive `T`s, which `flat` is, and
        // the borrow of `self` outlives the result.
        unsafe { &mut *flat.as_mut_ptr().cast::<[[T; C]; R]>() }
    }
}

/// A matrix's entries as `R` rows of `C` (see [`Mat::entries`]).
#[doc(hidden)]
pub struct Entries<'a, const R: usize, const C: usize, T: Clone> {
    flat: Cow<'a, [T]>,
}

impl<const R: usize, const C: usize, T: Clone> Deref for Entries<'_, R, C, T> {
    type Target = [[T; C]; R];
    fn deref(&self) -> &[[T; C]; R] {
        let flat: &[T] = &self.flat;
        assert_eq!(flat.len(), R * C, "a Mat<R, C> holds R × C entries");
        // SAFETY: as in `Mat::entries_mut`.
        unsafe { &*flat.as_ptr().cast::<[[T; C]; R]>() }
    }
}

impl<const R: usize, const C: usize, T: Scalar> Default for Mat<R, C, T> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<const R: usize, const C: usize, T: Scalar> TryFrom<Array2<T>> for Mat<R, C, T> {
    type Error = Error;
    fn try_from(data: Array2<T>) -> Result<Self, Error> {
        Mat::from_array(data)
    }
}

impl<const R: usize, const C: usize, T: Scalar> From<Mat<R, C, T>> for Array2<T> {
    fn from(m: Mat<R, C, T>) -> Array2<T> {
        m.data
    }
}

impl<const R: usize, const C: usize, T: Scalar> Index<(usize, usize)> for Mat<R, C, T> {
    type Output = T;
    /// # Panics
    /// When the index is out of bounds, like any Rust indexing.
    fn index(&self, index: (usize, usize)) -> &T {
        &self.data[index]
    }
}

impl<const R: usize, const C: usize, T: Scalar> IndexMut<(usize, usize)> for Mat<R, C, T> {
    fn index_mut(&mut self, index: (usize, usize)) -> &mut T {
        &mut self.data[index]
    }
}

impl<const R: usize, const C: usize, T: Scalar> fmt::Debug for Mat<R, C, T> {
    /// `Mat<2 × 3, f64> [[1, 2, 3], [4, 5, 6]]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mat<{R} × {C}, {}> ", T::NAME)?;
        let rows: Vec<Vec<T>> = self.data.rows().into_iter().map(|r| r.to_vec()).collect();
        f.debug_list().entries(rows.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_from_runtime_data_are_checked() {
        let err = Mat::<2, 3>::from_array(Array2::zeros((3, 2))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shape mismatch: expected a 2 × 3 matrix, found 3 × 2"
        );
        let err = Mat::<2, 3>::from_vec(vec![0.0; 7]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "length mismatch: a 2 × 3 matrix needs 6 values, found 7"
        );
        let err = Mat::<2, 2, f32>::from_nested(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row length mismatch: row 1 has 1 values, expected 2"
        );
        let err = Mat::<2, 2>::from_nested(&[[1.0, 2.0]]).unwrap_err();
        assert_eq!(
            err,
            Error::Shape {
                expected: (2, 2),
                found: (1, 2)
            }
        );
    }

    #[test]
    fn conversions_keep_the_data_in_place() {
        let a = Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f64);
        let ptr = a.as_ptr();
        let m = Mat::<2, 3>::try_from(a).unwrap();
        assert_eq!(m.as_array().as_ptr(), ptr);
        assert_eq!(m[(1, 2)], 12.0);
        let back = m.into_array();
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn debug_prints_the_shape() {
        let m = Mat::from_rows([[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        assert_eq!(
            format!("{m:?}"),
            "Mat<3 × 2, f32> [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]"
        );
    }
}
