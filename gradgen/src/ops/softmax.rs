//! Softmax by rows, its logarithm, and the fused cross-entropy. All subtract each row's maximum
//! before exponentiating, so logits of any size give finite values.

use crate::{Labels, Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// `log Σⱼ exp(aᵢⱼ)` of each row, computed as `m + log Σⱼ exp(aᵢⱼ − m)` with `m` the row max.
    fn log_sum_exp(&self, i: usize) -> T {
        let m = (0..C).fold(T::neg_infinity(), |m, j| m.max(self[(i, j)]));
        if m.is_infinite() {
            return m;
        }
        m + (0..C)
            .fold(T::zero(), |s, j| s + (self[(i, j)] - m).exp())
            .ln()
    }

    /// Softmax of each row: `exp(aᵢⱼ) / Σₖ exp(aᵢₖ)`, [R × C] → [R × C], each row summing to 1.
    ///
    /// Gradient of `out = a.softmax_rows()`: `d_a = out ∘ (d_out − (d_out ∘ out).row_sums())`
    /// (`softmax_rows_backward`, called on `out`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let p = Mat::from_rows([[1000.0, 1000.0], [0.0, f64::ln(3.0)]]).softmax_rows();
    /// assert_eq!(p[(0, 0)], 0.5);
    /// assert!((p[(1, 1)] - 0.75).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn softmax_rows(&self) -> Self {
        self.clone().into_softmax_rows()
    }

    /// [`softmax_rows`](Mat::softmax_rows) in this matrix's own buffer, without allocating.
    #[must_use]
    #[doc(hidden)]
    pub fn into_softmax_rows(mut self) -> Self {
        for mut row in self.view_mut().rows_mut() {
            let m = row.fold(T::neg_infinity(), |m, &v| m.max(v));
            row.mapv_inplace(|v| (v - m).exp());
            let total = row.sum();
            row.mapv_inplace(|v| v / total);
        }
        self
    }

    /// The gradient of [`softmax_rows`](Mat::softmax_rows)'s input, with `self` its output.
    #[must_use]
    #[doc(hidden)]
    pub fn softmax_rows_backward(&self, mut d_out: Self) -> Self {
        for i in 0..R {
            let dot = (0..C).fold(T::zero(), |s, j| s + d_out[(i, j)] * self[(i, j)]);
            for j in 0..C {
                d_out[(i, j)] = self[(i, j)] * (d_out[(i, j)] - dot);
            }
        }
        d_out
    }

    /// The logarithm of the softmax of each row: `aᵢⱼ − log Σₖ exp(aᵢₖ)`, computed stably.
    ///
    /// Gradient of `out = a.log_softmax_rows()`: `d_a = d_out − exp(out) ∘ d_out.row_sums()`
    /// (`log_softmax_rows_backward`, called on `out`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let l = Mat::from_rows([[1000.0, -1000.0]]).log_softmax_rows();
    /// assert_eq!(l, Mat::from_rows([[0.0, -2000.0]]));
    /// ```
    #[must_use]
    pub fn log_softmax_rows(&self) -> Self {
        self.clone().into_log_softmax_rows()
    }

    /// [`log_softmax_rows`](Mat::log_softmax_rows) in this matrix's own buffer, without
    /// allocating.
    #[must_use]
    #[doc(hidden)]
    pub fn into_log_softmax_rows(mut self) -> Self {
        for i in 0..R {
            let lse = self.log_sum_exp(i);
            for j in 0..C {
                self[(i, j)] -= lse;
            }
        }
        self
    }

    /// The gradient of [`log_softmax_rows`](Mat::log_softmax_rows)'s input, with `self` its
    /// output.
    #[must_use]
    #[doc(hidden)]
    pub fn log_softmax_rows_backward(&self, mut d_out: Self) -> Self {
        for i in 0..R {
            let total = (0..C).fold(T::zero(), |s, j| s + d_out[(i, j)]);
            for j in 0..C {
                d_out[(i, j)] -= self[(i, j)].exp() * total;
            }
        }
        d_out
    }

    /// The mean cross-entropy of the rows' softmax at the labels:
    /// `mean over labelled i of −log softmax(a)[i, yᵢ]`, a scalar, computed stably.
    ///
    /// The mean is over the `n` labelled rows ([`Labels::labelled`]): an ignored (padding) row
    /// does not count, so a padded batch has the loss of its real rows. With no labelled row
    /// the loss is 0 (not NaN) and so is its gradient.
    ///
    /// Gradient of `out = a.cross_entropy(y)`: `d_a = d_out · (softmax(a) − onehot(y)) / n` at
    /// labelled rows, 0 at ignored rows (`cross_entropy_backward`).
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let a = Mat::<2, 3>::zeros();
    /// let y = Labels::new(vec![0, 2])?;
    /// assert!((a.cross_entropy(&y) - f64::ln(3.0)).abs() < 1e-15);
    /// let padded = Labels::with_ignored(vec![Some(0), None])?;
    /// assert!((a.cross_entropy(&padded) - f64::ln(3.0)).abs() < 1e-15);
    /// assert_eq!(a.cross_entropy_backward(&padded, 1.0).as_array().row(1).sum(), 0.0);
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    pub fn cross_entropy(&self, labels: &Labels<R, C>) -> T {
        // Summed as `into_cross_entropy_and_backward` sums, so that the generated backward's
        // value is the forward's to the last bit.
        let total = labels.labelled_rows().fold(T::zero(), |s, (i, class)| {
            s + (self.log_sum_exp(i) - self[(i, class)])
        });
        per_labelled_row(total, labels)
    }

    /// The gradient of [`cross_entropy`](Mat::cross_entropy)'s input `self`:
    /// `d_out · (softmax(self) − onehot(labels)) / n` at labelled rows, 0 at ignored rows.
    #[must_use]
    #[doc(hidden)]
    pub fn cross_entropy_backward(&self, labels: &Labels<R, C>, d_out: T) -> Self {
        self.clone().into_cross_entropy_backward(labels, d_out)
    }

    /// `cross_entropy_backward` in the logits' own buffer: what
    /// the generated code calls when the logits are not needed afterwards.
    #[must_use]
    #[doc(hidden)]
    pub fn into_cross_entropy_backward(self, labels: &Labels<R, C>, d_out: T) -> Self {
        self.into_cross_entropy_and_backward(labels, d_out).1
    }
}

/// `total / n` for the `n` labelled rows of `labels`, and 0 when there are none.
fn per_labelled_row<const R: usize, const C: usize, T: Scalar>(
    total: T,
    labels: &Labels<R, C>,
) -> T {
    match labels.labelled() {
        0 => T::zero(),
        n => total / T::from_usize(n),
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// [`cross_entropy`](Mat::cross_entropy) and its
    /// backward together, exponentiating once: what the
    /// generated code calls when the cross-entropy is the function's value.
    ///
    /// ```
    /// use gradgen::{Labels, Mat};
    /// let a: Mat<2, 3> = Mat::from_rows([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]);
    /// let y = Labels::new(vec![1, 0])?;
    /// let (value, d) = a.cross_entropy_and_backward(&y, 2.0);
    /// assert!((value - a.cross_entropy(&y)).abs() < 1e-15);
    /// let separate = a.cross_entropy_backward(&y, 2.0);
    /// assert!(d.to_vec().iter().zip(separate.to_vec()).all(|(p, q)| (p - q).abs() < 1e-15));
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn cross_entropy_and_backward(&self, labels: &Labels<R, C>, d_out: T) -> (T, Self) {
        self.clone().into_cross_entropy_and_backward(labels, d_out)
    }

    /// `cross_entropy_and_backward` in the logits' own
    /// buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_cross_entropy_and_backward(mut self, labels: &Labels<R, C>, d_out: T) -> (T, Self) {
        let scale = per_labelled_row(d_out, labels);
        let mut total = T::zero();
        for (i, mut row) in self.view_mut().rows_mut().into_iter().enumerate() {
            let Some(label) = labels.get(i) else {
                row.fill(T::zero());
                continue;
            };
            let m = row.fold(T::neg_infinity(), |m, &v| m.max(v));
            let correct = row[label];
            row.mapv_inplace(|v| (v - m).exp());
            // In column order, as `log_sum_exp` sums: the forward's value to the last bit.
            let z = row.fold(T::zero(), |s, &v| s + v);
            total += (m + z.ln()) - correct;
            let factor = scale / z;
            row.mapv_inplace(|p| p * factor);
            row[label] -= scale;
        }
        (per_labelled_row(total, labels), self)
    }
}
