use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let s = if x.sum() > 0.0 { x.sum() } else { x.mean() };
    s
}

fn main() {}
