use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let s = x.sum();
    s as f64 / N as f64
}

fn main() {}
