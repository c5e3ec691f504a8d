use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(score: &Mat<N, C>, y: &Labels<C, N>) -> f64 {
    score.pick(y).mean()
}

fn main() {}
