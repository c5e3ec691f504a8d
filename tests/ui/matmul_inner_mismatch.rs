use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<C, D>) -> f64 {
    let h = x.matmul(w);
    h.sum()
}

fn main() {}
