use gradgen::prelude::*;

#[model]
struct Net<const D: usize> {
    w: Mat<D, 2>,
}

#[differentiable]
impl<const D: usize> Net<D> {
    fn scores<const N: usize>(&self, x: &Mat<N, D>) -> Mat<N, 2> {
        x.matmul(&self.w)
    }

    #[differentiable]
    fn loss<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, 2>) -> f64 {
        let s: Mat<N, 2> = self.scores(x);
        s.cross_entropy(y)
    }
}

fn main() {}
