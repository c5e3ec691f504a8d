use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(xs: &[Mat<N, D>], w: &Mat<N, D>, deep: bool) -> f64 {
    let mut h = w.clone();
    if deep {
        for x in xs {
            h = (h + x).tanh();
        }
    }
    h.sum()
}

fn main() {}
