use gradgen::prelude::*;

type M<const R: usize, const C: usize> = Mat<R, C, f32>;

#[differentiable]
fn loss<const N: usize, const D: usize>(x: &M<N, D>) -> f32 {
    x.sum()
}

fn main() {}
