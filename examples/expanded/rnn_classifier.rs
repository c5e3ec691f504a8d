// The code `#[differentiable]` generates for examples/rnn_classifier.rs.
// A test keeps it current: after changing the example or the macro, run
//     GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded
// and read the diff.

/// The gradients of a [`Elman`]'s weights, returned by the `_backward` of its `#[differentiable]` methods.
#[derive(Clone, Debug)]
pub struct ElmanGrads<const D: usize, const H: usize, const C: usize> {
    /// The gradient with respect to `self.wx`, shaped like it.
    pub wx: Mat<D, H>,
    /// The gradient with respect to `self.wh`, shaped like it.
    pub wh: Mat<H, H>,
    /// The gradient with respect to `self.b`, shaped like it.
    pub b: Mat<1, H>,
    /// The gradient with respect to `self.wy`, shaped like it.
    pub wy: Mat<H, C>,
    /// The gradient with respect to `self.by`, shaped like it.
    pub by: Mat<1, C>,
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for Elman<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("wx", self.wx.view());
        f("wh", self.wh.view());
        f("b", self.b.view());
        f("wy", self.wy.view());
        f("by", self.by.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("wx", self.wx.view_mut());
        f("wh", self.wh.view_mut());
        f("b", self.b.view_mut());
        f("wy", self.wy.view_mut());
        f("by", self.by.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for ElmanGrads<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("wx", self.wx.view());
        f("wh", self.wh.view());
        f("b", self.b.view());
        f("wy", self.wy.view());
        f("by", self.by.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("wx", self.wx.view_mut());
        f("wh", self.wh.view_mut());
        f("b", self.b.view_mut());
        f("wy", self.wy.view_mut());
        f("by", self.by.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> ElmanGrads<D, H, C> {
    /// Every matrix zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        ElmanGrads {
            wx: ::gradgen::Mat::zeros(),
            wh: ::gradgen::Mat::zeros(),
            b: ::gradgen::Mat::zeros(),
            wy: ::gradgen::Mat::zeros(),
            by: ::gradgen::Mat::zeros(),
        }
    }
}
impl<const D: usize, const H: usize, const C: usize> ::core::default::Default
for ElmanGrads<D, H, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Params
for Elman<D, H, C> {
    type Grads = ElmanGrads<D, H, C>;
}
impl<const D: usize, const H: usize, const C: usize> Elman<D, H, C> {
    /// One step of gradient descent: every weight moves by `-rate` times its gradient.
    pub fn step(&mut self, grads: &ElmanGrads<D, H, C>, rate: f64) {
        self.wx -= &grads.wx * rate;
        self.wh -= &grads.wh * rate;
        self.b -= &grads.b * rate;
        self.wy -= &grads.wy * rate;
        self.by -= &grads.by * rate;
    }
}
#[doc(hidden)]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, non_snake_case)]
fn __gradgen_Elman_loss<const D: usize, const H: usize, const C: usize, const N: usize>(
    self_wx: &Mat<D, H>,
    self_wh: &Mat<H, H>,
    self_b: &Mat<1, H>,
    self_wy: &Mat<H, C>,
    self_by: &Mat<1, C>,
    xs: &[Mat<N, D>],
    y: &Labels<N, C>,
) -> f64 {
    let mut h = Mat::<N, H>::zeros();
    for x in xs {
        h = (x.matmul(&self_wx) + h.matmul(&self_wh)).add_row(&self_b).tanh();
    }
    h.matmul(&self_wy).add_row(&self_by).cross_entropy(y)
}
/// The forward value of [`__gradgen_Elman_loss`] and its gradients, returned by [`__gradgen_Elman_loss_backward`].
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                                       shape
///   h = Mat::<N,H>::zeros()                                                                [N × H]
///   for x in xs, carrying h_2:
///     x_matmul = x · self_wx                                                               [N × H]
///     sum = x_matmul + h_2 · self_wh                                                       [N × H]
///     sum_plus_row = sum + self_b   (self_b broadcast over rows)                           [N × H]
///     h_3 = tanh(sum_plus_row)                                                             [N × H]
///     h_2 = h_3                                                                            [N × H]   for the next step
///     (each step keeps h_2 for the backward)
///   h_2_matmul_2 = h_2 · self_wy                                                           [N × C]
///   h_2_matmul_2_plus_row = h_2_matmul_2 + self_by   (self_by broadcast over rows)         [N × C]
///   value = mean_i −log softmax(h_2_matmul_2_plus_row)[i, yᵢ]                              scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                                         scalar    seed
///   d_h_2_matmul_2_plus_row = d_out · (softmax(h_2_matmul_2_plus_row) − onehot(y)) / n_y             cross_entropy, computed with the value
///   d_self_by = Σ_rows d_h_2_matmul_2_plus_row   (broadcast → sum)                         [1 × C]   add_row
///   d_h_2_matmul_2 = d_h_2_matmul_2_plus_row                                               [N × C]   add_row
///   d_h_2 = d_h_2_matmul_2 · self_wyᵀ   [N × C]·[C × H]                                    [N × H]   matmul
///   d_self_wy = h_2ᵀ · d_h_2_matmul_2   [H × N]·[N × C]                                    [H × C]   matmul
///   d_self_wx = 0                                                                          [D × H]   declared before the loop
///   d_self_wh = 0                                                                          [H × H]   declared before the loop
///   d_self_b = 0                                                                           [1 × H]   declared before the loop
///   for each step, last to first (x in xs):
///     d_h_3 = d_h_2                                                                        [N × H]   carried from the next step
///     d_sum_plus_row = d_h_3 ∘ (1 − h_3²)   (reuses tanh)                                  [N × H]   tanh
///     d_self_b += Σ_rows d_sum_plus_row   (broadcast → sum)                                          add_row
///     d_sum = d_sum_plus_row                                                               [N × H]   add_row
///     d_h_2 = d_sum · self_whᵀ   [N × H]·[H × H]                                           [N × H]   add_matmul
///     d_self_wh += h_2ᵀ · d_sum   [H × N]·[N × H]                                                    add_matmul
///     d_x_matmul = d_sum                                                                   [N × H]   add_matmul
///     d_self_wx += xᵀ · d_x_matmul   [D × N]·[N × H]                                                 matmul
/// ```
#[derive(Clone, Debug)]
struct GradgenElmanLossGrads<const D: usize, const H: usize, const C: usize> {
    /// The forward value, `__gradgen_Elman_loss(…)`.
    pub value: f64,
    /// The gradient with respect to `self_wx`, shaped like it: [D × H].
    pub self_wx: Mat<D, H>,
    /// The gradient with respect to `self_wh`, shaped like it: [H × H].
    pub self_wh: Mat<H, H>,
    /// The gradient with respect to `self_b`, shaped like it: [1 × H].
    pub self_b: Mat<1, H>,
    /// The gradient with respect to `self_wy`, shaped like it: [H × C].
    pub self_wy: Mat<H, C>,
    /// The gradient with respect to `self_by`, shaped like it: [1 × C].
    pub self_by: Mat<1, C>,
}
impl<const D: usize, const H: usize, const C: usize> GradgenElmanLossGrads<D, H, C> {
    /// The derivation of [`__gradgen_Elman_loss_backward`], as its documentation shows it: the forward bindings with their shapes, then every gradient contribution in reverse order.
    pub const DERIVATION: &'static str = "Forward: one operation per binding                                                       shape\n  h = Mat::<N,H>::zeros()                                                                [N × H]\n  for x in xs, carrying h_2:\n    x_matmul = x · self_wx                                                               [N × H]\n    sum = x_matmul + h_2 · self_wh                                                       [N × H]\n    sum_plus_row = sum + self_b   (self_b broadcast over rows)                           [N × H]\n    h_3 = tanh(sum_plus_row)                                                             [N × H]\n    h_2 = h_3                                                                            [N × H]   for the next step\n    (each step keeps h_2 for the backward)\n  h_2_matmul_2 = h_2 · self_wy                                                           [N × C]\n  h_2_matmul_2_plus_row = h_2_matmul_2 + self_by   (self_by broadcast over rows)         [N × C]\n  value = mean_i −log softmax(h_2_matmul_2_plus_row)[i, yᵢ]                              scalar\n\nBackward, in reverse: each gradient has its value's shape\n  d_out: the gradient flowing into value (given)                                         scalar    seed\n  d_h_2_matmul_2_plus_row = d_out · (softmax(h_2_matmul_2_plus_row) − onehot(y)) / n_y             cross_entropy, computed with the value\n  d_self_by = Σ_rows d_h_2_matmul_2_plus_row   (broadcast → sum)                         [1 × C]   add_row\n  d_h_2_matmul_2 = d_h_2_matmul_2_plus_row                                               [N × C]   add_row\n  d_h_2 = d_h_2_matmul_2 · self_wyᵀ   [N × C]·[C × H]                                    [N × H]   matmul\n  d_self_wy = h_2ᵀ · d_h_2_matmul_2   [H × N]·[N × C]                                    [H × C]   matmul\n  d_self_wx = 0                                                                          [D × H]   declared before the loop\n  d_self_wh = 0                                                                          [H × H]   declared before the loop\n  d_self_b = 0                                                                           [1 × H]   declared before the loop\n  for each step, last to first (x in xs):\n    d_h_3 = d_h_2                                                                        [N × H]   carried from the next step\n    d_sum_plus_row = d_h_3 ∘ (1 − h_3²)   (reuses tanh)                                  [N × H]   tanh\n    d_self_b += Σ_rows d_sum_plus_row   (broadcast → sum)                                          add_row\n    d_sum = d_sum_plus_row                                                               [N × H]   add_row\n    d_h_2 = d_sum · self_whᵀ   [N × H]·[H × H]                                           [N × H]   add_matmul\n    d_self_wh += h_2ᵀ · d_sum   [H × N]·[N × H]                                                    add_matmul\n    d_x_matmul = d_sum                                                                   [N × H]   add_matmul\n    d_self_wx += xᵀ · d_x_matmul   [D × N]·[N × H]                                                 matmul\n";
    /// The gradients in the order of `__gradgen_Elman_loss`'s parameters, `()` for a parameter that is not differentiated: what the backward of a differentiable function that calls `__gradgen_Elman_loss` takes apart.
    #[must_use]
    #[allow(clippy::unused_self)]
    pub fn into_inputs(
        self,
    ) -> (Mat<D, H>, Mat<H, H>, Mat<1, H>, Mat<H, C>, Mat<1, C>, (), ()) {
        (self.self_wx, self.self_wh, self.self_b, self.self_wy, self.self_by, (), ())
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for GradgenElmanLossGrads<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("self_wx", self.self_wx.view());
        f("self_wh", self.self_wh.view());
        f("self_b", self.self_b.view());
        f("self_wy", self.self_wy.view());
        f("self_by", self.self_by.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("self_wx", self.self_wx.view_mut());
        f("self_wh", self.self_wh.view_mut());
        f("self_b", self.self_b.view_mut());
        f("self_wy", self.self_wy.view_mut());
        f("self_by", self.self_by.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> GradgenElmanLossGrads<D, H, C> {
    /// Every matrix zero, and the value zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        GradgenElmanLossGrads {
            value: <f64 as ::gradgen::Scalar>::from_f64(0.0),
            self_wx: ::gradgen::Mat::zeros(),
            self_wh: ::gradgen::Mat::zeros(),
            self_b: ::gradgen::Mat::zeros(),
            self_wy: ::gradgen::Mat::zeros(),
            self_by: ::gradgen::Mat::zeros(),
        }
    }
}
impl<const D: usize, const H: usize, const C: usize> ::core::default::Default
for GradgenElmanLossGrads<D, H, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
/// Backward pass of [`__gradgen_Elman_loss`], generated by `#[differentiable]`.
///
/// Returns the forward value and the gradient of `d_out · __gradgen_Elman_loss(…)` with respect to `self_wx`, `self_wh`, `self_b`, `self_wy`, `self_by`, computed by the chain rule one binding at a time, in reverse. `d_out = 1` gives the gradient of `__gradgen_Elman_loss` itself.
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                                       shape
///   h = Mat::<N,H>::zeros()                                                                [N × H]
///   for x in xs, carrying h_2:
///     x_matmul = x · self_wx                                                               [N × H]
///     sum = x_matmul + h_2 · self_wh                                                       [N × H]
///     sum_plus_row = sum + self_b   (self_b broadcast over rows)                           [N × H]
///     h_3 = tanh(sum_plus_row)                                                             [N × H]
///     h_2 = h_3                                                                            [N × H]   for the next step
///     (each step keeps h_2 for the backward)
///   h_2_matmul_2 = h_2 · self_wy                                                           [N × C]
///   h_2_matmul_2_plus_row = h_2_matmul_2 + self_by   (self_by broadcast over rows)         [N × C]
///   value = mean_i −log softmax(h_2_matmul_2_plus_row)[i, yᵢ]                              scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                                         scalar    seed
///   d_h_2_matmul_2_plus_row = d_out · (softmax(h_2_matmul_2_plus_row) − onehot(y)) / n_y             cross_entropy, computed with the value
///   d_self_by = Σ_rows d_h_2_matmul_2_plus_row   (broadcast → sum)                         [1 × C]   add_row
///   d_h_2_matmul_2 = d_h_2_matmul_2_plus_row                                               [N × C]   add_row
///   d_h_2 = d_h_2_matmul_2 · self_wyᵀ   [N × C]·[C × H]                                    [N × H]   matmul
///   d_self_wy = h_2ᵀ · d_h_2_matmul_2   [H × N]·[N × C]                                    [H × C]   matmul
///   d_self_wx = 0                                                                          [D × H]   declared before the loop
///   d_self_wh = 0                                                                          [H × H]   declared before the loop
///   d_self_b = 0                                                                           [1 × H]   declared before the loop
///   for each step, last to first (x in xs):
///     d_h_3 = d_h_2                                                                        [N × H]   carried from the next step
///     d_sum_plus_row = d_h_3 ∘ (1 − h_3²)   (reuses tanh)                                  [N × H]   tanh
///     d_self_b += Σ_rows d_sum_plus_row   (broadcast → sum)                                          add_row
///     d_sum = d_sum_plus_row                                                               [N × H]   add_row
///     d_h_2 = d_sum · self_whᵀ   [N × H]·[H × H]                                           [N × H]   add_matmul
///     d_self_wh += h_2ᵀ · d_sum   [H × N]·[N × H]                                                    add_matmul
///     d_x_matmul = d_sum                                                                   [N × H]   add_matmul
///     d_self_wx += xᵀ · d_x_matmul   [D × N]·[N × H]                                                 matmul
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
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, non_snake_case)]
fn __gradgen_Elman_loss_backward<
    const D: usize,
    const H: usize,
    const C: usize,
    const N: usize,
>(
    self_wx: &Mat<D, H>,
    self_wh: &Mat<H, H>,
    self_b: &Mat<1, H>,
    self_wy: &Mat<H, C>,
    self_by: &Mat<1, C>,
    xs: &[Mat<N, D>],
    y: &Labels<N, C>,
    d_out: f64,
) -> GradgenElmanLossGrads<D, H, C> {
    let h: Mat<N, H> = Mat::<N, H>::zeros();
    let mut h_2: Mat<N, H> = h.clone();
    let mut tape: ::std::vec::Vec<Mat<N, H>> = ::std::vec::Vec::with_capacity(xs.len());
    for x in xs {
        let x_matmul: Mat<N, H> = x.matmul(self_wx);
        let sum: Mat<N, H> = x_matmul.into_add_matmul(&h_2, self_wh);
        let sum_plus_row: Mat<N, H> = sum.into_add_row(self_b);
        let h_3: Mat<N, H> = sum_plus_row.into_tanh();
        tape.push(h_2);
        h_2 = h_3;
    }
    let h_2_matmul_2: Mat<N, C> = h_2.matmul(self_wy);
    let h_2_matmul_2_plus_row: Mat<N, C> = h_2_matmul_2.into_add_row(self_by);
    let (value, d_h_2_matmul_2_plus_row): (f64, Mat<N, C>) = h_2_matmul_2_plus_row
        .into_cross_entropy_and_backward(y, d_out);
    let d_self_by: Mat<1, C> = d_h_2_matmul_2_plus_row.col_sums();
    let d_h_2_matmul_2: Mat<N, C> = d_h_2_matmul_2_plus_row;
    let mut d_h_2: Mat<N, H> = d_h_2_matmul_2.matmul_t(self_wy);
    let d_self_wy: Mat<H, C> = h_2.t_matmul(&d_h_2_matmul_2);
    let mut d_self_wx: Mat<D, H> = Mat::zeros();
    let mut d_self_wh: Mat<H, H> = Mat::zeros();
    let mut d_self_b: Mat<1, H> = Mat::zeros();
    let mut h_3 = h_2;
    for (x, h_2) in xs.iter().zip(tape).rev() {
        let d_h_3: Mat<N, H> = d_h_2;
        let d_sum_plus_row: Mat<N, H> = h_3.tanh_backward(d_h_3);
        d_self_b.add_col_sums(&d_sum_plus_row);
        let d_sum: Mat<N, H> = d_sum_plus_row;
        d_h_2 = h_3.into_matmul_t_of(&d_sum, self_wh);
        d_self_wh.add_t_matmul_assign(&h_2, &d_sum);
        let d_x_matmul: Mat<N, H> = d_sum;
        d_self_wx.add_t_matmul_assign(x, &d_x_matmul);
        h_3 = h_2;
    }
    GradgenElmanLossGrads {
        value,
        self_wx: d_self_wx,
        self_wh: d_self_wh,
        self_b: d_self_b,
        self_wy: d_self_wy,
        self_by: d_self_by,
    }
}
/// Checks the gradients of [`__gradgen_Elman_loss_backward`] against central finite differences of [`__gradgen_Elman_loss`] at the given point, for every differentiable input. Generated by `#[differentiable]`.
///
/// Each input is perturbed entry by entry (two evaluations of `__gradgen_Elman_loss` per entry); the report gives, per input, the worst relative error and where.
#[must_use]
#[allow(
    unused_variables,
    clippy::too_many_arguments,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::used_underscore_binding,
    clippy::needless_pass_by_value
)]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, non_snake_case)]
fn __gradgen_Elman_loss_gradcheck<
    const D: usize,
    const H: usize,
    const C: usize,
    const N: usize,
>(
    self_wx: &Mat<D, H>,
    self_wh: &Mat<H, H>,
    self_b: &Mat<1, H>,
    self_wy: &Mat<H, C>,
    self_by: &Mat<1, C>,
    xs: &[Mat<N, D>],
    y: &Labels<N, C>,
) -> ::gradgen::check::GradCheck {
    let grads = __gradgen_Elman_loss_backward(
        self_wx,
        self_wh,
        self_b,
        self_wy,
        self_by,
        xs,
        y,
        <f64 as ::gradgen::Scalar>::from_f64(1.0),
    );
    let mut check = ::gradgen::check::GradCheck::new(
        "__gradgen_Elman_loss",
        ::gradgen::Scalar::to_f64(grads.value),
    );
    check
        .push(
            "self_wx",
            ::gradgen::check::gradient(
                |self_wx: &Mat<D, H, f64>| __gradgen_Elman_loss(
                    self_wx,
                    self_wh,
                    self_b,
                    self_wy,
                    self_by,
                    xs,
                    y,
                ),
                self_wx,
                &grads.self_wx,
            ),
        );
    check
        .push(
            "self_wh",
            ::gradgen::check::gradient(
                |self_wh: &Mat<H, H, f64>| __gradgen_Elman_loss(
                    self_wx,
                    self_wh,
                    self_b,
                    self_wy,
                    self_by,
                    xs,
                    y,
                ),
                self_wh,
                &grads.self_wh,
            ),
        );
    check
        .push(
            "self_b",
            ::gradgen::check::gradient(
                |self_b: &Mat<1, H, f64>| __gradgen_Elman_loss(
                    self_wx,
                    self_wh,
                    self_b,
                    self_wy,
                    self_by,
                    xs,
                    y,
                ),
                self_b,
                &grads.self_b,
            ),
        );
    check
        .push(
            "self_wy",
            ::gradgen::check::gradient(
                |self_wy: &Mat<H, C, f64>| __gradgen_Elman_loss(
                    self_wx,
                    self_wh,
                    self_b,
                    self_wy,
                    self_by,
                    xs,
                    y,
                ),
                self_wy,
                &grads.self_wy,
            ),
        );
    check
        .push(
            "self_by",
            ::gradgen::check::gradient(
                |self_by: &Mat<1, C, f64>| __gradgen_Elman_loss(
                    self_wx,
                    self_wh,
                    self_b,
                    self_wy,
                    self_by,
                    xs,
                    y,
                ),
                self_by,
                &grads.self_by,
            ),
        );
    check
}
impl<const D: usize, const H: usize, const C: usize> Elman<D, H, C> {
    /// Backward pass of [`Elman::loss`], generated by `#[differentiable]`: the value, and the gradient of `d_out · self.loss(…)` with respect to each weight of the model.
    #[must_use]
    #[allow(
        clippy::too_many_arguments,
        clippy::needless_pass_by_value,
        unused_variables
    )]
    pub fn loss_backward<const N: usize>(
        &self,
        xs: &[Mat<N, D>],
        y: &Labels<N, C>,
        d_out: f64,
    ) -> (f64, ElmanGrads<D, H, C>) {
        let grads = __gradgen_Elman_loss_backward(
            &self.wx,
            &self.wh,
            &self.b,
            &self.wy,
            &self.by,
            xs,
            y,
            d_out,
        );
        (
            grads.value,
            ElmanGrads {
                wx: grads.self_wx,
                wh: grads.self_wh,
                b: grads.self_b,
                wy: grads.self_wy,
                by: grads.self_by,
            },
        )
    }
    /// Checks [`Elman::loss_backward`] against central finite differences of [`Elman::loss`] at these weights and arguments, weight by weight. Generated by `#[differentiable]`.
    #[must_use]
    #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
    pub fn loss_gradcheck<const N: usize>(
        &self,
        xs: &[Mat<N, D>],
        y: &Labels<N, C>,
    ) -> ::gradgen::check::GradCheck {
        let mut check = __gradgen_Elman_loss_gradcheck(
            &self.wx,
            &self.wh,
            &self.b,
            &self.wy,
            &self.by,
            xs,
            y,
        );
        check.function = "Elman::loss";
        for (name, _) in &mut check.inputs {
            if let ::std::option::Option::Some(weight) = name.strip_prefix("self_") {
                *name = ::std::string::ToString::to_string(weight);
            }
        }
        check
    }
}
