//! Both cores. The matrix products (matrixmultiply's `threading`) give the same bits whatever
//! the number of threads: each thread computes whole blocks of the result, each entry's sum in
//! the same order. `MATMUL_NUM_THREADS` is read once per process, so the test runs this binary
//! again under 1 and 2 threads and compares what it prints. The fused passes follow rayon's
//! pool, which a test can choose in-process.

use std::process::Command;

use gradgen::prelude::*;

const HELPER: &str = "threads::product_bits_when_asked";

/// Prints a hash of the bits of large products (large enough to be split between threads), in
/// the three forms a backward pass uses; only when the test below runs it.
#[test]
fn product_bits_when_asked() {
    if std::env::var_os("GRADGEN_PRODUCT_BITS").is_none() {
        return;
    }
    let a = Mat::<256, 784, f32>::from_fn(|i, j| ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.5);
    let b = Mat::<784, 256, f32>::from_fn(|i, j| ((i * 13 + j * 7) % 89) as f32 / 89.0 - 0.5);
    let p = a.matmul(&b);
    let mut hash = 0u64;
    for m in [
        p.as_array(),
        a.t_matmul(&p).as_array(),
        p.matmul_t(&b).as_array(),
    ] {
        for v in m {
            hash = hash
                .wrapping_mul(1_000_003)
                .wrapping_add(u64::from(v.to_bits()));
        }
    }
    println!("bits {hash:016x}");
}

fn bits(threads: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([HELPER, "--exact", "--nocapture", "--test-threads", "1"])
        .env("GRADGEN_PRODUCT_BITS", "1")
        .env("MATMUL_NUM_THREADS", threads)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| Some(l.split("bits ").nth(1)?.get(..16)?.to_owned()))
        .unwrap_or_else(|| panic!("no bits printed under {threads} threads:\n{stdout}"))
}

#[test]
fn products_give_the_same_bits_on_one_thread_and_on_two() {
    assert_eq!(bits("1"), bits("2"));
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
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| batchnorm_loss_backward(&x, &gamma, &beta, &g, 1e-5, 1.0))
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
