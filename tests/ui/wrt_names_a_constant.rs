use gradgen::prelude::*;

#[differentiable(wrt(score, y))]
fn loss<const N: usize, const C: usize>(score: &Mat<N, C>, y: &Labels<N, C>) -> f64 {
    score.cross_entropy(y)
}

fn main() {}
