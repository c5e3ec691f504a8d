use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>, scale: Option<f64>) -> f64 {
    let s = if let Some(k) = scale { x.sum() * k } else { x.sum() };
    s
}

fn main() {}
