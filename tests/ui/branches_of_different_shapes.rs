use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, rows: bool) -> f64 {
    let h = if rows { x.row_sums() } else { x.col_sums() };
    h.sum()
}

fn main() {}
