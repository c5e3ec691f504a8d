use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, flag: bool) -> f64 {
    let s = if flag { x.sum() };
    s
}

fn main() {}
