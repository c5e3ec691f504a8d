//! The runtime's entrywise kernels, generated from the op table's formulas.
//!
//! Input: every [`Grad::Map`] row of the table. Output: for each, the methods of `Mat` that the
//! runtime crate (`gradgen/src/ops/unary.rs`) includes with `__elementwise_kernels!()`: the
//! forward `{op}`, its in-place variant `into_{op}` and `{op}_backward`, each documented with its
//! formula and derivative as the derivation writes them, and with the row's doctest.
//!
//! Guarantees: the kernel that runs, the formula the derivation shows, the README row and the
//! runtime's documentation all come from the same two strings of the row, so they cannot drift.
//! The generated code uses the runtime's private helpers `map`, `map_in_place` and `zip_into`,
//! which must be in scope where the macro is invoked.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::formula::{Formula, Rust, Text};
use crate::table::{Op, OPS};
use crate::vjp::{Grad, Map, Map2, Param, Reads};

/// The `impl` block with every map's methods, or the first formula error.
pub fn elementwise() -> TokenStream {
    let mut methods = Vec::new();
    for op in OPS {
        let generated = match &op.grad {
            Grad::Map(m) => kernel(op, m),
            Grad::Map2(m) => kernel2(op, m),
            _ => continue,
        };
        match generated {
            Ok(tokens) => methods.push(tokens),
            Err(e) => {
                let e = format!("op table, `{}`: {e}", op.name);
                return quote!(::core::compile_error!(#e););
            }
        }
    }
    quote! {
        impl<const R: usize, const C: usize, T: ::gradgen::Scalar> ::gradgen::Mat<R, C, T> {
            #(#methods)*
        }
    }
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A formula as the runtime's code over `T`, each variable by its name; `ints`: the integer
/// parameters (`powi`'s `n`).
fn code(f: &Formula, ints: &[&str]) -> TokenStream {
    f.rust(&Rust {
        var: &|v: &str| {
            let i = ident(v);
            quote!(#i)
        },
        ints,
        elem: quote!(T),
        generic: true,
        math: true,
    })
}

fn kernel(op: &Op, m: &Map) -> Result<TokenStream, String> {
    let forward = Formula::parse(m.forward)?;
    let derivative = Formula::parse(m.derivative)?;
    let ints = int_params(m);
    let (fwd, deriv) = (code(&forward, &ints), code(&derivative, &ints));
    let params: Vec<TokenStream> = m
        .params
        .iter()
        .map(|(name, ty)| {
            let name = ident(name);
            match ty {
                Param::Int => quote!(#name: i32),
                Param::Elem => quote!(#name: T),
            }
        })
        .collect();
    let (plain, into, backward) = (
        ident(op.name),
        ident(&format!("into_{}", op.name)),
        ident(&format!("{}_backward", op.name)),
    );
    let docs = Docs::new(op, m, &forward, &derivative);
    let (fwd_doc, into_doc, back_doc) = (&docs.forward, &docs.into, &docs.backward);
    let read = ident(if m.reads == Reads::Input { "x" } else { "y" });
    let backward_fn = quote! {
        pub fn #backward(&self, #(#params,)* d_out: Self) -> Self {
            self.zip_into(d_out, |g, #read| #deriv)
        }
    };
    Ok(quote! {
        #(#[doc = #fwd_doc])*
        #[must_use]
        pub fn #plain(&self, #(#params),*) -> Self {
            self.map(|x| #fwd)
        }

        #(#[doc = #into_doc])*
        #[doc(hidden)]
        #[must_use]
        pub fn #into(self, #(#params),*) -> Self {
            self.map_in_place(|x| #fwd)
        }

        #(#[doc = #back_doc])*
        #[doc(hidden)]
        #[must_use]
        #backward_fn
    })
}

/// The four methods of an entrywise function of two matrices.
fn kernel2(op: &Op, m: &Map2) -> Result<TokenStream, String> {
    let forward = Formula::parse(m.forward)?;
    let derivatives = [
        Formula::parse(m.derivatives[0])?,
        Formula::parse(m.derivatives[1])?,
    ];
    let name = op.name;
    let (plain, into) = (ident(name), ident(&format!("into_{name}")));
    let (fwd, da, db) = (
        code(&forward, &[]),
        code(&derivatives[0], &[]),
        code(&derivatives[1], &[]),
    );
    let (back_a, back_b) = (
        ident(&format!("{name}_backward_a")),
        ident(&format!("{name}_backward_b")),
    );
    let [fwd_doc, into_doc, doc_a, doc_b] = docs2(op, m, &forward, &derivatives);
    Ok(quote! {
        #(#[doc = #fwd_doc])*
        #[must_use]
        pub fn #plain(&self, b: &Self) -> Self {
            self.zip_with(b, |a, b| #fwd)
        }

        #(#[doc = #into_doc])*
        #[doc(hidden)]
        #[must_use]
        pub fn #into(self, b: &Self) -> Self {
            self.into_zip_with(b, |a, b| #fwd)
        }

        #(#[doc = #doc_a])*
        #[doc(hidden)]
        #[must_use]
        pub fn #back_a(&self, b: &Self, d_out: Self) -> Self {
            self.zip2_into(b, d_out, |g, a, b| #da)
        }

        #(#[doc = #doc_b])*
        #[doc(hidden)]
        #[must_use]
        pub fn #back_b(&self, b: &Self, d_out: Self) -> Self {
            self.zip2_into(b, d_out, |g, a, b| #db)
        }
    })
}

/// The documentation lines of the four methods of a [`Map2`]: the function, its in-place
/// variant, and the two backwards.
fn docs2(op: &Op, m: &Map2, forward: &Formula, derivatives: &[Formula; 2]) -> [Vec<String>; 4] {
    let name = op.name;
    let mut fwd = vec![
        format!(
            " {}, entrywise: `{}`.",
            m.doc,
            readme_text(forward, "g", None)
        ),
        String::new(),
        format!(
            " Gradient of `out = {}`: `d_a = {}` and `d_b = {}`.",
            op.syntax,
            readme_text(&derivatives[0], "d_out", None),
            readme_text(&derivatives[1], "d_out", None)
        ),
        String::new(),
        " ```".to_owned(),
        " use gradgen::Mat;".to_owned(),
    ];
    fwd.extend(m.example.lines().map(|l| format!(" {}", l.trim())));
    fwd.push(" ```".to_owned());
    let into = vec![format!(
        " [`{name}`](Mat::{name}) in this matrix's own buffer, without allocating: what the \
         generated code calls on a temporary that is dead afterwards."
    )];
    let back = |which: &str| {
        vec![format!(
            " The gradient of [`{name}`](Mat::{name})'s operand `{which}`, with `self` the first \
             operand `a` and `b` the second, given the gradient `d_out` of its output, in \
             `d_out`'s buffer."
        )]
    };
    [fwd, into, back("a"), back("b")]
}

fn int_params(m: &Map) -> Vec<&'static str> {
    m.params
        .iter()
        .filter(|(_, p)| *p == Param::Int)
        .map(|(n, _)| *n)
        .collect()
}

/// How a formula of a row reads in the runtime's docs and the README: `x` is the operand `a`,
/// `y` the result `out`; `receiver` renames the one the backward is called on (`self`).
pub fn readme_text(f: &Formula, g: &str, receiver: Option<(Reads, &str)>) -> String {
    f.text(&Text {
        name: &|v: &str| match (v, receiver) {
            ("x", Some((Reads::Input, r))) | ("y", Some((Reads::Output, r))) => r.to_owned(),
            ("x" | "a", _) => "a".to_owned(),
            ("y", _) => "out".to_owned(),
            ("g", _) => g.to_owned(),
            (other, _) => other.to_owned(),
        },
        matrix: &|v: &str| matches!(v, "x" | "y" | "g" | "a" | "b"),
    })
}

/// The documentation lines of the three methods.
struct Docs {
    forward: Vec<String>,
    into: Vec<String>,
    backward: Vec<String>,
}

impl Docs {
    fn new(op: &Op, m: &Map, forward: &Formula, derivative: &Formula) -> Docs {
        let name = op.name;
        let syntax = if op.syntax.is_empty() {
            format!("a.{name}()")
        } else {
            op.syntax.to_owned()
        };
        let (receiver, whose) = match m.reads {
            Reads::Input => ("self", "its input `self`"),
            Reads::Output => ("self", "its output `self`"),
        };
        let grad = readme_text(derivative, "d_out", None);
        let reuse = if m.reads == Reads::Output {
            format!(" (reuses the result: `{name}_backward` is called on `out`)")
        } else {
            String::new()
        };
        let mut fwd = vec![
            format!(
                " {}, entrywise: `{}`.",
                m.doc,
                readme_text(forward, "g", None)
            ),
            String::new(),
            format!(" Gradient of `out = {syntax}`: `d_a = {grad}`{reuse}."),
            String::new(),
            " ```".to_owned(),
            " use gradgen::Mat;".to_owned(),
        ];
        fwd.extend(m.example.lines().map(|l| format!(" {}", l.trim())));
        fwd.push(" ```".to_owned());
        let into = vec![format!(
            " [`{name}`](Mat::{name}) in this matrix's own buffer, without allocating: what \
             the generated code calls on a temporary that is dead afterwards."
        )];
        let back_text = readme_text(derivative, "d_out", Some((m.reads, receiver)));
        let backward = vec![format!(
            " The gradient of [`{name}`](Mat::{name})'s input, given the gradient `d_out` of its \
             output and reading {whose}: `{back_text}`, in `d_out`'s buffer."
        )];
        Docs {
            forward: fwd,
            into,
            backward,
        }
    }
}
