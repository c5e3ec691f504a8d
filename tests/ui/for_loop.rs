use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(x: &Mat<N, C>) -> f64 {
    let e = x.exp();
    for _ in 0..3 {}
    e.sum()
}

fn main() {}
