//! Stage 1 — parse: the attribute's arguments and a `syn::ItemFn` → [`Func`], the function in
//! A-normal form.
//!
//! Input: the tokens of the attribute and of the function. Output: the parameters with their
//! kinds and symbolic dimensions (`types.rs` reads each type), the return type, and the body
//! lowered to bindings `out = op(args)` (`lower.rs`).
//!
//! Guarantees: a signature gradgen cannot read (an unsupported parameter, an unknown dimension,
//! a missing return type) is an error at its own span; `wrt` names only matrix parameters. The
//! body is lowered even when the signature has an independent mistake in another place, so that
//! one compile reports both.

use std::collections::{HashMap, HashSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, GenericParam, Pat, ReturnType, Type};

use crate::errors::Errors;
use crate::ir::{Func, Operand, Param, ParamKind, Shape, Value, ValueKind};
use crate::lower::{Lower, Start};
use crate::naming::Names;
use crate::types::TypeReader;

/// `#[differentiable]` or `#[differentiable(wrt(a, b))]`.
#[derive(Default)]
pub struct Args {
    /// The inputs to differentiate, when named.
    pub wrt: Option<Vec<syn::Ident>>,
    /// `custom_backward = path`: a hand-written backward; the body is not differentiated.
    pub custom_backward: Option<syn::Path>,
    /// `__call_type(f = Type)`, from `#[model]` only: the result type of a call of `f`, so that
    /// a model's method may call another without annotating the result.
    pub call_types: Vec<(syn::Path, syn::Type)>,
    /// `unfused`: one runtime call per binding, as the derivation reads, instead of passes.
    pub unfused: bool,
}

impl syn::parse::Parse for Args {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut wrt = None;
        let mut custom_backward = None;
        let mut call_types = Vec::new();
        let mut unfused = false;
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            if key == "wrt" {
                if wrt.is_some() {
                    return Err(syn::Error::new(key.span(), "`wrt` is given twice"));
                }
                let content;
                syn::parenthesized!(content in input);
                let names = content
                    .parse_terminated(<syn::Ident as syn::parse::Parse>::parse, syn::Token![,])?;
                wrt = Some(names.into_iter().collect());
            } else if key == "__call_type" {
                let content;
                syn::parenthesized!(content in input);
                let path: syn::Path = content.parse()?;
                content.parse::<syn::Token![=]>()?;
                call_types.push((path, content.parse()?));
            } else if key == "unfused" {
                if unfused {
                    return Err(syn::Error::new(key.span(), "`unfused` is given twice"));
                }
                unfused = true;
            } else if key == "custom_backward" {
                if custom_backward.is_some() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`custom_backward` is given twice",
                    ));
                }
                input.parse::<syn::Token![=]>()?;
                custom_backward = Some(input.parse::<syn::Path>()?);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown argument `{key}`\nhelp: the arguments are `wrt(…)`, the inputs to differentiate, `unfused`, one runtime call per binding instead of fused passes, and `custom_backward = path`, a hand-written backward"),
                ));
            }
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        Ok(Args {
            wrt,
            custom_backward,
            call_types,
            unfused,
        })
    }
}

/// Turns the invisible groups of `macro_rules!` fragments (`$body * r` with `$body = a + b`)
/// into parentheses. The macro reads a group as one operand, as syn parses it; rustc's parser
/// ignores invisible groups for operator precedence when it reads the function back, so without
/// this the function the user calls could compute `a + b * r` while its backward differentiates
/// `(a + b) * r`.
pub fn parenthesize_groups(item: &mut syn::ItemFn) {
    struct Parens;
    impl syn::visit_mut::VisitMut for Parens {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            if let Expr::Group(g) = expr {
                let inner = (*g.expr).clone();
                *expr = Expr::Paren(syn::ExprParen {
                    attrs: g.attrs.clone(),
                    paren_token: syn::token::Paren(g.group_token.span),
                    expr: Box::new(inner),
                });
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    syn::visit_mut::VisitMut::visit_block_mut(&mut Parens, &mut item.block);
}

/// Why no [`Func`] could be built: the signature could not be read (the errors say why).
pub struct Rejected {
    /// The signature is valid Rust (a type gradgen does not support, say), so the function can
    /// still be declared with it; otherwise (an unknown dimension) rustc would report it again.
    pub signature_is_rust: bool,
}

/// Lowers `item`. A body with errors still yields a [`Func`] (with the bindings that could be
/// lowered), so that the shape stage can report independent mistakes in the same compile.
pub fn parse(args: &Args, item: syn::ItemFn, errors: &mut Errors) -> Result<Func, Rejected> {
    let before = errors.is_empty();
    check_signature_form(&item.sig, errors);
    let (dims, type_params) = generic_names(&item.sig);
    let types = TypeReader {
        dims: &dims,
        type_params: &type_params,
        not_rust: std::cell::Cell::new(false),
    };
    let mut inputs = read_params(&item.sig, &types, errors);
    if let Some(wrt) = &args.wrt {
        apply_wrt(wrt, &mut inputs.params, errors);
    }
    let ret = read_return(&item.sig, &types, errors);
    let rejected = Rejected {
        signature_is_rust: !types.not_rust.get(),
    };
    let Some(sig) = settle(
        &item.sig,
        &inputs.params,
        inputs.mat.take(),
        ret,
        before,
        errors,
    ) else {
        return Err(rejected);
    };
    let names = Names::new(idents_in(item.to_token_stream()));
    let start = Start {
        values: inputs.values,
        scope: inputs.scope,
        ret_shape: sig.ret_shape.clone(),
        flags: flag_names(&inputs.params),
        sequences: sequence_values(&inputs.params),
        call_shapes: known_calls(args, &types),
    };
    let mut lower = Lower::new(&types, start, names, errors);
    // A hand-written backward takes the place of the body's derivative: the body is any Rust.
    let output = args
        .custom_backward
        .is_none()
        .then(|| lower.body(&item.block))
        .flatten();
    Ok(Func {
        item,
        params: inputs.params,
        values: lower.values,
        bindings: lower.bindings,
        body: lower.nodes,
        declared: lower.declared,
        output,
        mat_path: sig.mat_path,
        elem: sig.elem,
        ret_ty: sig.ret_ty,
        ret_shape: sig.ret_shape,
        scalar_ty: sig.scalar_ty,
        names: lower.names,
        unfused: args.unfused,
    })
}

/// The result shapes of the calls `#[model]` told the function about.
fn known_calls(args: &Args, types: &TypeReader) -> Vec<(String, Shape)> {
    args.call_types
        .iter()
        .filter_map(|(path, ty)| {
            let shape = types.declared(ty, &mut Errors::default())?;
            Some((path.to_token_stream().to_string().replace(' ', ""), shape))
        })
        .collect()
}

/// The values of the parameters that are sequences.
fn sequence_values(params: &[Param]) -> HashSet<usize> {
    params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Seq { .. }))
        .map(|p| p.value)
        .collect()
}

/// The parameters that are constants of another type (`k: usize`).
fn flag_names(params: &[Param]) -> HashSet<String> {
    params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Flag(_)))
        .map(|p| p.name.to_string())
        .collect()
}

/// The function's const generic names (its dimensions) and type parameter names.
fn generic_names(sig: &syn::Signature) -> (HashSet<String>, HashSet<String>) {
    let mut dims = HashSet::new();
    let mut types = HashSet::new();
    for p in &sig.generics.params {
        match p {
            GenericParam::Const(c) => {
                dims.insert(c.ident.to_string());
            }
            GenericParam::Type(t) => {
                types.insert(t.ident.to_string());
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    (dims, types)
}

/// The parameters as read, in scope for the body.
struct Inputs {
    params: Vec<Param>,
    values: Vec<Value>,
    scope: HashMap<String, Option<Operand>>,
    /// The first `Mat` path and its element type.
    mat: Option<(TokenStream, Option<Type>)>,
}

fn read_params(sig: &syn::Signature, types: &TypeReader, errors: &mut Errors) -> Inputs {
    let mut inputs = Inputs {
        params: Vec::new(),
        values: Vec::new(),
        scope: HashMap::new(),
        mat: None,
    };
    for input in &sig.inputs {
        let Some(ident) = param_name(input, errors) else {
            continue;
        };
        let FnArg::Typed(typed) = input else {
            continue;
        };
        let Some((kind, by_ref)) = types.param(&typed.ty, &mut inputs.mat, errors) else {
            continue;
        };
        let value = inputs.values.len();
        inputs.values.push(Value {
            name: ident.clone(),
            text: format!("`{ident}`"),
            kind: ValueKind::Param(inputs.params.len()),
        });
        inputs
            .scope
            .insert(ident.to_string(), Some(Operand::Value(value)));
        let differentiable = kind.is_matrix();
        inputs.params.push(Param {
            name: ident.clone(),
            kind,
            by_ref,
            differentiable,
            value,
        });
    }
    inputs
}

/// A parameter's name, when it is a plain one.
fn param_name<'a>(input: &'a FnArg, errors: &mut Errors) -> Option<&'a syn::Ident> {
    let FnArg::Typed(typed) = input else {
        errors.push(
            input.to_token_stream(),
            "methods are not supported yet: `#[differentiable]` goes on a free function\nhelp: pass the model's matrices as parameters",
        );
        return None;
    };
    let Pat::Ident(pat) = &*typed.pat else {
        errors.push(
            typed.pat.to_token_stream(),
            "a parameter must be a plain name",
        );
        return None;
    };
    if let Some(m) = &pat.mutability {
        errors.push(
            m.span(),
            "a differentiable function's parameters cannot be `mut`",
        );
        return None;
    }
    if pat.by_ref.is_some() || pat.subpat.is_some() {
        errors.push(
            typed.pat.to_token_stream(),
            "a parameter must be a plain name",
        );
        return None;
    }
    Some(&pat.ident)
}

/// The declared return type, its shape and its element type.
type Return = (Type, Shape, Option<Type>);

fn read_return(sig: &syn::Signature, types: &TypeReader, errors: &mut Errors) -> Option<Return> {
    match &sig.output {
        ReturnType::Default => {
            errors.push(
                sig.ident.span(),
                format!("`{}` must return what it computes: a scalar (a loss) or a matrix (a layer)\nhelp: add a return type: `-> f64`", sig.ident),
            );
            None
        }
        ReturnType::Type(_, ty) => types.ret(ty, errors),
    }
}

/// What the signature settles for the body: the `Mat` path, the element type, the return.
struct Settled {
    mat_path: TokenStream,
    elem: Option<Type>,
    ret_ty: Type,
    ret_shape: Shape,
    scalar_ty: Type,
}

/// The signature's verdict: `None` when it has a mistake (reported), or no matrix.
fn settle(
    sig: &syn::Signature,
    params: &[Param],
    mat: Option<(TokenStream, Option<Type>)>,
    ret: Option<Return>,
    before: bool,
    errors: &mut Errors,
) -> Option<Settled> {
    let Some((mat_path, elem)) = mat else {
        if before && errors.is_empty() {
            let mut msg =
                "a differentiable function needs at least one `Mat` parameter to differentiate"
                    .to_owned();
            let constants: Vec<String> = params
                .iter()
                .filter_map(|p| match &p.kind {
                    ParamKind::Flag(ty) => Some(format!("`{}: {ty}`", p.name)),
                    _ => None,
                })
                .collect();
            if !constants.is_empty() {
                msg.push_str(&format!(
                    "\nhelp: {} is a constant to gradgen; the values it differentiates are `&Mat<R, C>` matrices",
                    constants.join(", ")
                ));
            }
            errors.push(sig.ident.span(), msg);
        }
        return None;
    };
    let (ret_ty, ret_shape, ret_elem) = ret?;
    check_return_elem(&ret_ty, ret_elem.as_ref(), elem.as_ref(), errors);
    let scalar_ty: Type = elem.clone().unwrap_or_else(|| syn::parse_quote!(f64));
    (before && errors.is_empty()).then_some(Settled {
        mat_path,
        elem,
        ret_ty,
        ret_shape,
        scalar_ty,
    })
}

fn check_signature_form(sig: &syn::Signature, errors: &mut Errors) {
    if let Some(t) = &sig.asyncness {
        errors.push(t.span(), "a differentiable function cannot be `async`");
    }
    if let Some(t) = &sig.constness {
        errors.push(t.span(), "a differentiable function cannot be `const`");
    }
    if let Some(t) = &sig.unsafety {
        errors.push(t.span(), "a differentiable function cannot be `unsafe`");
    }
    if let Some(t) = &sig.abi {
        errors.push(
            t.span(),
            "a differentiable function cannot have an `extern` ABI",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.push(v.span(), "a differentiable function cannot be variadic");
    }
    for p in &sig.generics.params {
        if let GenericParam::Lifetime(l) = p {
            errors.push(
                l.span(),
                "a differentiable function cannot have lifetime parameters",
            );
        }
    }
}

fn apply_wrt(wrt: &[syn::Ident], params: &mut [Param], errors: &mut Errors) {
    let mut named = HashSet::new();
    for name in wrt {
        if !named.insert(name.to_string()) {
            errors.push(name.span(), format!("`{name}` is named twice in `wrt`"));
            continue;
        }
        match params.iter().find(|p| p.name == *name) {
            None => {
                let list: Vec<String> = params
                    .iter()
                    .filter(|p| p.kind.is_matrix())
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                errors.push(
                    name.span(),
                    format!(
                        "`{name}` is not a parameter of this function\nhelp: the matrix parameters are {}",
                        list.join(", ")
                    ),
                );
            }
            Some(p) if !p.kind.is_matrix() => errors.push(
                name.span(),
                format!("`{name}` is a constant and has no gradient: only `Mat` parameters (and sequences of them) can be differentiated"),
            ),
            Some(_) => {}
        }
    }
    for p in params {
        p.differentiable = p.kind.is_matrix() && named.contains(&p.name.to_string());
    }
}

/// The returned scalar, or the returned matrix's elements, must be of the parameters' type.
fn check_return_elem(
    ret: &Type,
    ret_elem: Option<&Type>,
    elem: Option<&Type>,
    errors: &mut Errors,
) {
    let show =
        |t: Option<&Type>| t.map_or_else(|| "f64".to_owned(), |t| t.to_token_stream().to_string());
    let (found, expected) = (show(ret_elem), show(elem));
    if found != expected {
        errors.push(
            ret.to_token_stream(),
            format!("the function returns `{found}` values, but its matrices hold `{expected}`\nhelp: return `{expected}` (or a `Mat` of `{expected}`)"),
        );
    }
}

/// Every identifier in the user's tokens: generated names must avoid all of them.
pub fn idents_in(tokens: TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => out.extend(idents_in(g.stream())),
            _ => {}
        }
    }
    out
}
