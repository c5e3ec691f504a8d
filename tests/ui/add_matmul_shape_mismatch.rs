use gradgen::prelude::*;

#[differentiable]
fn step<const N: usize, const D: usize, const H: usize>(
    x: &Mat<N, D>,
    h: &Mat<N, H>,
    wx: &Mat<D, H>,
    wh: &Mat<H, D>,
) -> f64 {
    let pre = x.matmul(wx).add_matmul(h, wh);
    pre.tanh().sum()
}

fn main() {}
