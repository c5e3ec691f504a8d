//! Stage 1 — parse: the attribute's arguments and a `syn::ItemFn` → [`Func`], the function in
//! A-normal form.
//!
//! Input: the tokens of the attribute and of the function. Output: the parameters with their
//! kinds and symbolic dimensions, and the body as an ordered list of bindings `out = op(args)`,
//! one operation each: nested expressions get fresh intermediates, shadowed names get new SSA
//! names (all from `naming`), and `&` around operands is dropped.
//!
//! Guarantees: anything outside the supported language (loops, branches, closures, calls,
//! macros, patterns, unknown methods, parameter types it cannot read) is an error at its own
//! span that says what is supported instead. A name whose binding failed is poisoned: uses of it
//! are not reported again. Op names are resolved through the table (`table::lookup_method`), never spelt here.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, GenericArgument, GenericParam, Pat, PathArguments, ReturnType, Stmt, Type};

use crate::errors::{Errors, Place};
use crate::ir::type_text;
use crate::ir::{
    Binding, Declared, Dim, Func, Literal, Operand, Param, ParamKind, Shape, Value, ValueKind,
};
use crate::naming::Names;
use crate::table::{self, Form};

/// `#[differentiable]` or `#[differentiable(wrt(a, b))]`.
#[derive(Default)]
pub struct Args {
    /// The inputs to differentiate, when named.
    pub wrt: Option<Vec<syn::Ident>>,
    /// `custom_backward = path`: a hand-written backward; the body is not differentiated.
    pub custom_backward: Option<syn::Path>,
}

impl syn::parse::Parse for Args {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut wrt = None;
        let mut custom_backward = None;
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
                    format!("unknown argument `{key}`\nhelp: the arguments are `wrt(…)`, the inputs to differentiate, and `custom_backward = path`, a hand-written backward"),
                ));
            }
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        Ok(Args {
            wrt,
            custom_backward,
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
    let Some(sig) = settle(&item.sig, inputs.mat.take(), ret, before, errors) else {
        return Err(rejected);
    };
    let names = Names::new(idents_in(item.to_token_stream()));
    let mut lower = Lower::new(&types, inputs.values, inputs.scope, &sig, names, errors);
    // A hand-written backward takes the place of the body's derivative: the body is any Rust.
    let output = if args.custom_backward.is_some() {
        None
    } else {
        lower.body(&item.block)
    };
    Ok(Func {
        item,
        params: inputs.params,
        values: lower.values,
        bindings: lower.bindings,
        declared: lower.declared,
        output,
        mat_path: sig.mat_path,
        elem: sig.elem,
        ret_ty: sig.ret_ty,
        ret_shape: sig.ret_shape,
        scalar_ty: sig.scalar_ty,
        names: lower.names,
    })
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
        let differentiable = matches!(kind, ParamKind::Mat(..));
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
    mat: Option<(TokenStream, Option<Type>)>,
    ret: Option<Return>,
    before: bool,
    errors: &mut Errors,
) -> Option<Settled> {
    let Some((mat_path, elem)) = mat else {
        if before && errors.is_empty() {
            errors.push(
                sig.ident.span(),
                "a differentiable function needs at least one `Mat` parameter to differentiate",
            );
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
                    .filter(|p| matches!(p.kind, ParamKind::Mat(..)))
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
            Some(p) if !matches!(p.kind, ParamKind::Mat(..)) => errors.push(
                name.span(),
                format!("`{name}` is a constant and has no gradient: only `Mat` parameters can be differentiated"),
            ),
            Some(_) => {}
        }
    }
    for p in params {
        p.differentiable =
            matches!(p.kind, ParamKind::Mat(..)) && named.contains(&p.name.to_string());
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
fn idents_in(tokens: TokenStream) -> Vec<String> {
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

/// Reads the types gradgen understands: `Mat<R, C[, T]>`, `Labels<N, C>`, scalars, with or
/// without `&`.
struct TypeReader<'a> {
    dims: &'a HashSet<String>,
    type_params: &'a HashSet<String>,
    /// Set when a type is not even valid Rust (an undeclared dimension).
    not_rust: std::cell::Cell<bool>,
}

impl TypeReader<'_> {
    /// A parameter's kind and whether it is taken by reference. Records the first `Mat` path and
    /// element type in `mat`, and checks that every matrix has the same element type.
    fn param(
        &self,
        ty: &Type,
        mat: &mut Option<(TokenStream, Option<Type>)>,
        errors: &mut Errors,
    ) -> Option<(ParamKind, bool)> {
        let ty = ungroup(ty);
        let (inner, by_ref) = match ty {
            Type::Reference(r) => {
                if let Some(m) = &r.mutability {
                    errors.push(
                        m.span(),
                        "a differentiable function cannot take `&mut` parameters",
                    );
                    return None;
                }
                (&*r.elem, true)
            }
            other => (other, false),
        };
        let unsupported = || {
            format!(
                "gradgen cannot differentiate with respect to a `{}`\nhelp: parameters are `&Mat<R, C>` matrices, `&Labels<N, C>` labels, or scalars (`f64`, `f32`)",
                type_text(ty)
            )
        };
        match self.named(inner, errors)? {
            Named::Mat(r, c, elem, path) => {
                let elem = elem.map(|t| *t);
                match mat {
                    None => *mat = Some((path, elem)),
                    Some((_, first)) => {
                        let show = |t: Option<&Type>| {
                            t.map_or_else(|| "f64".to_owned(), |t| t.to_token_stream().to_string())
                        };
                        if show(first.as_ref()) != show(elem.as_ref()) {
                            errors.push(
                                inner.to_token_stream(),
                                format!(
                                    "every matrix of a differentiable function must hold the same element type: this one holds `{}`, an earlier one `{}`",
                                    show(elem.as_ref()),
                                    show(first.as_ref())
                                ),
                            );
                            return None;
                        }
                    }
                }
                Some((ParamKind::Mat(r, c), by_ref))
            }
            Named::Labels(n, c) => Some((ParamKind::Labels(n, c), by_ref)),
            Named::Scalar if !by_ref => Some((ParamKind::Scalar, false)),
            Named::Scalar | Named::Other => {
                errors.push(ty.to_token_stream(), unsupported());
                None
            }
        }
    }

    /// The declared return type: a scalar (its type) or a matrix (its shape and element type).
    fn ret(&self, ty: &Type, errors: &mut Errors) -> Option<(Type, Shape, Option<Type>)> {
        match self.named(ty, errors)? {
            Named::Scalar => Some((ty.clone(), Shape::Scalar, Some(ty.clone()))),
            Named::Mat(r, c, elem, _) => {
                let elem = elem.map(|t| *t).or_else(|| Some(syn::parse_quote!(f64)));
                Some((ty.clone(), Shape::Mat(r, c), elem))
            }
            Named::Labels(..) | Named::Other => {
                errors.push(
                    ty.to_token_stream(),
                    format!("gradgen differentiates functions that return a scalar (`f64`, `f32`) or a matrix (`Mat<R, C>`), not `{}`", type_text(ty)),
                );
                None
            }
        }
    }

    /// The shape a `let` annotation declares.
    fn declared(&self, ty: &Type, errors: &mut Errors) -> Option<Shape> {
        match self.named(ty, errors)? {
            Named::Mat(r, c, ..) => Some(Shape::Mat(r, c)),
            Named::Labels(n, c) => Some(Shape::Labels(n, c)),
            Named::Scalar => Some(Shape::Scalar),
            Named::Other => {
                errors.push(
                    ty.to_token_stream(),
                    format!("gradgen cannot read the type `{}`\nhelp: annotate with `Mat<R, C>` or a scalar type, or leave the type out", type_text(ty)),
                );
                None
            }
        }
    }

    fn named(&self, ty: &Type, errors: &mut Errors) -> Option<Named> {
        let ty = ungroup(ty);
        let Type::Path(tp) = ty else {
            return Some(Named::Other);
        };
        let Some(last) = tp.path.segments.last().filter(|_| tp.qself.is_none()) else {
            return Some(Named::Other);
        };
        let name = last.ident.to_string();
        let is_scalar = tp.path.segments.len() == 1
            && matches!(last.arguments, PathArguments::None)
            && (name == "f64" || name == "f32" || self.type_params.contains(&name));
        if is_scalar {
            return Some(Named::Scalar);
        }
        if name != "Mat" && name != "Labels" {
            return Some(Named::Other);
        }
        let (r, c, elem) = self.shaped(last, &name, errors)?;
        if name == "Labels" {
            return Some(Named::Labels(r, c));
        }
        let mut path = tp.path.clone();
        if let Some(seg) = path.segments.last_mut() {
            seg.arguments = PathArguments::None;
        }
        Some(Named::Mat(r, c, elem, path.to_token_stream()))
    }

    /// The dimensions and element type of `Mat<R, C[, T]>` or `Labels<N, C>`.
    fn shaped(
        &self,
        last: &syn::PathSegment,
        name: &str,
        errors: &mut Errors,
    ) -> Option<(Dim, Dim, Option<Box<Type>>)> {
        let PathArguments::AngleBracketed(generic) = &last.arguments else {
            errors.push(
                last.ident.span(),
                format!("`{name}` needs its dimensions: `{name}<R, C>`"),
            );
            return None;
        };
        let args: Vec<&GenericArgument> = generic.args.iter().collect();
        let max = if name == "Mat" { 3 } else { 2 };
        if args.len() < 2 || args.len() > max {
            let expected = if name == "Mat" {
                "`Mat<R, C>` or `Mat<R, C, f32>`"
            } else {
                "`Labels<N, C>`"
            };
            errors.push(
                generic.to_token_stream(),
                format!("`{name}` takes two dimensions: {expected}"),
            );
            return None;
        }
        let r = self.dim(args[0], errors);
        let c = self.dim(args[1], errors);
        let elem = match args.get(2) {
            Some(GenericArgument::Type(t)) => Some(Box::new(t.clone())),
            Some(other) => {
                errors.push(
                    other.to_token_stream(),
                    "the element type must be `f64` or `f32`",
                );
                return None;
            }
            None => None,
        };
        Some((r?, c?, elem))
    }

    fn dim(&self, arg: &GenericArgument, errors: &mut Errors) -> Option<Dim> {
        let bad = |errors: &mut Errors, place: TokenStream| {
            errors.push(
                place,
                "a dimension must be one of the function's const generic parameters or an integer literal",
            );
        };
        match arg {
            GenericArgument::Type(Type::Path(tp))
                if tp.qself.is_none() && tp.path.get_ident().is_some() =>
            {
                let ident = tp.path.get_ident()?;
                let name = ident.to_string();
                if self.dims.contains(&name) {
                    Some(Dim::Sym(name))
                } else {
                    self.not_rust.set(true);
                    errors.push(
                        ident.span(),
                        format!("unknown dimension `{name}`\nhelp: declare it as a const generic of the function: `const {name}: usize`"),
                    );
                    None
                }
            }
            GenericArgument::Const(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            })) => match i.base10_parse::<usize>() {
                Ok(n) => Some(Dim::Lit(n)),
                Err(e) => {
                    errors.add(e);
                    None
                }
            },
            other => {
                bad(errors, other.to_token_stream());
                None
            }
        }
    }
}

/// A type inside invisible groups (from `macro_rules!` fragments) and parentheses.
fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungroup(&g.elem),
        Type::Paren(p) => ungroup(&p.elem),
        other => other,
    }
}

enum Named {
    Mat(Dim, Dim, Option<Box<Type>>, TokenStream),
    Labels(Dim, Dim),
    Scalar,
    Other,
}

/// Lowers the body to bindings.
struct Lower<'a, 'e> {
    types: &'a TypeReader<'a>,
    values: Vec<Value>,
    bindings: Vec<Binding>,
    declared: Vec<Declared>,
    /// Each name in scope: its operand, or `None` when its binding failed (poisoned).
    scope: HashMap<String, Option<Operand>>,
    /// `let` names bound at least once (a second binding is a shadowing: a new SSA name).
    seen: HashSet<String>,
    /// Names declared `let mut`: reported once there, not again where they are assigned.
    mutable: HashSet<String>,
    /// The declared shape of the expression being lowered at the top of a `let` or as the
    /// final value: what a call there returns.
    call_shape: Option<Shape>,
    /// The declared return shape.
    ret_shape: Shape,
    names: Names,
    errors: &'e mut Errors,
}

impl<'a, 'e> Lower<'a, 'e> {
    fn new(
        types: &'a TypeReader<'a>,
        values: Vec<Value>,
        scope: HashMap<String, Option<Operand>>,
        sig: &Settled,
        names: Names,
        errors: &'e mut Errors,
    ) -> Self {
        Lower {
            types,
            values,
            bindings: Vec::new(),
            declared: Vec::new(),
            scope,
            seen: HashSet::new(),
            mutable: HashSet::new(),
            call_shape: None,
            ret_shape: sig.ret_shape.clone(),
            names,
            errors,
        }
    }
}

/// Failure of an expression that has already been reported (or that uses a poisoned name).
struct Reported;

impl Lower<'_, '_> {
    fn body(&mut self, block: &syn::Block) -> Option<(Operand, TokenStream)> {
        let mut output = None;
        let count = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == count;
            match stmt {
                Stmt::Local(local) => self.local(local),
                Stmt::Expr(expr, None) if last => {
                    self.call_shape = Some(self.ret_shape.clone());
                    let target = self.names.fresh("value", expr.span());
                    if let Ok(op) = self.top(expr, target) {
                        output = Some((op, expr.to_token_stream()));
                    }
                }
                Stmt::Expr(Expr::Assign(assign), _) if self.assigns_mutable(&assign.left) => {}
                Stmt::Expr(Expr::Call(call), _) if self.calls_poisoned(call) => {}
                Stmt::Expr(expr, _) => {
                    let msg = unsupported_expr(expr).unwrap_or_else(|| {
                        "a statement here has no effect: only `let` bindings and the final expression make up a differentiable function".to_owned()
                    });
                    self.errors.push(unsupported_span(expr), msg);
                }
                Stmt::Item(item) => self.errors.push(
                    item.to_token_stream(),
                    "items cannot be declared inside a differentiable function\nhelp: declare them outside the function",
                ),
                Stmt::Macro(m) => self.errors.push(
                    m.mac.path.span(),
                    format!("gradgen cannot differentiate through the macro `{}!`\nhelp: write the computation as `let` bindings of matrix operations", m.mac.path.to_token_stream()),
                ),
            }
        }
        // A final `return x;` has been reported as such already.
        let ends_with_expr = matches!(
            block.stmts.last(),
            Some(Stmt::Expr(_, None) | Stmt::Expr(Expr::Return(_), _))
        );
        if !ends_with_expr {
            let span = block
                .stmts
                .last()
                .map_or(block.brace_token.span.close(), Spanned::span);
            self.errors.push(
                span,
                "a differentiable function must end with the value it returns\nhelp: write the loss as the final expression, without `;`",
            );
        }
        output
    }

    /// Whether `call` calls a name whose binding failed (a closure, say): reported already.
    fn calls_poisoned(&self, call: &syn::ExprCall) -> bool {
        matches!(&*call.func, Expr::Path(p) if p.path.get_ident().is_some_and(|i| matches!(self.scope.get(&i.to_string()), Some(None))))
    }

    /// Whether `target` names a `let mut` that was already reported.
    fn assigns_mutable(&self, target: &Expr) -> bool {
        matches!(target, Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.mutable.contains(&i.to_string())))
    }

    fn local(&mut self, local: &syn::Local) {
        let Some((ident, init, annotation)) = self.let_parts(local) else {
            return;
        };
        let name = ident.to_string();
        let declared = annotation.and_then(|ty| {
            self.types
                .declared(ty, self.errors)
                .map(|shape| (shape, ty.to_token_stream()))
        });
        let first = self.seen.insert(name.clone());
        let target = self.names.binding(ident, first);
        self.call_shape = declared.as_ref().map(|(shape, _)| shape.clone());
        let result = self.top(&init.expr, target.clone());
        self.call_shape = None;
        let Ok(operand) = result else {
            self.scope.insert(name, None);
            return;
        };
        // Messages call the value by its name from here on, as the user's code does.
        if let Operand::Value(v) = operand {
            if self.values[v].name == target {
                self.values[v].text = format!("`{name}`");
            }
        }
        if let Some((shape, tokens)) = declared {
            self.declared.push(Declared {
                operand: operand.clone(),
                shape,
                tokens,
            });
        }
        self.scope.insert(name, Some(operand));
    }

    /// The name, value and type annotation of a `let` of the supported form; any other form is
    /// reported, and the names it binds are poisoned.
    fn let_parts<'l>(
        &mut self,
        local: &'l syn::Local,
    ) -> Option<(&'l syn::Ident, &'l syn::LocalInit, Option<&'l Type>)> {
        let (pat, annotation) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            other => (other, None),
        };
        let Pat::Ident(pi) = pat else {
            self.errors.push(
                pat.to_token_stream(),
                "gradgen supports `let` with a plain name only (no tuples, structs or wildcards)",
            );
            self.poison_pattern(pat);
            return None;
        };
        let name = pi.ident.to_string();
        let problem = self.let_problem(local, pi);
        if let Some((place, message)) = problem {
            self.errors.push(place, message);
            if pi.mutability.is_some() {
                self.mutable.insert(name.clone());
            }
            self.scope.insert(name, None);
            return None;
        }
        Some((&pi.ident, local.init.as_ref()?, annotation))
    }

    /// What is wrong with a `let` of a plain name, if anything.
    fn let_problem(&self, local: &syn::Local, pi: &syn::PatIdent) -> Option<(Place, String)> {
        let name = &pi.ident;
        if let Some(m) = &pi.mutability {
            return Some((
                m.span().into(),
                format!("`let mut` is not supported: every value is computed once\nhelp: bind the updated value to a new name, or shadow it: `let {name} = …;`"),
            ));
        }
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return Some((
                pi.span().into(),
                "gradgen supports `let` with a plain name only".to_owned(),
            ));
        }
        let Some(init) = &local.init else {
            return Some((
                local.to_token_stream().into(),
                format!("`{name}` must be given its value where it is declared: `let {name} = …;`"),
            ));
        };
        init.diverge.as_ref().map(|(_, diverge)| {
            (
                diverge.to_token_stream().into(),
                "`let … else` is not supported in a differentiable function".to_owned(),
            )
        })
    }

    fn poison_pattern(&mut self, pat: &Pat) {
        for name in idents_in(pat.to_token_stream()) {
            self.scope.insert(name, None);
        }
    }

    /// Lowers the whole right-hand side of a `let` (or the final expression): its operation's
    /// result is named `target`.
    fn top(&mut self, expr: &Expr, target: syn::Ident) -> Result<Operand, Reported> {
        let operand = self.expr(expr, Some(target));
        self.call_shape = None;
        operand
    }

    fn expr(&mut self, expr: &Expr, target: Option<syn::Ident>) -> Result<Operand, Reported> {
        match expr {
            Expr::Paren(p) => self.expr(&p.expr, target),
            Expr::Group(g) => self.expr(&g.expr, target),
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    self.errors.push(
                        m.span(),
                        "`&mut` is not supported: values are never modified",
                    );
                    return Err(Reported);
                }
                self.expr(&r.expr, target)
            }
            Expr::Lit(lit) => match &lit.lit {
                syn::Lit::Float(_) | syn::Lit::Int(_) => Ok(Operand::Literal(Literal {
                    lit: lit.lit.clone(),
                    negative: false,
                })),
                other => {
                    self.errors.push(
                        other.to_token_stream(),
                        "only numeric literals can take part in a differentiable computation",
                    );
                    Err(Reported)
                }
            },
            Expr::Path(p) => self.path(p),
            Expr::MethodCall(call) => self.method(call, target),
            Expr::Binary(bin) => self.binary(bin, target),
            Expr::Unary(un) => self.unary(un, target),
            Expr::Call(call) if self.calls_poisoned(call) => Err(Reported),
            Expr::Call(call) => self.call(call, target),
            other => {
                let msg = unsupported_expr(other).unwrap_or_else(|| {
                    format!(
                        "gradgen cannot differentiate `{}`\nhelp: a differentiable function is made of `let` bindings of matrix operations (methods such as `matmul`, operators `+ - * /`)",
                        other.to_token_stream()
                    )
                });
                self.errors.push(unsupported_span(other), msg);
                Err(Reported)
            }
        }
    }

    fn path(&mut self, p: &syn::ExprPath) -> Result<Operand, Reported> {
        let Some(ident) = p.path.get_ident().filter(|_| p.qself.is_none()) else {
            self.errors.push(
                p.to_token_stream(),
                format!("gradgen cannot use `{}` here: only the function's parameters and `let` names can be used", p.to_token_stream()),
            );
            return Err(Reported);
        };
        match self.scope.get(&ident.to_string()) {
            Some(Some(op)) => Ok(op.clone()),
            Some(None) => Err(Reported),
            None => {
                self.errors.push(
                    ident.span(),
                    format!("cannot find value `{ident}` in this function"),
                );
                Err(Reported)
            }
        }
    }

    fn method(
        &mut self,
        call: &syn::ExprMethodCall,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let method = call.method.to_string();
        let Some(rule) = table::lookup_method(&method) else {
            self.errors
                .push(call.method.span(), crate::errors::unknown_method(&method));
            // The operands may hold independent mistakes: report them too.
            let _ = self.expr(&call.receiver, None);
            for arg in &call.args {
                let _ = self.expr(arg, None);
            }
            return Err(Reported);
        };
        if let Some(tf) = &call.turbofish {
            self.errors.push(
                tf.to_token_stream(),
                format!("`{method}` takes no generic arguments: shapes are inferred"),
            );
            return Err(Reported);
        }
        let Form::Method { args: arity } = rule.form else {
            return Err(Reported);
        };
        if call.args.len() != arity {
            let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
            self.errors.push(
                call.method.span(),
                format!(
                    "`{method}` takes {arity} {} but {} {} supplied\nhelp: {}",
                    plural(arity),
                    call.args.len(),
                    if call.args.len() == 1 { "was" } else { "were" },
                    rule.usage
                ),
            );
            return Err(Reported);
        }
        let mut exprs = vec![&*call.receiver];
        exprs.extend(call.args.iter());
        let operands = self.operands(&exprs)?;
        Ok(self.bind(
            rule,
            operands,
            &exprs,
            call.span(),
            call.method.span(),
            target,
        ))
    }

    fn binary(
        &mut self,
        bin: &syn::ExprBinary,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let symbol = bin.op.to_token_stream().to_string();
        let Some(rule) = table::lookup_operator(&symbol, 2) else {
            let msg = if symbol.ends_with('=')
                && !matches!(symbol.as_str(), "==" | "!=" | "<=" | ">=")
            {
                format!("compound assignment `{symbol}` is not supported: every value is computed once\nhelp: bind the result to a new name: `let x = x {} y;`", symbol.trim_end_matches('='))
            } else {
                format!("gradgen cannot differentiate the operator `{symbol}`\nhelp: the supported operators are `+`, `-`, `*`, `/` and unary `-`")
            };
            self.errors.push(bin.op.span(), msg);
            return Err(Reported);
        };
        let exprs = [&*bin.left, &*bin.right];
        let operands = self.operands(&exprs)?;
        Ok(self.bind(rule, operands, &exprs, bin.span(), bin.op.span(), target))
    }

    fn unary(
        &mut self,
        un: &syn::ExprUnary,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        // `-2` is a literal, not a negation to differentiate.
        if let (syn::UnOp::Neg(_), Expr::Lit(l)) = (&un.op, strip_groups(&un.expr)) {
            if matches!(l.lit, syn::Lit::Int(_) | syn::Lit::Float(_)) {
                return Ok(Operand::Literal(Literal {
                    lit: l.lit.clone(),
                    negative: true,
                }));
            }
        }
        let symbol = un.op.to_token_stream().to_string();
        let Some(rule) = table::lookup_operator(&symbol, 1) else {
            self.errors.push(
                un.op.span(),
                format!("gradgen cannot differentiate the operator `{symbol}`\nhelp: the supported operators are `+`, `-`, `*`, `/` and unary `-`"),
            );
            return Err(Reported);
        };
        let exprs = [&*un.expr];
        let operands = self.operands(&exprs)?;
        Ok(self.bind(rule, operands, &exprs, un.span(), un.op.span(), target))
    }

    /// Lowers every operand, reporting the mistakes of all of them.
    fn operands(&mut self, exprs: &[&Expr]) -> Result<Vec<Operand>, Reported> {
        let lowered: Vec<_> = exprs.iter().map(|e| self.expr(e, None)).collect();
        lowered.into_iter().collect()
    }

    fn bind(
        &mut self,
        op: &'static table::Op,
        args: Vec<Operand>,
        exprs: &[&Expr],
        span: Span,
        op_span: Span,
        target: Option<syn::Ident>,
    ) -> Operand {
        let recv = match (&op.form, args.first()) {
            (Form::Method { .. }, Some(Operand::Value(v))) => Some(self.values[*v].name.clone()),
            _ => None,
        };
        let name = target.unwrap_or_else(|| self.names.intermediate(op.temp, recv.as_ref(), span));
        let value = self.values.len();
        let text = format!("`{}`", rebuild(exprs, op));
        self.values.push(Value {
            name,
            text,
            kind: ValueKind::Binding,
        });
        self.bindings.push(Binding {
            out: value,
            op,
            args,
            span,
            op_span,
            arg_tokens: exprs.iter().map(|e| e.to_token_stream()).collect(),
            call: None,
        });
        Operand::Value(value)
    }

    /// `f(a, b)` as the whole right-hand side of a `let` whose type is declared (or as the
    /// final expression, whose type is the return type): a call to another differentiable
    /// function, differentiated through its companion `f_backward`.
    fn call(
        &mut self,
        call: &syn::ExprCall,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let Expr::Path(path) = strip_groups(&call.func) else {
            self.errors.push(
                call.func.to_token_stream(),
                "gradgen can only call a function by its name or path",
            );
            return Err(Reported);
        };
        let callee = path.path.clone();
        let name = callee
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let (Some(target), Some(shape)) = (target, self.call_shape.take()) else {
            self.errors.push(
                call.func.to_token_stream(),
                format!("the shape of `{name}(…)` is unknown here\nhelp: bind the call's result with its type: `let h: Mat<R, C> = {name}(…);`"),
            );
            return Err(Reported);
        };
        let exprs: Vec<&Expr> = call.args.iter().collect();
        let args = self.operands(&exprs)?;
        let value = self.values.len();
        let shown: Vec<String> = exprs.iter().map(|e| show(e)).collect();
        self.values.push(Value {
            name: target,
            text: format!("`{name}({})`", shown.join(", ")),
            kind: ValueKind::Binding,
        });
        self.bindings.push(Binding {
            out: value,
            op: &table::CALL,
            args,
            span: call.span(),
            op_span: call.func.span(),
            arg_tokens: exprs.iter().map(|e| e.to_token_stream()).collect(),
            call: Some((callee, shape)),
        });
        Ok(Operand::Value(value))
    }
}

/// The user's expression for a binding, reassembled for messages.
fn rebuild(exprs: &[&Expr], rule: &table::Op) -> String {
    let parts: Vec<String> = exprs.iter().map(|e| show(e)).collect();
    match rule.form {
        Form::Method { .. } => format!("{}.{}({})", parts[0], rule.name, parts[1..].join(", ")),
        Form::Operator { arity: 2 } => format!("{} {} {}", parts[0], rule.name, parts[1]),
        Form::Operator { .. } => format!("{}{}", rule.name, parts[0]),
        Form::Call => format!("{}({})", rule.name, parts.join(", ")),
    }
}

/// The expression inside invisible groups (from `macro_rules!` fragments) and parentheses.
fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => strip_groups(&g.expr),
        Expr::Paren(p) => strip_groups(&p.expr),
        other => other,
    }
}

/// Renders the supported subset of expressions as the user would write them.
fn show(expr: &Expr) -> String {
    match expr {
        Expr::Paren(p) => format!("({})", show(&p.expr)),
        Expr::Group(g) => show(&g.expr),
        Expr::Reference(r) => format!("&{}", show(&r.expr)),
        Expr::Lit(l) => Literal {
            lit: l.lit.clone(),
            negative: false,
        }
        .text(),
        Expr::Path(p) => p.to_token_stream().to_string().replace(' ', ""),
        Expr::MethodCall(m) => {
            let args: Vec<String> = m.args.iter().map(show).collect();
            format!("{}.{}({})", show(&m.receiver), m.method, args.join(", "))
        }
        Expr::Binary(b) => format!(
            "{} {} {}",
            show(&b.left),
            b.op.to_token_stream(),
            show(&b.right)
        ),
        Expr::Unary(u) => format!("{}{}", u.op.to_token_stream(), show(&u.expr)),
        other => other.to_token_stream().to_string(),
    }
}

/// The message for syntax that is never supported, with what to write instead.
fn unsupported_expr(expr: &Expr) -> Option<String> {
    let instead =
        "help: write the computation as a sequence of `let` bindings of matrix operations";
    let msg = match expr {
        Expr::ForLoop(_) => format!("gradgen cannot differentiate a `for` loop\n{instead}; a loop over rows or columns is usually a reduction such as `row_sums()` or `col_sums()`"),
        Expr::While(_) => format!("gradgen cannot differentiate a `while` loop\n{instead}"),
        Expr::Loop(_) => format!("gradgen cannot differentiate a `loop`\n{instead}"),
        Expr::If(_) => format!("gradgen cannot differentiate `if`: the backward pass would depend on the branch taken\n{instead}; an elementwise choice such as `relu` is an operation"),
        Expr::Match(_) => format!("gradgen cannot differentiate `match`: the backward pass would depend on the arm taken\n{instead}"),
        Expr::Closure(_) => format!("gradgen cannot differentiate a closure\n{instead}"),
        Expr::Return(_) => "`return` is not supported: the function's value is its final expression\nhelp: remove `return` and the `;`".to_owned(),
        Expr::Assign(_) => "assignment is not supported: every value is computed once\nhelp: bind the new value to a new name, or shadow the old one: `let x = …;`".to_owned(),
        Expr::Macro(m) => format!("gradgen cannot differentiate through the macro `{}!`\n{instead}", m.mac.path.to_token_stream()),
        Expr::Call(c) => format!(
            "gradgen cannot differentiate a call to `{}`: calls to functions are not supported yet\nhelp: write the function's operations inline, as `let` bindings",
            c.func.to_token_stream().to_string().replace(' ', "")
        ),
        Expr::Block(_) | Expr::Unsafe(_) => format!("blocks are not supported in a differentiable function\n{instead}"),
        Expr::Field(f) => format!("gradgen cannot read the field `{}`: only parameters and `let` names can be used", f.member.to_token_stream()),
        Expr::Index(_) => "indexing is not supported: it would differentiate one entry at a time\nhelp: use `pick(&labels)` to take one entry per row".to_owned(),
        Expr::Tuple(_) | Expr::Array(_) | Expr::Struct(_) | Expr::Repeat(_) => format!("gradgen cannot differentiate a compound value\n{instead}"),
        Expr::Cast(_) => "casts are not supported in a differentiable function".to_owned(),
        Expr::Try(_) => "`?` is not supported in a differentiable function".to_owned(),
        Expr::Async(_) | Expr::Await(_) => "async code is not supported in a differentiable function".to_owned(),
        Expr::Range(_) => "ranges are not supported in a differentiable function".to_owned(),
        Expr::Let(_) | Expr::Break(_) | Expr::Continue(_) | Expr::Yield(_) | Expr::TryBlock(_) | Expr::Const(_) | Expr::Infer(_) => {
            format!("this expression is not supported in a differentiable function\n{instead}")
        }
        _ => return None,
    };
    Some(msg)
}

/// The smallest span that names an unsupported construct: its keyword, where it has one.
fn unsupported_span(expr: &Expr) -> Place {
    match expr {
        Expr::ForLoop(f) => f.for_token.span.into(),
        Expr::While(w) => w.while_token.span.into(),
        Expr::Loop(l) => l.loop_token.span.into(),
        Expr::If(i) => i.if_token.span.into(),
        Expr::Match(m) => m.match_token.span.into(),
        Expr::Return(r) => r.return_token.span.into(),
        Expr::Closure(c) => c.or1_token.span.into(),
        Expr::Macro(m) => m.mac.path.to_token_stream().into(),
        Expr::Call(c) => c.func.to_token_stream().into(),
        _ => expr.to_token_stream().into(),
    }
}
