use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(xs: &[Mat<N, D>]) -> f64 {
    xs.sum()
}

fn main() {}
