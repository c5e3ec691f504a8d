use gradgen::prelude::*;

fn split(x: f64) -> (f64, f64) {
    (x, -x)
}

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let (a, b) = split(x.sum());
    a * b
}

fn main() {}
