use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(h: &Mat<N, C>, b: &Mat<N, 1>) -> f64 {
    let score = h.add_row(b);
    score.sum()
}

fn main() {}
