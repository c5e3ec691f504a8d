use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, steps: usize) -> f64 {
    (x * steps).sum()
}

fn main() {}
