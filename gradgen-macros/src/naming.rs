//! Every identifier the generated code introduces, in one place.
//!
//! Input: the identifiers the user wrote (parameters, `let` names, generics, the function name).
//! Output: fresh names that clash with none of them and with no other generated name: SSA names
//! for shadowed bindings (`h`, `h_2`), intermediates of nested expressions (`score_exp`),
//! gradients (`d_score`), the seed `d_out`, the value field, the backward function and the
//! gradient struct. Guarantee: within one function, two different generated values never get
//! the same name, and no generated name equals a user's identifier (hygiene by construction).

use std::collections::HashSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::ir::Dim;

/// The set of names in use in one function, user-written and generated.
#[derive(Clone)]
pub struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// Starts from every identifier that occurs anywhere in the user's function.
    pub fn new(user_idents: impl IntoIterator<Item = String>) -> Self {
        let mut taken: HashSet<String> = user_idents.into_iter().collect();
        // Keywords and names the generated code relies on are never handed out.
        for reserved in ["self", "Self", "super", "crate", "Mat", "Labels", "gradgen"] {
            taken.insert(reserved.to_owned());
        }
        Names { taken }
    }

    /// `base` if it is free, else `base_2`, `base_3`, …; the result is taken from then on.
    pub fn fresh(&mut self, base: &str, span: Span) -> Ident {
        let base = sanitize(base);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.taken.contains(&candidate) || is_keyword(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        Ident::new(&candidate, span)
    }

    /// Marks a name another stage generated as taken.
    pub fn reserve(&mut self, name: &Ident) {
        self.taken.insert(name.to_string());
    }

    /// The name of a user's `let`: the user's own at its first binding (it is reserved for
    /// exactly this), a fresh SSA name (`h_2`) when it shadows an earlier one.
    pub fn binding(&mut self, user: &Ident, first: bool) -> Ident {
        if first {
            user.clone()
        } else {
            self.fresh(&user.to_string(), user.span())
        }
    }

    /// The name of an intermediate that computes `op` on a value named `recv` (`score_exp`).
    pub fn intermediate(&mut self, op: &str, recv: Option<&Ident>, span: Span) -> Ident {
        match recv {
            Some(r) if r.to_string().len() + op.len() < 24 => {
                self.fresh(&format!("{r}_{op}"), span)
            }
            _ => self.fresh(op, span),
        }
    }

    /// A sum over rows or columns that several fused lines share, named by what it multiplies
    /// and divides (`sum_xc_g`, `sum_g_over_s`); `shared_sum` when that is long.
    pub fn sum_of(&mut self, num: &[String], den: &[String]) -> Ident {
        let mut base = format!("sum_{}", num.join("_"));
        if !den.is_empty() {
            base = format!("{base}_over_{}", den.join("_"));
        }
        if num.is_empty() {
            base = format!("sum_inverse_{}", den.join("_"));
        }
        if base.len() > 24 {
            base = "shared_sum".to_owned();
        }
        self.fresh(&base, Span::call_site())
    }

    /// The gradient of the value named `value` (`d_value`).
    pub fn gradient(&mut self, value: &Ident) -> Ident {
        self.fresh(&format!("d_{value}"), Span::call_site())
    }

    /// The backward function's name: `<name>_backward`, the documented public API. A user item
    /// of the same name makes rustc report the clash, which is the right outcome for an API name.
    pub fn backward_fn(name: &Ident) -> Ident {
        derived(name, "_backward")
    }

    /// The gradient struct's field for the forward value: `value`, or `forward_value` when a
    /// parameter (whose gradient field bears its name) is called `value`.
    pub fn value_field<'a>(params: impl Iterator<Item = &'a Ident> + Clone) -> Ident {
        let mut name = String::from("value");
        while params.clone().any(|p| *p == name.as_str()) {
            name.insert_str(0, "forward_");
        }
        Ident::new(&name, Span::call_site())
    }

    /// The gradient check's name: `<name>_gradcheck`, the documented public API.
    pub fn gradcheck_fn(name: &Ident) -> Ident {
        derived(name, "_gradcheck")
    }

    /// The struct of a function's differentiable inputs: `<Name>Params`.
    pub fn params_struct(name: &Ident) -> Ident {
        let grads = Self::grads_struct(name).to_string();
        let camel = grads.strip_suffix("Grads").unwrap_or(&grads);
        Ident::new(&format!("{camel}Params"), name.span())
    }

    /// The gradient struct's name: `<Name>Grads`, the function's name in CamelCase.
    pub fn grads_struct(name: &Ident) -> Ident {
        let camel: String = name
            .to_string()
            .trim_start_matches("r#")
            .split('_')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_uppercase().chain(chars).collect()
                })
            })
            .collect();
        Ident::new(&sanitize(&format!("{camel}Grads")), name.span())
    }
}

/// The names a `#[model]` and its methods introduce.
pub mod model {
    use super::*;

    /// The gradient struct of a model: `<Model>Grads`.
    pub fn grads(model: &Ident) -> Ident {
        format_ident!("{}Grads", model.unraw())
    }

    /// The `macro_rules!` callback through which a model's `impl` reads its weights. Named to
    /// read as the fix where it is missing: an `impl` of a struct without `#[model]` fails with
    /// "cannot find macro `Plain_needs_gradgen_model`".
    pub fn callback(model: &Ident) -> Ident {
        format_ident!("{}_needs_gradgen_model", model.unraw(), span = model.span())
    }

    /// The free function a differentiable method becomes: `__gradgen_<Model>_<method>`.
    pub fn free_fn(model: &Ident, method: &Ident) -> Ident {
        format_ident!("{FREE_FN_PREFIX}{}_{}", model.unraw(), method.unraw())
    }

    /// The variant of that function that also differentiates its matrix arguments, for a method
    /// that calls it with a computed argument: `__gradgen_<Model>_<method>_wide`.
    pub fn free_fn_wide(model: &Ident, method: &Ident) -> Ident {
        format_ident!("{FREE_FN_PREFIX}{}_{}_wide", model.unraw(), method.unraw())
    }

    const FREE_FN_PREFIX: &str = "__gradgen_";

    /// Whether a function is one a model's method became (it needs no `<Name>Params`: the
    /// model is its parameters).
    pub fn is_free_fn(name: &Ident) -> bool {
        name.to_string().starts_with(FREE_FN_PREFIX)
    }

    /// The parameter that stands for `self.w` in that free function: `self_w`. One hygiene
    /// context for the parameter and its uses, whose names arrive through the callback.
    pub fn weight_param(weight: &Ident) -> Ident {
        format_ident!("self_{}", weight.unraw(), span = Span::call_site())
    }

    /// The prefix of [`weight_param`], which the gradient check's report drops.
    pub const WEIGHT_PREFIX: &str = "self_";

    /// A name for the upstream gradient of a method's backward that is none of its
    /// parameters' names.
    pub fn d_out<'a>(params: impl Iterator<Item = &'a Ident> + Clone) -> Ident {
        local("d_out", params)
    }

    /// A local of a method's generated body: `base`, with `_` appended until it is none of the
    /// parameters' names.
    pub fn local<'a>(base: &str, params: impl Iterator<Item = &'a Ident> + Clone) -> Ident {
        let mut name = base.to_owned();
        while params.clone().any(|p| p.unraw() == name.as_str()) {
            name.push('_');
        }
        Ident::new(&name, Span::call_site())
    }
}

/// The tokens of a dimension, as a const generic argument (`N`, `1`).
pub fn dim_tokens(d: &Dim) -> TokenStream {
    match d {
        Dim::Sym(s) => {
            let ident = match s.strip_prefix("r#") {
                Some(raw) => Ident::new_raw(raw, Span::call_site()),
                None => Ident::new(s, Span::call_site()),
            };
            quote!(#ident)
        }
        Dim::Lit(n) => {
            let lit = proc_macro2::Literal::usize_unsuffixed(*n);
            quote!(#lit)
        }
    }
}

/// A string that is a valid identifier once a `_n` suffix may be added: raw-identifier
/// prefixes (`d_r#type`) are dropped and anything else that cannot be in a name is replaced.
fn sanitize(base: &str) -> String {
    let mut name: String = base
        .replace("r#", "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.trim_matches('_').is_empty() || name.starts_with(|c: char| c.is_numeric()) {
        name.insert(0, 'v');
    }
    name
}

/// An identifier for a name derived from the user's (`<name>_backward`): a raw identifier's
/// `r#` is dropped, since the derived name is no keyword.
fn derived(name: &Ident, suffix: &str) -> Ident {
    Ident::new(&sanitize(&format!("{name}{suffix}")), name.span())
}

fn is_keyword(name: &str) -> bool {
    syn::parse_str::<Ident>(name).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_avoid_user_names_and_each_other() {
        let mut names = Names::new(["d_x".to_owned(), "x".to_owned()]);
        let x = Ident::new("x", Span::call_site());
        assert_eq!(names.gradient(&x), "d_x_2");
        assert_eq!(names.gradient(&x), "d_x_3");
        assert_eq!(names.fresh("d_out", Span::call_site()), "d_out");
        assert_eq!(names.fresh("d_out", Span::call_site()), "d_out_2");
        assert_eq!(names.fresh("fn", Span::call_site()), "fn_2");
        assert_eq!(names.fresh("d_r#type", Span::call_site()), "d_type");
        assert_eq!(names.fresh("r#type", Span::call_site()), "type_2");
        assert_eq!(names.fresh("_", Span::call_site()), "v_");
        let raw = Ident::new_raw("fn", Span::call_site());
        assert_eq!(Names::backward_fn(&raw), "fn_backward");
    }

    #[test]
    fn struct_names_are_camel_case() {
        let name = Ident::new("softmax_loss", Span::call_site());
        assert_eq!(Names::grads_struct(&name), "SoftmaxLossGrads");
        let name = Ident::new("l2__norm_", Span::call_site());
        assert_eq!(Names::grads_struct(&name), "L2NormGrads");
    }
}
