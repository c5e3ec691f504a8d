use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const C: usize>(x: &Mat<N, C>) -> f64 {
    let mut total = 0.0;
    for row in x {
        total = total + row.sum();
    }
    total
}

fn main() {}
