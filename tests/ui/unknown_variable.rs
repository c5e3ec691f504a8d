use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(x: &Mat<N, D>) -> f64 {
    let h = x.exp();
    hh.sum()
}

fn main() {}
