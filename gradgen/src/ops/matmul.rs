//! Matrix products and the transpose. The transposed products used by backward passes read a
//! transposed *view*: no matrix is copied to be transposed.

use crate::{Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// The matrix product `self · rhs`: `[R × C] · [C × K] = [R × K]`.
    ///
    /// Gradient of `out = a · b`: `d_a = d_out · bᵀ` ([`matmul_t`](Mat::matmul_t)) and
    /// `d_b = aᵀ · d_out` ([`t_matmul`](Mat::t_matmul)).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0]]);
    /// let b = Mat::from_rows([[1.0], [1.0], [2.0]]);
    /// assert_eq!(a.matmul(&b)[(0, 0)], 9.0);
    /// ```
    #[must_use]
    pub fn matmul<const K: usize>(&self, rhs: &Mat<C, K, T>) -> Mat<R, K, T> {
        Mat::from_array_unchecked(self.as_array().dot(rhs.as_array()))
    }

    /// `selfᵀ · rhs`: `[R × C]ᵀ · [R × K] = [C × K]`, reading `self` through a transposed view.
    ///
    /// Gradient of `out = aᵀ · b`: `d_a = b · d_outᵀ` ([`matmul_t`](Mat::matmul_t)) and
    /// `d_b = a · d_out`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::<3, 2>::from_fn(|i, j| (i + 2 * j) as f64);
    /// let b = Mat::<3, 4>::from_fn(|i, j| (i * j) as f64 - 1.0);
    /// assert_eq!(a.t_matmul(&b), a.t().matmul(&b));
    /// ```
    #[must_use]
    pub fn t_matmul<const K: usize>(&self, rhs: &Mat<R, K, T>) -> Mat<C, K, T> {
        Mat::from_array_unchecked(self.as_array().t().dot(rhs.as_array()))
    }

    /// `self · rhsᵀ`: `[R × C] · [K × C]ᵀ = [R × K]`, reading `rhs` through a transposed view.
    ///
    /// Gradient of `out = a · bᵀ`: `d_a = d_out · b` and `d_b = d_outᵀ · a`
    /// ([`t_matmul`](Mat::t_matmul)).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::<2, 3>::from_fn(|i, j| (i + 2 * j) as f64);
    /// let b = Mat::<4, 3>::from_fn(|i, j| (i * j) as f64 - 1.0);
    /// assert_eq!(a.matmul_t(&b), a.matmul(&b.t()));
    /// ```
    #[must_use]
    pub fn matmul_t<const K: usize>(&self, rhs: &Mat<K, C, T>) -> Mat<R, K, T> {
        Mat::from_array_unchecked(self.as_array().dot(&rhs.as_array().t()))
    }

    /// The transpose, `[R × C] → [C × R]`, as a copy. (In a backward pass, gradgen reads a
    /// transposed view instead, through [`t_matmul`](Mat::t_matmul) and
    /// [`matmul_t`](Mat::matmul_t).)
    ///
    /// Gradient of `out = aᵀ`: `d_a = d_outᵀ`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0]]);
    /// assert_eq!(a.t(), Mat::from_rows([[1.0], [2.0], [3.0]]));
    /// ```
    #[must_use]
    pub fn t(&self) -> Mat<C, R, T> {
        Mat::from_array_unchecked(self.as_array().t().to_owned())
    }

    /// The transpose of an owned matrix, without copying: the same buffer, read column-major.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::<2, 3>::from_fn(|i, j| (3 * i + j) as f64);
    /// assert_eq!(a.clone().into_t(), a.t());
    /// ```
    #[must_use]
    #[doc(hidden)]
    pub fn into_t(self) -> Mat<C, R, T> {
        Mat::from_array_unchecked(self.into_array().reversed_axes())
    }
}
