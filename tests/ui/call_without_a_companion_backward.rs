use gradgen::prelude::*;

fn squash<const N: usize>(m: &Mat<N, 3>) -> Mat<N, 3> {
    m.tanh()
}

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let h: Mat<N, 3> = squash(x);
    h.sum()
}

fn main() {}
