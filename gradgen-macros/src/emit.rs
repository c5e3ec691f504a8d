//! Stage 5 — emit: the generated items.
//!
//! Input: a [`Func`], the shape of every value, and the [`Plan`]. Output: the user's function,
//! unchanged; the gradient struct `<Name>Grads` (the forward value and one public field per
//! differentiable input, named like it); and `<name>_backward(<the same parameters>, d_out)`,
//! whose body is the forward bindings the output needs, then one statement per gradient
//! contribution, every binding with its explicit type, and whose docs lay out the derivation.
//!
//! Guarantees: the generated code is ordinary typed Rust that rustc checks again (a rule that
//! got a shape wrong does not compile); every statement carries the span of the user's binding
//! it comes from, so a type error lands where the user can act on it; it names `Mat` by the
//! user's own path; it is warning-free. When any stage reported an error, [`fallback`] emits
//! the same items with the same signatures and no body, so the only errors are the reported ones.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use crate::derivation;
use crate::ir::{Func, Operand, ParamKind, Shape};
use crate::naming::dim_tokens;
use crate::naming::Names;
use crate::reverse::{Bwd, Forward, Fwd, FwdIf, FwdLoop, Plan, Stmt, StmtKind};
use crate::steps::{by_ref, receiver};
use crate::table::Form;
use crate::tensors;

/// The generated items, for a function that passed every check.
pub fn emit(func: &Func, shapes: &[Shape], plan: &Plan) -> TokenStream {
    let item = &user_item(func);
    let derivation = derivation::text(func, shapes, plan);
    let grads = grads_struct(func, &derivation);
    let backward = backward_fn(func, shapes, plan, &derivation);
    let check = gradcheck_fn(func, Some(&plan.check_locals));
    quote! {
        #item
        #grads
        #backward
        #check
    }
}

/// The items for `#[differentiable(custom_backward = path)]`: the function unchanged, the
/// gradient struct, a `<name>_backward` that calls the hand-written backward (so rustc checks
/// that it takes the same parameters and `d_out` and returns the gradient struct), and the
/// gradient check, which tests the hand-written derivative against finite differences.
pub fn custom(func: &Func, custom: &syn::Path) -> TokenStream {
    let item = &user_item(func);
    let fn_name = &func.item.sig.ident;
    let custom_text = custom.to_token_stream().to_string().replace(' ', "");
    if custom
        .segments
        .last()
        .is_some_and(|s| s.ident == Names::backward_fn(fn_name))
    {
        let e = syn::Error::new_spanned(
            custom,
            format!("`{custom_text}` is the name of the generated companion\nhelp: give the hand-written backward another name, e.g. `{fn_name}_vjp`"),
        )
        .to_compile_error();
        let items = fallback(item, Some(func));
        return quote!(#e #items);
    }
    let derivation = format!(
        "The backward of `{fn_name}` is written by hand: `{custom_text}`, named by \
         `#[differentiable(custom_backward = {custom_text})]`.\n"
    );
    let grads = grads_struct(func, &derivation);
    let mut names = func.names.clone();
    let d_out = names.fresh("d_out", Span::call_site());
    let signature = backward_signature(func, &d_out);
    let params = func.params.iter().map(|p| &p.name);
    let header = generated_fn_header(
        func,
        &format!(
            "Backward pass of [`{fn_name}`]: the hand-written `{custom_text}`, which \
             `#[differentiable(custom_backward = {custom_text})]` names. Differentiable \
             functions that call `{fn_name}` use it."
        ),
    );
    let call = quote_spanned!(custom.span()=> #custom(#(#params,)* #d_out));
    let locals = (
        names.fresh("grads", Span::call_site()),
        names.fresh("check", Span::call_site()),
        names.fresh("upstream", Span::call_site()),
    );
    let check = gradcheck_fn(func, Some(&locals));
    quote! {
        #item
        #grads
        #header
        #signature {
            #call
        }
        #check
    }
}

/// The user's function as it is emitted: unchanged, but for `N as T` (a cast to the element
/// type parameter, which Rust does not allow), which becomes `<T as Scalar>::cast_from(N)`.
fn user_item(func: &Func) -> syn::ItemFn {
    struct Casts<'a>(&'a [String]);
    impl syn::visit_mut::VisitMut for Casts<'_> {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            syn::visit_mut::visit_expr_mut(self, expr);
            let syn::Expr::Cast(c) = expr else {
                return;
            };
            let syn::Type::Path(tp) = &*c.ty else {
                return;
            };
            if tp
                .path
                .get_ident()
                .is_some_and(|i| self.0.contains(&i.to_string()))
            {
                let (ty, value) = (&c.ty, &c.expr);
                *expr = syn::parse_quote!(<#ty as ::gradgen::Scalar>::cast_from(#value));
            }
        }
    }
    let type_params: Vec<String> = func
        .item
        .sig
        .generics
        .type_params()
        .map(|t| t.ident.to_string())
        .collect();
    let mut item = func.item.clone();
    syn::visit_mut::VisitMut::visit_block_mut(&mut Casts(&type_params), &mut item.block);
    item
}

/// The user's function and, when its signature was understood, the generated items, all with
/// bodies that never run: the compile fails on the reported errors alone.
pub fn fallback(item: &syn::ItemFn, func: Option<&Func>) -> TokenStream {
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = &item.sig;
    let forward = quote! {
        #(#attrs)*
        #[allow(unused_variables, clippy::all)]
        #vis #sig { #UNREACHABLE }
    };
    let Some(func) = func else {
        return forward;
    };
    let grads = grads_struct(func, "");
    // The same seed name as a successful expansion would choose (no clash with a parameter).
    let d_out = func.names.clone().fresh("d_out", Span::call_site());
    let signature = backward_signature(func, &d_out);
    let check = gradcheck_fn(func, None);
    let cfgs = cfg_attrs(func);
    quote! {
        #forward
        #grads
        #(#cfgs)*
        #[allow(unused_variables, clippy::all)]
        #signature { #UNREACHABLE }
        #check
    }
}

/// The body of the items emitted after an error: never run, since the compile fails.
const UNREACHABLE: Unreachable = Unreachable;

struct Unreachable;

impl ToTokens for Unreachable {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(quote!(::core::unreachable!(
            "`#[differentiable]` reported an error"
        )));
    }
}

/// One `#[doc]` attribute per line, as `///` comments desugar, so that the generated code reads
/// (and pretty-prints) like hand-written documentation.
fn doc_lines(text: &str) -> Vec<TokenStream> {
    text.lines()
        .map(|line| {
            let line = format!(" {line}");
            quote!(#[doc = #line])
        })
        .collect()
}

/// The lint levels the user set on the function (`#[allow(clippy::neg_multiply)]`) apply to the
/// generated items too, which repeat its expressions; an `expect` becomes an `allow`, since the
/// generated item need not trigger the lint.
fn lint_attrs(func: &Func) -> Vec<TokenStream> {
    func.item
        .attrs
        .iter()
        .filter_map(|a| {
            let path = a.path();
            let level = ["allow", "warn", "deny", "forbid", "expect"]
                .into_iter()
                .find(|l| path.is_ident(l))?;
            let syn::Meta::List(list) = &a.meta else {
                return None;
            };
            let lints = &list.tokens;
            Some(if level == "expect" {
                quote!(#[allow(#lints)])
            } else {
                a.to_token_stream()
            })
        })
        .collect()
}

/// The attributes of a generated function: the user's `cfg` and lint attributes, its docs, and
/// the lints that only repeat what the user's own signature and names trigger (reported on the
/// user's function, once): an unused parameter, a long argument list (one longer here), short or
/// similar names, a used underscore-prefixed parameter, matrices taken by value.
fn generated_fn_header(func: &Func, doc: &str) -> TokenStream {
    let cfgs = cfg_attrs(func);
    let lints = lint_attrs(func);
    let doc = doc_lines(doc);
    quote! {
        #(#cfgs)*
        #(#doc)*
        #[must_use]
        #[allow(
            unused_variables,
            clippy::too_many_arguments,
            clippy::similar_names,
            clippy::many_single_char_names,
            clippy::used_underscore_binding,
            clippy::needless_pass_by_value
        )]
        #(#lints)*
    }
}

/// `cfg` attributes of the user's function apply to the generated items too.
fn cfg_attrs(func: &Func) -> Vec<&syn::Attribute> {
    func.item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect()
}

pub fn mat_type(func: &Func, shape: &Shape) -> TokenStream {
    match shape {
        Shape::Mat(r, c) => {
            let (path, r, c) = (&func.mat_path, dim_tokens(r), dim_tokens(c));
            match &func.elem {
                Some(t) => quote!(#path<#r, #c, #t>),
                None => quote!(#path<#r, #c>),
            }
        }
        Shape::Scalar => func.scalar_ty.to_token_stream(),
        // The gradients of a sequence, one per element.
        Shape::Seq(item) => {
            let item = mat_type(func, item);
            quote!(::std::vec::Vec<#item>)
        }
        // Labels and flags are parameters only, never bindings or gradients.
        Shape::Labels(..) | Shape::Flag(_) => quote!(_),
    }
}

/// The shape of a differentiable parameter (a matrix, or a sequence of matrices).
fn param_shape(p: &crate::ir::Param) -> Option<Shape> {
    match &p.kind {
        ParamKind::Mat(r, c) => Some(Shape::Mat(r.clone(), c.clone())),
        ParamKind::Seq { item, .. } => match &**item {
            ParamKind::Mat(r, c) => Some(Shape::Seq(Box::new(Shape::Mat(r.clone(), c.clone())))),
            _ => None,
        },
        _ => None,
    }
}

/// The type of a differentiable parameter's gradient: its matrix type, or a `Vec` of them.
fn grad_type(func: &Func, p: &crate::ir::Param) -> TokenStream {
    param_shape(p).map_or_else(|| quote!(()), |shape| mat_type(func, &shape))
}

fn value_field(func: &Func) -> Ident {
    Names::value_field(func.params.iter().map(|p| &p.name))
}

/// `<Name>Grads<…>` with the generic arguments it takes (see [`struct_generics`]).
fn grads_type(func: &Func) -> TokenStream {
    let name = Names::grads_struct(&func.item.sig.ident);
    let generics = grads_generics(func);
    let (_, ty_generics, _) = generics.split_for_impl();
    quote!(#name #ty_generics)
}

/// The generics of the gradient struct: those its fields and value use.
fn grads_generics(func: &Func) -> syn::Generics {
    let mut types: Vec<TokenStream> = field_types(func);
    types.push(func.ret_ty.to_token_stream());
    struct_generics(func, &types)
}

/// The type of each differentiable input's field.
fn field_types(func: &Func) -> Vec<TokenStream> {
    differentiable(func).map(|p| grad_type(func, p)).collect()
}

/// The function's generic parameters that `types` mention, and the where-clause predicates
/// about them only: a generated struct takes no parameter its fields do not use, so that
/// `<Name>Params<D, C>` does not depend on the batch size `N` of the function.
fn struct_generics(func: &Func, types: &[TokenStream]) -> syn::Generics {
    let mentioned: std::collections::HashSet<String> = types
        .iter()
        .flat_map(|t| crate::parse::idents_in(t.clone()))
        .collect();
    let generics = &func.item.sig.generics;
    let name = |p: &syn::GenericParam| match p {
        syn::GenericParam::Const(c) => c.ident.to_string(),
        syn::GenericParam::Type(t) => t.ident.to_string(),
        syn::GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
    };
    let dropped: Vec<String> = generics
        .params
        .iter()
        .map(name)
        .filter(|n| !mentioned.contains(n))
        .collect();
    let mut kept = generics.clone();
    kept.params = generics
        .params
        .iter()
        .filter(|p| mentioned.contains(&name(p)))
        .cloned()
        .collect();
    if let Some(wc) = &mut kept.where_clause {
        wc.predicates = wc
            .predicates
            .iter()
            .filter(|pred| {
                let idents = crate::parse::idents_in(pred.to_token_stream());
                !idents.iter().any(|i| dropped.contains(i))
            })
            .cloned()
            .collect();
    }
    kept
}

/// `<Name>Grads`: the value and one field per differentiable input; its `DERIVATION` and
/// `into_inputs`; its `Tensors` impls; and `<Name>Params`.
fn grads_struct(func: &Func, derivation: &str) -> TokenStream {
    let sig = &func.item.sig;
    let fn_name = &sig.ident;
    let name = Names::grads_struct(fn_name);
    let generics = &grads_generics(func);
    let vis = &func.item.vis;
    let where_clause = &generics.where_clause;
    let (value, ret) = (value_field(func), &func.ret_ty);
    let cfgs = cfg_attrs(func);
    let fields = grad_fields(func);
    let mut doc = format!(
        "The forward value of [`{fn_name}`] and its gradients, returned by [`{fn_name}_backward`]."
    );
    if !derivation.is_empty() {
        doc.push_str(&format!("\n\n# Derivation\n\n```text\n{derivation}```"));
    }
    let doc = doc_lines(&doc);
    let value_doc = doc_lines(&format!("The forward value, `{fn_name}(…)`."));
    let methods = grads_methods(func, &name, derivation);
    let tensors = grads_tensors(func, &name, &value);
    let params = params_struct(func, &name);
    quote! {
        #(#cfgs)*
        #(#doc)*
        #[derive(Clone, Debug)]
        #vis struct #name #generics #where_clause {
            #(#value_doc)*
            pub #value: #ret,
            #(#fields)*
        }

        #methods
        #tensors
        #params
    }
}

/// One documented field per differentiable input, named and shaped like it.
fn grad_fields(func: &Func) -> Vec<TokenStream> {
    differentiable(func)
        .map(|p| {
            let Some(shape) = param_shape(p) else {
                return quote!();
            };
            let ty = mat_type(func, &shape);
            let doc = doc_lines(&match &shape {
                Shape::Seq(item) => format!(
                    "The gradients with respect to the elements of `{}`, in sequence order, \
                     each {item}; zero for elements a loop's `zip` stopped before.",
                    p.name
                ),
                _ => format!(
                    "The gradient with respect to `{}`, shaped like it: {shape}.",
                    p.name
                ),
            });
            let field = &p.name;
            quote! {
                #(#doc)*
                pub #field: #ty,
            }
        })
        .collect()
}

/// `DERIVATION`, and `into_inputs`: the gradients in parameter order, `()` for what is not
/// differentiated, which is how a calling function's backward takes each argument's gradient
/// without knowing the names.
fn grads_methods(func: &Func, name: &Ident, derivation: &str) -> TokenStream {
    let fn_name = &func.item.sig.ident;
    let generics = &grads_generics(func);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let cfgs = cfg_attrs(func);
    let const_doc = doc_lines(&format!(
        "The derivation of [`{fn_name}_backward`], as its documentation shows it: the forward \
         bindings with their shapes, then every gradient contribution in reverse order."
    ));
    let (input_tys, input_values): (Vec<TokenStream>, Vec<TokenStream>) = func
        .params
        .iter()
        .map(|p| match (param_shape(p), p.differentiable) {
            (Some(shape), true) => {
                let field = &p.name;
                (mat_type(func, &shape), quote!(self.#field))
            }
            _ => (quote!(()), quote!(())),
        })
        .unzip();
    let inputs_doc = doc_lines(&format!(
        "The gradients in the order of `{fn_name}`'s parameters, `()` for a parameter that is \
         not differentiated: what the backward of a differentiable function that calls \
         `{fn_name}` takes apart."
    ));
    quote! {
        #(#cfgs)*
        impl #impl_generics #name #ty_generics #where_clause {
            #(#const_doc)*
            pub const DERIVATION: &'static str = #derivation;

            #(#inputs_doc)*
            #[must_use]
            #[allow(clippy::unused_self)]
            pub fn into_inputs(self) -> (#(#input_tys,)*) {
                (#(#input_values,)*)
            }
        }
    }
}

/// The gradient struct's `Tensors` impl (the gradients, not the value), `zeros` and `Default`.
fn grads_tensors(func: &Func, name: &Ident, value: &Ident) -> TokenStream {
    let zero = match func.ret_shape {
        Shape::Scalar => {
            let scalar = &func.scalar_ty;
            quote!(<#scalar as ::gradgen::Scalar>::from_f64(0.0))
        }
        _ => quote!(::gradgen::Mat::zeros()),
    };
    let cfgs = cfg_attrs(func);
    tensors::impls(&tensors::Visited {
        name,
        generics: &grads_generics(func),
        elem: func.scalar_ty.to_token_stream(),
        fields: visited_fields(func),
        extra: Some((value.clone(), zero)),
        cfgs: &cfgs,
        zeros: !has_sequence(func),
    })
}

/// The differentiable inputs, as a named set of matrices visits them.
fn visited_fields(func: &Func) -> Vec<(&Ident, bool)> {
    differentiable(func)
        .map(|p| (&p.name, matches!(p.kind, ParamKind::Seq { .. })))
        .collect()
}

/// A differentiated sequence has no zero of its own: its length is known at run time.
fn has_sequence(func: &Func) -> bool {
    differentiable(func).any(|p| matches!(p.kind, ParamKind::Seq { .. }))
}

fn differentiable(func: &Func) -> impl Iterator<Item = &crate::ir::Param> {
    func.params
        .iter()
        .filter(|p| p.differentiable && param_shape(p).is_some())
}

/// The type of an input's field in `<Name>Params`: its matrix, a `Vec` for a sequence, an
/// array for a sequence of a const length (which the function takes by reference as it is).
fn params_field_type(func: &Func, p: &crate::ir::Param) -> TokenStream {
    match &p.kind {
        ParamKind::Seq {
            item,
            len: Some(len),
        } => {
            let item = match &**item {
                ParamKind::Mat(r, c) => mat_type(func, &Shape::Mat(r.clone(), c.clone())),
                _ => quote!(()),
            };
            let len = dim_tokens(len);
            quote!([#item; #len])
        }
        _ => grad_type(func, p),
    }
}

/// `<Name>Params`: the differentiable inputs as owned matrices, for an optimizer or a weight
/// file, with the gradient struct as its `Params::Grads`. None when nothing is differentiated.
fn params_struct(func: &Func, grads: &Ident) -> TokenStream {
    let fn_name = &func.item.sig.ident;
    if differentiable(func).next().is_none() || crate::naming::model::is_free_fn(fn_name) {
        return quote!();
    }
    let name = Names::params_struct(fn_name);
    let vis = &func.item.vis;
    let types: Vec<TokenStream> = differentiable(func)
        .map(|p| params_field_type(func, p))
        .collect();
    let generics = &struct_generics(func, &types);
    let where_clause = &generics.where_clause;
    let cfgs = cfg_attrs(func);
    let fields = differentiable(func).zip(&types).map(|(p, ty)| {
        let doc = doc_lines(&format!("The input `{}` of [`{fn_name}`].", p.name));
        let field = &p.name;
        quote!(#(#doc)* pub #field: #ty,)
    });
    let doc = doc_lines(&format!(
        "The differentiable inputs of [`{fn_name}`] as one value, named like its parameters: \
         what an optimizer updates (`gradgen::optim`) with a [`{grads}`], and what a weight \
         file holds. Pass its fields to `{fn_name}` and its backward by reference."
    ));
    let tensors = tensors::impls(&tensors::Visited {
        name: &name,
        generics,
        elem: func.scalar_ty.to_token_stream(),
        fields: visited_fields(func),
        extra: None,
        cfgs: &cfgs,
        zeros: !has_sequence(func),
    });
    // A layer's gradients carry its value, whose shape may use a parameter the inputs do not
    // (the batch size): then they are no `Params::Grads` of these inputs alone.
    let same_generics = grads_generics(func).params.len() == generics.params.len();
    let params = if same_generics {
        tensors::params_impl(&name, grads, generics, &cfgs)
    } else {
        quote!()
    };
    quote! {
        #(#cfgs)*
        #(#doc)*
        #[derive(Clone, Debug)]
        #vis struct #name #generics #where_clause {
            #(#fields)*
        }
        #tensors
        #params
    }
}

fn backward_signature(func: &Func, d_out: &Ident) -> TokenStream {
    let sig = &func.item.sig;
    let vis = &func.item.vis;
    let name = Names::backward_fn(&sig.ident);
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let inputs = &sig.inputs;
    let comma = if inputs.empty_or_trailing() {
        quote!()
    } else {
        quote!(,)
    };
    let ret = &func.ret_ty;
    // A matrix value's upstream gradient is borrowed, like the matrices passed in.
    let d_out_ty = match func.ret_shape {
        Shape::Scalar => quote!(#ret),
        _ => quote!(&#ret),
    };
    let grads = grads_type(func);
    quote! {
        #vis fn #name #generics (#inputs #comma #d_out: #d_out_ty) -> #grads #where_clause
    }
}

fn backward_fn(func: &Func, shapes: &[Shape], plan: &Plan, derivation: &str) -> TokenStream {
    let (passes, body) = body(func, shapes, plan);
    let grads_name = Names::grads_struct(&func.item.sig.ident);
    let value = value_field(func);
    let value_init = match &func.output {
        // Shorthand with the local's own identifier, which carries its hygiene context.
        Some((Operand::Value(v), _)) if func.values[*v].name == value => {
            let local = &func.values[*v].name;
            quote!(#local)
        }
        Some((Operand::Value(v), _)) => {
            let name = &func.values[*v].name;
            quote!(#value: #name)
        }
        Some((Operand::Literal(lit), _)) => quote!(#value: #lit),
        Some((Operand::Const(c), _)) => {
            let tokens = &c.tokens;
            quote!(#value: #tokens)
        }
        None => quote!(#value: ::core::unreachable!()),
    };
    let fields = func.params.iter().filter(|p| p.differentiable).map(|p| {
        let field = &p.name;
        match &plan.grads[p.value] {
            Some(g) if *g != p.name => quote!(#field: #g),
            Some(_) => quote!(#field),
            None => {
                let path = &func.mat_path;
                match &p.kind {
                    ParamKind::Seq { .. } => {
                        quote!(#field: #field.iter().map(|_| #path::zeros()).collect())
                    }
                    _ => quote!(#field: #path::zeros()),
                }
            }
        }
    });
    let signature = backward_signature(func, &plan.d_out);
    let header = generated_fn_header(func, &backward_doc(func, plan, derivation));
    quote! {
        #header
        #passes
        #signature {
            #(#body)*
            #grads_name { #value_init, #(#fields),* }
        }
    }
}

/// The backward's statements: fused passes where `fuse` makes them, with the lints their
/// lines need allowed, else one runtime call per binding.
fn body(func: &Func, shapes: &[Shape], plan: &Plan) -> (Option<TokenStream>, Vec<TokenStream>) {
    if let Some(passes) = crate::fuse::fuse(func, shapes, plan) {
        // The passes' lines carry their derivation as documentation (in its notation, not
        // Markdown), index rows, and spell the table's formulas as the table does.
        let lints = quote!(#[allow(
            unused_doc_comments,
            clippy::doc_markdown,
            clippy::needless_range_loop,
            clippy::manual_range_contains
        )]);
        return (Some(lints), passes);
    }
    let mut body = forward_part(func, shapes, plan, &plan.forward);
    body.extend(backward_part(func, shapes, plan, &plan.backward));
    (None, body)
}

/// The statements of a forward part, `if`s included.
fn forward_part(func: &Func, shapes: &[Shape], plan: &Plan, steps: &[Fwd]) -> Vec<TokenStream> {
    steps
        .iter()
        .map(|f| match f {
            Fwd::Bind(f) => forward_stmt(func, shapes, plan, f),
            Fwd::If(i) => forward_if(func, shapes, plan, i),
            Fwd::Loop(l) => forward_loop(func, shapes, plan, l),
        })
        .collect()
}

/// The carried variables, the tape, and the loop:
/// `let mut h: H = h0.clone(); let mut tape: Vec<H> = Vec::with_capacity(xs.len());
/// for x in xs { …; tape.push(h); h = h_2; }`.
fn forward_loop(func: &Func, shapes: &[Shape], plan: &Plan, l: &FwdLoop) -> TokenStream {
    let span = l.span;
    let carried = l.carried.iter().map(|(v, init)| {
        let (name, ty) = (&func.values[*v].name, mat_type(func, &shapes[*v]));
        quote_spanned!(span=> let mut #name: #ty = #init;)
    });
    let body = forward_part(func, shapes, plan, &l.body);
    let (tape_decl, tape_push) = match &l.tape {
        Some(t) => {
            let (name, len) = (&t.name, &t.len);
            let types: Vec<TokenStream> = t
                .values
                .iter()
                .map(|&v| mat_type(func, &shapes[v]))
                .collect();
            let pushed = &t.pushed;
            let (ty, entry) = if types.len() == 1 {
                (quote!(#(#types)*), quote!(#(#pushed)*))
            } else {
                (quote!((#(#types),*)), quote!((#(#pushed),*)))
            };
            (
                quote_spanned!(span=> let mut #name: ::std::vec::Vec<#ty> = ::std::vec::Vec::with_capacity(#len);),
                quote_spanned!(span=> #name.push(#entry);),
            )
        }
        None => (quote!(), quote!()),
    };
    let nexts = l.nexts.iter().map(|(v, next)| {
        let name = &func.values[*v].name;
        quote_spanned!(span=> #name = #next;)
    });
    let (pattern, iter) = (&l.pattern, &l.iter);
    quote_spanned! {span=>
        #(#carried)*
        #tape_decl
        for #pattern in #iter {
            #(#body)*
            #tape_push
            #(#nexts)*
        }
    }
}

/// `let (a, b): (A, B) = if cond { …; (a1, b1) } else { …; (a2, b2) };`, or without the tuple
/// for one value.
fn forward_if(func: &Func, shapes: &[Shape], plan: &Plan, i: &FwdIf) -> TokenStream {
    let names: Vec<&Ident> = i.outs.iter().map(|&v| &func.values[v].name).collect();
    let types: Vec<TokenStream> = i.outs.iter().map(|&v| mat_type(func, &shapes[v])).collect();
    let [then, otherwise] = i.branches.each_ref().map(|b| {
        let body = forward_part(func, shapes, plan, &b.body);
        let outs = &b.outs;
        let value = if outs.len() == 1 {
            quote!(#(#outs)*)
        } else {
            quote!((#(#outs),*))
        };
        quote!({ #(#body)* #value })
    });
    let cond = &i.cond;
    let (pattern, ty) = if names.len() == 1 {
        (quote!(#(#names)*), quote!(#(#types)*))
    } else {
        (quote!((#(#names),*)), quote!((#(#types),*)))
    };
    quote_spanned! {i.span=> let #pattern: #ty = if #cond #then else #otherwise; }
}

/// The statements of a backward part, `if`s included.
fn backward_part(func: &Func, shapes: &[Shape], plan: &Plan, steps: &[Bwd]) -> Vec<TokenStream> {
    steps
        .iter()
        .map(|b| match b {
            Bwd::Stmt(stmt) => step_stmt(func, stmt),
            Bwd::If(i) => {
                let [then, otherwise] = i.branches.each_ref().map(|b| {
                    let mut body = forward_part(func, shapes, plan, &b.recompute);
                    body.extend(backward_part(func, shapes, plan, &b.body));
                    quote!({ #(#body)* })
                });
                let cond = &i.cond;
                quote_spanned! {i.span=> if #cond #then else #otherwise }
            }
            Bwd::Loop(l) => {
                let body = backward_part(func, shapes, plan, &l.body);
                let (pattern, iter) = (&l.pattern, &l.iter);
                quote_spanned! {l.span=> for #pattern in #iter { #(#body)* } }
            }
        })
        .collect()
}

/// One forward binding. An operand that nothing reads afterwards is consumed: passed by value
/// to an operator (which reuses its buffer) or, as a method's receiver, given to the op's
/// in-place variant (`into_exp`).
fn forward_stmt(func: &Func, shapes: &[Shape], plan: &Plan, f: &Forward) -> TokenStream {
    let b = &func.bindings[f.binding];
    let name = &func.values[b.out].name;
    let ty = mat_type(func, &shapes[b.out]);
    if let Some((grad, mutable)) = &f.with_grad {
        return value_with_grad(func, shapes, plan, f, grad, *mutable);
    }
    let arg = |i: usize, a: &Operand| {
        if f.consumes[i] {
            receiver(func, a)
        } else {
            by_ref(func, a, shapes)
        }
    };
    let expr = match (&b.op.form, &b.call) {
        (Form::Call, Some((path, _))) => {
            let args: Vec<TokenStream> = b.args.iter().map(|a| by_ref(func, a, shapes)).collect();
            quote_spanned!(b.op_span=> #path(#(#args),*))
        }
        (Form::Call, None) => quote!(::core::unreachable!()),
        (Form::Method { .. }, _) if b.op.scalar && shapes[b.out] == Shape::Scalar => {
            // A method of the element type: written as a function, which also types a literal
            // receiver (`f64::sqrt(2.0)`).
            let ty = &func.scalar_ty;
            let method = Ident::new(b.op.name, b.op_span);
            let args: Vec<TokenStream> = b.args.iter().map(|a| by_ref(func, a, shapes)).collect();
            quote!(#ty::#method(#(#args),*))
        }
        (Form::Method { .. }, _) => {
            let recv = receiver(func, &b.args[0]);
            let method = if f.consumes[0] && b.op.consuming {
                Ident::new(&format!("into_{}", b.op.name), b.op_span)
            } else {
                Ident::new(b.op.name, b.op_span)
            };
            let rest: Vec<TokenStream> = b.args[1..]
                .iter()
                .map(|a| by_ref(func, a, shapes))
                .collect();
            quote!(#recv.#method(#(#rest),*))
        }
        (Form::Operator { arity }, _) => {
            let op = operator_tokens(b.op.name, b.op_span);
            let args: Vec<TokenStream> =
                b.args.iter().enumerate().map(|(i, a)| arg(i, a)).collect();
            if *arity == 1 {
                let a = &args[0];
                quote!(#op #a)
            } else {
                let (l, r) = (&args[0], &args[1]);
                quote!(#l #op #r)
            }
        }
    };
    quote_spanned! {b.span=> let #name: #ty = #expr; }
}

/// The function's value computed with its receiver's gradient in one pass
/// (`cross_entropy_and_backward`).
fn value_with_grad(
    func: &Func,
    shapes: &[Shape],
    plan: &Plan,
    f: &Forward,
    grad: &Ident,
    mutable: bool,
) -> TokenStream {
    let b = &func.bindings[f.binding];
    let name = &func.values[b.out].name;
    let ty = mat_type(func, &shapes[b.out]);
    let recv = receiver(func, &b.args[0]);
    let method = if f.consumes[0] {
        format!("into_{}_and_backward", b.op.name)
    } else {
        format!("{}_and_backward", b.op.name)
    };
    let method = Ident::new(&method, b.op_span);
    let rest: Vec<TokenStream> = b.args[1..]
        .iter()
        .map(|a| by_ref(func, a, shapes))
        .collect();
    let d_out = &plan.d_out;
    let grad_shape = Func::value_of(&b.args[0]).map_or(Shape::Scalar, |v| shapes[v].clone());
    let grad_ty = mat_type(func, &grad_shape);
    let m = if mutable { quote!(mut) } else { quote!() };
    quote_spanned! {b.span=>
        let (#name, #m #grad): (#ty, #grad_ty) = #recv.#method(#(#rest,)* #d_out);
    }
}

fn operator_tokens(symbol: &str, span: Span) -> TokenStream {
    let tokens: TokenStream = symbol.parse().unwrap_or_default();
    tokens
        .into_iter()
        .map(|mut tt| {
            tt.set_span(span);
            tt
        })
        .collect()
}

fn step_stmt(func: &Func, stmt: &Stmt) -> TokenStream {
    let span = stmt.span;
    match &stmt.kind {
        StmtKind::Init {
            grad,
            declare: false,
            expr,
            ..
        } => quote_spanned! {span=> #grad = #expr; },
        StmtKind::Init {
            grad,
            shape,
            mutable,
            expr,
            ..
        } => {
            let ty = mat_type(func, shape);
            let m = if *mutable { quote!(mut) } else { quote!() };
            quote_spanned! {span=> let #m #grad: #ty = #expr; }
        }
        StmtKind::Code(tokens) => tokens.clone(),
        StmtKind::Add {
            grad, negate, expr, ..
        } => {
            if *negate {
                quote_spanned! {span=> #grad -= #expr; }
            } else {
                quote_spanned! {span=> #grad += #expr; }
            }
        }
        StmtKind::InPlace { grad, method, args } => {
            quote_spanned! {span=> #grad.#method(#args); }
        }
        StmtKind::Call { parts, expr } => quote_spanned! {span=> let #parts = #expr; },
        StmtKind::WithValue { .. } => quote!(),
    }
}

/// The backward function's documentation: what it returns, then the derivation.
fn backward_doc(func: &Func, plan: &Plan, derivation: &str) -> String {
    let fn_name = &func.item.sig.ident;
    let inputs: Vec<String> = func
        .params
        .iter()
        .filter(|p| p.differentiable)
        .map(|p| format!("`{}`", p.name))
        .collect();
    let wrt = if inputs.is_empty() {
        "nothing (no input is differentiated)".to_owned()
    } else {
        inputs.join(", ")
    };
    format!(
        "Backward pass of [`{fn_name}`], generated by `#[differentiable]`.\n\n\
         Returns the forward value and the gradient of `{d} · {fn_name}(…)` with respect to \
         {wrt}, computed by the chain rule one binding at a time, in reverse. `{d} = 1` gives \
         the gradient of `{fn_name}` itself.\n\n\
         # Derivation\n\n```text\n{derivation}```",
        d = plan.d_out,
    )
}

/// `<name>_gradcheck`: the generated gradients of every differentiable input against central
/// finite differences of the forward function, at the given point, with these local names.
/// `locals` is `None` for the fallback, whose body never runs.
fn gradcheck_fn(func: &Func, locals: Option<&(Ident, Ident, Ident)>) -> TokenStream {
    let sig = &func.item.sig;
    let (vis, generics, inputs) = (&func.item.vis, &sig.generics, &sig.inputs);
    let name = Names::gradcheck_fn(&sig.ident);
    let where_clause = &generics.where_clause;
    let body = match locals {
        None => quote!(#UNREACHABLE),
        Some(locals) => gradcheck_body(func, locals),
    };
    let header = generated_fn_header(func, &gradcheck_doc(func));
    quote! {
        #header
        #vis fn #name #generics (#inputs) -> ::gradgen::check::GradCheck #where_clause {
            #body
        }
    }
}

fn gradcheck_doc(func: &Func) -> String {
    let fn_name = &func.item.sig.ident;
    let backward = Names::backward_fn(fn_name);
    let mut doc = format!(
        "Checks the gradients of [`{backward}`] against central finite differences of \
         [`{fn_name}`] at the given point, for every differentiable input. Generated by \
         `#[differentiable]`.\n\nEach input is perturbed entry by entry (two evaluations of \
         `{fn_name}` per entry); the report gives, per input, the worst relative error and where."
    );
    if !matches!(func.ret_shape, Shape::Scalar) {
        doc.push_str(
            " The value is a matrix, so what is checked is the gradient of `⟨U, value⟩` for the \
             fixed upstream gradient `U = gradgen::check::upstream()`, which is also the \
             reported value.",
        );
    }
    doc
}

/// The arguments of the forward and backward functions, as the check passes them on.
fn passed_args(func: &Func) -> Vec<TokenStream> {
    func.params
        .iter()
        .map(|p| {
            let n = &p.name;
            match (&p.kind, p.by_ref) {
                (ParamKind::Scalar | ParamKind::Flag(_), _) | (_, true) => quote!(#n),
                _ => quote!(#n.clone()),
            }
        })
        .collect()
}

/// How the numeric side of a gradient check evaluates the function: the function itself, or,
/// for a function generic over its element type, its `f64` instance at the same point (so that
/// an `f32` gradient is checked against differences that resolve it).
struct Numeric {
    /// Statements before the checks (the inputs converted to `f64`).
    prelude: TokenStream,
    /// The function to differentiate numerically, with its generic arguments.
    call: TokenStream,
    /// Each parameter as that call takes it.
    args: Vec<TokenStream>,
    /// The element type the numeric side works in.
    elem: TokenStream,
    /// The numeric side is the `f64` instance: inputs and gradients are converted to compare.
    in_f64: bool,
}

impl Numeric {
    /// An input's matrix and analytic gradient as the numeric side compares them.
    fn at(&self, p: &crate::ir::Param, grads: &Ident) -> (TokenStream, TokenStream) {
        let n = &p.name;
        match (self.in_f64, p.by_ref) {
            (true, _) => (quote!(&#n.cast::<f64>()), quote!(&#grads.#n.cast::<f64>())),
            (false, true) => (quote!(#n), quote!(&#grads.#n)),
            (false, false) => (quote!(&#n), quote!(&#grads.#n)),
        }
    }
}

fn numeric_side(func: &Func, upstream: &Ident) -> (Numeric, TokenStream) {
    let fn_name = &func.item.sig.ident;
    if crate::steps::generic_elem(func).is_none() {
        let plain = Numeric {
            prelude: quote!(),
            call: quote!(#fn_name),
            args: passed_args(func),
            elem: func.scalar_ty.to_token_stream(),
            in_f64: false,
        };
        return (plain, quote!(&#upstream));
    }
    numeric_in_f64(func, upstream)
}

/// A parameter as the `f64` instance takes it: a matrix (or a sequence of them) converted
/// once, in `prelude`; a scalar converted; anything else as it is.
fn f64_arg(p: &crate::ir::Param, names: &mut Names, prelude: &mut Vec<TokenStream>) -> TokenStream {
    let n = &p.name;
    match &p.kind {
        ParamKind::Mat(..) => {
            let wide = names.fresh(&format!("{n}_f64"), Span::call_site());
            prelude.push(quote!(let #wide = #n.cast::<f64>();));
            if p.by_ref {
                quote!(&#wide)
            } else {
                quote!(#wide.clone())
            }
        }
        ParamKind::Seq { item, len } if matches!(**item, ParamKind::Mat(..)) => {
            let wide = names.fresh(&format!("{n}_f64"), Span::call_site());
            prelude.push(match len {
                // An array stays an array, which the function takes.
                Some(_) => quote!(let #wide = #n.each_ref().map(|m| m.cast::<f64>());),
                None => quote! {
                    let #wide: ::std::vec::Vec<_> = #n.iter().map(|m| m.cast::<f64>()).collect();
                },
            });
            quote!(&#wide)
        }
        ParamKind::Scalar => quote!(::gradgen::Scalar::to_f64(#n)),
        _ => quote!(#n),
    }
}

/// The `f64` instance of a function generic over its element type, and the inputs converted.
fn numeric_in_f64(func: &Func, upstream: &Ident) -> (Numeric, TokenStream) {
    let fn_name = &func.item.sig.ident;
    let elem = func.scalar_ty.to_token_stream().to_string();
    let generic_args = func
        .item
        .sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) if t.ident == elem => Some(quote!(f64)),
            syn::GenericParam::Type(t) => Some(t.ident.to_token_stream()),
            syn::GenericParam::Const(c) => Some(c.ident.to_token_stream()),
            syn::GenericParam::Lifetime(_) => None,
        });
    let call = quote!(#fn_name::<#(#generic_args),*>);
    let mut names = func.names.clone();
    let mut prelude = Vec::new();
    let args = func
        .params
        .iter()
        .map(|p| f64_arg(p, &mut names, &mut prelude))
        .collect();
    let upstream_f64 = names.fresh("upstream_f64", Span::call_site());
    if !matches!(func.ret_shape, Shape::Scalar) {
        prelude.push(quote!(let #upstream_f64 = #upstream.cast::<f64>();));
    }
    let numeric = Numeric {
        prelude: quote!(#(#prelude)*),
        call,
        args,
        elem: quote!(f64),
        in_f64: true,
    };
    (numeric, quote!(&#upstream_f64))
}

fn gradcheck_body(func: &Func, (grads, check, upstream): &(Ident, Ident, Ident)) -> TokenStream {
    let fn_name = &func.item.sig.ident;
    let backward = Names::backward_fn(fn_name);
    let (value, scalar) = (value_field(func), &func.scalar_ty);
    let all = passed_args(func);
    let fn_label = fn_name.to_string();
    let matrix_value = !matches!(func.ret_shape, Shape::Scalar);
    let (numeric, upstream_there) = numeric_side(func, upstream);
    let pushes = differentiable(func).map(|p| {
        gradcheck_push(
            func,
            p,
            &numeric,
            grads,
            check,
            matrix_value.then_some(&upstream_there),
        )
    });
    let mutable = differentiable(func).next().map(|_| quote!(mut));
    let (setup, seed, reported) = if matrix_value {
        let ret = &func.ret_ty;
        (
            quote!(let #upstream: #ret = ::gradgen::check::upstream();),
            quote!(&#upstream),
            quote!(#grads.#value.inner(&#upstream)),
        )
    } else {
        (
            quote!(),
            quote!(<#scalar as ::gradgen::Scalar>::from_f64(1.0)),
            quote!(#grads.#value),
        )
    };
    let prelude = &numeric.prelude;
    quote! {
        #setup
        let #grads = #backward(#(#all,)* #seed);
        #prelude
        let #mutable #check = ::gradgen::check::GradCheck::new(
            #fn_label,
            ::gradgen::Scalar::to_f64(#reported),
        );
        #(#pushes)*
        #check
    }
}

/// `check.push("x", gradient(|x| f(…, x, …), &x, &grads.x))` for one differentiable input.
fn gradcheck_push(
    func: &Func,
    p: &crate::ir::Param,
    numeric: &Numeric,
    grads: &Ident,
    check: &Ident,
    upstream: Option<&TokenStream>,
) -> TokenStream {
    let n = &p.name;
    if let ParamKind::Seq { item, .. } = &p.kind {
        return gradcheck_push_seq(func, p, item, numeric, (grads, check), upstream);
    }
    let ParamKind::Mat(r, c) = &p.kind else {
        return quote!();
    };
    let (path, elem) = (&func.mat_path, &numeric.elem);
    let (rows, cols) = (dim_tokens(r), dim_tokens(c));
    let ty = quote!(#path<#rows, #cols, #elem>);
    // The closure's parameter stands for this input; the others are as the call takes them.
    let own = if p.by_ref {
        quote!(#n)
    } else {
        quote!(#n.clone())
    };
    let args = func.params.iter().zip(&numeric.args).map(|(q, a)| {
        if q.name == *n {
            own.clone()
        } else {
            a.clone()
        }
    });
    let call = &numeric.call;
    let value_of = match upstream {
        Some(u) => quote!(#call(#(#args),*).inner(#u)),
        None => quote!(#call(#(#args),*)),
    };
    let (at, analytic) = numeric.at(p, grads);
    let label = n.to_string();
    quote! {
        #check.push(
            #label,
            ::gradgen::check::gradient(|#n: &#ty| #value_of, #at, #analytic),
        );
    }
}

/// The check of each element of a sequence, `xs[0]`, `xs[1]`, …: the function of that element
/// alone, the others fixed.
fn gradcheck_push_seq(
    func: &Func,
    p: &crate::ir::Param,
    item: &ParamKind,
    numeric: &Numeric,
    (grads, check): (&Ident, &Ident),
    upstream: Option<&TokenStream>,
) -> TokenStream {
    let n = &p.name;
    let ParamKind::Mat(r, c) = item else {
        return quote!();
    };
    let mut names = func.names.clone();
    let [index, element, seq] =
        ["index", "element", "sequence"].map(|b| names.fresh(b, Span::call_site()));
    let (path, elem) = (&func.mat_path, &numeric.elem);
    let (rows, cols) = (dim_tokens(r), dim_tokens(c));
    let ty = quote!(#path<#rows, #cols, #elem>);
    let position = func
        .params
        .iter()
        .position(|q| q.name == *n)
        .unwrap_or_default();
    let base = numeric.args[position].clone();
    let args = func.params.iter().zip(&numeric.args).map(|(q, a)| {
        if q.name == *n {
            quote!(&#seq)
        } else {
            a.clone()
        }
    });
    let call = &numeric.call;
    let value_of = match upstream {
        Some(u) => quote!(#call(#(#args),*).inner(#u)),
        None => quote!(#call(#(#args),*)),
    };
    let analytic = if numeric.in_f64 {
        quote!(&#grads.#n[#index].cast::<f64>())
    } else {
        quote!(&#grads.#n[#index])
    };
    let label = format!("{n}[{{}}]");
    quote! {
        for #index in 0..#n.len() {
            #check.push(
                ::std::format!(#label, #index),
                ::gradgen::check::gradient(
                    |#element: &#ty| {
                        let mut #seq = (#base).to_owned();
                        #seq[#index] = #element.clone();
                        #value_of
                    },
                    &(#base)[#index],
                    #analytic,
                ),
            );
        }
    }
}
