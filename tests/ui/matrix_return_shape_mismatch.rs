use gradgen::prelude::*;

#[differentiable]
fn layer<const N: usize, const D: usize, const H: usize>(x: &Mat<N, D>, w: &Mat<D, H>) -> Mat<N, H> {
    let h = x.matmul(w);
    h.row_sums()
}

fn main() {}
