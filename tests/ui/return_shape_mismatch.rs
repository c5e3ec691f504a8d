use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(score: &Mat<N, C>) -> f64 {
    let rowsum = score.exp().row_sums();
    rowsum.ln()
}

fn main() {}
