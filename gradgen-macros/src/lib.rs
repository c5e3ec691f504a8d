//! The `#[differentiable]` attribute of [gradgen](https://docs.rs/gradgen). Use it through
//! `gradgen`, which documents it and re-exports it.
//!
//! The macro is a pipeline of pure stages, one per file, each a function of the previous one's
//! output: `parse` (to A-normal form), `shape` (symbolic dimension analysis), `fold` (ops that
//! need not build their intermediate), `reverse` (activity, the reverse sweep, and who owns
//! what), `fuse` (for a function of entrywise, broadcast and reduction bindings only: its
//! backward as a few passes over its entries, each value recomputed where it is read), `emit`
//! (which writes `fuse`'s passes where there are some, and one runtime call per binding
//! elsewhere). They read the op table, `table`, the only place that knows op names: each row
//! names its shape rule (`shape_rules`) and declares its derivative in the vocabulary of `vjp`,
//! entrywise ones as scalar formulas (`formula`) from which the runtime's kernels are also
//! generated (`kernels`). `naming` owns every generated identifier, `errors` collects the
//! user's mistakes and makes suggestions, `derivation` writes the derivation that `emit` puts in
//! the docs, `tensors` the named-matrix impls of the generated structs, and `model` adapts
//! structs with weights and their methods to the same pipeline. Errors from every stage are
//! collected and reported together; the macro never panics.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

mod derivation;
mod emit;
mod errors;
mod fold;
mod formula;
mod fuse;
#[cfg(test)]
mod fuzz;
mod ir;
mod kernels;
mod lower;
mod model;
mod naming;
mod parse;
mod reverse;
mod schedule;
mod shape;
mod shape_rules;
#[cfg(test)]
mod snapshots;
mod steps;
mod table;
mod tensors;
mod types;
mod vjp;

/// Generates the backward pass of a function of matrices.
///
/// On a function whose parameters are `&Mat<R, C>` matrices (differentiated by default),
/// `&Labels<N, C>` labels and scalars (constants), whose dimensions are const generic parameters
/// or integer literals, and whose body is a sequence of `let` bindings of the supported
/// operations ending with a scalar (a loss) or a matrix (a layer), the attribute keeps the
/// function unchanged and adds:
///
/// - `<name>_backward(<the same parameters>, d_out)`, with the same generics, visibility and
///   where-clauses, returning the gradient struct; its documentation lays out the derivation.
///   `d_out` is the gradient flowing into the value: a scalar, or `&Mat<R, C>` for a matrix
///   value (the backward is then the vector-Jacobian product);
/// - `<name>_gradcheck(<the same parameters>)`, which checks the generated gradients against
///   finite differences;
/// - `<Name>Grads` (the function's name in CamelCase), with the forward `value` and one public
///   field per differentiable input, named like the input and shaped like it.
///
/// `#[differentiable(wrt(w, b))]` differentiates only the named inputs; the others are constants
/// that get no field and cost no work. `#[differentiable(custom_backward = my_vjp)]` uses the
/// hand-written `my_vjp(<the same parameters>, d_out) -> <Name>Grads` as the backward instead of
/// differentiating the body (which may then be any Rust).
///
/// A differentiable function may call another one: `let h: Mat<N, H> = layer(x, &w);` (the
/// result's type must be declared); its backward calls `layer_backward`.
///
/// ```ignore
/// #[differentiable(wrt(w))]
/// fn l2<const D: usize, const C: usize>(w: &Mat<D, C>, target: &Mat<D, C>) -> f64 {
///     let diff = w - target;
///     (&diff * &diff).sum()
/// }
/// let grads = l2_backward(&w, &target, 1.0); // grads.value, grads.w
/// ```
///
/// A shape mistake or unsupported syntax in the function is a compile error at the offending
/// tokens, in the function's own dimension names. The `gradgen` crate documents the operations.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into()).into()
}

/// Marks a struct as a model: its `Mat` fields are weights. Generates `<Model>Grads` (one
/// gradient per weight) and `step(&mut self, &grads, rate)`, and lets `#[differentiable]` on an
/// `impl` block of the struct differentiate methods that read `self.<weight>`: each marked
/// method `m` gets `m_backward(&self, <the same parameters>, d_out) -> (value, <Model>Grads)`.
#[proc_macro_attribute]
pub fn model(_attr: TokenStream, item: TokenStream) -> TokenStream {
    model::model(item.into()).into()
}

/// The runtime's entrywise kernels (`tanh`, `into_tanh`, `tanh_backward`, …), generated from
/// the op table's formulas: for the `gradgen` crate itself, not for direct use.
#[doc(hidden)]
#[proc_macro]
pub fn __elementwise_kernels(_input: TokenStream) -> TokenStream {
    kernels::elementwise().into()
}

/// The second half of a model's `impl`: not for direct use.
#[doc(hidden)]
#[proc_macro]
pub fn model_impl(input: TokenStream) -> TokenStream {
    model::model_impl(input.into()).into()
}

/// The whole pipeline on `proc_macro2` tokens: parse, shape, fold, reverse, emit. After an
/// error, the same items with bodies that never run, so that the errors are the only ones.
fn expand(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    if let Ok(imp) = syn::parse2::<syn::ItemImpl>(item.clone()) {
        return model::impl_block(&imp);
    }
    let mut errors = errors::Errors::default();
    let args = syn::parse2::<parse::Args>(attr).unwrap_or_else(|e| {
        errors.add(e);
        parse::Args::default()
    });
    let Some(item) = function(&item, &mut errors) else {
        let e = errors.to_compile_errors();
        return quote!(#e #item);
    };
    let mut func = match parse::parse(&args, item.clone(), &mut errors) {
        Ok(func) => func,
        Err(rejected) => {
            // Declare the function with its signature where that is valid Rust, so that its
            // callers compile; otherwise rustc would report the signature's mistake again.
            let items = rejected
                .signature_is_rust
                .then(|| emit::fallback(&item, None));
            let e = errors.to_compile_errors();
            return quote!(#e #items);
        }
    };
    if let (Some(custom), true) = (&args.custom_backward, errors.is_empty()) {
        return emit::custom(&func, custom);
    }
    let shapes = shape::infer(&func, &mut errors);
    let complete: Option<Vec<ir::Shape>> = shapes.into_iter().collect();
    match complete {
        Some(shapes) if errors.is_empty() && func.output.is_some() => {
            fold::fold(&mut func, &shapes);
            let plan = reverse::plan(&mut func, &shapes);
            emit::emit(&func, &shapes, &plan)
        }
        _ => {
            let e = errors.to_compile_errors();
            let items = emit::fallback(&item, Some(&func));
            quote!(#e #items)
        }
    }
}

/// The function the attribute is on, with its macro fragments' groups made parentheses; an
/// error at the item's first token (`struct`, `pub`, …) when it is something else.
fn function(item: &TokenStream2, errors: &mut errors::Errors) -> Option<syn::ItemFn> {
    match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(mut f) => {
            parse::parenthesize_groups(&mut f);
            Some(f)
        }
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map_or_else(proc_macro2::Span::call_site, |t| t.span());
            errors.push(span, "`#[differentiable]` goes on a function");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_loss_expands() {
        let out = expand(
            quote!(),
            quote! {
                pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
                    x: &Mat<N, D>, w: &Mat<D, C>, b: &Mat<1, C>, y: &Labels<N, C>,
                ) -> f64 {
                    let h = x.matmul(w);
                    let score = h.add_row(b);
                    let correct = score.pick(y);
                    let rowsum = score.exp().row_sums();
                    (rowsum.ln() - correct).mean()
                }
            },
        );
        let text = out.to_string();
        assert!(!text.contains("compile_error"), "{text}");
        assert!(text.contains("fn softmax_loss_backward"), "{text}");
        if std::env::var_os("GRADGEN_PRINT").is_some() {
            println!("{text}");
        }
    }

    fn backward_of(text: &str) -> String {
        let out = expand(quote!(), text.parse().unwrap()).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        let start = out.find("fn loss_backward").expect("a backward function");
        out[start..].to_owned()
    }

    #[test]
    fn transposes_are_folded_into_products_and_never_copied() {
        let right = backward_of(
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<C, D>) -> f64 {
                x.matmul(&w.t()).sum()
            }",
        );
        assert!(right.contains("x . matmul_t (w)"), "{right}");
        assert!(!right.contains(". t ()"), "{right}");
        let left = backward_of(
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<D, N>, w: &Mat<D, C>) -> f64 {
                let xt = x.t();
                xt.matmul(w).sum()
            }",
        );
        assert!(left.contains("x . t_matmul (w)"), "{left}");
        assert!(
            !left.contains(". t ()") && !left.contains("into_t"),
            "{left}"
        );
    }

    /// The Elman step: `x·wx + h·wh` is one buffer (`add_matmul`), its gradient reaches both
    /// products without a copy, the weights' gradients are added in place, and the carried
    /// gradient `d pre · whᵀ` is written over the step's dead state rather than a new matrix.
    #[test]
    fn an_elman_step_builds_no_matrix_it_can_reuse() {
        let text = backward_of(
            "fn loss<const N: usize, const D: usize, const H: usize>(xs: &[Mat<N, D>], h0: &Mat<N, H>, wx: &Mat<D, H>, wh: &Mat<H, H>) -> f64 {
                let mut h = h0.clone();
                for x in xs {
                    h = (x.matmul(wx) + h.matmul(wh)).tanh();
                }
                h.sum()
            }",
        );
        assert!(
            text.contains("x_matmul . into_add_matmul (& h , wh)"),
            "{text}"
        );
        // The one copy in the backward is the user's `h0.clone()`.
        let backward = &text[..text.find("fn loss_gradcheck").unwrap_or(text.len())];
        assert_eq!(backward.matches("clone ()").count(), 1, "{backward}");
        assert!(text.contains("d_wh . add_t_matmul_assign (& h ,"), "{text}");
        assert!(text.contains("d_h = h_2 . into_matmul_t_of (&"), "{text}");
        assert!(!text.contains("d_wh +="), "{text}");
    }

    /// A product is folded into a sum only when nothing else reads it and it is computed in
    /// the same node list: not a product a loop carries (it would be computed twice), nor one
    /// computed once before the loop (it would be computed at every step).
    #[test]
    fn a_product_read_elsewhere_or_outside_the_loop_is_not_folded() {
        let carried = backward_of(
            "fn loss<const N: usize, const H: usize>(xs: &[Mat<N, H>], h0: &Mat<N, H>, w: &Mat<H, H>) -> f64 {
                let mut h = h0.clone();
                let mut acc = h0.clone();
                for x in xs {
                    let p = h.matmul(w);
                    let s = x + &p;
                    acc = (&acc + s).tanh();
                    h = p;
                }
                acc.sum() + h.sum()
            }",
        );
        assert!(!carried.contains("add_matmul ("), "{carried}");
        let invariant = backward_of(
            "fn loss<const N: usize, const H: usize>(xs: &[Mat<N, H>], z: &Mat<N, H>, wz: &Mat<H, H>, h0: &Mat<N, H>) -> f64 {
                let ctx = z.matmul(wz);
                let mut h = h0.clone();
                for x in xs {
                    h = (x + &ctx).tanh();
                }
                h.sum()
            }",
        );
        assert!(!invariant.contains("add_matmul ("), "{invariant}");
        assert_eq!(invariant.matches(". matmul (wz)").count(), 1, "{invariant}");
    }

    /// A spare buffer is only a dead one: when the state is still read after the product (its
    /// square feeds the loss), the product allocates.
    #[test]
    fn a_product_is_not_written_over_a_value_read_later() {
        let text = backward_of(
            "fn loss<const N: usize, const H: usize>(h0: &Mat<N, H>, a: &Mat<N, H>, w: &Mat<H, H>) -> f64 {
                let h = (h0 * a).tanh();
                let p = h.matmul(w);
                (p * &h).sum()
            }",
        );
        assert!(!text.contains("_of ("), "{text}");
    }

    #[test]
    fn a_square_or_product_that_only_feeds_a_reduction_is_never_built() {
        // Off the fused passes (a product keeps a function there): one [N × C] buffer holds
        // the difference, then its gradient.
        let mse = backward_of(
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>, y: &Mat<N, C>) -> f64 {
                (x.matmul(w) - y).square().mean()
            }",
        );
        assert!(mse.contains("diff . mean_squares ()"), "{mse}");
        assert!(
            mse.contains("diff . into_mean_squares_backward (d_out)"),
            "{mse}"
        );
        assert!(
            !mse.contains(". square ()") && !mse.contains("full"),
            "{mse}"
        );
        // A dead product operand's buffer holds its gradient.
        let inner = expand(
            quote!(wrt(x, w)),
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>, g: &Mat<N, C>) -> f64 {
                let out = x.matmul(w);
                (out * g).sum()
            }"
            .parse()
            .unwrap(),
        )
        .to_string();
        assert!(inner.contains("out . inner (g)"), "{inner}");
        assert!(
            inner.contains("out . into_scaled_copy_of (g , d_out)"),
            "{inner}"
        );
        // Used twice, the square is built once and reduced twice: nothing is folded.
        let kept = backward_of(
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>) -> f64 {
                let sq = x.matmul(w).square();
                sq.sum() + sq.mean()
            }",
        );
        assert!(kept.contains(". square ()"), "{kept}");
        assert!(!kept.contains("squares"), "{kept}");
        // A scalar factor is not an entrywise product of matrices.
        let scaled = backward_of(
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>, s: f64) -> f64 {
                (x.matmul(w) * s).sum()
            }",
        );
        assert!(!scaled.contains("inner (s"), "{scaled}");
    }

    #[test]
    fn an_entrywise_function_is_one_pass_that_stores_no_intermediate() {
        let mse = backward_of(
            "fn loss<const N: usize, const C: usize>(p: &Mat<N, C>, y: &Mat<N, C>) -> f64 {
                (p - y).square().mean()
            }",
        );
        assert!(mse.contains("Pass 1 of 1"), "{mse}");
        // The difference and its square are recomputed where they are read: the only matrices
        // are the two gradients and the value's per-column sums.
        assert_eq!(mse.matches("Mat :: zeros ()").count(), 3, "{mse}");
        assert!(mse.contains("let diff = p [i] [j] - y [i] [j] ;"), "{mse}");
        assert!(mse.contains("d_p [i] [j] = d_diff ;"), "{mse}");
    }

    #[test]
    fn unfused_keeps_one_runtime_call_per_binding() {
        let out = expand(
            quote!(unfused),
            "fn loss<const N: usize, const C: usize>(p: &Mat<N, C>, y: &Mat<N, C>) -> f64 {
                (p - y).square().mean()
            }"
            .parse()
            .unwrap(),
        )
        .to_string();
        assert!(!out.contains("Pass 1"), "{out}");
        assert!(out.contains(". mean_squares ()"), "{out}");
        let twice = expand(
            quote!(unfused, unfused),
            "fn f(x: &Mat<2, 2>) -> f64 { x.sum() }".parse().unwrap(),
        );
        assert!(
            twice.to_string().contains("`unfused` is given twice"),
            "{twice}"
        );
    }

    #[test]
    fn sums_returned_from_threads_are_mut_only_when_written_again() {
        // d_s is summed per column in a threaded pass, then added to in a pass over a row:
        // its per-column sums are only read after the first (rustc does not report an unused
        // `mut` in a macro's output, so the test looks at it).
        let text = backward_of(
            "fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<1, D>) -> f64 {
                let s = x.mean();
                let r = w * s;
                let y = x.mul_row(&r) * s;
                y.sum()
            }",
        );
        assert!(text.contains("d_s_by_col ,"), "{text}");
        assert!(!text.contains("mut d_s_by_col ,"), "{text}");
    }

    #[test]
    fn batch_norm_takes_three_passes_over_its_entries() {
        let text = backward_of(
            "fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, gamma: &Mat<1, D>, beta: &Mat<1, D>, g: &Mat<N, D>, eps: f64) -> f64 {
                let mu = x.col_means();
                let xc = x.sub_row(&mu);
                let var = xc.square().col_means();
                let inv_std = (var + eps).sqrt().powi(-1);
                let xhat = xc.mul_row(&inv_std);
                let out = xhat.mul_row(gamma).add_row(beta);
                (out * g).sum()
            }",
        );
        // μ; the variance with the sums dγ, d inv_std and dμ share; the value with d_x. Each
        // needs the reduction before it.
        let over = "over the entries of [N × D]";
        assert_eq!(text.matches(over).count(), 3, "{text}");
        assert!(text.contains(&format!("Pass 5 of 5, {over}")), "{text}");
        // dγ = Σ_rows (d_out·g ∘ xc ∘ inv_std) and d inv_std = Σ_rows (d_out·g ∘ γ ∘ xc) share
        // Σ_rows (xc ∘ g), summed in the variance's pass; their row factors multiply it after.
        assert!(
            text.contains("sum_xc_g [0] [j] += xc * g [i] [j] ;"),
            "{text}"
        );
        assert!(
            text.contains("d_gamma [0] [j] = d_out * inv_std [0] [j] * sum_xc_g [0] [j] ;"),
            "{text}"
        );
        assert!(
            text.contains("let d_inv_std = d_out * gamma [0] [j] * sum_xc_g [0] [j] ;"),
            "{text}"
        );
        // dβ = d_out · Σ_rows g shares the sum dμ needs.
        assert!(
            text.contains("d_beta [0] [j] = d_out * sum_g [0] [j] ;"),
            "{text}"
        );
        // x − μ is never expanded into Σ x∘g − μ·Σ g, which would cancel.
        assert!(!text.contains("x [i] [j] * g [i] [j]"), "{text}");
        // Σ_rows g waits for the variance's pass, which reads g anyway: μ's reads x alone.
        let first = &text[text.find("Pass 1 of").unwrap()..text.find("Pass 2 of").unwrap()];
        assert!(
            first.contains("x [i] [j]") && !first.contains("g [i] [j]"),
            "{first}"
        );
    }

    #[test]
    fn only_factors_constant_along_a_sum_come_out_of_it() {
        let text = backward_of(
            "fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<N, 1>, q: &Mat<1, D>) -> f64 {
                let m = x.col_means();
                let y = x.mul_col(w).mul_row(&m);
                y.mul_row(q).sum()
            }",
        );
        // dq = Σ_rows (d_out ∘ x ∘ w ∘ m) would wait for the pass that completes the row m;
        // with m and d_out out of the sum it runs in that pass. The column w stays in.
        assert!(
            text.contains("sum_x_w [0] [j] += x [i] [j] * w [i] [0] ;"),
            "{text}"
        );
        assert!(
            text.contains("d_q [0] [j] = d_out * m [0] [j] * sum_x_w [0] [j] ;"),
            "{text}"
        );
        // dm = Σ_rows (d_out ∘ q ∘ x ∘ w) could run as early already; it shares the sum.
        assert_eq!(text.matches("sum_x_w [0] [j] +=").count(), 1, "{text}");
        assert!(
            text.contains("d_m [0] [j] = d_out * q [0] [j] * sum_x_w [0] [j] ;"),
            "{text}"
        );
        // dw sums over columns: the rows q and m stay inside, and as it would run no earlier
        // rewritten, it is not.
        assert!(
            text.contains("d_w [i] [0] += d_x_times_col * x [i] [j] ;"),
            "{text}"
        );
        // Everything in two passes over [N × D]: m, then the rest.
        assert_eq!(
            text.matches("over the entries of [N × D]").count(),
            2,
            "{text}"
        );
        let plain = backward_of(
            "fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<N, 1>, r: &Mat<1, D>) -> f64 {
                x.mul_col(w).mul_row(r).square().sum()
            }",
        );
        // One pass whatever is done: nothing is rewritten.
        assert_eq!(plain.matches("over the entries of").count(), 1, "{plain}");
        assert!(
            !plain.contains("sum_") && !plain.contains("shared_sum"),
            "{plain}"
        );
    }

    #[test]
    fn constants_cost_no_backward_work() {
        let text = backward_of(
            "fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<D, 1>, s: f64) -> f64 {
                let h = x.matmul(w) * s;
                h.sum()
            }",
        );
        // Both matrices are differentiated by default; the scalar `s` is a constant.
        assert!(
            text.contains("let d_x :") && text.contains("let d_w :"),
            "{text}"
        );
        assert!(!text.contains("d_s"), "{text}");
        let wrt = expand(
            quote!(wrt(w)),
            "fn loss<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<D, 1>) -> f64 {
                x.matmul(w).sum()
            }"
            .parse()
            .unwrap(),
        )
        .to_string();
        // `x` is a constant: no gradient, and no `d_h · wᵀ` product to compute it.
        assert!(
            !wrt.contains("let d_x :") && !wrt.contains("matmul_t"),
            "{wrt}"
        );
        assert!(wrt.contains("t_matmul"), "{wrt}");
    }

    #[test]
    fn a_final_cross_entropy_is_computed_with_its_gradient() {
        let text = backward_of(
            "fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>, y: &Labels<N, C>) -> f64 {
                x.matmul(w).cross_entropy(y)
            }",
        );
        // One pass for the value and the gradient, in the product's buffer; no separate step.
        assert!(
            text.contains("let (value , d_x_matmul) : (f64 , Mat < N , C >) = x_matmul . into_cross_entropy_and_backward (y , d_out)"),
            "{text}"
        );
        assert!(!text.contains("cross_entropy_backward (y"), "{text}");
    }
}
