// The code `#[differentiable]` generates for examples/deep_mlp.rs.
// A test keeps it current: after changing the example or the macro, run
//     GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded
// and read the diff.

/// The forward value of [`deep_mlp_loss`] and its gradients, returned by [`deep_mlp_loss_backward`].
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                                                                  shape
///   x_matmul = x · w_in                                                                                               [N × H]
///   x_matmul_plus_row = x_matmul + b_in   (b_in broadcast over rows)                                                  [N × H]
///   h = max(x_matmul_plus_row, 0)                                                                                     [N × H]
///   for (w, b) in zip(ws, bs), carrying h_2:
///     h_2_matmul = h_2 · w                                                                                            [N × H]
///     h_2_matmul_plus_row = h_2_matmul + b   (b broadcast over rows)                                                  [N × H]
///     h_2_matmul_plus_row_relu = max(h_2_matmul_plus_row, 0)                                                          [N × H]
///     h_3 = h_2 + h_2_matmul_plus_row_relu                                                                            [N × H]
///     h_2 = h_3                                                                                                       [N × H]   for the next step
///     (each step keeps h_2, h_2_matmul_plus_row_relu for the backward)
///   h_2_matmul_2 = h_2 · w_out                                                                                        [N × C]
///   h_2_matmul_2_plus_row = h_2_matmul_2 + b_out   (b_out broadcast over rows)                                        [N × C]
///   value = mean_i −log softmax(h_2_matmul_2_plus_row)[i, yᵢ]                                                         scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                                                                    scalar    seed
///   d_h_2_matmul_2_plus_row = d_out · (softmax(h_2_matmul_2_plus_row) − onehot(y)) / n_y                                        cross_entropy, computed with the value
///   d_b_out = Σ_rows d_h_2_matmul_2_plus_row   (broadcast → sum)                                                      [1 × C]   add_row
///   d_h_2_matmul_2 = d_h_2_matmul_2_plus_row                                                                          [N × C]   add_row
///   d_h_2 = d_h_2_matmul_2 · w_outᵀ   [N × C]·[C × H]                                                                 [N × H]   matmul
///   d_w_out = h_2ᵀ · d_h_2_matmul_2   [H × N]·[N × C]                                                                 [H × C]   matmul
///   for each step, last to first ((w, b) in zip(ws, bs)):
///     d_h_3 = d_h_2                                                                                                   [N × H]   carried from the next step
///     d_h_2 = d_h_3                                                                                                   [N × H]   operator +; contribution 1 of 2 to d_h_2
///     d_h_2_matmul_plus_row_relu = d_h_3                                                                              [N × H]   operator +
///     d_h_2_matmul_plus_row = d_h_2_matmul_plus_row_relu where h_2_matmul_plus_row_relu > 0, else 0   (reuses relu)   [N × H]   relu
///     d_b = Σ_rows d_h_2_matmul_plus_row   (broadcast → sum)                                                          [1 × H]   add_row
///     d_h_2_matmul = d_h_2_matmul_plus_row                                                                            [N × H]   add_row
///     d_h_2 += d_h_2_matmul · wᵀ   [N × H]·[H × H]                                                                              matmul; contribution 2 of 2 to d_h_2
///     d_w = h_2ᵀ · d_h_2_matmul   [H × N]·[N × H]                                                                     [H × H]   matmul
///   d_h = d_h_2                                                                                                       [N × H]   the value before the loop
///   d_x_matmul_plus_row = d_h where h > 0, else 0   (reuses relu)                                                     [N × H]   relu
///   d_b_in = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                                                           [1 × H]   add_row
///   d_x_matmul = d_x_matmul_plus_row                                                                                  [N × H]   add_row
///   d_w_in = xᵀ · d_x_matmul   [D × N]·[N × H]                                                                        [D × H]   matmul
///
/// Values used more than once receive one contribution per use, added up:
///   h_2 receives 2 contributions (d_h_2), from `h_3 = h_2 + h_2_matmul_plus_row_relu` and from `h_2_matmul = h_2 · w`
/// ```
#[derive(Clone, Debug)]
pub struct DeepMlpLossGrads<const D: usize, const H: usize, const C: usize> {
    /// The forward value, `deep_mlp_loss(…)`.
    pub value: f64,
    /// The gradient with respect to `w_in`, shaped like it: [D × H].
    pub w_in: Mat<D, H>,
    /// The gradient with respect to `b_in`, shaped like it: [1 × H].
    pub b_in: Mat<1, H>,
    /// The gradients with respect to the elements of `ws`, in sequence order, each [H × H]; zero for elements a loop's `zip` stopped before.
    pub ws: ::std::vec::Vec<Mat<H, H>>,
    /// The gradients with respect to the elements of `bs`, in sequence order, each [1 × H]; zero for elements a loop's `zip` stopped before.
    pub bs: ::std::vec::Vec<Mat<1, H>>,
    /// The gradient with respect to `w_out`, shaped like it: [H × C].
    pub w_out: Mat<H, C>,
    /// The gradient with respect to `b_out`, shaped like it: [1 × C].
    pub b_out: Mat<1, C>,
}
impl<const D: usize, const H: usize, const C: usize> DeepMlpLossGrads<D, H, C> {
    /// The derivation of [`deep_mlp_loss_backward`], as its documentation shows it: the forward bindings with their shapes, then every gradient contribution in reverse order.
    pub const DERIVATION: &'static str = "Forward: one operation per binding                                                                                  shape\n  x_matmul = x · w_in                                                                                               [N × H]\n  x_matmul_plus_row = x_matmul + b_in   (b_in broadcast over rows)                                                  [N × H]\n  h = max(x_matmul_plus_row, 0)                                                                                     [N × H]\n  for (w, b) in zip(ws, bs), carrying h_2:\n    h_2_matmul = h_2 · w                                                                                            [N × H]\n    h_2_matmul_plus_row = h_2_matmul + b   (b broadcast over rows)                                                  [N × H]\n    h_2_matmul_plus_row_relu = max(h_2_matmul_plus_row, 0)                                                          [N × H]\n    h_3 = h_2 + h_2_matmul_plus_row_relu                                                                            [N × H]\n    h_2 = h_3                                                                                                       [N × H]   for the next step\n    (each step keeps h_2, h_2_matmul_plus_row_relu for the backward)\n  h_2_matmul_2 = h_2 · w_out                                                                                        [N × C]\n  h_2_matmul_2_plus_row = h_2_matmul_2 + b_out   (b_out broadcast over rows)                                        [N × C]\n  value = mean_i −log softmax(h_2_matmul_2_plus_row)[i, yᵢ]                                                         scalar\n\nBackward, in reverse: each gradient has its value's shape\n  d_out: the gradient flowing into value (given)                                                                    scalar    seed\n  d_h_2_matmul_2_plus_row = d_out · (softmax(h_2_matmul_2_plus_row) − onehot(y)) / n_y                                        cross_entropy, computed with the value\n  d_b_out = Σ_rows d_h_2_matmul_2_plus_row   (broadcast → sum)                                                      [1 × C]   add_row\n  d_h_2_matmul_2 = d_h_2_matmul_2_plus_row                                                                          [N × C]   add_row\n  d_h_2 = d_h_2_matmul_2 · w_outᵀ   [N × C]·[C × H]                                                                 [N × H]   matmul\n  d_w_out = h_2ᵀ · d_h_2_matmul_2   [H × N]·[N × C]                                                                 [H × C]   matmul\n  for each step, last to first ((w, b) in zip(ws, bs)):\n    d_h_3 = d_h_2                                                                                                   [N × H]   carried from the next step\n    d_h_2 = d_h_3                                                                                                   [N × H]   operator +; contribution 1 of 2 to d_h_2\n    d_h_2_matmul_plus_row_relu = d_h_3                                                                              [N × H]   operator +\n    d_h_2_matmul_plus_row = d_h_2_matmul_plus_row_relu where h_2_matmul_plus_row_relu > 0, else 0   (reuses relu)   [N × H]   relu\n    d_b = Σ_rows d_h_2_matmul_plus_row   (broadcast → sum)                                                          [1 × H]   add_row\n    d_h_2_matmul = d_h_2_matmul_plus_row                                                                            [N × H]   add_row\n    d_h_2 += d_h_2_matmul · wᵀ   [N × H]·[H × H]                                                                              matmul; contribution 2 of 2 to d_h_2\n    d_w = h_2ᵀ · d_h_2_matmul   [H × N]·[N × H]                                                                     [H × H]   matmul\n  d_h = d_h_2                                                                                                       [N × H]   the value before the loop\n  d_x_matmul_plus_row = d_h where h > 0, else 0   (reuses relu)                                                     [N × H]   relu\n  d_b_in = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                                                           [1 × H]   add_row\n  d_x_matmul = d_x_matmul_plus_row                                                                                  [N × H]   add_row\n  d_w_in = xᵀ · d_x_matmul   [D × N]·[N × H]                                                                        [D × H]   matmul\n\nValues used more than once receive one contribution per use, added up:\n  h_2 receives 2 contributions (d_h_2), from `h_3 = h_2 + h_2_matmul_plus_row_relu` and from `h_2_matmul = h_2 · w`\n";
    /// The gradients in the order of `deep_mlp_loss`'s parameters, `()` for a parameter that is not differentiated: what the backward of a differentiable function that calls `deep_mlp_loss` takes apart.
    #[must_use]
    #[allow(clippy::unused_self)]
    pub fn into_inputs(
        self,
    ) -> (
        (),
        Mat<D, H>,
        Mat<1, H>,
        ::std::vec::Vec<Mat<H, H>>,
        ::std::vec::Vec<Mat<1, H>>,
        Mat<H, C>,
        Mat<1, C>,
        (),
    ) {
        ((), self.w_in, self.b_in, self.ws, self.bs, self.w_out, self.b_out, ())
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for DeepMlpLossGrads<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("w_in", self.w_in.view());
        f("b_in", self.b_in.view());
        for (index, m) in self.ws.iter().enumerate() {
            f(&::std::format!("ws.{}", index), m.view());
        }
        for (index, m) in self.bs.iter().enumerate() {
            f(&::std::format!("bs.{}", index), m.view());
        }
        f("w_out", self.w_out.view());
        f("b_out", self.b_out.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("w_in", self.w_in.view_mut());
        f("b_in", self.b_in.view_mut());
        for (index, m) in self.ws.iter_mut().enumerate() {
            f(&::std::format!("ws.{}", index), m.view_mut());
        }
        for (index, m) in self.bs.iter_mut().enumerate() {
            f(&::std::format!("bs.{}", index), m.view_mut());
        }
        f("w_out", self.w_out.view_mut());
        f("b_out", self.b_out.view_mut());
    }
}
/// The differentiable inputs of [`deep_mlp_loss`] as one value, named like its parameters: what an optimizer updates (`gradgen::optim`) with a [`DeepMlpLossGrads`], and what a weight file holds. Pass its fields to `deep_mlp_loss` and its backward by reference.
#[derive(Clone, Debug)]
pub struct DeepMlpLossParams<const D: usize, const H: usize, const C: usize> {
    /// The input `w_in` of [`deep_mlp_loss`].
    pub w_in: Mat<D, H>,
    /// The input `b_in` of [`deep_mlp_loss`].
    pub b_in: Mat<1, H>,
    /// The input `ws` of [`deep_mlp_loss`].
    pub ws: ::std::vec::Vec<Mat<H, H>>,
    /// The input `bs` of [`deep_mlp_loss`].
    pub bs: ::std::vec::Vec<Mat<1, H>>,
    /// The input `w_out` of [`deep_mlp_loss`].
    pub w_out: Mat<H, C>,
    /// The input `b_out` of [`deep_mlp_loss`].
    pub b_out: Mat<1, C>,
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for DeepMlpLossParams<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("w_in", self.w_in.view());
        f("b_in", self.b_in.view());
        for (index, m) in self.ws.iter().enumerate() {
            f(&::std::format!("ws.{}", index), m.view());
        }
        for (index, m) in self.bs.iter().enumerate() {
            f(&::std::format!("bs.{}", index), m.view());
        }
        f("w_out", self.w_out.view());
        f("b_out", self.b_out.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("w_in", self.w_in.view_mut());
        f("b_in", self.b_in.view_mut());
        for (index, m) in self.ws.iter_mut().enumerate() {
            f(&::std::format!("ws.{}", index), m.view_mut());
        }
        for (index, m) in self.bs.iter_mut().enumerate() {
            f(&::std::format!("bs.{}", index), m.view_mut());
        }
        f("w_out", self.w_out.view_mut());
        f("b_out", self.b_out.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Params
for DeepMlpLossParams<D, H, C> {
    type Grads = DeepMlpLossGrads<D, H, C>;
}
/// Backward pass of [`deep_mlp_loss`], generated by `#[differentiable]`.
///
/// Returns the forward value and the gradient of `d_out · deep_mlp_loss(…)` with respect to `w_in`, `b_in`, `ws`, `bs`, `w_out`, `b_out`, computed by the chain rule one binding at a time, in reverse. `d_out = 1` gives the gradient of `deep_mlp_loss` itself.
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                                                                  shape
///   x_matmul = x · w_in                                                                                               [N × H]
///   x_matmul_plus_row = x_matmul + b_in   (b_in broadcast over rows)                                                  [N × H]
///   h = max(x_matmul_plus_row, 0)                                                                                     [N × H]
///   for (w, b) in zip(ws, bs), carrying h_2:
///     h_2_matmul = h_2 · w                                                                                            [N × H]
///     h_2_matmul_plus_row = h_2_matmul + b   (b broadcast over rows)                                                  [N × H]
///     h_2_matmul_plus_row_relu = max(h_2_matmul_plus_row, 0)                                                          [N × H]
///     h_3 = h_2 + h_2_matmul_plus_row_relu                                                                            [N × H]
///     h_2 = h_3                                                                                                       [N × H]   for the next step
///     (each step keeps h_2, h_2_matmul_plus_row_relu for the backward)
///   h_2_matmul_2 = h_2 · w_out                                                                                        [N × C]
///   h_2_matmul_2_plus_row = h_2_matmul_2 + b_out   (b_out broadcast over rows)                                        [N × C]
///   value = mean_i −log softmax(h_2_matmul_2_plus_row)[i, yᵢ]                                                         scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                                                                    scalar    seed
///   d_h_2_matmul_2_plus_row = d_out · (softmax(h_2_matmul_2_plus_row) − onehot(y)) / n_y                                        cross_entropy, computed with the value
///   d_b_out = Σ_rows d_h_2_matmul_2_plus_row   (broadcast → sum)                                                      [1 × C]   add_row
///   d_h_2_matmul_2 = d_h_2_matmul_2_plus_row                                                                          [N × C]   add_row
///   d_h_2 = d_h_2_matmul_2 · w_outᵀ   [N × C]·[C × H]                                                                 [N × H]   matmul
///   d_w_out = h_2ᵀ · d_h_2_matmul_2   [H × N]·[N × C]                                                                 [H × C]   matmul
///   for each step, last to first ((w, b) in zip(ws, bs)):
///     d_h_3 = d_h_2                                                                                                   [N × H]   carried from the next step
///     d_h_2 = d_h_3                                                                                                   [N × H]   operator +; contribution 1 of 2 to d_h_2
///     d_h_2_matmul_plus_row_relu = d_h_3                                                                              [N × H]   operator +
///     d_h_2_matmul_plus_row = d_h_2_matmul_plus_row_relu where h_2_matmul_plus_row_relu > 0, else 0   (reuses relu)   [N × H]   relu
///     d_b = Σ_rows d_h_2_matmul_plus_row   (broadcast → sum)                                                          [1 × H]   add_row
///     d_h_2_matmul = d_h_2_matmul_plus_row                                                                            [N × H]   add_row
///     d_h_2 += d_h_2_matmul · wᵀ   [N × H]·[H × H]                                                                              matmul; contribution 2 of 2 to d_h_2
///     d_w = h_2ᵀ · d_h_2_matmul   [H × N]·[N × H]                                                                     [H × H]   matmul
///   d_h = d_h_2                                                                                                       [N × H]   the value before the loop
///   d_x_matmul_plus_row = d_h where h > 0, else 0   (reuses relu)                                                     [N × H]   relu
///   d_b_in = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                                                           [1 × H]   add_row
///   d_x_matmul = d_x_matmul_plus_row                                                                                  [N × H]   add_row
///   d_w_in = xᵀ · d_x_matmul   [D × N]·[N × H]                                                                        [D × H]   matmul
///
/// Values used more than once receive one contribution per use, added up:
///   h_2 receives 2 contributions (d_h_2), from `h_3 = h_2 + h_2_matmul_plus_row_relu` and from `h_2_matmul = h_2 · w`
/// ```
#[must_use]
#[allow(
    unused_variables,
    clippy::too_many_arguments,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::used_underscore_binding,
    clippy::needless_pass_by_value
)]
#[allow(clippy::too_many_arguments)]
pub fn deep_mlp_loss_backward<
    const N: usize,
    const D: usize,
    const H: usize,
    const C: usize,
>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    b_in: &Mat<1, H>,
    ws: &[Mat<H, H>],
    bs: &[Mat<1, H>],
    w_out: &Mat<H, C>,
    b_out: &Mat<1, C>,
    y: &Labels<N, C>,
    d_out: f64,
) -> DeepMlpLossGrads<D, H, C> {
    let x_matmul: Mat<N, H> = x.matmul(w_in);
    let x_matmul_plus_row: Mat<N, H> = x_matmul.into_add_row(b_in);
    let h: Mat<N, H> = x_matmul_plus_row.into_relu();
    let mut h_2: Mat<N, H> = h.clone();
    let mut tape: ::std::vec::Vec<(Mat<N, H>, Mat<N, H>)> = ::std::vec::Vec::with_capacity(
        ws.len().min(bs.len()),
    );
    for (w, b) in ws.iter().zip(bs) {
        let h_2_matmul: Mat<N, H> = h_2.matmul(w);
        let h_2_matmul_plus_row: Mat<N, H> = h_2_matmul.into_add_row(b);
        let h_2_matmul_plus_row_relu: Mat<N, H> = h_2_matmul_plus_row.into_relu();
        let h_3: Mat<N, H> = &h_2 + &h_2_matmul_plus_row_relu;
        tape.push((h_2, h_2_matmul_plus_row_relu));
        h_2 = h_3;
    }
    let h_2_matmul_2: Mat<N, C> = h_2.matmul(w_out);
    let h_2_matmul_2_plus_row: Mat<N, C> = h_2_matmul_2.into_add_row(b_out);
    let (value, d_h_2_matmul_2_plus_row): (f64, Mat<N, C>) = h_2_matmul_2_plus_row
        .into_cross_entropy_and_backward(y, d_out);
    let d_b_out: Mat<1, C> = d_h_2_matmul_2_plus_row.col_sums();
    let d_h_2_matmul_2: Mat<N, C> = d_h_2_matmul_2_plus_row;
    let mut d_h_2: Mat<N, H> = d_h_2_matmul_2.matmul_t(w_out);
    let d_w_out: Mat<H, C> = h_2.t_matmul(&d_h_2_matmul_2);
    let mut d_ws = ::std::vec::Vec::with_capacity(ws.len());
    let mut d_bs = ::std::vec::Vec::with_capacity(bs.len());
    for ((w, _), (h_2, h_2_matmul_plus_row_relu)) in ws.iter().zip(bs).zip(tape).rev() {
        let d_h_3: Mat<N, H> = d_h_2;
        d_h_2 = d_h_3.clone();
        let d_h_2_matmul_plus_row_relu: Mat<N, H> = d_h_3;
        let d_h_2_matmul_plus_row: Mat<N, H> = h_2_matmul_plus_row_relu
            .relu_backward(d_h_2_matmul_plus_row_relu);
        let d_b: Mat<1, H> = d_h_2_matmul_plus_row.col_sums();
        let d_h_2_matmul: Mat<N, H> = d_h_2_matmul_plus_row;
        d_h_2.add_matmul_t_assign(&d_h_2_matmul, w);
        let d_w: Mat<H, H> = h_2.t_matmul(&d_h_2_matmul);
        d_ws.push(d_w);
        d_bs.push(d_b);
    }
    d_ws.reverse();
    d_ws.resize_with(ws.len(), Mat::zeros);
    d_bs.reverse();
    d_bs.resize_with(bs.len(), Mat::zeros);
    let d_h: Mat<N, H> = d_h_2;
    let d_x_matmul_plus_row: Mat<N, H> = h.relu_backward(d_h);
    let d_b_in: Mat<1, H> = d_x_matmul_plus_row.col_sums();
    let d_x_matmul: Mat<N, H> = d_x_matmul_plus_row;
    let d_w_in: Mat<D, H> = x.t_matmul(&d_x_matmul);
    DeepMlpLossGrads {
        value,
        w_in: d_w_in,
        b_in: d_b_in,
        ws: d_ws,
        bs: d_bs,
        w_out: d_w_out,
        b_out: d_b_out,
    }
}
/// Checks the gradients of [`deep_mlp_loss_backward`] against central finite differences of [`deep_mlp_loss`] at the given point, for every differentiable input. Generated by `#[differentiable]`.
///
/// Each input is perturbed entry by entry (two evaluations of `deep_mlp_loss` per entry); the report gives, per input, the worst relative error and where.
#[must_use]
#[allow(
    unused_variables,
    clippy::too_many_arguments,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::used_underscore_binding,
    clippy::needless_pass_by_value
)]
#[allow(clippy::too_many_arguments)]
pub fn deep_mlp_loss_gradcheck<
    const N: usize,
    const D: usize,
    const H: usize,
    const C: usize,
>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    b_in: &Mat<1, H>,
    ws: &[Mat<H, H>],
    bs: &[Mat<1, H>],
    w_out: &Mat<H, C>,
    b_out: &Mat<1, C>,
    y: &Labels<N, C>,
) -> ::gradgen::check::GradCheck {
    let grads = deep_mlp_loss_backward(
        x,
        w_in,
        b_in,
        ws,
        bs,
        w_out,
        b_out,
        y,
        <f64 as ::gradgen::Scalar>::from_f64(1.0),
    );
    let mut check = ::gradgen::check::GradCheck::new(
        "deep_mlp_loss",
        ::gradgen::Scalar::to_f64(grads.value),
    );
    check
        .push(
            "w_in",
            ::gradgen::check::gradient(
                |w_in: &Mat<D, H, f64>| deep_mlp_loss(
                    x,
                    w_in,
                    b_in,
                    ws,
                    bs,
                    w_out,
                    b_out,
                    y,
                ),
                w_in,
                &grads.w_in,
            ),
        );
    check
        .push(
            "b_in",
            ::gradgen::check::gradient(
                |b_in: &Mat<1, H, f64>| deep_mlp_loss(
                    x,
                    w_in,
                    b_in,
                    ws,
                    bs,
                    w_out,
                    b_out,
                    y,
                ),
                b_in,
                &grads.b_in,
            ),
        );
    for index in 0..ws.len() {
        check
            .push(
                ::std::format!("ws[{}]", index),
                ::gradgen::check::gradient(
                    |element: &Mat<H, H, f64>| {
                        let mut sequence = (ws).to_owned();
                        sequence[index] = element.clone();
                        deep_mlp_loss(x, w_in, b_in, &sequence, bs, w_out, b_out, y)
                    },
                    &(ws)[index],
                    &grads.ws[index],
                ),
            );
    }
    for index in 0..bs.len() {
        check
            .push(
                ::std::format!("bs[{}]", index),
                ::gradgen::check::gradient(
                    |element: &Mat<1, H, f64>| {
                        let mut sequence = (bs).to_owned();
                        sequence[index] = element.clone();
                        deep_mlp_loss(x, w_in, b_in, ws, &sequence, w_out, b_out, y)
                    },
                    &(bs)[index],
                    &grads.bs[index],
                ),
            );
    }
    check
        .push(
            "w_out",
            ::gradgen::check::gradient(
                |w_out: &Mat<H, C, f64>| deep_mlp_loss(
                    x,
                    w_in,
                    b_in,
                    ws,
                    bs,
                    w_out,
                    b_out,
                    y,
                ),
                w_out,
                &grads.w_out,
            ),
        );
    check
        .push(
            "b_out",
            ::gradgen::check::gradient(
                |b_out: &Mat<1, C, f64>| deep_mlp_loss(
                    x,
                    w_in,
                    b_in,
                    ws,
                    bs,
                    w_out,
                    b_out,
                    y,
                ),
                b_out,
                &grads.b_out,
            ),
        );
    check
}
