use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, s: f64) -> f64 {
    s = x.sum();
    s
}

fn main() {}
