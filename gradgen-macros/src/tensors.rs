//! Part of emit: the named-matrix impls of the generated structs.
//!
//! Input: a struct's name, generics, element type and matrix fields (and, for a gradient struct,
//! its forward-value field). Output: `impl ::gradgen::Tensors` (the fields, by name, in
//! declaration order), an inherent `zeros()` and `impl Default`; for a set of weights, `impl
//! ::gradgen::Params` naming the type of their gradients.
//!
//! Guarantees: `for_each` and `for_each_mut` visit the same fields in the same order, under the
//! fields' own names (a raw identifier without its `r#`), which is what optimizers and weight
//! files rely on; a sequence's elements are visited in order, as `name.0`, `name.1`, ….

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::ext::IdentExt;

/// A struct whose matrix fields are visited.
pub struct Visited<'a> {
    pub name: &'a Ident,
    pub generics: &'a syn::Generics,
    /// The element type of every matrix (`f64`, `T`).
    pub elem: TokenStream,
    /// The matrix fields, in declaration order, each with whether it is a sequence of
    /// matrices (a `Vec` or an array) rather than one.
    pub fields: Vec<(&'a Ident, bool)>,
    /// A field that is not a matrix (the forward value) and its zero.
    pub extra: Option<(Ident, TokenStream)>,
    /// The `cfg` attributes of the item the struct belongs to.
    pub cfgs: &'a [&'a syn::Attribute],
    /// Whether every field is a matrix (or the `extra` one), so that `zeros()` can build it (a
    /// sequence's length is known only at run time).
    pub zeros: bool,
}

/// `impl Tensors` for `v`, and `zeros()` and `Default` when it holds only its matrices.
pub fn impls(v: &Visited) -> TokenStream {
    let (name, elem, cfgs) = (v.name, &v.elem, v.cfgs);
    let (impl_generics, ty_generics, where_clause) = v.generics.split_for_impl();
    let fields: Vec<&Ident> = v.fields.iter().map(|(f, _)| *f).collect();
    let (views, views_mut) = (
        visits(v, &quote!(view), &quote!(iter)),
        visits(v, &quote!(view_mut), &quote!(iter_mut)),
    );
    let extra = v.extra.as_ref().map(|(field, zero)| quote!(#field: #zero,));
    let zeros_doc = format!(
        " Every matrix zero{}: the start of a sum of gradients, or the initial state of an \
         optimizer.",
        if v.extra.is_some() {
            ", and the value zero"
        } else {
            ""
        }
    );
    let tensors = quote! {
        #(#cfgs)*
        impl #impl_generics ::gradgen::Tensors for #name #ty_generics #where_clause {
            type Elem = #elem;
            fn for_each(
                &self,
                f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayView2<'_, #elem>),
            ) {
                #(#views)*
            }
            fn for_each_mut(
                &mut self,
                f: &mut dyn FnMut(&str, ::gradgen::ndarray::ArrayViewMut2<'_, #elem>),
            ) {
                #(#views_mut)*
            }
        }
    };
    if !v.zeros {
        return tensors;
    }
    quote! {
        #tensors

        #(#cfgs)*
        impl #impl_generics #name #ty_generics #where_clause {
            #[doc = #zeros_doc]
            #[must_use]
            pub fn zeros() -> Self {
                #name { #extra #( #fields: ::gradgen::Mat::zeros(), )* }
            }
        }

        #(#cfgs)*
        impl #impl_generics ::core::default::Default for #name #ty_generics #where_clause {
            fn default() -> Self {
                Self::zeros()
            }
        }
    }
}

/// `f("w", self.w.view());` for each field, and for a sequence each element in order
/// (`f("xs.0", …)`); `view` and `iter` are the shared or the mutable methods.
fn visits(v: &Visited, view: &TokenStream, iter: &TokenStream) -> Vec<TokenStream> {
    v.fields
        .iter()
        .map(|(field, seq)| {
            let label = field.unraw().to_string();
            if *seq {
                let format = format!("{label}.{{}}");
                quote! {
                    for (index, m) in self.#field.#iter().enumerate() {
                        f(&::std::format!(#format, index), m.#view());
                    }
                }
            } else {
                quote!(f(#label, self.#field.#view());)
            }
        })
        .collect()
}

/// `impl Params for weights { type Grads = grads; }`.
pub fn params_impl(
    weights: &Ident,
    grads: &Ident,
    generics: &syn::Generics,
    cfgs: &[&syn::Attribute],
) -> TokenStream {
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #(#cfgs)*
        impl #impl_generics ::gradgen::Params for #weights #ty_generics #where_clause {
            type Grads = #grads #ty_generics;
        }
    }
}
