use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(x: &Mat<N, C>) -> f64 {
    let s = x.row_sum();
    s.sum()
}

fn main() {}
