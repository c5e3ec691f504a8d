use gradgen::prelude::*;

#[model]
pub struct Deep<const H: usize, const C: usize> {
    pub ws: Vec<Mat<H, H>>,
    pub w_out: Mat<H, C>,
}

#[differentiable]
impl<const H: usize, const C: usize> Deep<H, C> {
    #[differentiable]
    pub fn loss<const N: usize>(&self, x: &Mat<N, H>, y: &Labels<N, C>) -> f64 {
        let mut h = x.clone();
        for w in self.ws.iter() {
            h = &h + h.matmul(w).relu();
        }
        h.matmul(&self.w_out).cross_entropy(y)
    }
}

fn main() {}
