//! Matrix products and the transpose. The transposed products used by backward passes read a
//! transposed *view*: no matrix is copied to be transposed.

use ndarray::ArrayView2;

use super::product::{product, product_into};
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
        Mat::from_array_unchecked(product(self.view(), rhs.view()))
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
        Mat::from_array_unchecked(product(self.as_array().t(), rhs.view()))
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
        Mat::from_array_unchecked(product(self.view(), rhs.as_array().t()))
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

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// `self + a · b`: a matrix plus a product, `[R × C] + [R × K] · [K × C] = [R × C]`, in one
    /// pass over the result (BLAS's `gemm` with β = 1). gradgen folds `c + a.matmul(&b)` into
    /// it, so that `x.matmul(&wx) + h.matmul(&wh)` builds one matrix, not three.
    ///
    /// Gradient of `out = c.add_matmul(&a, &b)`: `d_c = d_out`, `d_a = d_out · bᵀ` and
    /// `d_b = aᵀ · d_out`, as for `c + a · b`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// let c = Mat::<2, 3>::from_fn(|i, j| (i + j) as f64);
    /// let a = Mat::<2, 4>::from_fn(|i, j| (i * j) as f64 - 1.0);
    /// let b = Mat::<4, 3>::from_fn(|i, j| 0.5 * (i + 2 * j) as f64);
    /// assert_eq!(c.add_matmul(&a, &b), &c + &a.matmul(&b));
    /// ```
    #[must_use]
    pub fn add_matmul<const K: usize>(&self, a: &Mat<R, K, T>, b: &Mat<K, C, T>) -> Self {
        self.clone().into_add_matmul(a, b)
    }

    /// [`add_matmul`](Mat::add_matmul) in the receiver's buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_add_matmul<const K: usize>(mut self, a: &Mat<R, K, T>, b: &Mat<K, C, T>) -> Self {
        self.add_matmul_assign(a, b);
        self
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// `self += a · b` when `add` is true; otherwise `self = a · b`, written over entries it
    /// does not read.
    fn set_product(&mut self, a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, add: bool) {
        product_into(a, b, add, self.view_mut());
    }
}

/// The products added into an existing matrix in place (BLAS's `gemm` with β = 1): how a
/// backward pass accumulates `d_w += xᵀ · g` over the steps of a loop, or over the uses of a
/// weight, without a temporary for each product.
impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// `self += a · b`, in place: [`matmul`](Mat::matmul) added into a gradient, and
    /// [`into_add_matmul`](Mat::into_add_matmul)'s work.
    #[doc(hidden)]
    pub fn add_matmul_assign<const K: usize>(&mut self, a: &Mat<R, K, T>, b: &Mat<K, C, T>) {
        self.set_product(a.view(), b.view(), true);
    }

    /// `self += aᵀ · b`, in place: [`t_matmul`](Mat::t_matmul) added into a gradient.
    #[doc(hidden)]
    pub fn add_t_matmul_assign<const K: usize>(&mut self, a: &Mat<K, R, T>, b: &Mat<K, C, T>) {
        self.set_product(a.as_array().t(), b.view(), true);
    }

    /// `self += a · bᵀ`, in place: [`matmul_t`](Mat::matmul_t) added into a gradient.
    #[doc(hidden)]
    pub fn add_matmul_t_assign<const K: usize>(&mut self, a: &Mat<R, K, T>, b: &Mat<C, K, T>) {
        self.set_product(a.view(), b.as_array().t(), true);
    }
}

/// The products written over a matrix that is no longer needed (BLAS's `gemm` with β = 0,
/// which does not read the old entries): how a backward pass reuses a dead buffer of the
/// right shape rather than allocating, as in a reverse loop's `d_h = h_2.into_matmul_t_of(&d,
/// wh)` over the step's dead state.
impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// `a · b`, in this matrix's buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_matmul_of<const K: usize>(mut self, a: &Mat<R, K, T>, b: &Mat<K, C, T>) -> Self {
        self.set_product(a.view(), b.view(), false);
        self
    }

    /// `aᵀ · b`, in this matrix's buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_t_matmul_of<const K: usize>(mut self, a: &Mat<K, R, T>, b: &Mat<K, C, T>) -> Self {
        self.set_product(a.as_array().t(), b.view(), false);
        self
    }

    /// `a · bᵀ`, in this matrix's buffer.
    #[must_use]
    #[doc(hidden)]
    pub fn into_matmul_t_of<const K: usize>(mut self, a: &Mat<R, K, T>, b: &Mat<C, K, T>) -> Self {
        self.set_product(a.view(), b.as_array().t(), false);
        self
    }
}

#[cfg(test)]
mod accumulate_tests {
    use crate::Mat;

    /// Each in-place product adds exactly the product its allocating form returns.
    #[test]
    fn the_in_place_products_add_what_the_products_return() {
        let a = Mat::<3, 4>::from_fn(|i, j| (i as f64) - 0.5 * (j as f64));
        let b = Mat::<4, 2>::from_fn(|i, j| 0.25 * (i * j) as f64 + 1.0);
        let start = Mat::<3, 2>::from_fn(|i, j| (i + 3 * j) as f64);
        let mut m = start.clone();
        m.add_matmul_assign(&a, &b);
        assert_eq!(m, &start + &a.matmul(&b));
        let at = a.t();
        let mut m = start.clone();
        m.add_t_matmul_assign(&at, &b);
        assert_eq!(m, &start + &at.t_matmul(&b));
        let bt = b.t();
        let mut m = start.clone();
        m.add_matmul_t_assign(&a, &bt);
        assert_eq!(m, &start + &a.matmul_t(&bt));
    }

    /// Each product written over a dead matrix is the product its allocating form returns,
    /// whatever the old entries were (even NaN: β = 0 does not read them).
    #[test]
    fn the_products_over_a_dead_buffer_ignore_its_entries() {
        let a = Mat::<3, 4>::from_fn(|i, j| (i as f64) - 0.5 * (j as f64));
        let b = Mat::<4, 2>::from_fn(|i, j| 0.25 * (i * j) as f64 + 1.0);
        let dead = || Mat::<3, 2>::full(f64::NAN);
        assert_eq!(dead().into_matmul_of(&a, &b), a.matmul(&b));
        let at = a.t();
        assert_eq!(dead().into_t_matmul_of(&at, &b), at.t_matmul(&b));
        let bt = b.t();
        assert_eq!(dead().into_matmul_t_of(&a, &bt), a.matmul_t(&bt));
    }
}
