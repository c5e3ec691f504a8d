use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, t: &Mat<N, 3>) -> f64 {
    let delta = x.mean().abs();
    x.huber(t, delta)
}

fn main() {}
