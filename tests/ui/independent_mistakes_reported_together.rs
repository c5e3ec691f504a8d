use gradgen::prelude::*;

// Two independent mistakes: both are reported, in one compile.
#[differentiable]
fn loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<C, 1>,
) -> f64 {
    let h = x.matmul(&w.t());
    let score = x.matmul(w).add_row(b);
    score.sum()
}

fn main() {}
