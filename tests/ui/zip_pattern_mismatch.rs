use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(
    xs: &[Mat<N, D>],
    ys: &[Mat<N, D>],
    zs: &[Mat<N, D>],
) -> f64 {
    let mut total = 0.0;
    for (x, y, z) in xs.iter().zip(ys).zip(zs) {
        total = total + (x * y * z).sum();
    }
    total
}

fn main() {}
