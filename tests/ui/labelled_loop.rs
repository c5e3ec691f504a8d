use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(xs: &[Mat<N, D>]) -> f64 {
    let mut a = 0.0;
    'steps: for x in xs {
        a = a + x.sum();
    }
    a
}

fn main() {}
