use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    x.sum() * N as usize
}

fn main() {}
