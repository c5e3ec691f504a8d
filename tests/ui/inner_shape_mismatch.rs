use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(a: &Mat<N, C>, b: &Mat<C, N>) -> f64 {
    let s = a.inner(b);
    s * 2.0
}

fn main() {}
