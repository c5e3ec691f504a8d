use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let f = |m: &Mat<N, 3>| m.sum();
    f(x)
}

fn main() {}
