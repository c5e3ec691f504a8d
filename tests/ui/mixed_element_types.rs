use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(a: &Mat<N, 3>, b: &Mat<N, 3, f32>) -> f64 {
    a.sum()
}

fn main() {}
