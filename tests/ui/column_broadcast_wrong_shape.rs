use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(x: &Mat<N, D>) -> f64 {
    let mu = x.col_means();
    let centred = x.sub_col(&mu);
    centred.square().sum()
}

fn main() {}
