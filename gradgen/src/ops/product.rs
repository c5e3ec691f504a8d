//! Where every matrix product of a [`Mat`](crate::Mat) runs: faer's matrix multiply
//! (`faer::linalg::matmul`), pure Rust, with AVX-512 and AVX2 kernels chosen at run time.
//! On this project's benchmark shapes it takes about half the time of ndarray's matrixmultiply
//! on one thread (BENCHMARKS.md, "GEMM candidates").
//!
//! A product shares its work among rayon's threads (`RAYON_NUM_THREADS`, or the pool it is
//! called in) when it has at least `THREADED_WORK` multiply-adds and an inner dimension of at
//! least `THREADED_INNER`, and is not a matrix-vector product; a smaller one, or one with a
//! short inner dimension, runs faster on the calling thread. Threads split the result, never
//! the sum of an entry: the bits do not depend on the thread count.
//!
//! With the `blas` feature, products go to ndarray's `general_mat_mul` instead, which calls
//! the system's BLAS.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::Scalar;

/// The work (multiply-adds, `m·k·n`) from which a product is shared among rayon's threads.
/// Measured with `cargo bench -p gradgen-bench --bench gemm`, two threads against one: a
/// 64 × 128 × 128 product (2²⁰) takes 2.8 times as long, 128 × 256 × 256 (2²³) 0.94 times,
/// 256 × 256 × 256 0.82 times and 256 × 784 × 256 0.74 times.
#[cfg_attr(feature = "blas", allow(dead_code))]
pub(crate) const THREADED_WORK: usize = 1 << 23;

/// The inner dimension from which a product is shared among threads: below it, a product is
/// bound by writing its result, and two threads are slower than one (4096 × 10 × 784: 1.6×).
#[cfg_attr(feature = "blas", allow(dead_code))]
pub(crate) const THREADED_INNER: usize = 32;

/// `c = a · b`, or `c += a · b` when `add` is true.
pub(crate) fn product_into<T: Scalar>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    add: bool,
    mut c: ArrayViewMut2<'_, T>,
) {
    assert_shapes(&a, &b, c.dim());
    #[cfg(feature = "blas")]
    {
        let beta = if add { T::one() } else { T::zero() };
        ndarray::linalg::general_mat_mul(T::one(), &a, &b, beta, &mut c);
    }
    #[cfg(not(feature = "blas"))]
    {
        let strides = (c.strides()[0], c.strides()[1]);
        // SAFETY: `c` is borrowed mutably for the call, so nothing else reads or writes its
        // entries, and it is distinct from `a` and `b`; the pointer and strides are its own.
        unsafe { faer_product(a, b, add, c.as_mut_ptr(), strides) };
    }
}

/// `a · b`, in a new matrix.
pub(crate) fn product<T: Scalar>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    #[cfg(feature = "blas")]
    {
        a.dot(&b)
    }
    #[cfg(not(feature = "blas"))]
    {
        let (m, n) = (a.nrows(), b.ncols());
        assert_shapes(&a, &b, (m, n));
        let mut c = Array2::<T>::uninit((m, n));
        let strides = (c.strides()[0], c.strides()[1]);
        // SAFETY: `c` is a new standard-layout `[m × n]` array, written and never read by a
        // product that does not add (faer's `Accum::Replace`: "the preexisting values are not
        // read"), and borrowed by nothing else.
        unsafe {
            faer_product(a, b, false, c.as_mut_ptr().cast::<T>(), strides);
            c.assume_init()
        }
    }
}

/// The shapes of a product agree: `[m × k] · [k × n]` into `[m × n]`. The `Mat` types make
/// this true of every call; the check keeps a wrong stride from ever reaching faer.
fn assert_shapes<T>(a: &ArrayView2<'_, T>, b: &ArrayView2<'_, T>, c: (usize, usize)) {
    assert!(
        a.ncols() == b.nrows() && c == (a.nrows(), b.ncols()),
        "a product of [{} × {}] and [{} × {}] into [{} × {}]",
        a.nrows(),
        a.ncols(),
        b.nrows(),
        b.ncols(),
        c.0,
        c.1
    );
}

/// Whether a product of this shape is shared among rayon's threads. Never a product into a
/// single row or column: faer shares a matrix-vector product by cutting the inner dimension,
/// each thread summing a part, so its bits would depend on the thread count.
#[must_use]
#[cfg_attr(feature = "blas", allow(dead_code))]
pub(crate) fn threaded(m: usize, k: usize, n: usize) -> bool {
    m > 1 && n > 1 && k >= THREADED_INNER && m.saturating_mul(k).saturating_mul(n) >= THREADED_WORK
}

/// `c = a · b` (or `c += a · b`) through faer, into the `[a.nrows() × b.ncols()]` matrix at
/// `c` with the given (row, column) strides.
///
/// # Safety
/// `c` and its strides address a matrix of that shape inside one allocation, which nothing
/// else reads or writes during the call, and whose entries are initialised if `add` is true.
#[cfg(not(feature = "blas"))]
unsafe fn faer_product<T: Scalar>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    add: bool,
    c: *mut T,
    (c_rows, c_cols): (isize, isize),
) {
    use faer::{Accum, MatMut, MatRef, Par};
    let ((m, k), n) = (a.dim(), b.ncols());
    let (sa, sb) = (a.strides(), b.strides());
    // SAFETY: `a` and `b` are live views for the call, read through their own pointers and
    // strides; `c` is the caller's promise.
    let (a, b, c) = unsafe {
        (
            MatRef::from_raw_parts(a.as_ptr(), m, k, sa[0], sa[1]),
            MatRef::from_raw_parts(b.as_ptr(), k, n, sb[0], sb[1]),
            MatMut::from_raw_parts_mut(c, m, n, c_rows, c_cols),
        )
    };
    let accum = if add { Accum::Add } else { Accum::Replace };
    let threads = rayon::current_num_threads();
    if threads > 1 && threaded(m, k, n) {
        faer::linalg::matmul::matmul(c, accum, a, b, T::one(), Par::rayon(threads));
        // The threads that helped clean up when they next look for work. Waiting for them
        // (`broadcast`) cost 15–20 µs a product here, 5% of the large softmax's backward.
        rayon::spawn_broadcast(|_| clean_vector_registers());
    } else {
        faer::linalg::matmul::matmul(c, accum, a, b, T::one(), Par::Seq);
    }
    clean_vector_registers();
}

/// Clears the upper halves of the vector registers of the calling thread (`vzeroupper`).
///
/// faer's x86 kernels return with them in use. Until something clears them, every SSE
/// instruction the thread runs afterwards pays a transition penalty: a cross-entropy over
/// 256 × 10 scores (2,560 `expf`) took 340 µs after one faer product instead of 10 µs
/// (measured on this machine's AVX-512 CPU; BENCHMARKS.md, "GEMM candidates"). Code compiled
/// for AVX does this on its own at every return; faer's kernels do not.
#[cfg(not(feature = "blas"))]
fn clean_vector_registers() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, checked just above. `vzeroupper` clears only bits 128 and
        // up of the vector registers, which no calling convention keeps across a call.
        unsafe { std::arch::x86_64::_mm256_zeroupper() };
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ArrayView2, ShapeBuilder};

    use super::{product, product_into, threaded};
    use crate::Scalar;

    /// `Σ_k a[i, k] · b[k, j]` in f64, one entry at a time, and `Σ_k |a[i, k] · b[k, j]|`, the
    /// scale of its rounding error.
    fn naive<T: Scalar>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> (Array2<f64>, Array2<f64>) {
        let shape = (a.nrows(), b.ncols());
        let sum = |(i, j): (usize, usize), f: fn(f64) -> f64| {
            (0..a.ncols())
                .map(|k| f(Scalar::to_f64(a[(i, k)]) * Scalar::to_f64(b[(k, j)])))
                .sum::<f64>()
        };
        (
            Array2::from_shape_fn(shape, |ij| sum(ij, |v| v)),
            Array2::from_shape_fn(shape, |ij| sum(ij, f64::abs)),
        )
    }

    fn close<T: Scalar>(got: ArrayView2<'_, T>, want: &Array2<f64>, scale: &Array2<f64>, tol: f64) {
        assert_eq!(got.dim(), want.dim());
        for ((g, w), s) in got.iter().zip(want).zip(scale) {
            assert!(
                (Scalar::to_f64(*g) - w).abs() <= tol * s.max(1.0),
                "{} against {w} (scale {s})",
                Scalar::to_f64(*g)
            );
        }
    }

    /// `[m × k] · [k × n]` in every layout the backward passes use (each side row-major or
    /// read through a transpose), new and added into an existing matrix, against the naive
    /// sum.
    fn check<T: Scalar>(m: usize, k: usize, n: usize, tol: f64) {
        let value = |seed: usize| {
            move |(i, j): (usize, usize)| {
                <T as Scalar>::from_f64(((i * 31 + j * 17 + seed) % 23) as f64 / 23.0 - 0.5)
            }
        };
        let a = Array2::from_shape_fn((m, k), value(1));
        let b = Array2::from_shape_fn((k, n), value(2));
        let a_t = Array2::from_shape_fn((m, k).f(), value(1));
        let b_t = Array2::from_shape_fn((k, n).f(), value(2));
        let start = Array2::from_shape_fn((m, n), value(3));
        let (want, scale) = naive(a.view(), b.view());
        for (a, b) in [
            (a.view(), b.view()),
            (a_t.view(), b.view()),
            (a.view(), b_t.view()),
            (a_t.view(), b_t.view()),
        ] {
            close(product(a, b).view(), &want, &scale, tol);
            let mut c = Array2::from_elem((m, n), T::nan());
            product_into(a, b, false, c.view_mut());
            close(c.view(), &want, &scale, tol);
            let mut c = start.clone();
            product_into(a, b, true, c.view_mut());
            let added = &want + &start.mapv(<T as Scalar>::to_f64);
            close(c.view(), &added, &(&scale + 1.0), tol);
        }
    }

    #[test]
    fn products_match_the_naive_sum_in_every_layout() {
        // Matrix-vector products both ways, a rank-one update, an empty inner dimension.
        for (m, k, n) in [
            (3, 4, 2),
            (1, 7, 5),
            (6, 7, 1),
            (5, 1, 4),
            (17, 40, 33),
            (2, 0, 3),
        ] {
            check::<f64>(m, k, n, 1e-14);
            check::<f32>(m, k, n, 1e-6);
        }
        // Shared among the threads of a pool of two.
        assert!(threaded(320, 96, 288));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a thread pool");
        pool.install(|| {
            check::<f64>(320, 96, 288, 1e-14);
            check::<f32>(320, 96, 288, 1e-6);
        });
    }

    #[test]
    fn only_large_products_with_a_long_inner_dimension_are_threaded() {
        assert!(threaded(256, 784, 256));
        assert!(threaded(784, 4096, 10));
        assert!(!threaded(64, 128, 128));
        assert!(!threaded(4096, 10, 784));
        assert!(!threaded(1, 1 << 12, 1 << 12));
        assert!(!threaded(1 << 12, 1 << 12, 1));
        assert!(threaded(usize::MAX, 64, usize::MAX));
    }
}
