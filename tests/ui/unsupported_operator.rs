use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, y: &Mat<N, 3>) -> f64 {
    (x % y).sum()
}

fn main() {}
