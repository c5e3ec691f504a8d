//! Models with weights: `#[model]` on a struct, `#[differentiable]` on its `impl` block.
//!
//! Input: a struct whose `Mat` fields are the weights; later, an `impl` block of it whose
//! `#[differentiable]` methods read the weights as `self.w1`. Output: `<Model>Grads` (one field per
//! weight, shaped like it, with `zeros`), the named-matrix impls (`Tensors`, `Params`) and a
//! `step` method for gradient descent, from the struct; from the impl, the methods unchanged
//! plus `<method>_backward(&self, <the same parameters>, d_out)` returning the value and a
//! `<Model>Grads`, and `<method>_gradcheck(&self, …)`.
//!
//! A method's macro cannot see the struct, so the struct's attribute records its weights in a
//! `macro_rules!` callback named after the struct; the impl's attribute expands to a call of that
//! callback, which hands the weights and the impl to [`model_impl`]. Each marked method is then
//! rewritten as a free function of the weights (`self.w1` → a parameter `self_w1`) and goes
//! through the ordinary pipeline, differentiated with respect to the weights only.
//!
//! Guarantees: as for functions, every mistake is one error at its span, collected in
//! [`Errors`], and nothing panics; every generated name comes from `naming`; an `impl` whose
//! struct has no `#[model]` fails to find the callback macro.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::visit_mut::VisitMut;

use crate::errors::Errors;
use crate::naming::{model as names, Names};
use crate::tensors;

/// `#[model]` on a struct.
pub fn model(item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let strukt: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(s) => s,
        Err(_) => {
            errors.push(
                first_span(&item),
                "`#[model]` goes on a struct with named fields",
            );
            let e = errors.to_compile_errors();
            return quote!(#e #item);
        }
    };
    let syn::Fields::Named(fields) = &strukt.fields else {
        errors.push(
            strukt.fields.to_token_stream(),
            "`#[model]` needs named fields: the weights",
        );
        let e = errors.to_compile_errors();
        return quote!(#e #strukt);
    };
    let weights: Vec<(&Ident, &syn::Type)> = fields
        .named
        .iter()
        .filter_map(|f| Some((f.ident.as_ref()?, &f.ty)))
        .filter(|(_, ty)| is_mat(ty))
        .collect();
    let grads = grads_struct(&strukt, &weights);
    let callback = callback(&strukt, &weights);
    quote! {
        #strukt
        #grads
        #callback
    }
}

/// The span of the item's first token (`struct`, `pub`, …), where a misplaced attribute's error
/// points.
fn first_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

/// `<Model>Grads`, the `Tensors`/`Params` impls of both structs, and `step`.
fn grads_struct(strukt: &syn::ItemStruct, weights: &[(&Ident, &syn::Type)]) -> TokenStream {
    let (name, vis, generics) = (&strukt.ident, &strukt.vis, &strukt.generics);
    let grads = names::grads(name);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let elem = weights
        .first()
        .and_then(|(_, ty)| mat_elem(ty))
        .unwrap_or_else(|| syn::parse_quote!(f64));
    let fields: Vec<&Ident> = weights.iter().map(|(n, _)| *n).collect();
    let types: Vec<&syn::Type> = weights.iter().map(|(_, t)| *t).collect();
    let docs = fields
        .iter()
        .map(|n| format!(" The gradient with respect to `self.{n}`, shaped like it."));
    let struct_doc = format!(
        " The gradients of a [`{name}`]'s weights, returned by the `_backward` of its \
         `#[differentiable]` methods."
    );
    let visited = |name: &Ident, zeros: bool| {
        tensors::impls(&tensors::Visited {
            name,
            generics,
            elem: elem.to_token_stream(),
            fields: fields.iter().map(|f| (*f, false)).collect(),
            extra: None,
            cfgs: &[],
            zeros,
        })
    };
    let (model_tensors, grads_tensors) = (visited(name, false), visited(&grads, true));
    let params = tensors::params_impl(name, &grads, generics, &[]);
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Debug)]
        #vis struct #grads #generics #where_clause {
            #( #[doc = #docs] pub #fields: #types, )*
        }

        #model_tensors
        #grads_tensors
        #params

        impl #impl_generics #name #ty_generics #where_clause {
            /// One step of gradient descent: every weight moves by `-rate` times its gradient.
            pub fn step(&mut self, grads: &#grads #ty_generics, rate: #elem) {
                #( self.#fields -= &grads.#fields * rate; )*
            }
        }
    }
}

/// The `macro_rules!` callback that hands the weights to an `impl` of the struct.
fn callback(strukt: &syn::ItemStruct, weights: &[(&Ident, &syn::Type)]) -> TokenStream {
    let name = &strukt.ident;
    let (grads, callback) = (names::grads(name), names::callback(name));
    let fields = weights.iter().map(|(n, _)| n);
    let types = weights.iter().map(|(_, t)| t);
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #callback {
            ($($impl_block:tt)*) => {
                ::gradgen::__private::model_impl! {
                    [#name] [#grads] [#( #fields: #types, )*]
                    $($impl_block)*
                }
            };
        }
    }
}

/// `#[differentiable]` on an `impl` block: the call of its struct's callback.
pub fn impl_block(item: &syn::ItemImpl) -> TokenStream {
    let syn::Type::Path(self_ty) = &*item.self_ty else {
        let mut errors = Errors::default();
        errors.push(
            item.self_ty.to_token_stream(),
            "`#[differentiable]` goes on an `impl` of a `#[model]` struct",
        );
        return errors.to_compile_errors();
    };
    let Some(last) = self_ty.path.segments.last() else {
        return quote!(#item);
    };
    let callback = names::callback(&last.ident);
    quote!(#callback! { #item })
}

/// The weights and the impl, from the struct's callback.
struct ModelImpl {
    model: Ident,
    grads: Ident,
    weights: Vec<(Ident, syn::Type)>,
    item: syn::ItemImpl,
}

impl syn::parse::Parse for ModelImpl {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let bracketed = |input: syn::parse::ParseStream| -> syn::Result<TokenStream> {
            let content;
            syn::bracketed!(content in input);
            content.parse()
        };
        let model: Ident = syn::parse2(bracketed(input)?)?;
        let grads: Ident = syn::parse2(bracketed(input)?)?;
        let weights = syn::parse::Parser::parse2(weight_list, bracketed(input)?)?;
        Ok(ModelImpl {
            model,
            grads,
            weights,
            item: input.parse()?,
        })
    }
}

/// `w1: Mat<D, H>, b1: Mat<1, H>,`
fn weight_list(p: syn::parse::ParseStream) -> syn::Result<Vec<(Ident, syn::Type)>> {
    let mut out = Vec::new();
    while !p.is_empty() {
        let name: Ident = p.parse()?;
        p.parse::<syn::Token![:]>()?;
        let ty: syn::Type = p.parse()?;
        p.parse::<syn::Token![,]>()?;
        out.push((name, ty));
    }
    Ok(out)
}

/// The impl with its marked methods' backward passes.
pub fn model_impl(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let ModelImpl {
        model,
        grads,
        weights,
        mut item,
    } = match syn::parse2::<ModelImpl>(input) {
        Ok(parsed) => parsed,
        Err(e) => {
            errors.add(e);
            return errors.to_compile_errors();
        }
    };
    let callees = differentiable_methods(&item);
    let model = Model {
        name: &model,
        grads: &grads,
        weights: &weights,
        generics: &item.generics.clone(),
        callees: &callees,
        wide: std::cell::RefCell::new(Vec::new()),
    };
    let mut generated = Vec::new();
    let mut marked_methods = Vec::new();
    for impl_item in &mut item.items {
        if let syn::ImplItem::Fn(method) = impl_item {
            if marked(method, &mut errors) {
                generated.extend(method_items(&model, method, &mut errors));
                marked_methods.push(method.clone());
            }
        }
    }
    generated.extend(wide_variants(&model, &marked_methods));
    let (free_items, methods): (Vec<_>, Vec<_>) = generated.into_iter().unzip();
    let errors = errors.to_compile_errors();
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    quote! {
        #errors
        #item
        #(#free_items)*
        impl #impl_generics #self_ty #where_clause {
            #(#methods)*
        }
    }
}

/// What the methods of one model share.
struct Model<'a> {
    name: &'a Ident,
    grads: &'a Ident,
    weights: &'a [(Ident, syn::Type)],
    generics: &'a syn::Generics,
    /// The `#[differentiable]` methods, which the others may call as `self.m(…)`.
    callees: &'a [syn::ImplItemFn],
    /// The methods called with an argument that is not a parameter of the caller: they also get
    /// a variant that differentiates their matrix arguments.
    wide: std::cell::RefCell<Vec<String>>,
}

/// The methods marked `#[differentiable]` (with the marker).
fn differentiable_methods(item: &syn::ItemImpl) -> Vec<syn::ImplItemFn> {
    item.items
        .iter()
        .filter_map(|i| match i {
            syn::ImplItem::Fn(m) if m.attrs.iter().any(|a| a.path().is_ident("differentiable")) => {
                Some(m.clone())
            }
            _ => None,
        })
        .collect()
}

/// The wide variant of each method that another calls with a computed argument: the same
/// free function, differentiated with respect to its matrix arguments too (only the caller's
/// backward calls it; the method's own backward does not pay for those gradients).
fn wide_variants(model: &Model, methods: &[syn::ImplItemFn]) -> Vec<(TokenStream, TokenStream)> {
    let wide = model.wide.borrow().clone();
    methods
        .iter()
        .filter(|m| wide.contains(&m.sig.ident.to_string()))
        .filter_map(|m| {
            let mut f = free_function(model, m).ok()?;
            f.sig.ident = names::free_fn_wide(model.name, &m.sig.ident);
            let weights = model.weights.iter().map(|(w, _)| names::weight_param(w));
            let args = m.sig.inputs.iter().skip(1).filter_map(|a| match a {
                syn::FnArg::Typed(t) if is_mat(&t.ty) => Some(t.pat.to_token_stream()),
                _ => None,
            });
            let wrt = weights.map(|w| w.to_token_stream()).chain(args);
            let call_types = call_types(model, m);
            let attr = quote!(wrt(#(#wrt),*) #call_types);
            Some((crate::expand(attr, f.to_token_stream()), quote!()))
        })
        .collect()
}

/// Whether the method is marked `#[differentiable]` (the marker is removed); a marker with
/// arguments is an error.
fn marked(method: &mut syn::ImplItemFn, errors: &mut Errors) -> bool {
    let Some(pos) = method
        .attrs
        .iter()
        .position(|a| a.path().is_ident("differentiable"))
    else {
        return false;
    };
    let marker = method.attrs.remove(pos);
    if matches!(marker.meta, syn::Meta::Path(_)) {
        return true;
    }
    errors.push(
        marker.meta.to_token_stream(),
        "a model's methods take no `#[differentiable(…)]` arguments: the weights are what is differentiated",
    );
    false
}

/// The free function a method becomes, through the pipeline, and the method's `_backward` and
/// `_gradcheck`; `None` after an error.
fn method_items(
    model: &Model,
    method: &syn::ImplItemFn,
    errors: &mut Errors,
) -> Option<(TokenStream, TokenStream)> {
    if !takes_ref_self(method, errors) {
        return None;
    }
    let free_fn = match free_function(model, method) {
        Ok(f) => f,
        Err(e) => {
            errors.add(e);
            return None;
        }
    };
    let wrt = model.weights.iter().map(|(w, _)| names::weight_param(w));
    let call_types = call_types(model, method);
    let free = crate::expand(
        quote!(wrt(#(#wrt),*) #call_types),
        free_fn.to_token_stream(),
    );
    let backward = method_backward(model, method);
    let gradcheck = method_gradcheck(model, method);
    Some((free, quote!(#backward #gradcheck)))
}

fn takes_ref_self(method: &syn::ImplItemFn, errors: &mut Errors) -> bool {
    let sig = &method.sig;
    let Some(syn::FnArg::Receiver(receiver)) = sig.inputs.first() else {
        errors.push(
            sig.ident.to_token_stream(),
            "a `#[differentiable]` method of a model takes `&self`",
        );
        return false;
    };
    if receiver.reference.is_none() || receiver.mutability.is_some() {
        errors.push(
            receiver.to_token_stream(),
            "a `#[differentiable]` method takes `&self`",
        );
        return false;
    }
    true
}

/// The method as a free function of the weights: `self.w1` → `self_w1: &Mat<…>`, with the
/// impl's generics and then the method's.
fn free_function(model: &Model, method: &syn::ImplItemFn) -> syn::Result<syn::ItemFn> {
    let sig = &method.sig;
    let free_name = names::free_fn(model.name, &sig.ident);
    let mut generics = model.generics.clone();
    generics.params.extend(sig.generics.params.iter().cloned());
    if let Some(wc) = &sig.generics.where_clause {
        generics
            .make_where_clause()
            .predicates
            .extend(wc.predicates.iter().cloned());
    }
    let weight_params = model.weights.iter().map(|(w, ty)| {
        let p = names::weight_param(w);
        quote!(#p: &#ty)
    });
    let other_params = sig.inputs.iter().skip(1);
    let mut body = method.block.clone();
    let mut rewrite = SelfRewrite {
        model,
        caller_params: param_names(method),
        not_weights: Vec::new(),
    };
    rewrite.visit_block_mut(&mut body);
    if let Some(e) = rewrite.not_weights.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        return Err(e);
    }
    let output = &sig.output;
    let (_, _, where_clause) = generics.split_for_impl();
    syn::parse2(quote! {
        #[doc(hidden)]
        #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, non_snake_case)]
        fn #free_name #generics (#(#weight_params,)* #(#other_params),*) #output #where_clause #body
    })
}

/// The method's parameters after `&self`: as declared, and by name.
fn other_params(method: &syn::ImplItemFn) -> (Vec<&syn::FnArg>, Vec<TokenStream>) {
    let params: Vec<&syn::FnArg> = method.sig.inputs.iter().skip(1).collect();
    let names = params
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(t.pat.to_token_stream()),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    (params, names)
}

/// The parameter names of the free function: the weights', then the method's.
fn free_param_names(model: &Model, method: &syn::ImplItemFn) -> Vec<Ident> {
    let weights = model.weights.iter().map(|(w, _)| names::weight_param(w));
    let others = method.sig.inputs.iter().filter_map(|a| match a {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(i) => Some(i.ident.clone()),
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    });
    weights.chain(others).collect()
}

/// The method's backward: the free function's, repackaged as the model's gradients.
fn method_backward(model: &Model, method: &syn::ImplItemFn) -> TokenStream {
    let sig = &method.sig;
    let (grads, vis) = (model.grads, &method.vis);
    let backward = Names::backward_fn(&sig.ident);
    let free_backward = Names::backward_fn(&names::free_fn(model.name, &sig.ident));
    let (method_generics, method_where) = (&sig.generics, &sig.generics.where_clause);
    let (_, model_ty_generics, _) = model.generics.split_for_impl();
    let ret = match &sig.output {
        syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
        syn::ReturnType::Default => quote!(()),
    };
    let d_out_ty = match syn::parse2::<syn::Type>(ret.clone()) {
        Ok(ty) if is_mat(&ty) => quote!(&#ret),
        _ => ret.clone(),
    };
    let (params, arg_names) = other_params(method);
    let free_params = free_param_names(model, method);
    let value = Names::value_field(free_params.iter());
    let d_out = names::d_out(free_params.iter());
    let local = names::local("grads", free_params.iter());
    let weight_args = model.weights.iter().map(|(w, _)| quote!(&self.#w));
    let weight_fields = model.weights.iter().map(|(w, _)| {
        let p = names::weight_param(w);
        quote!(#w: #local.#p)
    });
    let doc = format!(
        " Backward pass of [`{}::{}`], generated by `#[differentiable]`: the value, and the \
         gradient of `d_out · self.{}(…)` with respect to each weight of the model.",
        model.name, sig.ident, sig.ident
    );
    quote! {
        #[doc = #doc]
        #[must_use]
        #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, unused_variables)]
        #vis fn #backward #method_generics (&self, #(#params,)* #d_out: #d_out_ty) -> (#ret, #grads #model_ty_generics) #method_where {
            let #local = #free_backward(#(#weight_args,)* #(#arg_names,)* #d_out);
            (#local.#value, #grads { #(#weight_fields),* })
        }
    }
}

/// The method's gradient check: the free function's, reported under the method's names.
fn method_gradcheck(model: &Model, method: &syn::ImplItemFn) -> TokenStream {
    let sig = &method.sig;
    let vis = &method.vis;
    let gradcheck = Names::gradcheck_fn(&sig.ident);
    let free_gradcheck = Names::gradcheck_fn(&names::free_fn(model.name, &sig.ident));
    let backward = Names::backward_fn(&sig.ident);
    let (method_generics, method_where) = (&sig.generics, &sig.generics.where_clause);
    let label = format!("{}::{}", model.name, sig.ident);
    let doc = format!(
        " Checks [`{model}::{backward}`] against central finite differences of \
         [`{model}::{}`] at these weights and arguments, weight by weight. Generated by \
         `#[differentiable]`.",
        sig.ident,
        model = model.name
    );
    let (params, arg_names) = other_params(method);
    let free_params = free_param_names(model, method);
    let local = names::local("check", free_params.iter());
    let weight_args = model.weights.iter().map(|(w, _)| quote!(&self.#w));
    let prefix = names::WEIGHT_PREFIX;
    quote! {
        #[doc = #doc]
        #[must_use]
        #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
        #vis fn #gradcheck #method_generics (&self, #(#params),*) -> ::gradgen::check::GradCheck #method_where {
            let mut #local = #free_gradcheck(#(#weight_args,)* #(#arg_names),*);
            #local.function = #label;
            for (name, _) in &mut #local.inputs {
                if let ::std::option::Option::Some(weight) = name.strip_prefix(#prefix) {
                    *name = ::std::string::ToString::to_string(weight);
                }
            }
            #local
        }
    }
}

/// `self.w1` → `self_w1`, and `self.m(args)`, a call of another differentiable method, → a
/// call of the free function it becomes, `__gradgen_Model_m(self_w1, …, args)`: its gradients
/// flow back through that function's backward, and the weights' add up.
struct SelfRewrite<'a> {
    model: &'a Model<'a>,
    /// The caller's own parameters, which are constants of the caller.
    caller_params: Vec<String>,
    /// `self.f` for fields `f` that are not weights (not `Mat`s): one error each.
    not_weights: Vec<syn::Error>,
}

impl VisitMut for SelfRewrite<'_> {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        match expr {
            syn::Expr::Field(field) => {
                if let (syn::Expr::Path(base), syn::Member::Named(member)) =
                    (&*field.base, &field.member)
                {
                    if base.path.is_ident("self") {
                        if !self
                            .model
                            .weights
                            .iter()
                            .any(|(w, _)| w.unraw() == member.unraw())
                        {
                            self.not_weights.push(not_a_weight(self.model, member));
                            return;
                        }
                        let name = names::weight_param(member);
                        *expr = syn::parse_quote!(#name);
                    }
                }
            }
            syn::Expr::MethodCall(call) if is_self(&call.receiver) => {
                if let Some(rewritten) = self.method_call(call) {
                    *expr = rewritten;
                }
            }
            _ => {}
        }
    }
}

impl SelfRewrite<'_> {
    fn method_call(&self, call: &syn::ExprMethodCall) -> Option<syn::Expr> {
        let method = call.method.to_string();
        self.model.callees.iter().find(|m| m.sig.ident == method)?;
        // Arguments that are the caller's parameters are constants there; anything else may
        // carry a gradient, which only the wide variant computes.
        let plain = call.args.iter().all(|a| {
            let inner = match a {
                syn::Expr::Reference(r) => &*r.expr,
                other => other,
            };
            matches!(inner, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.caller_params.contains(&i.to_string())))
        });
        let callee = if plain {
            names::free_fn(self.model.name, &call.method)
        } else {
            self.model.wide.borrow_mut().push(method);
            names::free_fn_wide(self.model.name, &call.method)
        };
        let weights = self
            .model
            .weights
            .iter()
            .map(|(w, _)| names::weight_param(w));
        let args = &call.args;
        Some(syn::parse_quote!(#callee(#(#weights,)* #args)))
    }
}

/// `self.f` where `f` is not one of the model's `Mat` fields.
fn not_a_weight(model: &Model, member: &Ident) -> syn::Error {
    let weights: Vec<String> = model
        .weights
        .iter()
        .map(|(w, _)| format!("`{w}`"))
        .collect();
    let listed = if weights.is_empty() {
        "it has none".to_owned()
    } else {
        format!("they are {}", weights.join(", "))
    };
    syn::Error::new(
        member.span(),
        format!(
            "`self.{member}` is not a weight of `{}`: a differentiable method reads the model's `Mat` fields, and {listed}\nhelp: pass `{member}` to the method as a parameter; a `Vec` of matrices as a slice, `{member}: &[Mat<R, C>]`, which a loop may walk",
            model.name
        ),
    )
}

fn is_self(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Path(p) if p.path.is_ident("self"))
}

/// The names of a method's parameters after `&self`.
fn param_names(method: &syn::ImplItemFn) -> Vec<String> {
    method
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(i) => Some(i.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// `__call_type(callee = Type, …)`: the result type of each method `caller` may call, when it
/// is written in generics the caller has too, so that `self.predict(x)` needs no annotation.
fn call_types(model: &Model, caller: &syn::ImplItemFn) -> TokenStream {
    let mut known: Vec<String> = generic_names(model.generics);
    known.extend(generic_names(&caller.sig.generics));
    let entries = model.callees.iter().filter_map(|callee| {
        let syn::ReturnType::Type(_, ret) = &callee.sig.output else {
            return None;
        };
        let mut callee_generics = generic_names(model.generics);
        callee_generics.extend(generic_names(&callee.sig.generics));
        let idents = crate::parse::idents_in(ret.to_token_stream());
        let expressible = idents
            .iter()
            .all(|i| !callee_generics.contains(i) || known.contains(i));
        let (narrow, wide) = (
            names::free_fn(model.name, &callee.sig.ident),
            names::free_fn_wide(model.name, &callee.sig.ident),
        );
        expressible.then(|| quote!(__call_type(#narrow = #ret), __call_type(#wide = #ret),))
    });
    quote!(, #(#entries)*)
}

fn generic_names(generics: &syn::Generics) -> Vec<String> {
    generics
        .params
        .iter()
        .map(|p| match p {
            syn::GenericParam::Const(c) => c.ident.to_string(),
            syn::GenericParam::Type(t) => t.ident.to_string(),
            syn::GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
        })
        .collect()
}

fn is_mat(ty: &syn::Type) -> bool {
    let ty = match ty {
        syn::Type::Reference(r) => &*r.elem,
        other => other,
    };
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Mat"))
}

/// The element type of `Mat<R, C, T>`, when written.
fn mat_elem(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    match args.args.iter().nth(2)? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}
