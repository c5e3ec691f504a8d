use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<D, 2>) -> f64 {
    x.matmul(w, w).sum()
}

fn main() {}
