use gradgen::prelude::*;

#[differentiable(custom_backward = square_vjp)]
fn square<const N: usize>(x: &Mat<N, 3>) -> Mat<N, 3> {
    x * x
}

// Forgets the upstream gradient `d_out`.
fn square_vjp<const N: usize>(x: &Mat<N, 3>) -> SquareGrads<N> {
    SquareGrads { value: x * x, x: x * 2.0 }
}

fn main() {}
