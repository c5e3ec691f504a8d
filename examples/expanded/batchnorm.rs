// The code `#[differentiable]` generates for examples/batchnorm.rs.
// A test keeps it current: after changing the example or the macro, run
//     GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded
// and read the diff.

/// The forward value of [`batchnorm_loss`] and its gradients, returned by [`batchnorm_loss_backward`].
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                 shape
///   mu = mean_rows x                                                 [1 × D]
///   xc = x − mu   (mu broadcast over rows)                           [N × D]
///   var = mean_rows xc²                                              [1 × D]
///   sum_2 = var + eps                                                [1 × D]
///   sum_2_sqrt = √sum_2                                              [1 × D]
///   inv_std = sum_2_sqrt^-1                                          [1 × D]
///   xhat = xc ∘ inv_std   (inv_std broadcast over rows)              [N × D]
///   xhat_times_row = xhat ∘ gamma   (gamma broadcast over rows)      [N × D]
///   out = xhat_times_row + beta   (beta broadcast over rows)         [N × D]
///   value = Σ out ∘ g                                                scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                   scalar    seed
///   d_out_2 = d_out · g                                              [N × D]   inner
///   d_beta = Σ_rows d_out_2   (broadcast → sum)                      [1 × D]   add_row
///   d_xhat_times_row = d_out_2                                       [N × D]   add_row
///   d_gamma = Σ_rows (d_xhat_times_row ∘ xhat)   (broadcast → sum)   [1 × D]   mul_row
///   d_xhat = d_xhat_times_row ∘ gamma                                [N × D]   mul_row
///   d_inv_std = Σ_rows (d_xhat ∘ xc)   (broadcast → sum)             [1 × D]   mul_row
///   d_xc = d_xhat ∘ inv_std                                          [N × D]   mul_row; contribution 1 of 2 to d_xc
///   d_sum_2_sqrt = d_inv_std · (-1) ∘ sum_2_sqrt^(-1 − 1)            [1 × D]   powi
///   d_sum_2 = d_sum_2_sqrt / (2·sum_2_sqrt)   (reuses sqrt)          [1 × D]   sqrt
///   d_var = d_sum_2                                                  [1 × D]   operator +
///   d_xc += 2·d_var / N ∘ xc   (d_var repeated over the rows)                  col_mean_squares; contribution 2 of 2 to d_xc
///   d_mu = −Σ_rows d_xc   (broadcast → sum)                          [1 × D]   sub_row
///   d_x = d_xc                                                       [N × D]   sub_row; contribution 1 of 2 to d_x
///   d_x += d_mu / N repeated over the rows                                     col_means; contribution 2 of 2 to d_x
///
/// Values used more than once receive one contribution per use, added up:
///   xc receives 2 contributions (d_xc), from `xhat = xc ∘ inv_std   (inv_std broadcast over rows)` and from `var = mean_rows xc²`
///   x receives 2 contributions (d_x), from `xc = x − mu   (mu broadcast over rows)` and from `mu = mean_rows x`
/// ```
#[derive(Clone, Debug)]
pub struct BatchnormLossGrads<T: Scalar, const N: usize, const D: usize> {
    /// The forward value, `batchnorm_loss(…)`.
    pub value: T,
    /// The gradient with respect to `x`, shaped like it: [N × D].
    pub x: Mat<N, D, T>,
    /// The gradient with respect to `gamma`, shaped like it: [1 × D].
    pub gamma: Mat<1, D, T>,
    /// The gradient with respect to `beta`, shaped like it: [1 × D].
    pub beta: Mat<1, D, T>,
}
impl<T: Scalar, const N: usize, const D: usize> BatchnormLossGrads<T, N, D> {
    /// The derivation of [`batchnorm_loss_backward`], as its documentation shows it: the forward bindings with their shapes, then every gradient contribution in reverse order.
    pub const DERIVATION: &'static str = "Forward: one operation per binding                                 shape\n  mu = mean_rows x                                                 [1 × D]\n  xc = x − mu   (mu broadcast over rows)                           [N × D]\n  var = mean_rows xc²                                              [1 × D]\n  sum_2 = var + eps                                                [1 × D]\n  sum_2_sqrt = √sum_2                                              [1 × D]\n  inv_std = sum_2_sqrt^-1                                          [1 × D]\n  xhat = xc ∘ inv_std   (inv_std broadcast over rows)              [N × D]\n  xhat_times_row = xhat ∘ gamma   (gamma broadcast over rows)      [N × D]\n  out = xhat_times_row + beta   (beta broadcast over rows)         [N × D]\n  value = Σ out ∘ g                                                scalar\n\nBackward, in reverse: each gradient has its value's shape\n  d_out: the gradient flowing into value (given)                   scalar    seed\n  d_out_2 = d_out · g                                              [N × D]   inner\n  d_beta = Σ_rows d_out_2   (broadcast → sum)                      [1 × D]   add_row\n  d_xhat_times_row = d_out_2                                       [N × D]   add_row\n  d_gamma = Σ_rows (d_xhat_times_row ∘ xhat)   (broadcast → sum)   [1 × D]   mul_row\n  d_xhat = d_xhat_times_row ∘ gamma                                [N × D]   mul_row\n  d_inv_std = Σ_rows (d_xhat ∘ xc)   (broadcast → sum)             [1 × D]   mul_row\n  d_xc = d_xhat ∘ inv_std                                          [N × D]   mul_row; contribution 1 of 2 to d_xc\n  d_sum_2_sqrt = d_inv_std · (-1) ∘ sum_2_sqrt^(-1 − 1)            [1 × D]   powi\n  d_sum_2 = d_sum_2_sqrt / (2·sum_2_sqrt)   (reuses sqrt)          [1 × D]   sqrt\n  d_var = d_sum_2                                                  [1 × D]   operator +\n  d_xc += 2·d_var / N ∘ xc   (d_var repeated over the rows)                  col_mean_squares; contribution 2 of 2 to d_xc\n  d_mu = −Σ_rows d_xc   (broadcast → sum)                          [1 × D]   sub_row\n  d_x = d_xc                                                       [N × D]   sub_row; contribution 1 of 2 to d_x\n  d_x += d_mu / N repeated over the rows                                     col_means; contribution 2 of 2 to d_x\n\nValues used more than once receive one contribution per use, added up:\n  xc receives 2 contributions (d_xc), from `xhat = xc ∘ inv_std   (inv_std broadcast over rows)` and from `var = mean_rows xc²`\n  x receives 2 contributions (d_x), from `xc = x − mu   (mu broadcast over rows)` and from `mu = mean_rows x`\n";
    /// The gradients in the order of `batchnorm_loss`'s parameters, `()` for a parameter that is not differentiated: what the backward of a differentiable function that calls `batchnorm_loss` takes apart.
    #[must_use]
    #[allow(clippy::unused_self)]
    pub fn into_inputs(self) -> (Mat<N, D, T>, Mat<1, D, T>, Mat<1, D, T>, (), ()) {
        (self.x, self.gamma, self.beta, (), ())
    }
}
impl<T: Scalar, const N: usize, const D: usize> ::gradgen::Tensors
for BatchnormLossGrads<T, N, D> {
    type Elem = T;
    fn for_each(&self, f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, T>)) {
        f("x", self.x.view());
        f("gamma", self.gamma.view());
        f("beta", self.beta.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, T>),
    ) {
        f("x", self.x.view_mut());
        f("gamma", self.gamma.view_mut());
        f("beta", self.beta.view_mut());
    }
}
impl<T: Scalar, const N: usize, const D: usize> BatchnormLossGrads<T, N, D> {
    /// Every matrix zero, and the value zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        BatchnormLossGrads {
            value: <T as ::gradgen::Scalar>::from_f64(0.0),
            x: ::gradgen::Mat::zeros(),
            gamma: ::gradgen::Mat::zeros(),
            beta: ::gradgen::Mat::zeros(),
        }
    }
}
impl<T: Scalar, const N: usize, const D: usize> ::core::default::Default
for BatchnormLossGrads<T, N, D> {
    fn default() -> Self {
        Self::zeros()
    }
}
/// The differentiable inputs of [`batchnorm_loss`] as one value, named like its parameters: what an optimizer updates (`gradgen::optim`) with a [`BatchnormLossGrads`], and what a weight file holds. Pass its fields to `batchnorm_loss` and its backward by reference.
#[derive(Clone, Debug)]
pub struct BatchnormLossParams<T: Scalar, const N: usize, const D: usize> {
    /// The input `x` of [`batchnorm_loss`].
    pub x: Mat<N, D, T>,
    /// The input `gamma` of [`batchnorm_loss`].
    pub gamma: Mat<1, D, T>,
    /// The input `beta` of [`batchnorm_loss`].
    pub beta: Mat<1, D, T>,
}
impl<T: Scalar, const N: usize, const D: usize> ::gradgen::Tensors
for BatchnormLossParams<T, N, D> {
    type Elem = T;
    fn for_each(&self, f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, T>)) {
        f("x", self.x.view());
        f("gamma", self.gamma.view());
        f("beta", self.beta.view());
    }
    fn for_each_mut(
        &mut self,
        f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, T>),
    ) {
        f("x", self.x.view_mut());
        f("gamma", self.gamma.view_mut());
        f("beta", self.beta.view_mut());
    }
}
impl<T: Scalar, const N: usize, const D: usize> BatchnormLossParams<T, N, D> {
    /// Every matrix zero: the start of a sum of gradients, or the initial state of an optimizer.
    #[must_use]
    pub fn zeros() -> Self {
        BatchnormLossParams {
            x: ::gradgen::Mat::zeros(),
            gamma: ::gradgen::Mat::zeros(),
            beta: ::gradgen::Mat::zeros(),
        }
    }
}
impl<T: Scalar, const N: usize, const D: usize> ::core::default::Default
for BatchnormLossParams<T, N, D> {
    fn default() -> Self {
        Self::zeros()
    }
}
impl<T: Scalar, const N: usize, const D: usize> ::gradgen::Params
for BatchnormLossParams<T, N, D> {
    type Grads = BatchnormLossGrads<T, N, D>;
}
/// Backward pass of [`batchnorm_loss`], generated by `#[differentiable]`.
///
/// Returns the forward value and the gradient of `d_out · batchnorm_loss(…)` with respect to `x`, `gamma`, `beta`, computed by the chain rule one binding at a time, in reverse. `d_out = 1` gives the gradient of `batchnorm_loss` itself.
///
/// # Derivation
///
/// ```text
/// Forward: one operation per binding                                 shape
///   mu = mean_rows x                                                 [1 × D]
///   xc = x − mu   (mu broadcast over rows)                           [N × D]
///   var = mean_rows xc²                                              [1 × D]
///   sum_2 = var + eps                                                [1 × D]
///   sum_2_sqrt = √sum_2                                              [1 × D]
///   inv_std = sum_2_sqrt^-1                                          [1 × D]
///   xhat = xc ∘ inv_std   (inv_std broadcast over rows)              [N × D]
///   xhat_times_row = xhat ∘ gamma   (gamma broadcast over rows)      [N × D]
///   out = xhat_times_row + beta   (beta broadcast over rows)         [N × D]
///   value = Σ out ∘ g                                                scalar
///
/// Backward, in reverse: each gradient has its value's shape
///   d_out: the gradient flowing into value (given)                   scalar    seed
///   d_out_2 = d_out · g                                              [N × D]   inner
///   d_beta = Σ_rows d_out_2   (broadcast → sum)                      [1 × D]   add_row
///   d_xhat_times_row = d_out_2                                       [N × D]   add_row
///   d_gamma = Σ_rows (d_xhat_times_row ∘ xhat)   (broadcast → sum)   [1 × D]   mul_row
///   d_xhat = d_xhat_times_row ∘ gamma                                [N × D]   mul_row
///   d_inv_std = Σ_rows (d_xhat ∘ xc)   (broadcast → sum)             [1 × D]   mul_row
///   d_xc = d_xhat ∘ inv_std                                          [N × D]   mul_row; contribution 1 of 2 to d_xc
///   d_sum_2_sqrt = d_inv_std · (-1) ∘ sum_2_sqrt^(-1 − 1)            [1 × D]   powi
///   d_sum_2 = d_sum_2_sqrt / (2·sum_2_sqrt)   (reuses sqrt)          [1 × D]   sqrt
///   d_var = d_sum_2                                                  [1 × D]   operator +
///   d_xc += 2·d_var / N ∘ xc   (d_var repeated over the rows)                  col_mean_squares; contribution 2 of 2 to d_xc
///   d_mu = −Σ_rows d_xc   (broadcast → sum)                          [1 × D]   sub_row
///   d_x = d_xc                                                       [N × D]   sub_row; contribution 1 of 2 to d_x
///   d_x += d_mu / N repeated over the rows                                     col_means; contribution 2 of 2 to d_x
///
/// Values used more than once receive one contribution per use, added up:
///   xc receives 2 contributions (d_xc), from `xhat = xc ∘ inv_std   (inv_std broadcast over rows)` and from `var = mean_rows xc²`
///   x receives 2 contributions (d_x), from `xc = x − mu   (mu broadcast over rows)` and from `mu = mean_rows x`
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
pub fn batchnorm_loss_backward<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    gamma: &Mat<1, D, T>,
    beta: &Mat<1, D, T>,
    g: &Mat<N, D, T>,
    eps: T,
    d_out: T,
) -> BatchnormLossGrads<T, N, D> {
    let mu: Mat<1, D, T> = x.col_means();
    let xc: Mat<N, D, T> = x.sub_row(&mu);
    let var: Mat<1, D, T> = xc.col_mean_squares();
    let sum_2: Mat<1, D, T> = var + eps;
    let sum_2_sqrt: Mat<1, D, T> = sum_2.into_sqrt();
    let inv_std: Mat<1, D, T> = sum_2_sqrt.powi(-1);
    let xhat: Mat<N, D, T> = xc.mul_row(&inv_std);
    let xhat_times_row: Mat<N, D, T> = xhat.mul_row(gamma);
    let out: Mat<N, D, T> = xhat_times_row.into_add_row(beta);
    let value: T = out.inner(g);
    let d_out_2: Mat<N, D, T> = out.into_scaled_copy_of(g, d_out);
    let d_beta: Mat<1, D, T> = d_out_2.col_sums();
    let d_xhat_times_row: Mat<N, D, T> = d_out_2;
    let d_gamma: Mat<1, D, T> = d_xhat_times_row.col_dots(&xhat);
    let d_xhat: Mat<N, D, T> = d_xhat_times_row.into_mul_row(gamma);
    let d_inv_std: Mat<1, D, T> = d_xhat.col_dots(&xc);
    let mut d_xc: Mat<N, D, T> = d_xhat.into_mul_row(&inv_std);
    let d_sum_2_sqrt: Mat<1, D, T> = sum_2_sqrt.powi_backward(-1, d_inv_std);
    let d_sum_2: Mat<1, D, T> = sum_2_sqrt.sqrt_backward(d_sum_2_sqrt);
    let d_var: Mat<1, D, T> = d_sum_2;
    d_xc.add_col_mean_squares_backward(&xc, &d_var);
    let d_mu: Mat<1, D, T> = -d_xc.col_sums();
    let mut d_x: Mat<N, D, T> = d_xc;
    d_x.add_spread_rows(&d_mu);
    BatchnormLossGrads {
        value,
        x: d_x,
        gamma: d_gamma,
        beta: d_beta,
    }
}
/// Checks the gradients of [`batchnorm_loss_backward`] against central finite differences of [`batchnorm_loss`] at the given point, for every differentiable input. Generated by `#[differentiable]`.
///
/// Each input is perturbed entry by entry (two evaluations of `batchnorm_loss` per entry); the report gives, per input, the worst relative error and where.
#[must_use]
#[allow(
    unused_variables,
    clippy::too_many_arguments,
    clippy::similar_names,
    clippy::many_single_char_names,
    clippy::used_underscore_binding,
    clippy::needless_pass_by_value
)]
pub fn batchnorm_loss_gradcheck<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    gamma: &Mat<1, D, T>,
    beta: &Mat<1, D, T>,
    g: &Mat<N, D, T>,
    eps: T,
) -> ::gradgen::check::GradCheck {
    let grads = batchnorm_loss_backward(
        x,
        gamma,
        beta,
        g,
        eps,
        <T as ::gradgen::Scalar>::from_f64(1.0),
    );
    let x_f64 = x.cast::<f64>();
    let gamma_f64 = gamma.cast::<f64>();
    let beta_f64 = beta.cast::<f64>();
    let g_f64 = g.cast::<f64>();
    let mut check = ::gradgen::check::GradCheck::new(
        "batchnorm_loss",
        ::gradgen::Scalar::to_f64(grads.value),
    );
    check
        .push(
            "x",
            ::gradgen::check::gradient(
                |x: &Mat<N, D, f64>| batchnorm_loss::<
                    f64,
                    N,
                    D,
                >(x, &gamma_f64, &beta_f64, &g_f64, ::gradgen::Scalar::to_f64(eps)),
                &x.cast::<f64>(),
                &grads.x.cast::<f64>(),
            ),
        );
    check
        .push(
            "gamma",
            ::gradgen::check::gradient(
                |gamma: &Mat<1, D, f64>| batchnorm_loss::<
                    f64,
                    N,
                    D,
                >(&x_f64, gamma, &beta_f64, &g_f64, ::gradgen::Scalar::to_f64(eps)),
                &gamma.cast::<f64>(),
                &grads.gamma.cast::<f64>(),
            ),
        );
    check
        .push(
            "beta",
            ::gradgen::check::gradient(
                |beta: &Mat<1, D, f64>| batchnorm_loss::<
                    f64,
                    N,
                    D,
                >(&x_f64, &gamma_f64, beta, &g_f64, ::gradgen::Scalar::to_f64(eps)),
                &beta.cast::<f64>(),
                &grads.beta.cast::<f64>(),
            ),
        );
    check
}
