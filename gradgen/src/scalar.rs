//! The element types a [`Mat`](crate::Mat) can hold: `f32` and `f64`.

use ndarray::NdFloat;

/// A floating-point element type of a [`Mat`](crate::Mat): implemented for `f32` and `f64`.
///
/// Sealed: the generated code and the finite-difference checker rely on exactly these two.
/// [`math::Kernels`](crate::math::Kernels) supplies the vectorisable `exp`, `ln`, `tanh` and
/// `sigmoid` of [`gradgen::math`](crate::math) for either.
pub trait Scalar: NdFloat + num_traits::Float + crate::math::Kernels + sealed::Sealed {
    /// The name printed by `Debug` and in error messages (`"f64"`).
    const NAME: &'static str;
    /// The step that [`check`](crate::check) uses for central differences by default.
    const FD_STEP: Self;
    /// Converts a count (the number of entries averaged by `mean`) to this type.
    fn from_usize(n: usize) -> Self;
    /// Widens to `f64`, for reports.
    fn to_f64(self) -> f64;
    /// Narrows from `f64` (exact for `f64`, rounding for `f32`).
    fn from_f64(v: f64) -> Self;

    /// An integer as this type, rounded to the nearest value: what `N as T` means in a
    /// `#[differentiable]` function generic over `T` (Rust cannot cast to a type parameter, so
    /// the macro writes this instead).
    ///
    /// ```
    /// use gradgen::Scalar;
    /// assert_eq!(<f32 as Scalar>::cast_from(3usize), 3.0);
    /// assert_eq!(<f64 as Scalar>::cast_from(-2i32), -2.0);
    /// ```
    fn cast_from<I: num_traits::ToPrimitive>(value: I) -> Self {
        value.to_f64().map_or_else(Self::nan, Self::from_f64)
    }
}

mod sealed {
    /// Also what faer's matrix multiply needs of an element type (`ops/product.rs`).
    pub trait Sealed:
        faer::traits::ComplexField + faer::traits::Conjugate<Canonical = Self>
    {
    }
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    const FD_STEP: f32 = 1e-2;
    #[allow(clippy::cast_precision_loss)]
    fn from_usize(n: usize) -> f32 {
        n as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[allow(clippy::cast_possible_truncation)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    const FD_STEP: f64 = 1e-5;
    #[allow(clippy::cast_precision_loss)]
    fn from_usize(n: usize) -> f64 {
        n as f64
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
}
