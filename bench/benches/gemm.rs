//! `cargo bench -p gradgen-bench --bench gemm`: the GEMM candidates for `Mat`'s products, on
//! the f32 shapes of the benchmark workloads' products (m × k × n: the large softmax's forward
//! and its two backward products, the two-layer net's, and an Elman RNN step's):
//!
//! - `faer_1`: faer's matrix multiply (`faer::linalg::matmul`), what `Mat` uses, on the calling
//!   thread;
//! - `faer_2`: the same on two rayon threads;
//! - `matrixmultiply`: ndarray's `general_mat_mul`, what `Mat` used before faer and what the
//!   hand-written references use. It runs on as many threads as `MATMUL_NUM_THREADS` says
//!   (the bench turns its `threading` feature on);
//! - `rows_2`: matrixmultiply on one thread per half of the result's rows, on two rayon
//!   threads; run it with `MATMUL_NUM_THREADS=1`;
//! - `gemm_1`: the `gemm` crate (faer's older kernels, AVX2 at most on stable Rust) on the
//!   calling thread;
//! - `gemm_2`: the same on two rayon threads.
//!
//! Each writes `a · b` over an existing `[m × n]` matrix (β = 0), so no allocation of the
//! result is timed. Run it twice, with `MATMUL_NUM_THREADS=1` and `=2`, to compare
//! matrixmultiply's threads too.

use std::hint::black_box;

use criterion::Criterion;
use gradgen::ndarray::linalg::general_mat_mul;
use gradgen::ndarray::Array2;

const SHAPES: [(usize, usize, usize); 10] = [
    (4096, 784, 10),
    (784, 4096, 10),
    (4096, 10, 784),
    (256, 784, 256),
    (784, 256, 256),
    (256, 256, 784),
    (64, 128, 128),
    (64, 32, 128),
    (128, 256, 256),
    (256, 256, 256),
];

fn gemm_into(
    a: &Array2<f32>,
    b: &Array2<f32>,
    c: &mut Array2<f32>,
    parallelism: gemm::Parallelism,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert!(b.nrows() == k && c.dim() == (m, n));
    // SAFETY: three standard-layout arrays of the shapes just checked, `c` borrowed mutably
    // and distinct from `a` and `b`; gemm does not read `c` (`read_dst` false).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            isize::try_from(n).expect("n fits"),
            false,
            a.as_ptr(),
            1,
            isize::try_from(k).expect("k fits"),
            b.as_ptr(),
            1,
            isize::try_from(n).expect("n fits"),
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

fn faer_into(a: &Array2<f32>, b: &Array2<f32>, c: &mut Array2<f32>, par: faer::Par) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let a = faer::MatRef::from_row_major_slice(a.as_slice().expect("standard layout"), m, k);
    let b = faer::MatRef::from_row_major_slice(b.as_slice().expect("standard layout"), k, n);
    let c = c.as_slice_mut().expect("standard layout");
    let c = faer::MatMut::from_row_major_slice_mut(c, m, n);
    faer::linalg::matmul::matmul(c, faer::Accum::Replace, a, b, 1.0, par);
    // What gradgen does after each faer product (gradgen/src/ops/product.rs): without it,
    // the SSE code that follows (criterion's own) runs many times slower.
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, checked just above.
        unsafe { std::arch::x86_64::_mm256_zeroupper() };
    }
}

/// A candidate's product agrees with matrixmultiply's to within f32 rounding.
fn agrees(name: &str, (m, k, n): (usize, usize, usize), out: &Array2<f32>, check: &Array2<f32>) {
    let err = out
        .iter()
        .zip(check)
        .fold(0.0_f32, |e, (x, y)| e.max((x - y).abs()));
    assert!(
        err < 1e-3,
        "{m}x{k}x{n}: {name} and matrixmultiply differ by {err}"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (m, k, n) in SHAPES {
        #[allow(clippy::cast_precision_loss)]
        let a = Array2::<f32>::from_shape_fn((m, k), |(i, j)| {
            ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5
        });
        #[allow(clippy::cast_precision_loss)]
        let b = Array2::<f32>::from_shape_fn((k, n), |(i, j)| {
            ((i * 5 + j * 2) % 13) as f32 / 13.0 - 0.5
        });
        let mut out = Array2::<f32>::zeros((m, n));
        let mut check = Array2::<f32>::zeros((m, n));
        general_mat_mul(1.0, &a, &b, 0.0, &mut check);
        gemm_into(&a, &b, &mut out, gemm::Parallelism::Rayon(2));
        agrees("gemm", (m, k, n), &out, &check);
        faer_into(&a, &b, &mut out, faer::Par::rayon(2));
        agrees("faer", (m, k, n), &out, &check);
        let mut g = c.benchmark_group(format!("gemm_{m}x{k}x{n}"));
        g.bench_function("faer_1", |bch| {
            bch.iter(|| faer_into(black_box(&a), &b, &mut out, faer::Par::Seq));
        });
        g.bench_function("faer_2", |bch| {
            bch.iter(|| faer_into(black_box(&a), &b, &mut out, faer::Par::rayon(2)));
        });
        g.bench_function("matrixmultiply", |bch| {
            bch.iter(|| general_mat_mul(1.0, black_box(&a), &b, 0.0, &mut out));
        });
        g.bench_function("rows_2", |bch| {
            bch.iter(|| {
                use gradgen::ndarray::parallel::prelude::*;
                use gradgen::ndarray::Axis;
                let half = m.div_ceil(2);
                let halves: Vec<_> = out
                    .axis_chunks_iter_mut(Axis(0), half)
                    .zip(black_box(&a).axis_chunks_iter(Axis(0), half))
                    .collect();
                halves
                    .into_par_iter()
                    .for_each(|(mut c, a)| general_mat_mul(1.0, &a, &b, 0.0, &mut c));
            });
        });
        g.bench_function("gemm_1", |bch| {
            bch.iter(|| gemm_into(black_box(&a), &b, &mut out, gemm::Parallelism::None));
        });
        g.bench_function("gemm_2", |bch| {
            bch.iter(|| gemm_into(black_box(&a), &b, &mut out, gemm::Parallelism::Rayon(2)));
        });
        g.finish();
    }
    c.final_summary();
}
