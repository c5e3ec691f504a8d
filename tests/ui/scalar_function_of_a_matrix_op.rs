use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let s = x.sum();
    f64::sigmoid(s)
}

fn main() {}
