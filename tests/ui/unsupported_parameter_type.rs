use gradgen::prelude::*;

#[differentiable]
fn loss(x: &Vec<f64>) -> f64 {
    x.iter().sum()
}

fn main() {}
