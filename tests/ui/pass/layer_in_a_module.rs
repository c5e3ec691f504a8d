// Private and public items in a module, a path to `Mat`, f32, `wrt` and a cfg attribute.
#![deny(warnings)]

mod layers {
    use gradgen::Labels;

    #[differentiable(wrt(w))]
    #[cfg(not(any()))]
    pub(crate) fn loss<const N: usize, const D: usize>(
        x: &gradgen::Mat<N, D, f32>,
        w: &gradgen::Mat<D, 2, f32>,
        y: &Labels<N, 2>,
    ) -> f32 {
        x.matmul(w).relu().cross_entropy(y)
    }

    use gradgen::differentiable;
}

fn main() {
    let x = gradgen::Mat::<2, 3, f32>::full(0.5);
    let w = gradgen::Mat::<3, 2, f32>::from_rows([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]);
    let y = gradgen::Labels::<2, 2>::new(vec![1, 0]).unwrap();
    let grads: layers::LossGrads<3> = layers::loss_backward(&x, &w, &y, 1.0);
    assert_eq!(grads.value, layers::loss(&x, &w, &y));
    assert!(layers::loss_gradcheck(&x, &w, &y).passes(1e-2));
}
