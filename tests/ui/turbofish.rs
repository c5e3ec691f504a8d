use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, w: &Mat<3, 2>) -> f64 {
    x.matmul::<2>(w).sum()
}

fn main() {}
