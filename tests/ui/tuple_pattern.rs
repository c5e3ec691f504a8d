use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let (a, b) = (x.sum(), x.mean());
    a + b
}

fn main() {}
