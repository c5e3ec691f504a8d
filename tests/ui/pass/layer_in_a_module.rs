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
    // f32 central differences cannot resolve the zero gradients of the column the ReLU cuts
    // (their noise exceeds their scale): those are reported unverified, the rest are checked.
    let check = layers::loss_gradcheck(&x, &w, &y);
    assert!(check.unverified() > 0 && check.passes_where_resolvable(1e-2));
}
