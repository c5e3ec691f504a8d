use gradgen::prelude::*;

#[differentiable]
fn layer<const N: usize, const D: usize>(x: &Mat<N, D>) -> Mat<N, D> {
    x.relu()
}

fn main() {}
