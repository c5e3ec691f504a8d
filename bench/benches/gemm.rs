//! `cargo bench -p gradgen-bench --bench gemm`: the GEMM candidates for `Mat`'s products, on
//! the f32 shapes of the benchmark workloads' products (m × k × n: the large softmax's forward
//! and its two backward products, the two-layer net's, and an Elman RNN step's):
//!
//! - `matrixmultiply`: ndarray's `general_mat_mul`, what `Mat` uses today. It runs on as many
//!   threads as `MATMUL_NUM_THREADS` says (gradgen turns its `threading` feature on);
//! - `rows_2`: matrixmultiply on one thread per half of the result's rows, on two rayon threads
//!   (what `Mat` could do instead of matrixmultiply's own threads, so that `RAYON_NUM_THREADS`
//!   alone set every thread count); run it with `MATMUL_NUM_THREADS=1`;
//! - `gemm_1`: the `gemm` crate (faer's kernels) on the calling thread;
//! - `gemm_2`: the same on two rayon threads.
//!
//! Each writes `a · b` over an existing `[m × n]` matrix (β = 0), so no allocation of the
//! result is timed. Run it twice, with `MATMUL_NUM_THREADS=1` and `=2`, to compare all four.

use std::hint::black_box;

use criterion::Criterion;
use gradgen::ndarray::linalg::general_mat_mul;
use gradgen::ndarray::Array2;

const SHAPES: [(usize, usize, usize); 8] = [
    (4096, 784, 10),
    (784, 4096, 10),
    (4096, 10, 784),
    (256, 784, 256),
    (784, 256, 256),
    (256, 256, 784),
    (64, 128, 128),
    (64, 32, 128),
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
        let err = out
            .iter()
            .zip(&check)
            .fold(0.0_f32, |e, (x, y)| e.max((x - y).abs()));
        assert!(
            err < 1e-3,
            "{m}x{k}x{n}: gemm and matrixmultiply differ by {err}"
        );
        let mut g = c.benchmark_group(format!("gemm_{m}x{k}x{n}"));
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
