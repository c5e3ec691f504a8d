//! Elementwise functions. Each `*_backward` takes the incoming gradient by value and returns the
//! gradient of the function's input in the same buffer.

use num_traits::Float;

use crate::{Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    fn map(&self, f: impl Fn(T) -> T) -> Self {
        Mat::from_array_unchecked(self.as_array().mapv(f))
    }

    fn map_in_place(mut self, f: impl Fn(T) -> T) -> Self {
        self.view_mut().mapv_inplace(f);
        self
    }

    /// `g ∘ f'`, in `g`'s buffer, where `f'` is computed from the entry of `self` at the same
    /// place.
    fn zip_into(&self, mut g: Self, f: impl Fn(T, T) -> T) -> Self {
        g.view_mut()
            .zip_mut_with(self.as_array(), |g, &s| *g = f(*g, s));
        g
    }

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
        self.map(Float::exp)
    }

    /// [`exp`](Mat::exp) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_exp(self) -> Self {
        self.map_in_place(Float::exp)
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
        self.map(Float::ln)
    }

    /// [`ln`](Mat::ln) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_ln(self) -> Self {
        self.map_in_place(Float::ln)
    }

    /// Square root entrywise.
    ///
    /// Gradient of `out = sqrt(a)`: `d_a = d_out / (2·out)` ([`sqrt_backward`](Mat::sqrt_backward),
    /// called on `out`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<1, 2>::full(9.0).sqrt(), Mat::full(3.0));
    /// ```
    #[must_use]
    pub fn sqrt(&self) -> Self {
        self.map(Float::sqrt)
    }

    /// [`sqrt`](Mat::sqrt) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_sqrt(self) -> Self {
        self.map_in_place(Float::sqrt)
    }

    /// The gradient of [`sqrt`](Mat::sqrt)'s input, with `self` its output: `d_out / (2·self)`.
    #[must_use]
    pub fn sqrt_backward(&self, d_out: Self) -> Self {
        let two = T::from_usize(2);
        self.zip_into(d_out, |g, out| g / (two * out))
    }

    /// `aⁿ` entrywise, for an integer `n`.
    ///
    /// Gradient of `out = a.powi(n)`: `d_a = d_out ∘ n·aⁿ⁻¹` ([`powi_backward`](Mat::powi_backward)).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<1, 2>::full(2.0).powi(3), Mat::full(8.0));
    /// ```
    #[must_use]
    pub fn powi(&self, n: i32) -> Self {
        self.map(|v| v.powi(n))
    }

    /// [`powi`](Mat::powi) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_powi(self, n: i32) -> Self {
        self.map_in_place(|v| v.powi(n))
    }

    /// The gradient of [`powi`](Mat::powi)'s input `self`: `d_out ∘ n·selfⁿ⁻¹`.
    #[must_use]
    pub fn powi_backward(&self, n: i32, d_out: Self) -> Self {
        let factor = T::from_f64(f64::from(n));
        self.zip_into(d_out, |g, a| g * factor * a.powi(n - 1))
    }

    /// `a²` entrywise.
    ///
    /// Gradient of `out = a.square()`: `d_a = 2·d_out ∘ a` ([`square_backward`](Mat::square_backward)).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<1, 2>::full(-3.0).square(), Mat::full(9.0));
    /// ```
    #[must_use]
    pub fn square(&self) -> Self {
        self.map(|v| v * v)
    }

    /// [`square`](Mat::square) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_square(self) -> Self {
        self.map_in_place(|v| v * v)
    }

    /// The gradient of [`square`](Mat::square)'s input `self`: `2·d_out ∘ self`.
    #[must_use]
    pub fn square_backward(&self, d_out: Self) -> Self {
        let two = T::from_usize(2);
        self.zip_into(d_out, |g, a| two * g * a)
    }

    /// Hyperbolic tangent entrywise.
    ///
    /// Gradient of `out = a.tanh()`: `d_a = d_out ∘ (1 − out²)` ([`tanh_backward`](Mat::tanh_backward),
    /// called on `out`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<1, 2>::zeros().tanh(), Mat::zeros());
    /// ```
    #[must_use]
    pub fn tanh(&self) -> Self {
        self.map(Float::tanh)
    }

    /// [`tanh`](Mat::tanh) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_tanh(self) -> Self {
        self.map_in_place(Float::tanh)
    }

    /// The gradient of [`tanh`](Mat::tanh)'s input, with `self` its output: `d_out ∘ (1 − self²)`.
    #[must_use]
    pub fn tanh_backward(&self, d_out: Self) -> Self {
        self.zip_into(d_out, |g, out| g * (T::one() - out * out))
    }

    /// The logistic function `1 / (1 + e⁻ᵃ)` entrywise, computed without overflow for large
    /// `|a|`.
    ///
    /// Gradient of `out = a.sigmoid()`: `d_a = d_out ∘ out ∘ (1 − out)`
    /// ([`sigmoid_backward`](Mat::sigmoid_backward), called on `out`).
    ///
    /// ```
    /// use gradgen::Mat;
    /// assert_eq!(Mat::<1, 2>::zeros().sigmoid(), Mat::full(0.5));
    /// assert_eq!(Mat::<1, 1>::full(-1000.0).sigmoid()[(0, 0)], 0.0);
    /// ```
    #[must_use]
    pub fn sigmoid(&self) -> Self {
        self.map(sigmoid)
    }

    /// [`sigmoid`](Mat::sigmoid) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_sigmoid(self) -> Self {
        self.map_in_place(sigmoid)
    }

    /// The gradient of [`sigmoid`](Mat::sigmoid)'s input, with `self` its output:
    /// `d_out ∘ self ∘ (1 − self)`.
    #[must_use]
    pub fn sigmoid_backward(&self, d_out: Self) -> Self {
        self.zip_into(d_out, |g, out| g * out * (T::one() - out))
    }

    /// `max(a, 0)` entrywise.
    ///
    /// Gradient of `out = a.relu()`: `d_a = d_out` where `a > 0`, and 0 where `a ≤ 0`: at the kink
    /// `a = 0` the gradient is 0 ([`relu_backward`](Mat::relu_backward), called on `out`, which is
    /// positive exactly where `a` is).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[-1.0, 0.0, 2.0]]);
    /// assert_eq!(a.relu(), Mat::from_rows([[0.0, 0.0, 2.0]]));
    /// assert_eq!(a.relu().relu_backward(Mat::full(1.0)), Mat::from_rows([[0.0, 0.0, 1.0]]));
    /// ```
    #[must_use]
    pub fn relu(&self) -> Self {
        self.map(relu)
    }

    /// [`relu`](Mat::relu) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_relu(self) -> Self {
        self.map_in_place(relu)
    }

    /// The gradient of [`relu`](Mat::relu)'s input, with `self` its output: `d_out` where
    /// `self > 0`, 0 elsewhere (including the kink).
    #[must_use]
    pub fn relu_backward(&self, d_out: Self) -> Self {
        self.zip_into(d_out, |g, out| if out > T::zero() { g } else { T::zero() })
    }

    /// `|a|` entrywise.
    ///
    /// Gradient of `out = a.abs()`: `d_a = d_out ∘ sign(a)`, with 0 at the kink `a = 0`
    /// ([`abs_backward`](Mat::abs_backward)).
    ///
    /// ```
    /// use gradgen::Mat;
    /// let a = Mat::from_rows([[-2.0, 0.0, 3.0]]);
    /// assert_eq!(a.abs(), Mat::from_rows([[2.0, 0.0, 3.0]]));
    /// assert_eq!(a.abs_backward(Mat::full(1.0)), Mat::from_rows([[-1.0, 0.0, 1.0]]));
    /// ```
    #[must_use]
    pub fn abs(&self) -> Self {
        self.map(Float::abs)
    }

    /// [`abs`](Mat::abs) in this matrix's own buffer, without allocating: what the
    /// generated code calls on a temporary that is dead afterwards.
    #[must_use]
    pub fn into_abs(self) -> Self {
        self.map_in_place(Float::abs)
    }

    /// The gradient of [`abs`](Mat::abs)'s input `self`: `d_out ∘ sign(self)`, 0 where
    /// `self = 0`.
    #[must_use]
    pub fn abs_backward(&self, d_out: Self) -> Self {
        self.zip_into(d_out, |g, a| {
            if a > T::zero() {
                g
            } else if a < T::zero() {
                -g
            } else {
                T::zero()
            }
        })
    }
}

/// The logistic function, without overflow for large `|v|`.
fn sigmoid<T: Scalar>(v: T) -> T {
    if v >= T::zero() {
        T::one() / (T::one() + (-v).exp())
    } else {
        let e = v.exp();
        e / (T::one() + e)
    }
}

fn relu<T: Scalar>(v: T) -> T {
    if v > T::zero() {
        v
    } else {
        T::zero()
    }
}

#[cfg(test)]
mod tests {
    use crate::Mat;

    #[test]
    fn in_place_variants_equal_the_allocating_ones() {
        let a = Mat::from_rows([[-1.5, -0.2, 0.0, 0.3, 2.0], [0.7, -3.0, 1.1, 0.05, -0.6]]);
        let p = a.abs() + 0.1;
        assert_eq!(a.clone().into_exp(), a.exp());
        assert_eq!(p.clone().into_ln(), p.ln());
        assert_eq!(p.clone().into_sqrt(), p.sqrt());
        assert_eq!(a.clone().into_powi(3), a.powi(3));
        assert_eq!(a.clone().into_square(), a.square());
        assert_eq!(a.clone().into_tanh(), a.tanh());
        assert_eq!(a.clone().into_sigmoid(), a.sigmoid());
        assert_eq!(a.clone().into_relu(), a.relu());
        assert_eq!(a.clone().into_abs(), a.abs());
        assert_eq!(a.clone().into_softmax_rows(), a.softmax_rows());
        assert_eq!(a.clone().into_log_softmax_rows(), a.log_softmax_rows());
        assert_eq!(a.clone().into_t(), a.t());
    }
}
