//! The matrix products use both cores (matrixmultiply's `threading`), and give the same bits
//! whatever the number of threads: each thread computes whole blocks of the result, each
//! entry's sum in the same order. `MATMUL_NUM_THREADS` is read once per process, so the test
//! runs this binary again under 1 and 2 threads and compares what it prints.

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
