use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>) -> f64 {
    let h: Mat<N, D> = x.matmul(w);
    h.sum()
}

fn main() {}
