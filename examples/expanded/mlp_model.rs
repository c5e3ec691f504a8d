// The code `#[differentiable]` generates for examples/mlp_model.rs.
// A test keeps it current: after changing the example or the macro, run
//     GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded
// and read the diff.

/// The gradients of a [`Mlp`]'s weights, returned by the `_backward` of its `#[differentiable]` methods.
#[derive(Clone, Debug)]
pub struct MlpGrads<const D: usize, const H: usize, const C: usize> {
    /// The gradient with respect to `self.w1`, shaped like it.
    pub w1: Mat<D, H>,
    /// The gradient with respect to `self.b1`, shaped like it.
    pub b1: Mat<1, H>,
    /// The gradient with respect to `self.w2`, shaped like it.
    pub w2: Mat<H, C>,
    /// The gradient with respect to `self.b2`, shaped like it.
    pub b2: Mat<1, C>,
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for Mlp<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("w1", self.w1.view());
        f("b1", self.b1.view());
        f("w2", self.w2.view());
        f("b2", self.b2.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("w1", self.w1.view_mut());
        f("b1", self.b1.view_mut());
        f("w2", self.w2.view_mut());
        f("b2", self.b2.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for MlpGrads<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("w1", self.w1.view());
        f("b1", self.b1.view());
        f("w2", self.w2.view());
        f("b2", self.b2.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("w1", self.w1.view_mut());
        f("b1", self.b1.view_mut());
        f("w2", self.w2.view_mut());
        f("b2", self.b2.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> MlpGrads<D, H, C> {
    /// Every matrix zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        MlpGrads {
            w1: ::gradgen::Mat::zeros(),
            b1: ::gradgen::Mat::zeros(),
            w2: ::gradgen::Mat::zeros(),
            b2: ::gradgen::Mat::zeros(),
        }
    }
}
impl<const D: usize, const H: usize, const C: usize> ::core::default::Default
for MlpGrads<D, H, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Params for Mlp<D, H, C> {
    type Grads = MlpGrads<D, H, C>;
}
impl<const D: usize, const H: usize, const C: usize> Mlp<D, H, C> {
    /// One step of gradient descent: every weight moves by `-rate` times its gradient.
    pub fn step(&mut self, grads: &MlpGrads<D, H, C>, rate: f64) {
        self.w1 -= &grads.w1 * rate;
        self.b1 -= &grads.b1 * rate;
        self.w2 -= &grads.w2 * rate;
        self.b2 -= &grads.b2 * rate;
    }
}
#[doc(hidden)]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, non_snake_case)]
fn __gradgen_Mlp_loss<const D: usize, const H: usize, const C: usize, const N: usize>(
    self_w1: &Mat<D, H>,
    self_b1: &Mat<1, H>,
    self_w2: &Mat<H, C>,
    self_b2: &Mat<1, C>,
    x: &Mat<N, D>,
    y: &Labels<N, C>,
    reg: f64,
) -> f64 {
    let hidden = x.matmul(&self_w1).add_row(&self_b1).relu();
    let data_loss = hidden.matmul(&self_w2).add_row(&self_b2).cross_entropy(y);
    let l2 = self_w1.square().sum() + self_w2.square().sum();
    data_loss + reg * l2
}
/// The forward value of [`__gradgen_Mlp_loss`] and its gradients, returned by [`__gradgen_Mlp_loss_backward`].
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                                               shape
///   x_matmul = x · self_w1                                                                         [N × H]
///   x_matmul_plus_row = x_matmul + self_b1   (self_b1 broadcast over rows)                         [N × H]
///   hidden = max(x_matmul_plus_row, 0)                                                             [N × H]
///   hidden_matmul = hidden · self_w2                                                               [N × C]
///   hidden_matmul_plus_row = hidden_matmul + self_b2   (self_b2 broadcast over rows)               [N × C]
///   data_loss = mean_i −log softmax(hidden_matmul_plus_row)[i, yᵢ]                                 scalar
///   self_w1_sq_sum = Σ self_w1²                                                                    scalar
///   self_w2_sq_sum = Σ self_w2²                                                                    scalar
///   l2 = self_w1_sq_sum + self_w2_sq_sum                                                           scalar
///   prod = reg ∘ l2                                                                                scalar
///   value = data_loss + prod                                                                       scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                                                 scalar    seed
///   d_data_loss = d_out                                                                            scalar    operator +
///   d_prod = d_out                                                                                 scalar    operator +
///   d_l2 = d_prod · reg                                                                            scalar    operator *
///   d_self_w1_sq_sum = d_l2                                                                        scalar    operator +
///   d_self_w2_sq_sum = d_l2                                                                        scalar    operator +
///   d_self_w2 = 2·d_self_w2_sq_sum · self_w2                                                       [H × C]   sum_squares; contribution 1 of 2 to d_self_w2
///   d_self_w1 = 2·d_self_w1_sq_sum · self_w1                                                       [D × H]   sum_squares; contribution 1 of 2 to d_self_w1
///   d_hidden_matmul_plus_row = d_data_loss · (softmax(hidden_matmul_plus_row) − onehot(y)) / n_y   [N × C]   cross_entropy
///   d_self_b2 = Σ_rows d_hidden_matmul_plus_row   (broadcast → sum)                                [1 × C]   add_row
///   d_hidden_matmul = d_hidden_matmul_plus_row                                                     [N × C]   add_row
///   d_hidden = d_hidden_matmul · self_w2ᵀ   [N × C]·[C × H]                                        [N × H]   matmul
///   d_self_w2 += hiddenᵀ · d_hidden_matmul   [H × N]·[N × C]                                                 matmul; contribution 2 of 2 to d_self_w2
///   d_x_matmul_plus_row = d_hidden where hidden > 0, else 0   (reuses relu)                        [N × H]   relu
///   d_self_b1 = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                                     [1 × H]   add_row
///   d_x_matmul = d_x_matmul_plus_row                                                               [N × H]   add_row
///   d_self_w1 += xᵀ · d_x_matmul   [D × N]·[N × H]                                                           matmul; contribution 2 of 2 to d_self_w1
///
/// Values used more than once receive one contribution per use, added up:
///   self_w2 receives 2 contributions (d_self_w2), from `self_w2_sq_sum = Σ self_w2²` and from `hidden_matmul = hidden · self_w2`
///   self_w1 receives 2 contributions (d_self_w1), from `self_w1_sq_sum = Σ self_w1²` and from `x_matmul = x · self_w1`
/// ```
#[derive(Clone, Debug)]
struct GradgenMlpLossGrads<const D: usize, const H: usize, const C: usize> {
    /// The forward value, `__gradgen_Mlp_loss(…)`.
    pub value: f64,
    /// The gradient with respect to `self_w1`, shaped like it: [D × H].
    pub self_w1: Mat<D, H>,
    /// The gradient with respect to `self_b1`, shaped like it: [1 × H].
    pub self_b1: Mat<1, H>,
    /// The gradient with respect to `self_w2`, shaped like it: [H × C].
    pub self_w2: Mat<H, C>,
    /// The gradient with respect to `self_b2`, shaped like it: [1 × C].
    pub self_b2: Mat<1, C>,
}
impl<const D: usize, const H: usize, const C: usize> GradgenMlpLossGrads<D, H, C> {
    /// The derivation of [`__gradgen_Mlp_loss_backward`], as its documentation shows it: the forward bindings with their shapes, then every gradient contribution in reverse order.
    pub const DERIVATION: &'static str = "Forward: one operation per binding                                                               shape\n  x_matmul = x · self_w1                                                                         [N × H]\n  x_matmul_plus_row = x_matmul + self_b1   (self_b1 broadcast over rows)                         [N × H]\n  hidden = max(x_matmul_plus_row, 0)                                                             [N × H]\n  hidden_matmul = hidden · self_w2                                                               [N × C]\n  hidden_matmul_plus_row = hidden_matmul + self_b2   (self_b2 broadcast over rows)               [N × C]\n  data_loss = mean_i −log softmax(hidden_matmul_plus_row)[i, yᵢ]                                 scalar\n  self_w1_sq_sum = Σ self_w1²                                                                    scalar\n  self_w2_sq_sum = Σ self_w2²                                                                    scalar\n  l2 = self_w1_sq_sum + self_w2_sq_sum                                                           scalar\n  prod = reg ∘ l2                                                                                scalar\n  value = data_loss + prod                                                                       scalar\n\nBackward, in reverse: each gradient has its value's shape\n  d_out: the gradient flowing into value (given)                                                 scalar    seed\n  d_data_loss = d_out                                                                            scalar    operator +\n  d_prod = d_out                                                                                 scalar    operator +\n  d_l2 = d_prod · reg                                                                            scalar    operator *\n  d_self_w1_sq_sum = d_l2                                                                        scalar    operator +\n  d_self_w2_sq_sum = d_l2                                                                        scalar    operator +\n  d_self_w2 = 2·d_self_w2_sq_sum · self_w2                                                       [H × C]   sum_squares; contribution 1 of 2 to d_self_w2\n  d_self_w1 = 2·d_self_w1_sq_sum · self_w1                                                       [D × H]   sum_squares; contribution 1 of 2 to d_self_w1\n  d_hidden_matmul_plus_row = d_data_loss · (softmax(hidden_matmul_plus_row) − onehot(y)) / n_y   [N × C]   cross_entropy\n  d_self_b2 = Σ_rows d_hidden_matmul_plus_row   (broadcast → sum)                                [1 × C]   add_row\n  d_hidden_matmul = d_hidden_matmul_plus_row                                                     [N × C]   add_row\n  d_hidden = d_hidden_matmul · self_w2ᵀ   [N × C]·[C × H]                                        [N × H]   matmul\n  d_self_w2 += hiddenᵀ · d_hidden_matmul   [H × N]·[N × C]                                                 matmul; contribution 2 of 2 to d_self_w2\n  d_x_matmul_plus_row = d_hidden where hidden > 0, else 0   (reuses relu)                        [N × H]   relu\n  d_self_b1 = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                                     [1 × H]   add_row\n  d_x_matmul = d_x_matmul_plus_row                                                               [N × H]   add_row\n  d_self_w1 += xᵀ · d_x_matmul   [D × N]·[N × H]                                                           matmul; contribution 2 of 2 to d_self_w1\n\nValues used more than once receive one contribution per use, added up:\n  self_w2 receives 2 contributions (d_self_w2), from `self_w2_sq_sum = Σ self_w2²` and from `hidden_matmul = hidden · self_w2`\n  self_w1 receives 2 contributions (d_self_w1), from `self_w1_sq_sum = Σ self_w1²` and from `x_matmul = x · self_w1`\n";
    /// The gradients in the order of `__gradgen_Mlp_loss`'s parameters, `()` for a parameter that is not differentiated: what the backward of a differentiable function that calls `__gradgen_Mlp_loss` takes apart.
    #[must_use]
    #[allow(clippy::unused_self)]
    pub fn into_inputs(
        self,
    ) -> (Mat<D, H>, Mat<1, H>, Mat<H, C>, Mat<1, C>, (), (), ()) {
        (self.self_w1, self.self_b1, self.self_w2, self.self_b2, (), (), ())
    }
}
impl<const D: usize, const H: usize, const C: usize> ::gradgen::Tensors
for GradgenMlpLossGrads<D, H, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("self_w1", self.self_w1.view());
        f("self_b1", self.self_b1.view());
        f("self_w2", self.self_w2.view());
        f("self_b2", self.self_b2.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("self_w1", self.self_w1.view_mut());
        f("self_b1", self.self_b1.view_mut());
        f("self_w2", self.self_w2.view_mut());
        f("self_b2", self.self_b2.view_mut());
    }
}
impl<const D: usize, const H: usize, const C: usize> GradgenMlpLossGrads<D, H, C> {
    /// Every matrix zero, and the value zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        GradgenMlpLossGrads {
            value: <f64 as ::gradgen::Scalar>::from_f64(0.0),
            self_w1: ::gradgen::Mat::zeros(),
            self_b1: ::gradgen::Mat::zeros(),
            self_w2: ::gradgen::Mat::zeros(),
            self_b2: ::gradgen::Mat::zeros(),
        }
    }
}
impl<const D: usize, const H: usize, const C: usize> ::core::default::Default
for GradgenMlpLossGrads<D, H, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
/// Backward pass of [`__gradgen_Mlp_loss`], generated by `#[differentiable]`.
///
/// Returns the forward value and the gradient of `d_out · __gradgen_Mlp_loss(…)` with respect to `self_w1`, `self_b1`, `self_w2`, `self_b2`, computed by the chain rule one binding at a time, in reverse. `d_out = 1` gives the gradient of `__gradgen_Mlp_loss` itself.
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                                               shape
///   x_matmul = x · self_w1                                                                         [N × H]
///   x_matmul_plus_row = x_matmul + self_b1   (self_b1 broadcast over rows)                         [N × H]
///   hidden = max(x_matmul_plus_row, 0)                                                             [N × H]
///   hidden_matmul = hidden · self_w2                                                               [N × C]
///   hidden_matmul_plus_row = hidden_matmul + self_b2   (self_b2 broadcast over rows)               [N × C]
///   data_loss = mean_i −log softmax(hidden_matmul_plus_row)[i, yᵢ]                                 scalar
///   self_w1_sq_sum = Σ self_w1²                                                                    scalar
///   self_w2_sq_sum = Σ self_w2²                                                                    scalar
///   l2 = self_w1_sq_sum + self_w2_sq_sum                                                           scalar
///   prod = reg ∘ l2                                                                                scalar
///   value = data_loss + prod                                                                       scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                                                 scalar    seed
///   d_data_loss = d_out                                                                            scalar    operator +
///   d_prod = d_out                                                                                 scalar    operator +
///   d_l2 = d_prod · reg                                                                            scalar    operator *
///   d_self_w1_sq_sum = d_l2                                                                        scalar    operator +
///   d_self_w2_sq_sum = d_l2                                                                        scalar    operator +
///   d_self_w2 = 2·d_self_w2_sq_sum · self_w2                                                       [H × C]   sum_squares; contribution 1 of 2 to d_self_w2
///   d_self_w1 = 2·d_self_w1_sq_sum · self_w1                                                       [D × H]   sum_squares; contribution 1 of 2 to d_self_w1
///   d_hidden_matmul_plus_row = d_data_loss · (softmax(hidden_matmul_plus_row) − onehot(y)) / n_y   [N × C]   cross_entropy
///   d_self_b2 = Σ_rows d_hidden_matmul_plus_row   (broadcast → sum)                                [1 × C]   add_row
///   d_hidden_matmul = d_hidden_matmul_plus_row                                                     [N × C]   add_row
///   d_hidden = d_hidden_matmul · self_w2ᵀ   [N × C]·[C × H]                                        [N × H]   matmul
///   d_self_w2 += hiddenᵀ · d_hidden_matmul   [H × N]·[N × C]                                                 matmul; contribution 2 of 2 to d_self_w2
///   d_x_matmul_plus_row = d_hidden where hidden > 0, else 0   (reuses relu)                        [N × H]   relu
///   d_self_b1 = Σ_rows d_x_matmul_plus_row   (broadcast → sum)                                     [1 × H]   add_row
///   d_x_matmul = d_x_matmul_plus_row                                                               [N × H]   add_row
///   d_self_w1 += xᵀ · d_x_matmul   [D × N]·[N × H]                                                           matmul; contribution 2 of 2 to d_self_w1
///
/// Values used more than once receive one contribution per use, added up:
///   self_w2 receives 2 contributions (d_self_w2), from `self_w2_sq_sum = Σ self_w2²` and from `hidden_matmul = hidden · self_w2`
///   self_w1 receives 2 contributions (d_self_w1), from `self_w1_sq_sum = Σ self_w1²` and from `x_matmul = x · self_w1`
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
fn __gradgen_Mlp_loss_backward<
    const D: usize,
    const H: usize,
    const C: usize,
    const N: usize,
>(
    self_w1: &Mat<D, H>,
    self_b1: &Mat<1, H>,
    self_w2: &Mat<H, C>,
    self_b2: &Mat<1, C>,
    x: &Mat<N, D>,
    y: &Labels<N, C>,
    reg: f64,
    d_out: f64,
) -> GradgenMlpLossGrads<D, H, C> {
    let x_matmul: Mat<N, H> = x.matmul(self_w1);
    let x_matmul_plus_row: Mat<N, H> = x_matmul.into_add_row(self_b1);
    let hidden: Mat<N, H> = x_matmul_plus_row.into_relu();
    let hidden_matmul: Mat<N, C> = hidden.matmul(self_w2);
    let hidden_matmul_plus_row: Mat<N, C> = hidden_matmul.into_add_row(self_b2);
    let data_loss: f64 = hidden_matmul_plus_row.cross_entropy(y);
    let self_w1_sq_sum: f64 = self_w1.sum_squares();
    let self_w2_sq_sum: f64 = self_w2.sum_squares();
    let l2: f64 = self_w1_sq_sum + self_w2_sq_sum;
    let prod: f64 = reg * l2;
    let value: f64 = data_loss + prod;
    let d_data_loss: f64 = d_out;
    let d_prod: f64 = d_out;
    let d_l2: f64 = d_prod * reg;
    let d_self_w1_sq_sum: f64 = d_l2;
    let d_self_w2_sq_sum: f64 = d_l2;
    let mut d_self_w2: Mat<H, C> = self_w2.sum_squares_backward(d_self_w2_sq_sum);
    let mut d_self_w1: Mat<D, H> = self_w1.sum_squares_backward(d_self_w1_sq_sum);
    let d_hidden_matmul_plus_row: Mat<N, C> = hidden_matmul_plus_row
        .into_cross_entropy_backward(y, d_data_loss);
    let d_self_b2: Mat<1, C> = d_hidden_matmul_plus_row.col_sums();
    let d_hidden_matmul: Mat<N, C> = d_hidden_matmul_plus_row;
    let d_hidden: Mat<N, H> = d_hidden_matmul.matmul_t(self_w2);
    d_self_w2.add_t_matmul_assign(&hidden, &d_hidden_matmul);
    let d_x_matmul_plus_row: Mat<N, H> = hidden.relu_backward(d_hidden);
    let d_self_b1: Mat<1, H> = d_x_matmul_plus_row.col_sums();
    let d_x_matmul: Mat<N, H> = d_x_matmul_plus_row;
    d_self_w1.add_t_matmul_assign(x, &d_x_matmul);
    GradgenMlpLossGrads {
        value,
        self_w1: d_self_w1,
        self_b1: d_self_b1,
        self_w2: d_self_w2,
        self_b2: d_self_b2,
    }
}
/// Checks the gradients of [`__gradgen_Mlp_loss_backward`] against central finite differences of [`__gradgen_Mlp_loss`] at the given point, for every differentiable input. Generated by `#[differentiable]`.
///
/// Each input is perturbed entry by entry (two evaluations of `__gradgen_Mlp_loss` per entry); the report gives, per input, the worst relative error and where.
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
fn __gradgen_Mlp_loss_gradcheck<
    const D: usize,
    const H: usize,
    const C: usize,
    const N: usize,
>(
    self_w1: &Mat<D, H>,
    self_b1: &Mat<1, H>,
    self_w2: &Mat<H, C>,
    self_b2: &Mat<1, C>,
    x: &Mat<N, D>,
    y: &Labels<N, C>,
    reg: f64,
) -> ::gradgen::check::GradCheck {
    let grads = __gradgen_Mlp_loss_backward(
        self_w1,
        self_b1,
        self_w2,
        self_b2,
        x,
        y,
        reg,
        <f64 as ::gradgen::Scalar>::from_f64(1.0),
    );
    let mut check = ::gradgen::check::GradCheck::new(
        "__gradgen_Mlp_loss",
        ::gradgen::Scalar::to_f64(grads.value),
    );
    check
        .push(
            "self_w1",
            ::gradgen::check::gradient(
                |self_w1: &Mat<D, H, f64>| __gradgen_Mlp_loss(
                    self_w1,
                    self_b1,
                    self_w2,
                    self_b2,
                    x,
                    y,
                    reg,
                ),
                self_w1,
                &grads.self_w1,
            ),
        );
    check
        .push(
            "self_b1",
            ::gradgen::check::gradient(
                |self_b1: &Mat<1, H, f64>| __gradgen_Mlp_loss(
                    self_w1,
                    self_b1,
                    self_w2,
                    self_b2,
                    x,
                    y,
                    reg,
                ),
                self_b1,
                &grads.self_b1,
            ),
        );
    check
        .push(
            "self_w2",
            ::gradgen::check::gradient(
                |self_w2: &Mat<H, C, f64>| __gradgen_Mlp_loss(
                    self_w1,
                    self_b1,
                    self_w2,
                    self_b2,
                    x,
                    y,
                    reg,
                ),
                self_w2,
                &grads.self_w2,
            ),
        );
    check
        .push(
            "self_b2",
            ::gradgen::check::gradient(
                |self_b2: &Mat<1, C, f64>| __gradgen_Mlp_loss(
                    self_w1,
                    self_b1,
                    self_w2,
                    self_b2,
                    x,
                    y,
                    reg,
                ),
                self_b2,
                &grads.self_b2,
            ),
        );
    check
}
impl<const D: usize, const H: usize, const C: usize> Mlp<D, H, C> {
    /// Backward pass of [`Mlp::loss`], generated by `#[differentiable]`: the value, and the gradient of `d_out · self.loss(…)` with respect to each weight of the model.
    #[must_use]
    #[allow(
        clippy::too_many_arguments,
        clippy::needless_pass_by_value,
        unused_variables
    )]
    pub fn loss_backward<const N: usize>(
        &self,
        x: &Mat<N, D>,
        y: &Labels<N, C>,
        reg: f64,
        d_out: f64,
    ) -> (f64, MlpGrads<D, H, C>) {
        let grads = __gradgen_Mlp_loss_backward(
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            x,
            y,
            reg,
            d_out,
        );
        (
            grads.value,
            MlpGrads {
                w1: grads.self_w1,
                b1: grads.self_b1,
                w2: grads.self_w2,
                b2: grads.self_b2,
            },
        )
    }
    /// Checks [`Mlp::loss_backward`] against central finite differences of [`Mlp::loss`] at these weights and arguments, weight by weight. Generated by `#[differentiable]`.
    #[must_use]
    #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
    pub fn loss_gradcheck<const N: usize>(
        &self,
        x: &Mat<N, D>,
        y: &Labels<N, C>,
        reg: f64,
    ) -> ::gradgen::check::GradCheck {
        let mut check = __gradgen_Mlp_loss_gradcheck(
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            x,
            y,
            reg,
        );
        check.function = "Mlp::loss";
        for (name, _) in &mut check.inputs {
            if let ::std::option::Option::Some(weight) = name.strip_prefix("self_") {
                *name = ::std::string::ToString::to_string(weight);
            }
        }
        check
    }
}
