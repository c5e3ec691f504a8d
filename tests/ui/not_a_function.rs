use gradgen::prelude::*;

#[differentiable]
struct Model {
    w: Mat<3, 2>,
}

fn main() {}
