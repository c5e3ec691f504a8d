use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let lo = -x.mean();
    x.clamp(lo, 1.0).sum()
}

fn main() {}
