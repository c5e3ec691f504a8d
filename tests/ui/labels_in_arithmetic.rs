use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(score: &Mat<N, C>, y: &Labels<N, C>) -> f64 {
    let shifted = score + y;
    shifted.sum()
}

fn main() {}
