use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(a: &Mat<N, C>, b: &Mat<C, N>) -> f64 {
    let d = a - b;
    d.mean()
}

fn main() {}
