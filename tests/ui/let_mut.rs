use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(x: &Mat<N, C>) -> f64 {
    let mut e = x.exp();
    e = e.ln();
    e.sum()
}

fn main() {}
