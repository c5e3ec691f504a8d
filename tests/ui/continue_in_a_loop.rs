use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const H: usize>(xs: &[Mat<N, H>], w: &Mat<H, H>) -> f64 {
    let mut total = 0.0;
    for x in xs {
        if true {
            continue;
        }
        total = total + x.matmul(w).sum();
    }
    total
}

fn main() {}
