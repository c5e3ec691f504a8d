use gradgen::prelude::*;

pub struct Plain {
    pub w: Mat<3, 2>,
}

#[differentiable]
impl Plain {
    #[differentiable]
    pub fn loss(&self, x: &Mat<4, 3>) -> f64 {
        x.matmul(&self.w).sum()
    }
}

fn main() {}
