//! Picking one entry per row by label, and its backward, the scatter.

use crate::{Labels, Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// Entry `i` is `self[(i, labels[i])]`: `[R × C] → [R × 1]` (the score of the correct class).
    ///
    /// Gradient of `out = a.pick(y)`: `d_a` is zero except `d_a[(i, y[i])] = d_out[i]`
    /// ([`scatter`](Mat::scatter), or [`scatter_add`](Mat::scatter_add) into an existing
    /// gradient).
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let y = Labels::<2, 3>::new(vec![2, 0])?;
    /// assert_eq!(a.pick(&y), Mat::from_rows([[3.0], [4.0]]));
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    pub fn pick(&self, labels: &Labels<R, C>) -> Mat<R, 1, T> {
        Mat::from_fn(|i, _| self[(i, labels[i])])
    }

    /// The backward of [`pick`](Mat::pick): zeros, except `values[i]` at `(i, labels[i])`.
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let y = Labels::<2, 3>::new(vec![2, 0])?;
    /// let d = Mat::<2, 3>::scatter(&y, &Mat::from_rows([[1.0], [2.0]]));
    /// assert_eq!(d, Mat::from_rows([[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]));
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    pub fn scatter(labels: &Labels<R, C>, values: &Mat<R, 1, T>) -> Self {
        let mut out = Self::zeros();
        out.scatter_add(labels, values);
        out
    }

    /// Adds `values[i]` to entry `(i, labels[i])`, in place: the backward of
    /// [`pick`](Mat::pick) accumulated into an existing gradient.
    pub fn scatter_add(&mut self, labels: &Labels<R, C>, values: &Mat<R, 1, T>) {
        for (i, class) in labels.iter().enumerate() {
            self[(i, class)] += values[(i, 0)];
        }
    }
}
