use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(xs: Vec<Mat<N, D>>) -> f64 {
    let mut total = 0.0;
    for x in xs {
        total = total + x.sum();
    }
    total
}

fn main() {}
