//! Models with weights: `#[model]` on a struct, `#[differentiable]` on its `impl` block.
//!
//! Input: a struct whose `Mat` fields are the weights; later, an `impl` block of it whose
//! `#[differentiable]` methods read the weights as `self.w1`. Output: `<Model>Grads` (one field per
//! weight, shaped like it) and a `step` method for gradient descent, from the struct; from the
//! impl, the methods unchanged plus `<method>_backward(&self, <the same parameters>, d_out)`
//! returning the value and a `<Model>Grads`, and `<method>_gradcheck(&self, …)`.
//!
//! A method's macro cannot see the struct, so the struct's attribute records its weights in a
//! `macro_rules!` callback named after the struct; the impl's attribute expands to a call of that
//! callback, which hands the weights and the impl to [`model_impl`]. Each marked method is then
//! rewritten as a free function of the weights (`self.w1` → a parameter `self_w1`) and goes
//! through the ordinary pipeline, differentiated with respect to the weights only.
//!
//! Guarantees: as for functions, every mistake is one `syn::Error` at its span and nothing
//! panics; an `impl` whose struct has no `#[model]` fails to find the callback macro.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::visit_mut::VisitMut;

/// `#[model]` on a struct.
pub fn model(item: TokenStream) -> TokenStream {
    let strukt: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(s) => s,
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let e = syn::Error::new(span, "`#[model]` goes on a struct with named fields")
                .to_compile_error();
            return quote!(#e #item);
        }
    };
    let syn::Fields::Named(fields) = &strukt.fields else {
        let e =
            syn::Error::new_spanned(&strukt.fields, "`#[model]` needs named fields: the weights")
                .to_compile_error();
        return quote!(#e #strukt);
    };
    let weights: Vec<(&Ident, &syn::Type)> = fields
        .named
        .iter()
        .filter_map(|f| Some((f.ident.as_ref()?, &f.ty)))
        .filter(|(_, ty)| is_mat(ty))
        .collect();
    let name = &strukt.ident;
    let vis = &strukt.vis;
    let grads = format_ident!("{}Grads", name.unraw());
    // Named to read well in the one error where it is missing: an `impl` of a struct without
    // `#[model]` says "cannot find macro `Plain_needs_gradgen_model`".
    let callback = format_ident!("{}_needs_gradgen_model", name.unraw());
    let generics = &strukt.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let elem = weights
        .first()
        .and_then(|(_, ty)| mat_elem(ty))
        .unwrap_or_else(|| syn::parse_quote!(f64));
    let field_names: Vec<&Ident> = weights.iter().map(|(n, _)| *n).collect();
    let field_types: Vec<&syn::Type> = weights.iter().map(|(_, t)| *t).collect();
    let docs: Vec<String> = field_names
        .iter()
        .map(|n| format!(" The gradient with respect to `self.{n}`, shaped like it."))
        .collect();
    let struct_doc = format!(
        " The gradients of a [`{name}`]'s weights, returned by the `_backward` of its \
         `#[differentiable]` methods."
    );
    let elem_tokens = elem.to_token_stream();
    let model_tensors = crate::tensors::impls(&crate::tensors::Visited {
        name,
        generics,
        elem: elem_tokens.clone(),
        fields: field_names.clone(),
        extra: None,
        cfgs: &[],
        zeros: false,
    });
    let grads_tensors = crate::tensors::impls(&crate::tensors::Visited {
        name: &grads,
        generics,
        elem: elem_tokens,
        fields: field_names.clone(),
        extra: None,
        cfgs: &[],
        zeros: true,
    });
    let params = crate::tensors::params_impl(name, &grads, generics, &[]);
    quote! {
        #strukt

        #[doc = #struct_doc]
        #[derive(Clone, Debug)]
        #vis struct #grads #generics #where_clause {
            #( #[doc = #docs] pub #field_names: #field_types, )*
        }

        #model_tensors
        #grads_tensors
        #params

        impl #impl_generics #name #ty_generics #where_clause {
            /// One step of gradient descent: every weight moves by `-rate` times its gradient.
            pub fn step(&mut self, grads: &#grads #ty_generics, rate: #elem) {
                #( self.#field_names -= &grads.#field_names * rate; )*
            }
        }

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #callback {
            ($($impl_block:tt)*) => {
                ::gradgen::__private::model_impl! {
                    [#name] [#grads] [#( #field_names: #field_types, )*]
                    $($impl_block)*
                }
            };
        }
    }
}

/// `#[differentiable]` on an `impl` block: the call of its struct's callback.
pub fn impl_block(item: &syn::ItemImpl) -> TokenStream {
    let syn::Type::Path(self_ty) = &*item.self_ty else {
        return syn::Error::new_spanned(
            &item.self_ty,
            "`#[differentiable]` goes on an `impl` of a `#[model]` struct",
        )
        .to_compile_error();
    };
    let Some(last) = self_ty.path.segments.last() else {
        return quote!(#item);
    };
    let callback = format_ident!(
        "{}_needs_gradgen_model",
        last.ident.unraw(),
        span = last.ident.span()
    );
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
        let list = bracketed(input)?;
        let weights = syn::parse::Parser::parse2(
            |p: syn::parse::ParseStream| {
                let mut out = Vec::new();
                while !p.is_empty() {
                    let name: Ident = p.parse()?;
                    p.parse::<syn::Token![:]>()?;
                    let ty: syn::Type = p.parse()?;
                    p.parse::<syn::Token![,]>()?;
                    out.push((name, ty));
                }
                Ok(out)
            },
            list,
        )?;
        Ok(ModelImpl {
            model,
            grads,
            weights,
            item: input.parse()?,
        })
    }
}

/// The impl with its marked methods' backward passes.
pub fn model_impl(input: TokenStream) -> TokenStream {
    let ModelImpl {
        model,
        grads,
        weights,
        mut item,
    } = match syn::parse2::<ModelImpl>(input) {
        Ok(parsed) => parsed,
        Err(e) => return e.to_compile_error(),
    };
    let mut free_items = Vec::new();
    let mut methods = Vec::new();
    let mut errors = TokenStream::new();
    for impl_item in &mut item.items {
        let syn::ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let Some(pos) = method
            .attrs
            .iter()
            .position(|a| a.path().is_ident("differentiable"))
        else {
            continue;
        };
        let marker = method.attrs.remove(pos);
        if !matches!(marker.meta, syn::Meta::Path(_)) {
            errors.extend(
                syn::Error::new_spanned(
                    &marker.meta,
                    "a model's methods take no `#[differentiable(…)]` arguments: the weights are what is differentiated",
                )
                .to_compile_error(),
            );
            continue;
        }
        match method_backward(&model, &grads, &weights, &item.generics, method) {
            Ok((free, backward)) => {
                free_items.push(free);
                methods.push(backward);
            }
            Err(e) => errors.extend(e.to_compile_error()),
        }
    }
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

/// The free function a method becomes (`self.w1` → `self_w1`), with `wrt` its weights, through
/// the pipeline; and the method's `_backward`, which calls that function's backward.
fn method_backward(
    model: &Ident,
    grads: &Ident,
    weights: &[(Ident, syn::Type)],
    impl_generics: &syn::Generics,
    method: &syn::ImplItemFn,
) -> syn::Result<(TokenStream, TokenStream)> {
    let sig = &method.sig;
    let Some(syn::FnArg::Receiver(receiver)) = sig.inputs.first() else {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "a `#[differentiable]` method of a model takes `&self`",
        ));
    };
    if receiver.reference.is_none() || receiver.mutability.is_some() {
        return Err(syn::Error::new_spanned(
            receiver,
            "a `#[differentiable]` method takes `&self`",
        ));
    }
    let free_name = format_ident!("__gradgen_{}_{}", model.unraw(), sig.ident.unraw());
    // One hygiene context for the parameter and its uses: the weights' names arrive through the
    // callback `macro_rules!`, whose context differs from the method body's.
    let param = |w: &Ident| format_ident!("self_{}", w.unraw(), span = Span::call_site());
    // The free function's generics: the impl's, then the method's.
    let mut generics = impl_generics.clone();
    generics.params.extend(sig.generics.params.iter().cloned());
    if let Some(wc) = &sig.generics.where_clause {
        generics
            .make_where_clause()
            .predicates
            .extend(wc.predicates.iter().cloned());
    }
    let weight_params = weights.iter().map(|(w, ty)| {
        let p = param(w);
        quote!(#p: &#ty)
    });
    let other_params: Vec<&syn::FnArg> = sig.inputs.iter().skip(1).collect();
    let mut body = method.block.clone();
    SelfFields.visit_block_mut(&mut body);
    let output = &sig.output;
    let wrt = weights.iter().map(|(w, _)| param(w));
    let (_, _, where_clause) = generics.split_for_impl();
    let free_fn: syn::ItemFn = syn::parse2(quote! {
        #[doc(hidden)]
        #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, non_snake_case)]
        fn #free_name #generics (#(#weight_params,)* #(#other_params),*) #output #where_clause #body
    })?;
    let free = crate::expand(quote!(wrt(#(#wrt),*)), free_fn.to_token_stream());

    // The method's backward: the free function's, repackaged as the model's gradients.
    let backward = crate::naming::Names::backward_fn(&sig.ident);
    let free_backward = crate::naming::Names::backward_fn(&free_name);
    let method_generics = &sig.generics;
    let method_where = &sig.generics.where_clause;
    let (_, model_ty_generics, _) = impl_generics.split_for_impl();
    let vis = &method.vis;
    let ret = match output {
        syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
        syn::ReturnType::Default => quote!(()),
    };
    let d_out_ty = if is_mat(&syn::parse2(ret.clone()).unwrap_or(syn::Type::Verbatim(ret.clone())))
    {
        quote!(&#ret)
    } else {
        ret.clone()
    };
    let arg_names: Vec<TokenStream> = other_params
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(t.pat.to_token_stream()),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let weight_args = weights.iter().map(|(w, _)| quote!(&self.#w));
    let weight_fields = weights.iter().map(|(w, _)| {
        let p = param(w);
        quote!(#w: g.#p)
    });
    // The free function's value field and an upstream-gradient name free of its parameters.
    let free_params: Vec<Ident> = weights
        .iter()
        .map(|(w, _)| param(w))
        .chain(other_params.iter().filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(i) => Some(i.ident.clone()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        }))
        .collect();
    let value = crate::naming::Names::value_field(free_params.iter());
    let mut d_out = String::from("d_out");
    while free_params.iter().any(|p| *p == d_out.as_str()) {
        d_out.push('_');
    }
    let d_out = Ident::new(&d_out, Span::call_site());
    let doc = format!(
        " Backward pass of [`{model}::{}`], generated by `#[differentiable]`: the value, and the \
         gradient of `d_out · self.{}(…)` with respect to each weight of the model.",
        sig.ident, sig.ident
    );
    let method_backward = quote! {
        #[doc = #doc]
        #[must_use]
        #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value, unused_variables)]
        #vis fn #backward #method_generics (&self, #(#other_params,)* #d_out: #d_out_ty) -> (#ret, #grads #model_ty_generics) #method_where {
            let g = #free_backward(#(#weight_args,)* #(#arg_names,)* #d_out);
            (g.#value, #grads { #(#weight_fields),* })
        }
    };
    // And its gradient check: the free function's, reported under the method's names.
    let gradcheck = crate::naming::Names::gradcheck_fn(&sig.ident);
    let free_gradcheck = crate::naming::Names::gradcheck_fn(&free_name);
    let label = format!("{model}::{}", sig.ident);
    let check_doc = format!(
        " Checks [`{model}::{backward}`] against central finite differences of \
         [`{model}::{}`] at these weights and arguments, weight by weight. Generated by \
         `#[differentiable]`.",
        sig.ident
    );
    let weight_args = weights.iter().map(|(w, _)| quote!(&self.#w));
    let method_gradcheck = quote! {
        #[doc = #check_doc]
        #[must_use]
        #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
        #vis fn #gradcheck #method_generics (&self, #(#other_params),*) -> ::gradgen::check::GradCheck #method_where {
            let mut check = #free_gradcheck(#(#weight_args,)* #(#arg_names),*);
            check.function = #label;
            for (name, _) in &mut check.inputs {
                *name = name.strip_prefix("self_").unwrap_or(name);
            }
            check
        }
    };
    Ok((free, quote!(#method_backward #method_gradcheck)))
}

/// `self.w1` → `self_w1`.
struct SelfFields;

impl VisitMut for SelfFields {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Field(field) = expr {
            if let (syn::Expr::Path(base), syn::Member::Named(member)) =
                (&*field.base, &field.member)
            {
                if base.path.is_ident("self") {
                    let name = format_ident!("self_{}", member.unraw(), span = Span::call_site());
                    *expr = syn::parse_quote!(#name);
                    return;
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
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
