//! Both cores. Large matrix products (faer's, shared among rayon's threads) give the same bits
//! whatever the number of threads: threads split the result, each entry's sum is computed by
//! one thread in one order. The fused passes follow rayon's pool too. A test chooses the pool
//! in-process (`ThreadPool::install`), as a user can.

use gradgen::prelude::*;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// A hash of the bits of large products (above the size from which they are shared among
/// threads), in the forms a backward pass uses: new, transposed on either side, and added
/// into an existing gradient; and of a large matrix-vector product, which gradgen keeps on one
/// thread (faer would cut its inner dimension between threads). With the `blas` feature the
/// products are OpenBLAS's, which rayon's pools do not govern: the test then checks only that
/// they give the same bits on every call.
fn product_bits() -> u64 {
    let a = Mat::<256, 784, f32>::from_fn(|i, j| ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.5);
    let b = Mat::<784, 256, f32>::from_fn(|i, j| ((i * 13 + j * 7) % 89) as f32 / 89.0 - 0.5);
    let p = a.matmul(&b);
    let mut acc = Mat::<784, 256, f32>::from_fn(|i, j| ((i + j) % 5) as f32);
    acc.add_t_matmul_assign(&a, &p);
    let tall = Mat::<8192, 1024, f32>::from_fn(|i, j| ((i * 7 + j * 3) % 83) as f32 / 83.0 - 0.5);
    let column = Mat::<8192, 1, f32>::from_fn(|i, _| ((i * 5) % 71) as f32 / 71.0 - 0.5);
    let mut hash = 0u64;
    for m in [
        p.as_array(),
        a.t_matmul(&p).as_array(),
        p.matmul_t(&b).as_array(),
        acc.as_array(),
        tall.t_matmul(&column).as_array(),
    ] {
        for v in m {
            hash = hash
                .wrapping_mul(1_000_003)
                .wrapping_add(u64::from(v.to_bits()));
        }
    }
    hash
}

#[test]
fn products_give_the_same_bits_on_one_two_and_three_threads() {
    let one = pool(1).install(product_bits);
    for threads in [2, 3] {
        assert_eq!(
            pool(threads).install(product_bits),
            one,
            "{threads} threads"
        );
    }
}

/// The fused passes of a backward (batch norm, above `gradgen::fused::THREADED_ENTRIES`) share
/// their rows among rayon's threads: the same bits twice on any one number of threads, and,
/// across 1, 2 and 3 threads, the same gradients within 1e-5 relative (the per-thread sums are
/// added in another order).
#[test]
fn fused_passes_are_deterministic_and_agree_across_thread_counts() {
    use crate::workloads::batchnorm_loss_backward;
    let x = Mat::<512, 384, f32>::from_fn(|i, j| ((i * 31 + j * 17) % 97) as f32 / 24.0 - 2.0);
    let gamma = Mat::<1, 384, f32>::from_fn(|_, j| 0.5 + (j % 7) as f32 / 7.0);
    let beta = Mat::<1, 384, f32>::from_fn(|_, j| (j % 5) as f32 / 5.0 - 0.4);
    let g = Mat::<512, 384, f32>::from_fn(|i, j| ((i * 13 + j * 7) % 89) as f32 / 89.0 - 0.5);
    const { assert!(512 * 384 >= gradgen::fused::THREADED_ENTRIES) };
    let on = |threads: usize| {
        pool(threads).install(|| batchnorm_loss_backward(&x, &gamma, &beta, &g, 1e-5, 1.0))
    };
    let one = on(1);
    let bits = |m: &Mat<512, 384, f32>| m.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for threads in [1, 2, 3] {
        let (a, b) = (on(threads), on(threads));
        assert_eq!(a.value.to_bits(), b.value.to_bits(), "{threads} threads");
        assert_eq!(bits(&a.x), bits(&b.x), "{threads} threads");
        assert_eq!(a.gamma.to_vec(), b.gamma.to_vec(), "{threads} threads");
        let close = |p: f32, q: f32, scale: f32| (p - q).abs() <= 1e-5 * scale;
        // The value is a sum of N·D terms of either sign: its rounding scales with Σ |terms|,
        // about N·D/4 here (|out| about 1, |g| 1/4 on average).
        let terms = 512.0 * 384.0 / 4.0;
        assert!(
            close(a.value, one.value, terms),
            "{threads} threads: {} against {}",
            a.value,
            one.value
        );
        for (p, q) in [(&a.gamma, &one.gamma), (&a.beta, &one.beta)] {
            let scale = q.to_vec().iter().fold(1.0f32, |m, v| m.max(v.abs()));
            assert!(p
                .to_vec()
                .iter()
                .zip(q.to_vec())
                .all(|(p, q)| close(*p, q, scale)));
        }
        let scale = one.x.to_vec().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(a
            .x
            .to_vec()
            .iter()
            .zip(one.x.to_vec())
            .all(|(p, q)| close(*p, q, scale)));
    }
}
