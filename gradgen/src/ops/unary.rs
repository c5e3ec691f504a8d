//! Elementwise functions.

use crate::{Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    /// `eᵃ` entrywise.
    ///
    /// Gradient of `out = exp(a)`: `d_a = d_out ∘ out` (the forward result is reused).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<2, 2>::zeros().exp(), Mat::full(1.0));
    /// ```
    #[must_use]
    pub fn exp(&self) -> Self {
        Mat::from_array_unchecked(self.as_array().mapv(num_traits::Float::exp))
    }

    /// Natural logarithm entrywise (`NaN` for negative entries, `-∞` for zero, as `f64::ln`).
    ///
    /// Gradient of `out = ln(a)`: `d_a = d_out / a`.
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<1, 3>::full(1.0).ln(), Mat::zeros());
    /// ```
    #[must_use]
    pub fn ln(&self) -> Self {
        Mat::from_array_unchecked(self.as_array().mapv(num_traits::Float::ln))
    }
}
