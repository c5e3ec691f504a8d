use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, K>) -> f64 {
    x.sum()
}

fn main() {}
