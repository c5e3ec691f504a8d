//! `cargo bench -p gradgen-bench --bench elementwise`: is an entrywise pass worth splitting
//! between threads, and from what size? ndarray's `Zip::for_each` against its rayon
//! `par_for_each`, for a cheap pass (`x + y`, what most of batch norm's passes are) and a
//! dearer one (`√(x / y)`), f32, on matrices from an Elman step's 64 × 128 to a large batch's
//! 4096 × 784. Each pass writes over `x` in place, so nothing is allocated in the timing.

use criterion::Criterion;
use ndarray::{Array2, Zip};

const SHAPES: [(usize, usize); 5] = [(64, 128), (256, 256), (512, 512), (1024, 512), (4096, 784)];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (r, k) in SHAPES {
        #[allow(clippy::cast_precision_loss)]
        let y = Array2::<f32>::from_shape_fn((r, k), |(i, j)| (i * j % 7) as f32 * 1e-3 + 1.0);
        let mut x = Array2::<f32>::from_elem((r, k), 1.0);
        let mut g = c.benchmark_group(format!("elementwise_{r}x{k}"));
        g.bench_function("add", |b| {
            b.iter(|| Zip::from(&mut x).and(&y).for_each(|x, &y| *x += y));
        });
        g.bench_function("add_parallel", |b| {
            b.iter(|| Zip::from(&mut x).and(&y).par_for_each(|x, &y| *x += y));
        });
        g.bench_function("div_sqrt", |b| {
            b.iter(|| {
                Zip::from(&mut x)
                    .and(&y)
                    .for_each(|x, &y| *x = (*x / y).sqrt())
            });
        });
        g.bench_function("div_sqrt_parallel", |b| {
            b.iter(|| {
                Zip::from(&mut x)
                    .and(&y)
                    .par_for_each(|x, &y| *x = (*x / y).sqrt())
            });
        });
        g.finish();
    }
    c.final_summary();
}
