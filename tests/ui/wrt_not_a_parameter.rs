use gradgen::prelude::*;

#[differentiable(wrt(w, bias))]
fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<D, 1>) -> f64 {
    x.matmul(w).sum()
}

fn main() {}
