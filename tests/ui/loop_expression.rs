use gradgen::prelude::*;

#[differentiable]
fn loss<const N: usize>(x: &Mat<N, 3>) -> f64 {
    let e = x.exp();
    let s = loop {
        break e.sum();
    };
    s
}

fn main() {}
