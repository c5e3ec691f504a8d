//! Picking one entry per row by label, and its backward, the scatter; the mean over the
//! labelled rows that a picked column is averaged with.

use crate::{Labels, Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// Entry `i` is `self[(i, labels[i])]`: `[R × C] → [R × 1]` (the score of the correct class),
    /// and 0 at a row whose label is ignored.
    ///
    /// Gradient of `out = a.pick(y)`: `d_a` is zero except `d_a[(i, y[i])] = d_out[i]`
    /// (`scatter`, or `scatter_add` into an existing
    /// gradient); an ignored row gets no gradient.
    ///
    /// On a batch that may hold ignored (padding) rows, average the picked column with
    /// [`labelled_mean`](Mat::labelled_mean), not [`mean`](Mat::mean), which would count them.
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let y = Labels::<2, 3>::new(vec![2, 0])?;
    /// assert_eq!(a.pick(&y), Mat::from_rows([[3.0], [4.0]]));
    /// let padded = Labels::<2, 3>::with_ignored(vec![Some(1), None])?;
    /// assert_eq!(a.pick(&padded), Mat::from_rows([[2.0], [0.0]]));
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    pub fn pick(&self, labels: &Labels<R, C>) -> Mat<R, 1, T> {
        Mat::from_fn(|i, _| labels.get(i).map_or(T::zero(), |class| self[(i, class)]))
    }

    /// The backward of [`pick`](Mat::pick): zeros, except `values[i]` at `(i, labels[i])` for
    /// every labelled row.
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let y = Labels::<2, 3>::new(vec![2, 0])?;
    /// let d = Mat::<2, 3>::scatter(&y, &Mat::from_rows([[1.0], [2.0]]));
    /// assert_eq!(d, Mat::from_rows([[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]));
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn scatter(labels: &Labels<R, C>, values: &Mat<R, 1, T>) -> Self {
        let mut out = Self::zeros();
        out.scatter_add(labels, values);
        out
    }

    /// Adds `values[i]` to entry `(i, labels[i])`, in place: the backward of
    /// [`pick`](Mat::pick) accumulated into an existing gradient. Ignored rows are skipped.
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let y = Labels::<2, 2>::with_ignored(vec![None, Some(1)])?;
    /// let mut d = Mat::<2, 2>::full(1.0);
    /// d.scatter_add(&y, &Mat::from_rows([[5.0], [2.0]]));
    /// assert_eq!(d, Mat::from_rows([[1.0, 1.0], [1.0, 3.0]]));
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[doc(hidden)]
    pub fn scatter_add(&mut self, labels: &Labels<R, C>, values: &Mat<R, 1, T>) {
        for (i, class) in labels.labelled_rows() {
            self[(i, class)] += values[(i, 0)];
        }
    }
}

impl<const R: usize, T: Scalar> Mat<R, 1, T> {
    /// The mean over the labelled rows: `(Σ over labelled i of aᵢ) / n`, with `n` the number of
    /// labelled rows of `labels` ([`Labels::labelled`]); `[R × 1]` → scalar. Ignored rows do not
    /// count, whatever their value; when no row is labelled the mean is 0.
    ///
    /// This is the mean to take after [`pick`](Mat::pick) when a batch may be padded: on a
    /// fully labelled batch it equals [`mean`](Mat::mean).
    ///
    /// Gradient of `out = a.labelled_mean(y)`: `d_a[i] = d_out / n` at every labelled row and 0
    /// at ignored rows (0 everywhere when `n = 0`)
    /// (`labelled_mean_backward`).
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let losses = Mat::from_rows([[1.0], [3.0], [100.0]]);
    /// let y = Labels::<3, 2>::with_ignored(vec![Some(0), Some(1), None])?;
    /// assert_eq!(losses.labelled_mean(&y), 2.0);
    /// assert_eq!(
    ///     Mat::<3, 1>::labelled_mean_backward(&y, 1.0),
    ///     Mat::from_rows([[0.5], [0.5], [0.0]])
    /// );
    /// let none = Labels::<3, 2>::with_ignored(vec![None; 3])?;
    /// assert_eq!(losses.labelled_mean(&none), 0.0);
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    pub fn labelled_mean<const C: usize>(&self, labels: &Labels<R, C>) -> T {
        let total = labels
            .labelled_rows()
            .fold(T::zero(), |s, (i, _)| s + self[(i, 0)]);
        match labels.labelled() {
            0 => T::zero(),
            n => total / T::from_usize(n),
        }
    }

    /// The gradient of [`labelled_mean`](Mat::labelled_mean) with respect to its `[R × 1]`
    /// operand: `d_out / n` at the labelled rows, 0 at the ignored ones.
    #[must_use]
    #[doc(hidden)]
    pub fn labelled_mean_backward<const C: usize>(labels: &Labels<R, C>, d_out: T) -> Self {
        let mut d = Self::zeros();
        if labels.labelled() > 0 {
            let share = d_out / T::from_usize(labels.labelled());
            for (i, _) in labels.labelled_rows() {
                d[(i, 0)] = share;
            }
        }
        d
    }
}
