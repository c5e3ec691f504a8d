//! Entrywise functions of one matrix: `exp`, `ln`, `sqrt`, `powi`, `square`, `tanh`, `sigmoid`,
//! `relu`, `abs`, and every other entrywise function of the op table.
//!
//! Each has three methods: the function (`tanh`), the same in the receiver's own buffer
//! (`into_tanh`), and its backward (`tanh_backward`), which takes the incoming gradient by value
//! and returns the gradient of the function's input in the same buffer. All three, with their
//! documentation, are generated from the op table's formulas (`gradgen-macros/src/table.rs`):
//! the scalar forward and derivative written there once are the code that runs here, the
//! derivation the macro writes and the README's row.

use crate::{Mat, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Mat<R, C, T> {
    // Each helper's loop is `vectorised!`: compiled for AVX-512 or AVX2 when the CPU has them,
    // so that a kernel of `gradgen::math` functions runs 8 or 16 entries at a time.

    fn map(&self, f: impl Fn(T) -> T) -> Self {
        Mat::from_array_unchecked(crate::math::vectorised!(self.as_array().mapv(&f)))
    }

    fn map_in_place(mut self, f: impl Fn(T) -> T) -> Self {
        let mut view = self.view_mut();
        crate::math::vectorised!(view.mapv_inplace(&f));
        self
    }

    /// `g ∘ f'`, in `g`'s buffer, where `f'` is computed from the entry of `self` at the same
    /// place.
    fn zip_into(&self, mut g: Self, f: impl Fn(T, T) -> T) -> Self {
        let mut view = g.view_mut();
        crate::math::vectorised!(view.zip_mut_with(self.as_array(), |g, &s| *g = f(*g, s)));
        g
    }

    /// `f(a, b)` entrywise, `self` being `a`.
    fn zip_with(&self, b: &Self, f: impl Fn(T, T) -> T) -> Self {
        let mut out = self.clone();
        let mut view = out.view_mut();
        crate::math::vectorised!(view.zip_mut_with(b.as_array(), |a, &b| *a = f(*a, b)));
        out
    }

    /// [`zip_with`](Mat::zip_with) in `self`'s buffer.
    fn into_zip_with(mut self, b: &Self, f: impl Fn(T, T) -> T) -> Self {
        self.view_mut()
            .zip_mut_with(b.as_array(), |a, &b| *a = f(*a, b));
        self
    }

    /// `f(g, a, b)` entrywise, in `g`'s buffer, `self` being `a`.
    fn zip2_into(&self, b: &Self, mut g: Self, f: impl Fn(T, T, T) -> T) -> Self {
        ndarray::Zip::from(g.view_mut())
            .and(self.as_array())
            .and(b.as_array())
            .for_each(|g, &a, &b| *g = f(*g, a, b));
        g
    }
}

gradgen_macros::__elementwise_kernels!();

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
