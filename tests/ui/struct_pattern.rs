use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let Pair { a, b } = Pair { a: x.sum(), b: x.mean() };
    a + b
}

struct Pair {
    a: f64,
    b: f64,
}

fn main() {}
