// The code `#[differentiable]` generates for examples/two_layer_net.rs.
// A test keeps it current: after changing the example or the macro, run
//     GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded
// and read the diff.

/// The forward value of [`mlp_loss`] and its gradients, returned by [`mlp_loss_backward`].
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                          shape
///   x_matmul = x · w1                                                         [N × H]
///   x_matmul_plus_row = x_matmul + b1   (b1 broadcast over rows)              [N × H]
///   hidden = max(x_matmul_plus_row, 0)                                        [N × H]
///   hidden_matmul = hidden · w2                                               [N × C]
///   scores = hidden_matmul + b2   (b2 broadcast over rows)                    [N × C]
///   data_loss = mean_i −log softmax(scores)[i, yᵢ]                            scalar
///   w1_sq_sum = Σ w1²                                                         scalar
///   w2_sq_sum = Σ w2²                                                         scalar
///   l2 = w1_sq_sum + w2_sq_sum                                                scalar
///   prod = reg ∘ l2                                                           scalar
///   value = data_loss + prod                                                  scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                            scalar    seed
///   d_data_loss = d_out                                                       scalar    operator +
///   d_prod = d_out                                                            scalar    operator +
///   d_l2 = d_prod · reg                                                       scalar    operator *
///   d_w1_sq_sum = d_l2                                                        scalar    operator +
///   d_w2_sq_sum = d_l2                                                        scalar    operator +
///   d_w2 = 2·d_w2_sq_sum · w2                                                 [H × C]   sum_squares; contribution 1 of 2 to d_w2
///   d_w1 = 2·d_w1_sq_sum · w1                                                 [D × H]   sum_squares; contribution 1 of 2 to d_w1
///   d_scores = d_data_loss · (softmax(scores) − onehot(y)) / n_y              [N × C]   cross_entropy
///   d_b2 = Σ_rows d_scores   (broadcast → sum)                                [1 × C]   add_row
///   d_hidden_matmul = d_scores                                                [N × C]   add_row
///   d_hidden = d_hidden_matmul · w2ᵀ   [N × C]·[C × H]                        [N × H]   matmul
///   d_w2 += hiddenᵀ · d_hidden_matmul   [H × N]·[N × C]                                 matmul; contribution 2 of 2 to d_w2
///   d_x_matmul_plus_row = d_hidden where hidden > 0, else 0   (reuses relu)   [N × H]   relu
///   d_b1 = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                     [1 × H]   add_row
///   d_x_matmul = d_x_matmul_plus_row                                          [N × H]   add_row
///   d_w1 += xᵀ · d_x_matmul   [D × N]·[N × H]                                           matmul; contribution 2 of 2 to d_w1
///
/// Values used more than once receive one contribution per use, added up:
///   w2 receives 2 contributions (d_w2), from `w2_sq_sum = Σ w2²` and from `hidden_matmul = hidden · w2`
///   w1 receives 2 contributions (d_w1), from `w1_sq_sum = Σ w1²` and from `x_matmul = x · w1`
/// ```
#[derive(Clone, Debug)]
pub struct MlpLossGrads<T: Scalar, const D: usize, const H: usize, const C: usize> {
    /// The forward value, `mlp_loss(…)`.
    pub value: T,
    /// The gradient with respect to `w1`, shaped like it: [D × H].
    pub w1: Mat<D, H, T>,
    /// The gradient with respect to `b1`, shaped like it: [1 × H].
    pub b1: Mat<1, H, T>,
    /// The gradient with respect to `w2`, shaped like it: [H × C].
    pub w2: Mat<H, C, T>,
    /// The gradient with respect to `b2`, shaped like it: [1 × C].
    pub b2: Mat<1, C, T>,
}
impl<
    T: Scalar,
    const D: usize,
    const H: usize,
    const C: usize,
> MlpLossGrads<T, D, H, C> {
    /// The derivation of [`mlp_loss_backward`], as its documentation shows it: the forward bindings with their shapes, then every gradient contribution in reverse order.
    pub const DERIVATION: &'static str = "Forward: one operation per binding                                          shape\n  x_matmul = x · w1                                                         [N × H]\n  x_matmul_plus_row = x_matmul + b1   (b1 broadcast over rows)              [N × H]\n  hidden = max(x_matmul_plus_row, 0)                                        [N × H]\n  hidden_matmul = hidden · w2                                               [N × C]\n  scores = hidden_matmul + b2   (b2 broadcast over rows)                    [N × C]\n  data_loss = mean_i −log softmax(scores)[i, yᵢ]                            scalar\n  w1_sq_sum = Σ w1²                                                         scalar\n  w2_sq_sum = Σ w2²                                                         scalar\n  l2 = w1_sq_sum + w2_sq_sum                                                scalar\n  prod = reg ∘ l2                                                           scalar\n  value = data_loss + prod                                                  scalar\n\nBackward, in reverse: each gradient has its value's shape\n  d_out: the gradient flowing into value (given)                            scalar    seed\n  d_data_loss = d_out                                                       scalar    operator +\n  d_prod = d_out                                                            scalar    operator +\n  d_l2 = d_prod · reg                                                       scalar    operator *\n  d_w1_sq_sum = d_l2                                                        scalar    operator +\n  d_w2_sq_sum = d_l2                                                        scalar    operator +\n  d_w2 = 2·d_w2_sq_sum · w2                                                 [H × C]   sum_squares; contribution 1 of 2 to d_w2\n  d_w1 = 2·d_w1_sq_sum · w1                                                 [D × H]   sum_squares; contribution 1 of 2 to d_w1\n  d_scores = d_data_loss · (softmax(scores) − onehot(y)) / n_y              [N × C]   cross_entropy\n  d_b2 = Σ_rows d_scores   (broadcast → sum)                                [1 × C]   add_row\n  d_hidden_matmul = d_scores                                                [N × C]   add_row\n  d_hidden = d_hidden_matmul · w2ᵀ   [N × C]·[C × H]                        [N × H]   matmul\n  d_w2 += hiddenᵀ · d_hidden_matmul   [H × N]·[N × C]                                 matmul; contribution 2 of 2 to d_w2\n  d_x_matmul_plus_row = d_hidden where hidden > 0, else 0   (reuses relu)   [N × H]   relu\n  d_b1 = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                     [1 × H]   add_row\n  d_x_matmul = d_x_matmul_plus_row                                          [N × H]   add_row\n  d_w1 += xᵀ · d_x_matmul   [D × N]·[N × H]                                           matmul; contribution 2 of 2 to d_w1\n\nValues used more than once receive one contribution per use, added up:\n  w2 receives 2 contributions (d_w2), from `w2_sq_sum = Σ w2²` and from `hidden_matmul = hidden · w2`\n  w1 receives 2 contributions (d_w1), from `w1_sq_sum = Σ w1²` and from `x_matmul = x · w1`\n";
    /// The gradients in the order of `mlp_loss`'s parameters, `()` for a parameter that is not differentiated: what the backward of a differentiable function that calls `mlp_loss` takes apart.
    #[must_use]
    #[allow(clippy::unused_self)]
    pub fn into_inputs(
        self,
    ) -> ((), Mat<D, H, T>, Mat<1, H, T>, Mat<H, C, T>, Mat<1, C, T>, (), ()) {
        ((), self.w1, self.b1, self.w2, self.b2, (), ())
    }
}
impl<T: Scalar, const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for MlpLossGrads<T, D, H, C> {
    type Elem = T;
    fn for_each(&self, f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, T>)) {
        f("w1", self.w1.view());
        f("b1", self.b1.view());
        f("w2", self.w2.view());
        f("b2", self.b2.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, T>),
    ) {
        f("w1", self.w1.view_mut());
        f("b1", self.b1.view_mut());
        f("w2", self.w2.view_mut());
        f("b2", self.b2.view_mut());
    }
}
impl<
    T: Scalar,
    const D: usize,
    const H: usize,
    const C: usize,
> MlpLossGrads<T, D, H, C> {
    /// Every matrix zero, and the value zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        MlpLossGrads {
            value: <T as ::gradgen::Scalar>::from_f64(0.0),
            w1: ::gradgen::Mat::zeros(),
            b1: ::gradgen::Mat::zeros(),
            w2: ::gradgen::Mat::zeros(),
            b2: ::gradgen::Mat::zeros(),
        }
    }
}
impl<T: Scalar, const D: usize, const H: usize, const C: usize> ::core::default::Default
for MlpLossGrads<T, D, H, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
/// The differentiable inputs of [`mlp_loss`] as one value, named like its parameters: what an optimizer updates (`gradgen::optim`) with a [`MlpLossGrads`], and what a weight file holds. Pass its fields to `mlp_loss` and its backward by reference.
#[derive(Clone, Debug)]
pub struct MlpLossParams<T: Scalar, const D: usize, const H: usize, const C: usize> {
    /// The input `w1` of [`mlp_loss`].
    pub w1: Mat<D, H, T>,
    /// The input `b1` of [`mlp_loss`].
    pub b1: Mat<1, H, T>,
    /// The input `w2` of [`mlp_loss`].
    pub w2: Mat<H, C, T>,
    /// The input `b2` of [`mlp_loss`].
    pub b2: Mat<1, C, T>,
}
impl<T: Scalar, const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for MlpLossParams<T, D, H, C> {
    type Elem = T;
    fn for_each(&self, f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, T>)) {
        f("w1", self.w1.view());
        f("b1", self.b1.view());
        f("w2", self.w2.view());
        f("b2", self.b2.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, T>),
    ) {
        f("w1", self.w1.view_mut());
        f("b1", self.b1.view_mut());
        f("w2", self.w2.view_mut());
        f("b2", self.b2.view_mut());
    }
}
impl<
    T: Scalar,
    const D: usize,
    const H: usize,
    const C: usize,
> MlpLossParams<T, D, H, C> {
    /// Every matrix zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        MlpLossParams {
            w1: ::gradgen::Mat::zeros(),
            b1: ::gradgen::Mat::zeros(),
            w2: ::gradgen::Mat::zeros(),
            b2: ::gradgen::Mat::zeros(),
        }
    }
}
impl<T: Scalar, const D: usize, const H: usize, const C: usize> ::core::default::Default
for MlpLossParams<T, D, H, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
impl<T: Scalar, const D: usize, const H: usize, const C: usize> ::gradgen::Params
for MlpLossParams<T, D, H, C> {
    type Grads = MlpLossGrads<T, D, H, C>;
}
/// Backward pass of [`mlp_loss`], generated by `#[differentiable]`.
///
/// Returns the forward value and the gradient of `d_out · mlp_loss(…)` with respect to `w1`, `b1`, `w2`, `b2`, computed by the chain rule one binding at a time, in reverse. `d_out = 1` gives the gradient of `mlp_loss` itself.
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                          shape
///   x_matmul = x · w1                                                         [N × H]
///   x_matmul_plus_row = x_matmul + b1   (b1 broadcast over rows)              [N × H]
///   hidden = max(x_matmul_plus_row, 0)                                        [N × H]
///   hidden_matmul = hidden · w2                                               [N × C]
///   scores = hidden_matmul + b2   (b2 broadcast over rows)                    [N × C]
///   data_loss = mean_i −log softmax(scores)[i, yᵢ]                            scalar
///   w1_sq_sum = Σ w1²                                                         scalar
///   w2_sq_sum = Σ w2²                                                         scalar
///   l2 = w1_sq_sum + w2_sq_sum                                                scalar
///   prod = reg ∘ l2                                                           scalar
///   value = data_loss + prod                                                  scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                            scalar    seed
///   d_data_loss = d_out                                                       scalar    operator +
///   d_prod = d_out                                                            scalar    operator +
///   d_l2 = d_prod · reg                                                       scalar    operator *
///   d_w1_sq_sum = d_l2                                                        scalar    operator +
///   d_w2_sq_sum = d_l2                                                        scalar    operator +
///   d_w2 = 2·d_w2_sq_sum · w2                                                 [H × C]   sum_squares; contribution 1 of 2 to d_w2
///   d_w1 = 2·d_w1_sq_sum · w1                                                 [D × H]   sum_squares; contribution 1 of 2 to d_w1
///   d_scores = d_data_loss · (softmax(scores) − onehot(y)) / n_y              [N × C]   cross_entropy
///   d_b2 = Σ_rows d_scores   (broadcast → sum)                                [1 × C]   add_row
///   d_hidden_matmul = d_scores                                                [N × C]   add_row
///   d_hidden = d_hidden_matmul · w2ᵀ   [N × C]·[C × H]                        [N × H]   matmul
///   d_w2 += hiddenᵀ · d_hidden_matmul   [H × N]·[N × C]                                 matmul; contribution 2 of 2 to d_w2
///   d_x_matmul_plus_row = d_hidden where hidden > 0, else 0   (reuses relu)   [N × H]   relu
///   d_b1 = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                     [1 × H]   add_row
///   d_x_matmul = d_x_matmul_plus_row                                          [N × H]   add_row
///   d_w1 += xᵀ · d_x_matmul   [D × N]·[N × H]                                           matmul; contribution 2 of 2 to d_w1
///
/// Values used more than once receive one contribution per use, added up:
///   w2 receives 2 contributions (d_w2), from `w2_sq_sum = Σ w2²` and from `hidden_matmul = hidden · w2`
///   w1 receives 2 contributions (d_w1), from `w1_sq_sum = Σ w1²` and from `x_matmul = x · w1`
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
pub fn mlp_loss_backward<
    T: Scalar,
    const N: usize,
    const D: usize,
    const H: usize,
    const C: usize,
>(
    x: &Mat<N, D, T>,
    w1: &Mat<D, H, T>,
    b1: &Mat<1, H, T>,
    w2: &Mat<H, C, T>,
    b2: &Mat<1, C, T>,
    y: &Labels<N, C>,
    reg: T,
    d_out: T,
) -> MlpLossGrads<T, D, H, C> {
    let x_matmul: Mat<N, H, T> = x.matmul(w1);
    let x_matmul_plus_row: Mat<N, H, T> = x_matmul.into_add_row(b1);
    let hidden: Mat<N, H, T> = x_matmul_plus_row.into_relu();
    let hidden_matmul: Mat<N, C, T> = hidden.matmul(w2);
    let scores: Mat<N, C, T> = hidden_matmul.into_add_row(b2);
    let data_loss: T = scores.cross_entropy(y);
    let w1_sq_sum: T = w1.sum_squares();
    let w2_sq_sum: T = w2.sum_squares();
    let l2: T = w1_sq_sum + w2_sq_sum;
    let prod: T = reg * l2;
    let value: T = data_loss + prod;
    let d_data_loss: T = d_out;
    let d_prod: T = d_out;
    let d_l2: T = d_prod * reg;
    let d_w1_sq_sum: T = d_l2;
    let d_w2_sq_sum: T = d_l2;
    let mut d_w2: Mat<H, C, T> = w2.sum_squares_backward(d_w2_sq_sum);
    let mut d_w1: Mat<D, H, T> = w1.sum_squares_backward(d_w1_sq_sum);
    let d_scores: Mat<N, C, T> = scores.into_cross_entropy_backward(y, d_data_loss);
    let d_b2: Mat<1, C, T> = d_scores.col_sums();
    let d_hidden_matmul: Mat<N, C, T> = d_scores;
    let d_hidden: Mat<N, H, T> = d_hidden_matmul.matmul_t(w2);
    d_w2.add_t_matmul_assign(&hidden, &d_hidden_matmul);
    let d_x_matmul_plus_row: Mat<N, H, T> = hidden.relu_backward(d_hidden);
    let d_b1: Mat<1, H, T> = d_x_matmul_plus_row.col_sums();
    let d_x_matmul: Mat<N, H, T> = d_x_matmul_plus_row;
    d_w1.add_t_matmul_assign(x, &d_x_matmul);
    MlpLossGrads {
        value,
        w1: d_w1,
        b1: d_b1,
        w2: d_w2,
        b2: d_b2,
    }
}
/// Checks the gradients of [`mlp_loss_backward`] against central finite differences of [`mlp_loss`] at the given point, for every differentiable input. Generated by `#[differentiable]`.
///
/// Each input is perturbed entry by entry (two evaluations of `mlp_loss` per entry); the report gives, per input, the worst relative error and where.
#[must_use]
#[allow(
    unused_variables,
    clippy::too_many_arguments,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::used_underscore_binding,
    clippy::needless_pass_by_value
)]
pub fn mlp_loss_gradcheck<
    T: Scalar,
    const N: usize,
    const D: usize,
    const H: usize,
    const C: usize,
>(
    x: &Mat<N, D, T>,
    w1: &Mat<D, H, T>,
    b1: &Mat<1, H, T>,
    w2: &Mat<H, C, T>,
    b2: &Mat<1, C, T>,
    y: &Labels<N, C>,
    reg: T,
) -> ::gradgen::check::GradCheck {
    let grads = mlp_loss_backward(
        x,
        w1,
        b1,
        w2,
        b2,
        y,
        reg,
        <T as ::gradgen::Scalar>::from_f64(1.0),
    );
    let x_f64 = x.cast::<f64>();
    let w1_f64 = w1.cast::<f64>();
    let b1_f64 = b1.cast::<f64>();
    let w2_f64 = w2.cast::<f64>();
    let b2_f64 = b2.cast::<f64>();
    let mut check = ::gradgen::check::GradCheck::new(
        "mlp_loss",
        ::gradgen::Scalar::to_f64(grads.value),
    );
    check
        .push(
            "w1",
            ::gradgen::check::gradient(
                |w1: &Mat<D, H, f64>| mlp_loss::<
                    f64,
                    N,
                    D,
                    H,
                    C,
                >(
                    &x_f64,
                    w1,
                    &b1_f64,
                    &w2_f64,
                    &b2_f64,
                    y,
                    ::gradgen::Scalar::to_f64(reg),
                ),
                &w1.cast::<f64>(),
                &grads.w1.cast::<f64>(),
            ),
        );
    check
        .push(
            "b1",
            ::gradgen::check::gradient(
                |b1: &Mat<1, H, f64>| mlp_loss::<
                    f64,
                    N,
                    D,
                    H,
                    C,
                >(
                    &x_f64,
                    &w1_f64,
                    b1,
                    &w2_f64,
                    &b2_f64,
                    y,
                    ::gradgen::Scalar::to_f64(reg),
                ),
                &b1.cast::<f64>(),
                &grads.b1.cast::<f64>(),
            ),
        );
    check
        .push(
            "w2",
            ::gradgen::check::gradient(
                |w2: &Mat<H, C, f64>| mlp_loss::<
                    f64,
                    N,
                    D,
                    H,
                    C,
                >(
                    &x_f64,
                    &w1_f64,
                    &b1_f64,
                    w2,
                    &b2_f64,
                    y,
                    ::gradgen::Scalar::to_f64(reg),
                ),
                &w2.cast::<f64>(),
                &grads.w2.cast::<f64>(),
            ),
        );
    check
        .push(
            "b2",
            ::gradgen::check::gradient(
                |b2: &Mat<1, C, f64>| mlp_loss::<
                    f64,
                    N,
                    D,
                    H,
                    C,
                >(
                    &x_f64,
                    &w1_f64,
                    &b1_f64,
                    &w2_f64,
                    b2,
                    y,
                    ::gradgen::Scalar::to_f64(reg),
                ),
                &b2.cast::<f64>(),
                &grads.b2.cast::<f64>(),
            ),
        );
    check
}
