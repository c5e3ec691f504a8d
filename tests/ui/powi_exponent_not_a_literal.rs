use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, n: f64) -> f64 {
    x.powi(n).sum()
}

fn main() {}
