use gradgen::prelude::*;

#[model]
pub struct Linear {
    pub w: Mat<3, 2>,
}

#[differentiable]
impl Linear {
    #[differentiable(wrt(x))]
    pub fn loss(&self, x: &Mat<4, 3>) -> f64 {
        x.matmul(&self.w).sum()
    }
}

fn main() {}
