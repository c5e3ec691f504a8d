//! Part of stage 1 (parse): the types gradgen reads in a signature or a `let` annotation.
//!
//! Input: a type as the user wrote it. Output: what it is to gradgen, a matrix `Mat<R, C[, T]>`
//! with its dimensions in the function's symbols, labels `Labels<N, C>`, a float scalar, or a
//! constant of another type (a flag, a count); or an error at the type's smallest guilty part.
//!
//! Guarantees: a dimension is a const generic of the function or an integer literal, and an
//! unknown one is reported as such (and the signature marked as not even valid Rust).

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, GenericArgument, PathArguments, Type};

use crate::errors::Errors;
use crate::ir::type_text;
use crate::ir::{Dim, ParamKind, Shape};

/// Reads the types gradgen understands: `Mat<R, C[, T]>`, `Labels<N, C>`, scalars, with or
/// without `&`.
pub struct TypeReader<'a> {
    pub dims: &'a HashSet<String>,
    pub type_params: &'a HashSet<String>,
    /// Set when a type is not even valid Rust (an undeclared dimension).
    pub not_rust: std::cell::Cell<bool>,
}

impl TypeReader<'_> {
    /// A parameter's kind and whether it is taken by reference. Records the first `Mat` path and
    /// element type in `mat`, and checks that every matrix has the same element type.
    pub fn param(
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
        if let Some(seq) = self.sequence(ty, inner, by_ref, mat, errors) {
            return seq.map(|kind| (kind, true));
        }
        match self.named(inner, errors)? {
            Named::Mat(r, c, elem, path) => {
                same_elem(inner, elem.map(|t| *t), path, mat, errors)?;
                Some((ParamKind::Mat(r, c), by_ref))
            }
            Named::Labels(n, c) => Some((ParamKind::Labels(n, c), by_ref)),
            Named::Scalar if !by_ref => Some((ParamKind::Scalar, false)),
            Named::Scalar => {
                errors.push(
                    ty.to_token_stream(),
                    format!("a scalar is taken by value: write `{}`", type_text(inner)),
                );
                None
            }
            Named::Other if self.alias_like(inner) => {
                errors.push(ty.to_token_stream(), alias_message(inner));
                None
            }
            Named::Other if holds_matrices(inner) => {
                errors.push(
                    ty.to_token_stream(),
                    format!("gradgen takes a sequence of matrices as a slice: write `&[{}]` (a `Vec` passes as `&v`), or `&[{0}; T]` for a const length", item_text(inner)),
                );
                None
            }
            // Anything else is a constant: a flag, a count, an option.
            Named::Other => Some((ParamKind::Flag(type_text(ty)), false)),
        }
    }

    /// `&[Mat<R, C>]` or `&[Mat<R, C>; T]` (or of `Labels`): a sequence, which a loop walks.
    /// `None` when `inner` is no slice or array; `Some(None)` when it is one gradgen cannot
    /// take (reported).
    fn sequence(
        &self,
        ty: &Type,
        inner: &Type,
        by_ref: bool,
        mat: &mut Option<(TokenStream, Option<Type>)>,
        errors: &mut Errors,
    ) -> Option<Option<ParamKind>> {
        let (item_ty, len) = match ungroup(inner) {
            Type::Slice(s) => (&*s.elem, None),
            Type::Array(a) => (&*a.elem, Some(&a.len)),
            _ => return None,
        };
        let fail = |errors: &mut Errors, place: TokenStream, msg: String| {
            errors.push(place, msg);
            Some(None)
        };
        if !by_ref {
            let msg = format!("a sequence is borrowed: write `&{}`", type_text(inner));
            return fail(errors, ty.to_token_stream(), msg);
        }
        let item = match self.named(item_ty, errors) {
            None => return Some(None),
            Some(Named::Mat(r, c, elem, path)) => {
                if same_elem(item_ty, elem.map(|t| *t), path, mat, errors).is_none() {
                    return Some(None);
                }
                ParamKind::Mat(r, c)
            }
            Some(Named::Labels(n, c)) => ParamKind::Labels(n, c),
            Some(_) => {
                let msg = format!("gradgen walks sequences of matrices (`&[Mat<R, C>]`) or of labels (`&[Labels<N, C>]`), not of `{}`", type_text(item_ty));
                return fail(errors, item_ty.to_token_stream(), msg);
            }
        };
        let len = match len {
            None => None,
            Some(expr) => {
                // `[_; T]` names its length as an expression; a dimension reads as a type.
                let arg = match expr {
                    Expr::Path(p) => syn::GenericArgument::Type(Type::Path(syn::TypePath {
                        qself: None,
                        path: p.path.clone(),
                    })),
                    other => syn::GenericArgument::Const(other.clone()),
                };
                match self.dim(&arg, errors) {
                    Some(d) => Some(d),
                    None => return Some(None),
                }
            }
        };
        Some(Some(ParamKind::Seq {
            item: Box::new(item),
            len,
        }))
    }

    /// A type with dimensions among its generic arguments (`M<N, D>`), which is not `Mat`: an
    /// alias, most likely, which a macro cannot see through.
    fn alias_like(&self, ty: &Type) -> bool {
        let Type::Path(tp) = ty else {
            return false;
        };
        let Some(PathArguments::AngleBracketed(args)) =
            tp.path.segments.last().map(|s| &s.arguments)
        else {
            return false;
        };
        args.args.iter().any(|a| match a {
            GenericArgument::Type(Type::Path(p)) => p
                .path
                .get_ident()
                .is_some_and(|i| self.dims.contains(&i.to_string())),
            GenericArgument::Const(Expr::Lit(_)) => true,
            _ => false,
        })
    }

    /// The declared return type: a scalar (its type) or a matrix (its shape and element type).
    pub fn ret(&self, ty: &Type, errors: &mut Errors) -> Option<(Type, Shape, Option<Type>)> {
        match self.named(ty, errors)? {
            Named::Scalar => Some((ty.clone(), Shape::Scalar, Some(ty.clone()))),
            Named::Mat(r, c, elem, _) => {
                let elem = elem.map(|t| *t).or_else(|| Some(syn::parse_quote!(f64)));
                Some((ty.clone(), Shape::Mat(r, c), elem))
            }
            Named::Other if self.alias_like(ty) => {
                errors.push(ty.to_token_stream(), alias_message(ty));
                None
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
    pub fn declared(&self, ty: &Type, errors: &mut Errors) -> Option<Shape> {
        match self.named(ty, errors)? {
            Named::Mat(r, c, ..) => Some(Shape::Mat(r, c)),
            Named::Labels(n, c) => Some(Shape::Labels(n, c)),
            Named::Scalar => Some(Shape::Scalar),
            Named::Other if self.alias_like(ty) => {
                errors.push(ty.to_token_stream(), alias_message(ty));
                None
            }
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

/// Every matrix of a function holds the same element type; the first one's path (`Mat`,
/// `gradgen::Mat`) and element type are recorded in `mat`.
fn same_elem(
    ty: &Type,
    elem: Option<Type>,
    path: TokenStream,
    mat: &mut Option<(TokenStream, Option<Type>)>,
    errors: &mut Errors,
) -> Option<()> {
    let show =
        |t: Option<&Type>| t.map_or_else(|| "f64".to_owned(), |t| t.to_token_stream().to_string());
    match mat {
        None => *mat = Some((path, elem)),
        Some((_, first)) if show(first.as_ref()) != show(elem.as_ref()) => {
            errors.push(
                ty.to_token_stream(),
                format!(
                    "every matrix of a differentiable function must hold the same element type: this one holds `{}`, an earlier one `{}`",
                    show(elem.as_ref()),
                    show(first.as_ref())
                ),
            );
            return None;
        }
        Some(_) => {}
    }
    Some(())
}

/// A container of matrices or labels (`Vec<Mat<N, D>>`): a sequence, passed otherwise.
fn holds_matrices(ty: &Type) -> bool {
    item_of(ty).is_some()
}

/// The `Mat<…>` or `Labels<…>` a container type holds.
fn item_of(ty: &Type) -> Option<&Type> {
    let Type::Path(tp) = ungroup(ty) else {
        return None;
    };
    let PathArguments::AngleBracketed(args) = &tp.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t @ Type::Path(p))
            if p.path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Mat" || s.ident == "Labels") =>
        {
            Some(t)
        }
        _ => None,
    })
}

fn item_text(ty: &Type) -> String {
    item_of(ty).map_or_else(|| "Mat<R, C>".to_owned(), type_text)
}

/// What to write instead of a type alias of `Mat`.
fn alias_message(ty: &Type) -> String {
    let text = type_text(ty);
    let args = text
        .split_once('<')
        .map_or("R, C", |(_, rest)| rest.trim_end_matches('>'));
    format!(
        "gradgen cannot see through type aliases: the macro reads `{text}` as written, before rustc resolves it\nhelp: if `{text}` stands for a `Mat`, write it out (`Mat<{args}, f32>`), or make the function generic over the element type (`T: Scalar`) and write `Mat<{args}, T>`"
    )
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
