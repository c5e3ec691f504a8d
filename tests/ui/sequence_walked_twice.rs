use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(xs: &[Mat<N, D>]) -> f64 {
    let mut a = 0.0;
    for x in xs {
        a = a + x.sum();
    }
    let mut b = 0.0;
    for x in xs {
        b = b + x.mean();
    }
    a * b
}

fn main() {}
