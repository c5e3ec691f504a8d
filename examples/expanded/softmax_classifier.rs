// The code `#[differentiable]` generates for examples/softmax_classifier.rs.
// A test keeps it current: after changing the example or the macro, run
//     GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded
// and read the diff.

/// The forward value of [`softmax_loss`] and its gradients, returned by [`softmax_loss_backward`].
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                       shape
///   h = x · w                                                              [N × C]
///   score = h + b   (b broadcast over rows)                                [N × C]
///   correct = score[i, yᵢ]                                                 [N × 1]
///   score_exp = exp(score)                                                 [N × C]
///   rowsum = Σ_cols score_exp                                              [N × 1]
///   rowsum_ln = ln(rowsum)                                                 [N × 1]
///   diff = rowsum_ln − correct                                             [N × 1]
///   value = mean(diff)                                                     scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                         scalar    seed
///   d_diff = d_out / (N·1) in every entry                                  [N × 1]   mean
///   d_correct = −d_diff                                                    [N × 1]   operator -
///   d_rowsum_ln = d_diff                                                   [N × 1]   operator -
///   d_rowsum = d_rowsum_ln / rowsum                                        [N × 1]   ln
///   d_score_exp = d_rowsum repeated over the columns   (sum → broadcast)   [N × C]   row_sums
///   d_score = d_score_exp ∘ score_exp   (reuses exp)                       [N × C]   exp; contribution 1 of 2 to d_score
///   d_score += d_correct scattered to the entries (i, yᵢ)                            pick; contribution 2 of 2 to d_score
///   d_b = Σ_rows d_score   (broadcast → sum)                               [1 × C]   add_row
///   d_h = d_score                                                          [N × C]   add_row
///   d_x = d_h · wᵀ   [N × C]·[C × D]                                       [N × D]   matmul
///   d_w = xᵀ · d_h   [D × N]·[N × C]                                       [D × C]   matmul
///
/// Values used more than once receive one contribution per use, added up:
///   score receives 2 contributions (d_score), from `score_exp = exp(score)` and from `correct = score[i, yᵢ]`
/// ```
#[derive(Clone, Debug)]
pub struct SoftmaxLossGrads<const N: usize, const D: usize, const C: usize> {
    /// The forward value, `softmax_loss(…)`.
    pub value: f64,
    /// The gradient with respect to `x`, shaped like it: [N × D].
    pub x: Mat<N, D>,
    /// The gradient with respect to `w`, shaped like it: [D × C].
    pub w: Mat<D, C>,
    /// The gradient with respect to `b`, shaped like it: [1 × C].
    pub b: Mat<1, C>,
}
impl<const N: usize, const D: usize, const C: usize> SoftmaxLossGrads<N, D, C> {
    /// The derivation of [`softmax_loss_backward`], as its documentation shows it: the forward bindings with their shapes, then every gradient contribution in reverse order.
    pub const DERIVATION: &'static str = "Forward: one operation per binding                                       shape\n  h = x · w                                                              [N × C]\n  score = h + b   (b broadcast over rows)                                [N × C]\n  correct = score[i, yᵢ]                                                 [N × 1]\n  score_exp = exp(score)                                                 [N × C]\n  rowsum = Σ_cols score_exp                                              [N × 1]\n  rowsum_ln = ln(rowsum)                                                 [N × 1]\n  diff = rowsum_ln − correct                                             [N × 1]\n  value = mean(diff)                                                     scalar\n\nBackward, in reverse: each gradient has its value's shape\n  d_out: the gradient flowing into value (given)                         scalar    seed\n  d_diff = d_out / (N·1) in every entry                                  [N × 1]   mean\n  d_correct = −d_diff                                                    [N × 1]   operator -\n  d_rowsum_ln = d_diff                                                   [N × 1]   operator -\n  d_rowsum = d_rowsum_ln / rowsum                                        [N × 1]   ln\n  d_score_exp = d_rowsum repeated over the columns   (sum → broadcast)   [N × C]   row_sums\n  d_score = d_score_exp ∘ score_exp   (reuses exp)                       [N × C]   exp; contribution 1 of 2 to d_score\n  d_score += d_correct scattered to the entries (i, yᵢ)                            pick; contribution 2 of 2 to d_score\n  d_b = Σ_rows d_score   (broadcast → sum)                               [1 × C]   add_row\n  d_h = d_score                                                          [N × C]   add_row\n  d_x = d_h · wᵀ   [N × C]·[C × D]                                       [N × D]   matmul\n  d_w = xᵀ · d_h   [D × N]·[N × C]                                       [D × C]   matmul\n\nValues used more than once receive one contribution per use, added up:\n  score receives 2 contributions (d_score), from `score_exp = exp(score)` and from `correct = score[i, yᵢ]`\n";
    /// The gradients in the order of `softmax_loss`'s parameters, `()` for a parameter that is not differentiated: what the backward of a differentiable function that calls `softmax_loss` takes apart.
    #[must_use]
    #[allow(clippy::unused_self)]
    pub fn into_inputs(self) -> (Mat<N, D>, Mat<D, C>, Mat<1, C>, ()) {
        (self.x, self.w, self.b, ())
    }
}
impl<const N: usize, const D: usize, const C: usize> ::gradgen::Tensors
for SoftmaxLossGrads<N, D, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("x", self.x.view());
        f("w", self.w.view());
        f("b", self.b.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("x", self.x.view_mut());
        f("w", self.w.view_mut());
        f("b", self.b.view_mut());
    }
}
impl<const N: usize, const D: usize, const C: usize> SoftmaxLossGrads<N, D, C> {
    /// Every matrix zero, and the value zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        SoftmaxLossGrads {
            value: <f64 as ::gradgen::Scalar>::from_f64(0.0),
            x: ::gradgen::Mat::zeros(),
            w: ::gradgen::Mat::zeros(),
            b: ::gradgen::Mat::zeros(),
        }
    }
}
impl<const N: usize, const D: usize, const C: usize> ::core::default::Default
for SoftmaxLossGrads<N, D, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
/// The differentiable inputs of [`softmax_loss`] as one value, named like its parameters: what an optimizer updates (`gradgen::optim`) with a [`SoftmaxLossGrads`], and what a weight file holds. Pass its fields to `softmax_loss` and its backward by reference.
#[derive(Clone, Debug)]
pub struct SoftmaxLossParams<const N: usize, const D: usize, const C: usize> {
    /// The input `x` of [`softmax_loss`].
    pub x: Mat<N, D>,
    /// The input `w` of [`softmax_loss`].
    pub w: Mat<D, C>,
    /// The input `b` of [`softmax_loss`].
    pub b: Mat<1, C>,
}
impl<const N: usize, const D: usize, const C: usize> ::gradgen::Tensors
for SoftmaxLossParams<N, D, C> {
    type Elem = f64;
    fn for_each(
        &self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, f64>),
    ) {
        f("x", self.x.view());
        f("w", self.w.view());
        f("b", self.b.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, f64>),
    ) {
        f("x", self.x.view_mut());
        f("w", self.w.view_mut());
        f("b", self.b.view_mut());
    }
}
impl<const N: usize, const D: usize, const C: usize> SoftmaxLossParams<N, D, C> {
    /// Every matrix zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        SoftmaxLossParams {
            x: ::gradgen::Mat::zeros(),
            w: ::gradgen::Mat::zeros(),
            b: ::gradgen::Mat::zeros(),
        }
    }
}
impl<const N: usize, const D: usize, const C: usize> ::core::default::Default
for SoftmaxLossParams<N, D, C> {
    fn default() -> Self {
        Self::zeros()
    }
}
impl<const N: usize, const D: usize, const C: usize> ::gradgen::Params
for SoftmaxLossParams<N, D, C> {
    type Grads = SoftmaxLossGrads<N, D, C>;
}
/// Backward pass of [`softmax_loss`], generated by `#[differentiable]`.
///
/// Returns the forward value and the gradient of `d_out · softmax_loss(…)` with respect to `x`, `w`, `b`, computed by the chain rule one binding at a time, in reverse. `d_out = 1` gives the gradient of `softmax_loss` itself.
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                       shape
///   h = x · w                                                              [N × C]
///   score = h + b   (b broadcast over rows)                                [N × C]
///   correct = score[i, yᵢ]                                                 [N × 1]
///   score_exp = exp(score)                                                 [N × C]
///   rowsum = Σ_cols score_exp                                              [N × 1]
///   rowsum_ln = ln(rowsum)                                                 [N × 1]
///   diff = rowsum_ln − correct                                             [N × 1]
///   value = mean(diff)                                                     scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                         scalar    seed
///   d_diff = d_out / (N·1) in every entry                                  [N × 1]   mean
///   d_correct = −d_diff                                                    [N × 1]   operator -
///   d_rowsum_ln = d_diff                                                   [N × 1]   operator -
///   d_rowsum = d_rowsum_ln / rowsum                                        [N × 1]   ln
///   d_score_exp = d_rowsum repeated over the columns   (sum → broadcast)   [N × C]   row_sums
///   d_score = d_score_exp ∘ score_exp   (reuses exp)                       [N × C]   exp; contribution 1 of 2 to d_score
///   d_score += d_correct scattered to the entries (i, yᵢ)                            pick; contribution 2 of 2 to d_score
///   d_b = Σ_rows d_score   (broadcast → sum)                               [1 × C]   add_row
///   d_h = d_score                                                          [N × C]   add_row
///   d_x = d_h · wᵀ   [N × C]·[C × D]                                       [N × D]   matmul
///   d_w = xᵀ · d_h   [D × N]·[N × C]                                       [D × C]   matmul
///
/// Values used more than once receive one contribution per use, added up:
///   score receives 2 contributions (d_score), from `score_exp = exp(score)` and from `correct = score[i, yᵢ]`
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
pub fn softmax_loss_backward<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
    d_out: f64,
) -> SoftmaxLossGrads<N, D, C> {
    let h: Mat<N, C> = x.matmul(w);
    let score: Mat<N, C> = h.into_add_row(b);
    let correct: Mat<N, 1> = score.pick(y);
    let score_exp: Mat<N, C> = score.into_exp();
    let rowsum: Mat<N, 1> = score_exp.row_sums();
    let rowsum_ln: Mat<N, 1> = rowsum.ln();
    let diff: Mat<N, 1> = rowsum_ln - correct;
    let value: f64 = diff.mean();
    let d_diff: Mat<N, 1> = Mat::mean_backward(d_out);
    let d_correct: Mat<N, 1> = -&d_diff;
    let d_rowsum_ln: Mat<N, 1> = d_diff;
    let d_rowsum: Mat<N, 1> = d_rowsum_ln / &rowsum;
    let d_score_exp: Mat<N, C> = d_rowsum.broadcast_cols::<C>();
    let mut d_score: Mat<N, C> = d_score_exp * &score_exp;
    d_score.scatter_add(y, &d_correct);
    let d_b: Mat<1, C> = d_score.col_sums();
    let d_h: Mat<N, C> = d_score;
    let d_x: Mat<N, D> = d_h.matmul_t(w);
    let d_w: Mat<D, C> = x.t_matmul(&d_h);
    SoftmaxLossGrads {
        value,
        x: d_x,
        w: d_w,
        b: d_b,
    }
}
/// Checks the gradients of [`softmax_loss_backward`] against central finite differences of [`softmax_loss`] at the given point, for every differentiable input. Generated by `#[differentiable]`.
///
/// Each input is perturbed entry by entry (two evaluations of `softmax_loss` per entry); the report gives, per input, the worst relative error and where.
#[must_use]
#[allow(
    unused_variables,
    clippy::too_many_arguments,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::used_underscore_binding,
    clippy::needless_pass_by_value
)]
pub fn softmax_loss_gradcheck<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> ::gradgen::check::GradCheck {
    let grads = softmax_loss_backward(
        x,
        w,
        b,
        y,
        <f64 as ::gradgen::Scalar>::from_f64(1.0),
    );
    let mut check = ::gradgen::check::GradCheck::new(
        "softmax_loss",
        ::gradgen::Scalar::to_f64(grads.value),
    );
    check
        .push(
            "x",
            ::gradgen::check::gradient(
                |x: &Mat<N, D, f64>| softmax_loss(x, w, b, y),
                x,
                &grads.x,
            ),
        );
    check
        .push(
            "w",
            ::gradgen::check::gradient(
                |w: &Mat<D, C, f64>| softmax_loss(x, w, b, y),
                w,
                &grads.w,
            ),
        );
    check
        .push(
            "b",
            ::gradgen::check::gradient(
                |b: &Mat<1, C, f64>| softmax_loss(x, w, b, y),
                b,
                &grads.b,
            ),
        );
    check
}
