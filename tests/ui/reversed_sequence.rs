use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(xs: &[Mat<N, D>]) -> f64 {
    let mut total = 0.0;
    for x in xs.iter().rev() {
        total = total + x.sum();
    }
    total
}

fn main() {}
