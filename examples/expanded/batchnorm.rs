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
#[allow(
    unused_doc_comments,
    clippy::doc_markdown,
    clippy::needless_range_loop,
    clippy::manual_range_contains
)]
pub fn batchnorm_loss_backward<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    gamma: &Mat<1, D, T>,
    beta: &Mat<1, D, T>,
    g: &Mat<N, D, T>,
    eps: T,
    d_out: T,
) -> BatchnormLossGrads<T, N, D> {
    let mu: Mat<1, D, T> = Mat::zeros();
    /// Pass 1 of 5, over the entries of [N × D], its rows shared among threads
    let (mut mu,) = {
        let x = &*x.entries();
        ::gradgen::fused::rows::<
            N,
            _,
        >(
            D,
            (mu,),
            #[inline(always)]
            |rows, (mu,)| {
                let mu = mu.entries_mut();
                for i in rows {
                    for j in 0..D {
                        /// mu = mean_rows x
                        {
                            mu[0][j] += x[i][j];
                        }
                    }
                }
            },
        )
    };
    /// Pass 2 of 5, over the entries of [1 × D]
    {
        let mu = mu.entries_mut();
        for j in 0..D {
            /// mu: the sum divided by N, a mean
            {
                mu[0][j] /= <T as ::gradgen::Scalar>::from_usize(N);
            }
        }
    }
    let var: Mat<1, D, T> = Mat::zeros();
    let sum_xc_g: Mat<1, D, T> = Mat::zeros();
    let sum_g: Mat<1, D, T> = Mat::zeros();
    let sum_xc: Mat<1, D, T> = Mat::zeros();
    /// Pass 3 of 5, over the entries of [N × D], its rows shared among threads
    let (mut var, sum_xc_g, sum_g, sum_xc) = {
        let x = &*x.entries();
        let mu = &*mu.entries();
        let g = &*g.entries();
        ::gradgen::fused::rows::<
            N,
            _,
        >(
            D,
            (var, sum_xc_g, sum_g, sum_xc),
            #[inline(always)]
            |rows, (var, sum_xc_g, sum_g, sum_xc)| {
                let var = var.entries_mut();
                let sum_xc_g = sum_xc_g.entries_mut();
                let sum_g = sum_g.entries_mut();
                let sum_xc = sum_xc.entries_mut();
                for i in rows {
                    for j in 0..D {
                        /// xc = x − mu   (mu broadcast over rows)
                        let xc = x[i][j] - mu[0][j];
                        /// var = mean_rows xc²
                        {
                            var[0][j] += xc * xc;
                        }
                        /// sum_xc_g = Σ_rows xc ∘ g, a sum the factored lines share
                        {
                            sum_xc_g[0][j] += xc * g[i][j];
                        }
                        /// sum_g = Σ_rows g, a sum the factored lines share
                        {
                            sum_g[0][j] += g[i][j];
                        }
                        /// sum_xc = Σ_rows xc, a sum the factored lines share
                        {
                            sum_xc[0][j] += xc;
                        }
                    }
                }
            },
        )
    };
    let mut inv_std: Mat<1, D, T> = Mat::zeros();
    let mut d_beta: Mat<1, D, T> = Mat::zeros();
    let mut d_gamma: Mat<1, D, T> = Mat::zeros();
    let mut d_var: Mat<1, D, T> = Mat::zeros();
    let mut d_mu: Mat<1, D, T> = Mat::zeros();
    /// Pass 4 of 5, over the entries of [1 × D]
    {
        let sum_g = &*sum_g.entries();
        let sum_xc_g = &*sum_xc_g.entries();
        let gamma = &*gamma.entries();
        let sum_xc = &*sum_xc.entries();
        let var = var.entries_mut();
        let inv_std = inv_std.entries_mut();
        let d_beta = d_beta.entries_mut();
        let d_gamma = d_gamma.entries_mut();
        let d_var = d_var.entries_mut();
        let d_mu = d_mu.entries_mut();
        for j in 0..D {
            /// var: the sum divided by N, a mean
            {
                var[0][j] /= <T as ::gradgen::Scalar>::from_usize(N);
            }
            /// sum_2 = var + eps
            let sum_2 = var[0][j] + eps;
            /// sum_2_sqrt = √sum_2
            let sum_2_sqrt = sum_2.sqrt();
            /// inv_std = sum_2_sqrt^-1
            {
                inv_std[0][j] = sum_2_sqrt.powi(-1);
            }
            /// d_beta = Σ_rows d_out_2   (broadcast → sum); factored: d_out · sum_g
            {
                d_beta[0][j] = d_out * sum_g[0][j];
            }
            /// d_gamma = Σ_rows (d_xhat_times_row ∘ xhat)   (broadcast → sum); factored: d_out · inv_std ∘ sum_xc_g
            {
                d_gamma[0][j] = d_out * inv_std[0][j] * sum_xc_g[0][j];
            }
            /// d_inv_std = Σ_rows (d_xhat ∘ xc)   (broadcast → sum); factored: d_out · gamma ∘ sum_xc_g
            let d_inv_std = d_out * gamma[0][j] * sum_xc_g[0][j];
            /// d_sum_2_sqrt = d_inv_std · (-1) ∘ sum_2_sqrt^(-1 − 1)
            let d_sum_2_sqrt = d_inv_std
                * <T as ::gradgen::Scalar>::from_f64(f64::from(-1))
                * sum_2_sqrt.powi(-1 - 1);
            /// d_sum_2 = d_sum_2_sqrt / (2·sum_2_sqrt)   (reuses sqrt)
            let d_sum_2 = d_sum_2_sqrt
                / (<T as ::gradgen::Scalar>::from_f64(2.0) * sum_2_sqrt);
            /// d_var = d_sum_2
            {
                d_var[0][j] = d_sum_2;
            }
            /// d_mu = −Σ_rows d_xc   (broadcast → sum); factored: −(d_out · gamma ∘ inv_std ∘ sum_g) − 2·d_var ∘ sum_xc / N
            {
                d_mu[0][j] = -(d_out * gamma[0][j] * inv_std[0][j] * sum_g[0][j])
                    - <T as ::gradgen::Scalar>::from_f64(2.0) * d_var[0][j]
                        * sum_xc[0][j] / <T as ::gradgen::Scalar>::from_usize(N);
            }
        }
    }
    let mut value: T = <T as ::gradgen::Scalar>::from_f64(0.0);
    let value_by_col: Mat<1, D, T> = Mat::zeros();
    /// Pass 5 of 5, over the entries of [N × D], its rows shared among threads
    let (d_x, (value_by_col,)) = {
        let x = &*x.entries();
        let mu = &*mu.entries();
        let inv_std = &*inv_std.entries();
        let gamma = &*gamma.entries();
        let beta = &*beta.entries();
        let g = &*g.entries();
        let d_var = &*d_var.entries();
        let d_mu = &*d_mu.entries();
        ::gradgen::fused::rows_new::<
            N,
            D,
            T,
            _,
        >(
            (value_by_col,),
            #[inline(always)]
            |rows, d_x, (value_by_col,)| {
                let value_by_col = value_by_col.entries_mut();
                for i in rows.clone() {
                    for j in 0..D {
                        /// xc = x − mu   (mu broadcast over rows)
                        let xc = x[i][j] - mu[0][j];
                        /// xhat = xc ∘ inv_std   (inv_std broadcast over rows)
                        let xhat = xc * inv_std[0][j];
                        /// xhat_times_row = xhat ∘ gamma   (gamma broadcast over rows)
                        let xhat_times_row = xhat * gamma[0][j];
                        /// out = xhat_times_row + beta   (beta broadcast over rows)
                        let out = xhat_times_row + beta[0][j];
                        /// value = Σ out ∘ g
                        {
                            value_by_col[0][j] += out * g[i][j];
                        }
                        /// d_out_2 = d_out · g
                        let d_out_2 = d_out * g[i][j];
                        /// d_xhat_times_row = d_out_2
                        let d_xhat_times_row = d_out_2;
                        /// d_xhat = d_xhat_times_row ∘ gamma
                        let d_xhat = d_xhat_times_row * gamma[0][j];
                        /// d_xc = d_xhat ∘ inv_std; d_xc += 2·d_var / N ∘ xc   (d_var repeated over the rows)
                        let d_xc = d_xhat * inv_std[0][j]
                            + <T as ::gradgen::Scalar>::from_f64(2.0) * d_var[0][j] * xc
                                / <T as ::gradgen::Scalar>::from_usize(N);
                        /// d_x = d_xc; d_x += d_mu / N repeated over the rows
                        {
                            d_x[i - rows.start][j] = d_xc
                                + d_mu[0][j] / <T as ::gradgen::Scalar>::from_usize(N);
                        }
                    }
                }
            },
        )
    };
    value += value_by_col.sum();
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
