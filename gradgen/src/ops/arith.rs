//! Arithmetic operators: elementwise `+ - * /` between matrices of the same shape (owned or
//! borrowed, in any combination), `+ - * /` with a scalar on either side, unary `-`, and the
//! compound assignments.
//!
//! An owned operand's buffer is reused for the result, so `a + &b` with `a` owned allocates
//! nothing. Gradients: for `out = a + b`, `d_a = d_b = d_out`; for `out = a - b`, `d_a = d_out`,
//! `d_b = −d_out`; for `out = a * b` (entrywise), `d_a = d_out ∘ b`, `d_b = d_out ∘ a`; for
//! `out = a / b`, `d_a = d_out / b`, `d_b = −d_out ∘ a / b²`. A scalar operand `s` is broadcast
//! to every entry, so its gradient is the sum over them: for `out = a + s`, `d_s = d_out.sum()`;
//! for `out = a * s`, `d_a = d_out * s` and `d_s = d_out.inner(&a)`.

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::{Mat, Scalar};

macro_rules! elementwise {
    ($Op:ident, $op:ident, $OpAssign:ident, $op_assign:ident, $sym:tt) => {
        impl<const R: usize, const C: usize, T: Scalar> $Op<Mat<R, C, T>> for Mat<R, C, T> {
            type Output = Mat<R, C, T>;
            fn $op(mut self, rhs: Mat<R, C, T>) -> Mat<R, C, T> {
                self.$op_assign(&rhs);
                self
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<&Mat<R, C, T>> for Mat<R, C, T> {
            type Output = Mat<R, C, T>;
            fn $op(mut self, rhs: &Mat<R, C, T>) -> Mat<R, C, T> {
                self.$op_assign(rhs);
                self
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<Mat<R, C, T>> for &Mat<R, C, T> {
            type Output = Mat<R, C, T>;
            fn $op(self, mut rhs: Mat<R, C, T>) -> Mat<R, C, T> {
                rhs.view_mut()
                    .zip_mut_with(self.as_array(), |r, &l| *r = l $sym *r);
                rhs
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<&Mat<R, C, T>> for &Mat<R, C, T> {
            type Output = Mat<R, C, T>;
            fn $op(self, rhs: &Mat<R, C, T>) -> Mat<R, C, T> {
                Mat::from_array_unchecked(self.as_array() $sym rhs.as_array())
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $OpAssign<&Mat<R, C, T>> for Mat<R, C, T> {
            fn $op_assign(&mut self, rhs: &Mat<R, C, T>) {
                self.view_mut().zip_mut_with(rhs.as_array(), |l, &r| *l = *l $sym r);
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $OpAssign<Mat<R, C, T>> for Mat<R, C, T> {
            fn $op_assign(&mut self, rhs: Mat<R, C, T>) {
                self.$op_assign(&rhs);
            }
        }
    };
}

elementwise!(Add, add, AddAssign, add_assign, +);
elementwise!(Sub, sub, SubAssign, sub_assign, -);
elementwise!(Mul, mul, MulAssign, mul_assign, *);
elementwise!(Div, div, DivAssign, div_assign, /);

macro_rules! by_scalar {
    ($Op:ident, $op:ident, $OpAssign:ident, $op_assign:ident, $sym:tt) => {
        impl<const R: usize, const C: usize, T: Scalar> $OpAssign<T> for Mat<R, C, T> {
            fn $op_assign(&mut self, s: T) {
                self.view_mut().mapv_inplace(|v| v $sym s);
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<T> for Mat<R, C, T> {
            type Output = Mat<R, C, T>;
            fn $op(mut self, s: T) -> Mat<R, C, T> {
                self.$op_assign(s);
                self
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<T> for &Mat<R, C, T> {
            type Output = Mat<R, C, T>;
            fn $op(self, s: T) -> Mat<R, C, T> {
                Mat::from_array_unchecked(self.as_array().mapv(|v| v $sym s))
            }
        }
    };
}

by_scalar!(Add, add, AddAssign, add_assign, +);
by_scalar!(Sub, sub, SubAssign, sub_assign, -);
by_scalar!(Mul, mul, MulAssign, mul_assign, *);
by_scalar!(Div, div, DivAssign, div_assign, /);

// `2.0 * a`, `1.0 - a`, `1.0 / a`: the orphan rule allows a scalar on the left for each
// concrete scalar type only.
macro_rules! scalar_op_mat {
    ($t:ty, $Op:ident, $op:ident, $sym:tt) => {
        impl<const R: usize, const C: usize> $Op<Mat<R, C, $t>> for $t {
            type Output = Mat<R, C, $t>;
            fn $op(self, mut m: Mat<R, C, $t>) -> Mat<R, C, $t> {
                m.view_mut().mapv_inplace(|v| self $sym v);
                m
            }
        }

        impl<const R: usize, const C: usize> $Op<&Mat<R, C, $t>> for $t {
            type Output = Mat<R, C, $t>;
            fn $op(self, m: &Mat<R, C, $t>) -> Mat<R, C, $t> {
                Mat::from_fn(|i, j| self $sym m[(i, j)])
            }
        }
    };
}

macro_rules! scalar_ops_mat {
    ($($t:ty),*) => {$(
        scalar_op_mat!($t, Add, add, +);
        scalar_op_mat!($t, Sub, sub, -);
        scalar_op_mat!($t, Mul, mul, *);
        scalar_op_mat!($t, Div, div, /);
    )*};
}

scalar_ops_mat!(f32, f64);

impl<const R: usize, const C: usize, T: Scalar> Neg for Mat<R, C, T> {
    type Output = Mat<R, C, T>;
    fn neg(mut self) -> Mat<R, C, T> {
        self.view_mut().mapv_inplace(|v| -v);
        self
    }
}

impl<const R: usize, const C: usize, T: Scalar> Neg for &Mat<R, C, T> {
    type Output = Mat<R, C, T>;
    fn neg(self) -> Mat<R, C, T> {
        Mat::from_array_unchecked(self.as_array().mapv(|v| -v))
    }
}

#[cfg(test)]
mod tests {
    use crate::Mat;

    fn a() -> Mat<2, 3> {
        Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    }
    fn b() -> Mat<2, 3> {
        Mat::from_rows([[0.5, -1.0, 2.0], [1.0, 4.0, -3.0]])
    }

    #[test]
    fn every_owned_and_borrowed_combination_agrees() {
        let expect = Mat::from_fn(|i, j| a()[(i, j)] - b()[(i, j)]);
        assert_eq!(a() - b(), expect);
        assert_eq!(a() - &b(), expect);
        assert_eq!(&a() - b(), expect);
        assert_eq!(&a() - &b(), expect);
        let expect = Mat::from_fn(|i, j| a()[(i, j)] / b()[(i, j)]);
        assert_eq!(a() / b(), expect);
        assert_eq!(&a() / b(), expect);
        assert_eq!(a() / &b(), expect);
        assert_eq!(&a() / &b(), expect);
        let expect = Mat::from_fn(|i, j| a()[(i, j)] + b()[(i, j)]);
        assert_eq!(&a() + &b(), expect);
        let mut c = a();
        c += b();
        assert_eq!(c, expect);
    }

    #[test]
    fn scalar_on_either_side() {
        let expect = Mat::from_fn(|i, j| 2.0 * a()[(i, j)]);
        assert_eq!(a() * 2.0, expect);
        assert_eq!(&a() * 2.0, expect);
        assert_eq!(2.0 * a(), expect);
        assert_eq!(2.0 * &a(), expect);
        assert_eq!(-(&a()), a() * -1.0);
        assert_eq!(a() + 1.0, Mat::from_fn(|i, j| a()[(i, j)] + 1.0));
        assert_eq!(&a() - 1.0, Mat::from_fn(|i, j| a()[(i, j)] - 1.0));
        assert_eq!(1.0 - a(), Mat::from_fn(|i, j| 1.0 - a()[(i, j)]));
        assert_eq!(1.0 / &a(), Mat::from_fn(|i, j| 1.0 / a()[(i, j)]));
        assert_eq!(1.0 + &a(), a() + 1.0);
        let f: Mat<1, 2, f32> = 3.0f32 * Mat::full(2.0);
        assert_eq!(f, Mat::full(6.0));
    }
}
