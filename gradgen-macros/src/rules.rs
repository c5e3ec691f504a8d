//! Stage 3 — rules: the derivative table, the only place that knows op names.
//!
//! Input: an op's operands, as shapes (for the shape stage) or as tokens (for the reverse stage).
//! Output: per op, its shape rule (the result's shape, or a [`Mismatch`] in the user's symbols
//! with the fix where one exists) and its vector-Jacobian product: how the gradient of the
//! result becomes a contribution to the gradient of each operand, as a Rust expression over
//! the runtime's typed operations.
//!
//! Guarantees: every [`Rule`] here has a runtime method or operator of the same name, a row in
//! the README's op table and a finite-difference test (`tests/ops.rs`). A VJP only reads the
//! operands and the forward result (which the backward keeps), so forward values are reused,
//! never recomputed; it moves the incoming gradient (reusing its buffer) when it is that
//! gradient's only use.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{Dim, Func, Operand, Shape};

/// How an op is written.
pub enum Form {
    /// `receiver.name(args…)` with this many arguments after the receiver.
    Method { args: usize },
    /// An operator with this many operands (`a + b`, `-a`).
    Operator { arity: usize },
    /// A call to another differentiable function ([`CALL`]).
    Call,
}

/// One differentiable operation.
pub struct Rule {
    /// The method name, or the operator's symbol.
    pub name: &'static str,
    pub form: Form,
    /// The base name of an intermediate that holds this op's result (`score_exp`).
    pub temp: &'static str,
    /// The runtime method that computes the same in the receiver's own buffer (`into_exp`),
    /// used when the receiver is a temporary that is dead afterwards.
    pub consuming: Option<&'static str>,
    /// For an op that can be the function's value: the runtime methods (borrowing, consuming)
    /// that compute its value and the gradient of its receiver in one pass, given `d_out`.
    pub with_backward: Option<(&'static str, &'static str)>,
    /// How it is called and what it computes, for help messages.
    pub usage: &'static str,
    /// The result's shape from the operands' shapes.
    pub shape: fn(&ShapeArgs) -> Result<Shape, Mismatch>,
    /// The forward step for the derivation text; `{0}`, `{1}` stand for the operands.
    pub show: &'static str,
    /// The contribution of the result's gradient to the gradient of operand `i`.
    pub vjp: fn(&Vjp, usize) -> Contrib,
}

/// The operands of an op, for its shape rule.
pub struct ShapeArgs<'a> {
    pub shapes: &'a [Shape],
    /// How each operand reads in the user's code (`w`, `score.exp()`), without backticks.
    pub texts: &'a [String],
    /// The value of each operand that is an integer literal (`powi`'s exponent).
    pub ints: &'a [Option<i64>],
}

/// A shape rule that does not hold.
pub struct Mismatch {
    /// Where to point: an operand, or the operator / method name.
    pub at: At,
    pub message: String,
}

pub enum At {
    /// The operator or method name.
    Op,
    /// The operand at this index (the receiver is 0).
    Arg(usize),
}

/// The tokens a VJP is written with.
pub struct Vjp<'a> {
    pub shapes: &'a [Shape],
    /// Each operand by reference (`&h`, a `&Mat` parameter as is, a scalar by value).
    pub args: &'a [TokenStream],
    /// Each operand as a method receiver (`h`).
    pub recvs: &'a [TokenStream],
    /// Each operand as the derivation text names it.
    pub texts: &'a [String],
    /// The forward result, by reference.
    pub out: TokenStream,
    /// The forward result as a method receiver.
    pub out_recv: TokenStream,
    pub out_shape: &'a Shape,
    pub out_text: String,
    /// The incoming gradient by reference (`&d_h`; a scalar by value).
    pub g: TokenStream,
    /// The incoming gradient as a method receiver (`d_h`).
    pub g_recv: TokenStream,
    /// The incoming gradient by value when this contribution is its last use (its buffer is
    /// reused), by reference otherwise.
    pub g_take: TokenStream,
    /// Whether `g_take` is the gradient by value.
    pub g_owned: bool,
    pub g_text: String,
    /// The user's path to `Mat`.
    pub mat: TokenStream,
    /// Which operands this contribution may consume: it is their last use.
    pub take: &'a [bool],
}

impl Vjp<'_> {
    /// `[A × B]·[B × C]`: the shapes of a product's factors, for the derivation. Each factor is
    /// the output's gradient (`None`) or an operand, possibly transposed.
    fn factors(&self, left: (Option<usize>, bool), right: (Option<usize>, bool)) -> String {
        let show = |(arg, transposed): (Option<usize>, bool)| {
            let shape = arg.map_or(self.out_shape, |i| &self.shapes[i]);
            match (shape, transposed) {
                (Shape::Mat(r, c), false) => format!("[{r} × {c}]"),
                (Shape::Mat(r, c), true) => format!("[{c} × {r}]"),
                (other, _) => other.to_string(),
            }
        };
        format!("{}·{}", show(left), show(right))
    }

    /// Whether operand `i` is a scalar combined with a matrix (so broadcast to every entry).
    fn broadcast_scalar(&self, i: usize) -> bool {
        self.shapes[i] == Shape::Scalar && self.shapes.iter().any(|s| matches!(s, Shape::Mat(..)))
    }

    fn dim(&self, arg: usize, which: usize) -> TokenStream {
        match &self.shapes[arg] {
            Shape::Mat(r, c) => dim_tokens(if which == 0 { r } else { c }),
            _ => quote!(_),
        }
    }
}

/// The tokens of a dimension, as a const generic argument.
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

/// A contribution to an operand's gradient.
pub enum Contrib {
    /// The incoming gradient itself (`+`), or its negation (`−`): moved, not copied, when it can be.
    Pass { negate: bool },
    /// A new value. `in_place`, when given, adds the same contribution into an existing gradient
    /// without building it first (`d.scatter_add(y, &g)`).
    Expr {
        fresh: TokenStream,
        in_place: Option<(Ident, TokenStream)>,
        /// The contribution as the derivation shows it.
        text: String,
    },
}

fn expr(fresh: TokenStream, text: String) -> Contrib {
    Contrib::Expr {
        fresh,
        in_place: None,
        text,
    }
}

/// A contribution that broadcasts the incoming gradient: built whole when it starts a gradient,
/// added in place (`method(args)`) when the gradient exists already.
fn broadcast(fresh: TokenStream, (method, args): (&str, TokenStream), text: String) -> Contrib {
    Contrib::Expr {
        fresh,
        in_place: Some((Ident::new(method, Span::call_site()), args)),
        text,
    }
}

/// The table.
pub static RULES: &[Rule] = &[
    Rule {
        name: "+",
        form: Form::Operator { arity: 2 },
        temp: "sum",
        consuming: None,
        with_backward: None,
        usage: "`a + b` adds two matrices of the same shape, a scalar to a matrix, or two scalars",
        shape: |a| elementwise(a, "+"),
        show: "{0} + {1}",
        vjp: |v, i| pass_or_sum(v, i, false),
    },
    Rule {
        name: "-",
        form: Form::Operator { arity: 2 },
        temp: "diff",
        consuming: None,
        with_backward: None,
        usage: "`a - b` subtracts two matrices of the same shape, a scalar and a matrix, or two scalars",
        shape: |a| elementwise(a, "-"),
        show: "{0} − {1}",
        vjp: |v, i| pass_or_sum(v, i, i == 1),
    },
    Rule {
        name: "*",
        form: Form::Operator { arity: 2 },
        temp: "prod",
        consuming: None,
        with_backward: None,
        usage: "`a * b` multiplies entrywise two matrices of the same shape, a matrix by a scalar, or two scalars",
        shape: |a| elementwise(a, "*"),
        show: "{0} ∘ {1}",
        vjp: |v, i| {
            let (other, this) = (1 - i, i);
            let (g, g_recv, g_take) = (&v.g, &v.g_recv, &v.g_take);
            let o = &v.args[other];
            match (&v.shapes[this], &v.shapes[other]) {
                // The gradient of a scalar factor of a matrix sums over the matrix's entries.
                (Shape::Scalar, Shape::Mat(..)) => expr(
                    quote!(#g_recv.inner(#o)),
                    format!("Σ {} ∘ {}", v.g_text, v.texts[other]),
                ),
                (Shape::Mat(..), _) => expr(quote!(#g_take * #o), format!("{} ∘ {}", v.g_text, v.texts[other])),
                _ => expr(quote!(#g * #o), format!("{} · {}", v.g_text, v.texts[other])),
            }
        },
    },
    Rule {
        name: "/",
        form: Form::Operator { arity: 2 },
        temp: "quot",
        consuming: None,
        with_backward: None,
        usage: "`a / b` divides entrywise two matrices of the same shape, a matrix and a scalar, or two scalars",
        shape: |a| elementwise(a, "/"),
        show: "{0} / {1}",
        vjp: |v, i| {
            let (g, g_recv, g_take, out) = (&v.g, &v.g_recv, &v.g_take, &v.out);
            let (a, b) = (&v.args[0], &v.args[1]);
            if i == 0 {
                if v.broadcast_scalar(0) {
                    // s / b: d_s = Σ g / b = Σ g ∘ out / s
                    let text = format!("Σ {} ∘ {} / {}", v.g_text, v.out_text, v.texts[0]);
                    return expr(quote!(#g_recv.inner(#out) / #a), text);
                }
                return expr(quote!(#g_take / #b), format!("{} / {}", v.g_text, v.texts[1]));
            }
            // d(a/b)/db = −(a/b)/b: the forward result is reused.
            let text = format!("−{} ∘ {} / {}", v.g_text, v.out_text, v.texts[1]);
            match (&v.shapes[1], v.broadcast_scalar(1)) {
                (Shape::Mat(..), _) => expr(quote!(-(#g * #out) / #b), text),
                (_, true) => expr(quote!(-#g_recv.inner(#out) / #b), format!("Σ {text}")),
                _ => expr(quote!(-#g * #out / #b), text),
            }
        },
    },
    Rule {
        name: "-",
        form: Form::Operator { arity: 1 },
        temp: "neg",
        consuming: None,
        with_backward: None,
        usage: "`-a` negates a matrix or a scalar",
        shape: |a| match &a.shapes[0] {
            Shape::Labels(..) => Err(labels_are_not_numbers(a, 0, "-")),
            s => Ok(s.clone()),
        },
        show: "−{0}",
        vjp: |_, _| Contrib::Pass { negate: true },
    },
    Rule {
        name: "matmul",
        form: Form::Method { args: 1 },
        temp: "matmul",
        consuming: None,
        with_backward: None,
        usage: "`a.matmul(&b)` is the matrix product: [R × K] · [K × C] = [R × C]",
        shape: matmul_shape,
        show: "{0} · {1}",
        vjp: |v, i| {
            let (g, g_recv) = (&v.g, &v.g_recv);
            if i == 0 {
                let b = &v.args[1];
                let f = v.factors((None, false), (Some(1), true));
                expr(quote!(#g_recv.matmul_t(#b)), format!("{} · {}ᵀ   {f}", v.g_text, v.texts[1]))
            } else {
                let a = &v.recvs[0];
                let f = v.factors((Some(0), true), (None, false));
                expr(quote!(#a.t_matmul(#g)), format!("{}ᵀ · {}   {f}", v.texts[0], v.g_text))
            }
        },
    },
    Rule {
        name: "matmul_t",
        form: Form::Method { args: 1 },
        temp: "matmul_t",
        consuming: None,
        with_backward: None,
        usage: "`a.matmul_t(&b)` is `a · bᵀ`: [R × K] · [C × K]ᵀ = [R × C], without copying `bᵀ`",
        shape: |a| {
            let (r, k) = mat(a, 0, "matmul_t")?;
            let (c, k2) = mat(a, 1, "matmul_t")?;
            inner_fits(a, "matmul_t", &k, &k2).map(|()| Shape::Mat(r, c))
        },
        show: "{0} · {1}ᵀ",
        vjp: |v, i| {
            let g_recv = &v.g_recv;
            if i == 0 {
                let b = &v.args[1];
                let f = v.factors((None, false), (Some(1), false));
                expr(quote!(#g_recv.matmul(#b)), format!("{} · {}   {f}", v.g_text, v.texts[1]))
            } else {
                let a = &v.args[0];
                let f = v.factors((None, true), (Some(0), false));
                expr(quote!(#g_recv.t_matmul(#a)), format!("{}ᵀ · {}   {f}", v.g_text, v.texts[0]))
            }
        },
    },
    Rule {
        name: "t_matmul",
        form: Form::Method { args: 1 },
        temp: "t_matmul",
        consuming: None,
        with_backward: None,
        usage: "`a.t_matmul(&b)` is `aᵀ · b`: [K × R]ᵀ · [K × C] = [R × C], without copying `aᵀ`",
        shape: |a| {
            let (k, r) = mat(a, 0, "t_matmul")?;
            let (k2, c) = mat(a, 1, "t_matmul")?;
            inner_fits(a, "t_matmul", &k, &k2).map(|()| Shape::Mat(r, c))
        },
        show: "{0}ᵀ · {1}",
        vjp: |v, i| {
            let g = &v.g;
            if i == 0 {
                let b = &v.recvs[1];
                let f = v.factors((Some(1), false), (None, true));
                expr(quote!(#b.matmul_t(#g)), format!("{} · {}ᵀ   {f}", v.texts[1], v.g_text))
            } else {
                let a = &v.recvs[0];
                let f = v.factors((Some(0), false), (None, false));
                expr(quote!(#a.matmul(#g)), format!("{} · {}   {f}", v.texts[0], v.g_text))
            }
        },
    },
    Rule {
        name: "t",
        form: Form::Method { args: 0 },
        temp: "t",
        consuming: Some("into_t"),
        with_backward: None,
        usage: "`a.t()` is the transpose: [R × C] → [C × R]",
        shape: |a| {
            let (r, c) = mat(a, 0, "t")?;
            Ok(Shape::Mat(c, r))
        },
        show: "{0}ᵀ",
        vjp: |v, _| {
            // The gradient's only use (one operand): transpose its buffer in place, no copy
            // (a borrowed gradient, the seed of a matrix value, is copied).
            let g = &v.g_recv;
            let t = if v.g_owned { quote!(into_t) } else { quote!(t) };
            expr(quote!(#g.#t()), format!("{}ᵀ", v.g_text))
        },
    },
    Rule {
        name: "add_row",
        form: Form::Method { args: 1 },
        temp: "plus_row",
        consuming: Some("into_add_row"),
        with_backward: None,
        usage: "`a.add_row(&b)` adds the [1 × C] row `b` to every row of the [R × C] matrix `a`",
        shape: |a| broadcast_shape(a, "add_row", Along::Rows),
        show: "{0} + {1}   ({1} broadcast over rows)",
        vjp: |v, i| broadcast_add(v, i, false, Along::Rows),
    },
    Rule {
        name: "sub_row",
        form: Form::Method { args: 1 },
        temp: "minus_row",
        consuming: Some("into_sub_row"),
        with_backward: None,
        usage: "`a.sub_row(&b)` subtracts the [1 × C] row `b` from every row of the [R × C] matrix `a`",
        shape: |a| broadcast_shape(a, "sub_row", Along::Rows),
        show: "{0} − {1}   ({1} broadcast over rows)",
        vjp: |v, i| broadcast_add(v, i, true, Along::Rows),
    },
    Rule {
        name: "mul_row",
        form: Form::Method { args: 1 },
        temp: "times_row",
        consuming: Some("into_mul_row"),
        with_backward: None,
        usage: "`a.mul_row(&b)` multiplies every row of the [R × C] matrix `a` entrywise by the [1 × C] row `b`",
        shape: |a| broadcast_shape(a, "mul_row", Along::Rows),
        show: "{0} ∘ {1}   ({1} broadcast over rows)",
        vjp: |v, i| broadcast_mul(v, i, Along::Rows),
    },
    Rule {
        name: "div_row",
        form: Form::Method { args: 1 },
        temp: "over_row",
        consuming: Some("into_div_row"),
        with_backward: None,
        usage: "`a.div_row(&b)` divides every row of the [R × C] matrix `a` entrywise by the [1 × C] row `b`",
        shape: |a| broadcast_shape(a, "div_row", Along::Rows),
        show: "{0} / {1}   ({1} broadcast over rows)",
        vjp: |v, i| broadcast_div(v, i, Along::Rows),
    },
    Rule {
        name: "add_col",
        form: Form::Method { args: 1 },
        temp: "plus_col",
        consuming: Some("into_add_col"),
        with_backward: None,
        usage: "`a.add_col(&b)` adds the [R × 1] column `b` to every column of the [R × C] matrix `a`",
        shape: |a| broadcast_shape(a, "add_col", Along::Cols),
        show: "{0} + {1}   ({1} broadcast over columns)",
        vjp: |v, i| broadcast_add(v, i, false, Along::Cols),
    },
    Rule {
        name: "sub_col",
        form: Form::Method { args: 1 },
        temp: "minus_col",
        consuming: Some("into_sub_col"),
        with_backward: None,
        usage: "`a.sub_col(&b)` subtracts the [R × 1] column `b` from every column of the [R × C] matrix `a`",
        shape: |a| broadcast_shape(a, "sub_col", Along::Cols),
        show: "{0} − {1}   ({1} broadcast over columns)",
        vjp: |v, i| broadcast_add(v, i, true, Along::Cols),
    },
    Rule {
        name: "mul_col",
        form: Form::Method { args: 1 },
        temp: "times_col",
        consuming: Some("into_mul_col"),
        with_backward: None,
        usage: "`a.mul_col(&b)` multiplies every column of the [R × C] matrix `a` entrywise by the [R × 1] column `b`",
        shape: |a| broadcast_shape(a, "mul_col", Along::Cols),
        show: "{0} ∘ {1}   ({1} broadcast over columns)",
        vjp: |v, i| broadcast_mul(v, i, Along::Cols),
    },
    Rule {
        name: "div_col",
        form: Form::Method { args: 1 },
        temp: "over_col",
        consuming: Some("into_div_col"),
        with_backward: None,
        usage: "`a.div_col(&b)` divides every column of the [R × C] matrix `a` entrywise by the [R × 1] column `b`",
        shape: |a| broadcast_shape(a, "div_col", Along::Cols),
        show: "{0} / {1}   ({1} broadcast over columns)",
        vjp: |v, i| broadcast_div(v, i, Along::Cols),
    },
    Rule {
        name: "exp",
        form: Form::Method { args: 0 },
        temp: "exp",
        consuming: Some("into_exp"),
        with_backward: None,
        usage: "`a.exp()` is eᵃ entrywise",
        shape: |a| mat(a, 0, "exp").map(|(r, c)| Shape::Mat(r, c)),
        show: "exp({0})",
        vjp: |v, _| {
            let (g, out) = (&v.g_take, &v.out);
            expr(quote!(#g * #out), format!("{} ∘ {}   (reuses exp)", v.g_text, v.out_text))
        },
    },
    Rule {
        name: "ln",
        form: Form::Method { args: 0 },
        temp: "ln",
        consuming: Some("into_ln"),
        with_backward: None,
        usage: "`a.ln()` is the natural logarithm entrywise",
        shape: |a| mat(a, 0, "ln").map(|(r, c)| Shape::Mat(r, c)),
        show: "ln({0})",
        vjp: |v, _| {
            let (g, a) = (&v.g_take, &v.args[0]);
            expr(quote!(#g / #a), format!("{} / {}", v.g_text, v.texts[0]))
        },
    },
    Rule {
        name: "sqrt",
        form: Form::Method { args: 0 },
        temp: "sqrt",
        consuming: Some("into_sqrt"),
        with_backward: None,
        usage: "`a.sqrt()` is the square root entrywise",
        shape: |a| same_mat(a, "sqrt"),
        show: "√{0}",
        vjp: |v, _| {
            let (out, g) = (&v.out_recv, &v.g_take);
            expr(quote!(#out.sqrt_backward(#g)), format!("{} / (2·{})   (reuses sqrt)", v.g_text, v.out_text))
        },
    },
    Rule {
        name: "powi",
        form: Form::Method { args: 1 },
        temp: "pow",
        consuming: Some("into_powi"),
        with_backward: None,
        usage: "`a.powi(n)` is aⁿ entrywise, for an integer literal `n`",
        shape: |a| {
            let shape = same_mat(a, "powi")?;
            match a.ints[1] {
                Some(n) if i32::try_from(n).is_ok() => Ok(shape),
                _ => Err(Mismatch {
                    at: At::Arg(1),
                    message: format!(
                        "`powi` takes an integer literal exponent, but `{}` is not one\nhelp: write the exponent as a literal, e.g. `a.powi(3)`; `a.square()` and `a.sqrt()` are operations too",
                        a.texts[1]
                    ),
                }),
            }
        },
        show: "{0}^{1}",
        vjp: |v, _| {
            let (a, n, g) = (&v.recvs[0], &v.args[1], &v.g_take);
            expr(
                quote!(#a.powi_backward(#n, #g)),
                format!("{} ∘ {n}·{}^({n}−1)", v.g_text, v.texts[0], n = v.texts[1]),
            )
        },
    },
    Rule {
        name: "square",
        form: Form::Method { args: 0 },
        temp: "sq",
        consuming: Some("into_square"),
        with_backward: None,
        usage: "`a.square()` is a² entrywise",
        shape: |a| same_mat(a, "square"),
        show: "{0}²",
        vjp: |v, _| {
            let (a, g) = (&v.recvs[0], &v.g_take);
            expr(quote!(#a.square_backward(#g)), format!("2·{} ∘ {}", v.g_text, v.texts[0]))
        },
    },
    Rule {
        name: "tanh",
        form: Form::Method { args: 0 },
        temp: "tanh",
        consuming: Some("into_tanh"),
        with_backward: None,
        usage: "`a.tanh()` is the hyperbolic tangent entrywise",
        shape: |a| same_mat(a, "tanh"),
        show: "tanh({0})",
        vjp: |v, _| {
            let (out, g) = (&v.out_recv, &v.g_take);
            expr(quote!(#out.tanh_backward(#g)), format!("{} ∘ (1 − {}²)   (reuses tanh)", v.g_text, v.out_text))
        },
    },
    Rule {
        name: "sigmoid",
        form: Form::Method { args: 0 },
        temp: "sigmoid",
        consuming: Some("into_sigmoid"),
        with_backward: None,
        usage: "`a.sigmoid()` is 1 / (1 + e⁻ᵃ) entrywise",
        shape: |a| same_mat(a, "sigmoid"),
        show: "σ({0})",
        vjp: |v, _| {
            let (out, g) = (&v.out_recv, &v.g_take);
            expr(
                quote!(#out.sigmoid_backward(#g)),
                format!("{} ∘ {o} ∘ (1 − {o})   (reuses σ)", v.g_text, o = v.out_text),
            )
        },
    },
    Rule {
        name: "relu",
        form: Form::Method { args: 0 },
        temp: "relu",
        consuming: Some("into_relu"),
        with_backward: None,
        usage: "`a.relu()` is max(a, 0) entrywise",
        shape: |a| same_mat(a, "relu"),
        show: "max({0}, 0)",
        vjp: |v, _| {
            let (out, g) = (&v.out_recv, &v.g_take);
            expr(quote!(#out.relu_backward(#g)), format!("{} where {} > 0, else 0", v.g_text, v.out_text))
        },
    },
    Rule {
        name: "abs",
        form: Form::Method { args: 0 },
        temp: "abs",
        consuming: Some("into_abs"),
        with_backward: None,
        usage: "`a.abs()` is |a| entrywise",
        shape: |a| same_mat(a, "abs"),
        show: "|{0}|",
        vjp: |v, _| {
            let (a, g) = (&v.recvs[0], &v.g_take);
            expr(quote!(#a.abs_backward(#g)), format!("{} ∘ sign({})", v.g_text, v.texts[0]))
        },
    },
    Rule {
        name: "row_sums",
        form: Form::Method { args: 0 },
        temp: "row_sums",
        consuming: None,
        with_backward: None,
        usage: "`a.row_sums()` sums each row: [R × C] → [R × 1]",
        shape: |a| mat(a, 0, "row_sums").map(|(r, _)| Shape::Mat(r, Dim::Lit(1))),
        show: "Σ_cols {0}",
        vjp: |v, _| {
            let (g, c) = (&v.g_recv, v.dim(0, 1));
            broadcast(
                quote!(#g.broadcast_cols::<#c>()),
                ("add_col_assign", v.g.clone()),
                format!("{} repeated over the columns   (sum → broadcast)", v.g_text),
            )
        },
    },
    Rule {
        name: "col_sums",
        form: Form::Method { args: 0 },
        temp: "col_sums",
        consuming: None,
        with_backward: None,
        usage: "`a.col_sums()` sums each column: [R × C] → [1 × C]",
        shape: |a| mat(a, 0, "col_sums").map(|(_, c)| Shape::Mat(Dim::Lit(1), c)),
        show: "Σ_rows {0}",
        vjp: |v, _| {
            let (g, r) = (&v.g_recv, v.dim(0, 0));
            broadcast(
                quote!(#g.broadcast_rows::<#r>()),
                ("add_row_assign", v.g.clone()),
                format!("{} repeated over the rows   (sum → broadcast)", v.g_text),
            )
        },
    },
    Rule {
        name: "row_means",
        form: Form::Method { args: 0 },
        temp: "row_means",
        consuming: None,
        with_backward: None,
        usage: "`a.row_means()` is the mean of each row: [R × C] → [R × 1]",
        shape: |a| mat(a, 0, "row_means").map(|(r, _)| Shape::Mat(r, Dim::Lit(1))),
        show: "mean_cols {0}",
        vjp: |v, _| {
            let (g, c) = (&v.g_recv, v.dim(0, 1));
            broadcast(
                quote!(#g.spread_cols::<#c>()),
                ("add_spread_cols", v.g.clone()),
                format!("{} / {c} repeated over the columns", v.g_text),
            )
        },
    },
    Rule {
        name: "col_means",
        form: Form::Method { args: 0 },
        temp: "col_means",
        consuming: None,
        with_backward: None,
        usage: "`a.col_means()` is the mean of each column: [R × C] → [1 × C]",
        shape: |a| mat(a, 0, "col_means").map(|(_, c)| Shape::Mat(Dim::Lit(1), c)),
        show: "mean_rows {0}",
        vjp: |v, _| {
            let (g, r) = (&v.g_recv, v.dim(0, 0));
            broadcast(
                quote!(#g.spread_rows::<#r>()),
                ("add_spread_rows", v.g.clone()),
                format!("{} / {r} repeated over the rows", v.g_text),
            )
        },
    },
    Rule {
        name: "row_max",
        form: Form::Method { args: 0 },
        temp: "row_max",
        consuming: None,
        with_backward: None,
        usage: "`a.row_max()` is the largest entry of each row: [R × C] → [R × 1]",
        shape: |a| mat(a, 0, "row_max").map(|(r, _)| Shape::Mat(r, Dim::Lit(1))),
        show: "max_cols {0}",
        vjp: |v, _| {
            let (a, g) = (&v.recvs[0], &v.g);
            expr(
                quote!(#a.row_max_backward(#g)),
                format!("{} at each row's arg-max of {}, 0 elsewhere", v.g_text, v.texts[0]),
            )
        },
    },
    Rule {
        name: "sum",
        form: Form::Method { args: 0 },
        temp: "sum",
        consuming: None,
        with_backward: None,
        usage: "`a.sum()` is the sum of all entries, a scalar",
        shape: |a| mat(a, 0, "sum").map(|_| Shape::Scalar),
        show: "Σ {0}",
        vjp: |v, _| {
            let (g, m) = (&v.g, &v.mat);
            expr(quote!(#m::full(#g)), format!("{} in every entry", v.g_text))
        },
    },
    Rule {
        name: "mean",
        form: Form::Method { args: 0 },
        temp: "mean",
        consuming: None,
        with_backward: None,
        usage: "`a.mean()` is the mean of all entries, a scalar",
        shape: |a| mat(a, 0, "mean").map(|_| Shape::Scalar),
        show: "mean({0})",
        vjp: |v, _| {
            let (g, m) = (&v.g, &v.mat);
            let count = match &v.shapes[0] {
                Shape::Mat(r, c) => format!("{r}·{c}"),
                _ => String::new(),
            };
            expr(quote!(#m::mean_backward(#g)), format!("{} / ({count}) in every entry", v.g_text))
        },
    },
    Rule {
        name: "inner",
        form: Form::Method { args: 1 },
        temp: "inner",
        consuming: None,
        with_backward: None,
        usage: "`a.inner(&b)` is Σ a ∘ b, the sum of the entrywise products of two matrices of the same shape, a scalar",
        shape: |a| {
            let (r, c) = mat(a, 0, "inner")?;
            mat(a, 1, "inner")?;
            if a.shapes[0] == a.shapes[1] {
                return Ok(Shape::Scalar);
            }
            let (lt, rt) = (&a.texts[0], &a.texts[1]);
            let mut message = format!(
                "mismatched shapes for `inner`: `{lt}` is [{r} × {c}] but `{rt}` is {}\nnote: `inner` multiplies entrywise, so it needs two matrices of the same shape",
                a.shapes[1]
            );
            if a.shapes[1] == Shape::Mat(c.clone(), r.clone()) {
                message.push_str(&format!(
                    "\nhelp: `{rt}` has the transposed shape: write `{lt}.inner(&{rt}.t())`"
                ));
            }
            Err(Mismatch {
                at: At::Arg(1),
                message,
            })
        },
        show: "Σ {0} ∘ {1}",
        vjp: |v, i| {
            let (o, g) = (&v.args[1 - i], &v.g);
            // The operand's own buffer holds its gradient when nothing reads it afterwards.
            let fresh = if v.take[i] {
                let a = &v.recvs[i];
                quote!(#a.into_scaled_copy_of(#o, #g))
            } else {
                quote!(#o * #g)
            };
            Contrib::Expr {
                fresh,
                in_place: Some((Ident::new("add_scaled", Span::call_site()), quote!(#o, #g))),
                text: format!("{} · {}", v.g_text, v.texts[1 - i]),
            }
        },
    },
    Rule {
        name: "sum_squares",
        form: Form::Method { args: 0 },
        temp: "sum_sq",
        consuming: None,
        with_backward: None,
        usage: "`a.sum_squares()` is Σ a², the sum of the squares of all entries, a scalar",
        shape: |a| mat(a, 0, "sum_squares").map(|_| Shape::Scalar),
        show: "Σ {0}²",
        vjp: |v, _| squares_vjp(v, "sum_squares", format!("2·{} · {}", v.g_text, v.texts[0])),
    },
    Rule {
        name: "mean_squares",
        form: Form::Method { args: 0 },
        temp: "mean_sq",
        consuming: None,
        with_backward: None,
        usage: "`a.mean_squares()` is the mean of the squares of all entries, a scalar",
        shape: |a| mat(a, 0, "mean_squares").map(|_| Shape::Scalar),
        show: "mean({0}²)",
        vjp: |v, _| {
            let count = match &v.shapes[0] {
                Shape::Mat(r, c) => format!("{r}·{c}"),
                _ => String::new(),
            };
            squares_vjp(v, "mean_squares", format!("2·{} / ({count}) · {}", v.g_text, v.texts[0]))
        },
    },
    Rule {
        name: "row_sum_squares",
        form: Form::Method { args: 0 },
        temp: "row_sum_sq",
        consuming: None,
        with_backward: None,
        usage: "`a.row_sum_squares()` sums the squares of each row: [R × C] → [R × 1]",
        shape: |a| mat(a, 0, "row_sum_squares").map(|(r, _)| Shape::Mat(r, Dim::Lit(1))),
        show: "Σ_cols {0}²",
        vjp: |v, _| {
            let text = format!("2·{g} ∘ {}   ({g} repeated over the columns)", v.texts[0], g = v.g_text);
            squares_vjp(v, "row_sum_squares", text)
        },
    },
    Rule {
        name: "col_sum_squares",
        form: Form::Method { args: 0 },
        temp: "col_sum_sq",
        consuming: None,
        with_backward: None,
        usage: "`a.col_sum_squares()` sums the squares of each column: [R × C] → [1 × C]",
        shape: |a| mat(a, 0, "col_sum_squares").map(|(_, c)| Shape::Mat(Dim::Lit(1), c)),
        show: "Σ_rows {0}²",
        vjp: |v, _| {
            let text = format!("2·{g} ∘ {}   ({g} repeated over the rows)", v.texts[0], g = v.g_text);
            squares_vjp(v, "col_sum_squares", text)
        },
    },
    Rule {
        name: "row_mean_squares",
        form: Form::Method { args: 0 },
        temp: "row_mean_sq",
        consuming: None,
        with_backward: None,
        usage: "`a.row_mean_squares()` is the mean of the squares of each row: [R × C] → [R × 1]",
        shape: |a| mat(a, 0, "row_mean_squares").map(|(r, _)| Shape::Mat(r, Dim::Lit(1))),
        show: "mean_cols {0}²",
        vjp: |v, _| {
            let c = match &v.shapes[0] {
                Shape::Mat(_, c) => c.to_string(),
                _ => String::new(),
            };
            let text = format!("2·{g} / {c} ∘ {}   ({g} repeated over the columns)", v.texts[0], g = v.g_text);
            squares_vjp(v, "row_mean_squares", text)
        },
    },
    Rule {
        name: "col_mean_squares",
        form: Form::Method { args: 0 },
        temp: "col_mean_sq",
        consuming: None,
        with_backward: None,
        usage: "`a.col_mean_squares()` is the mean of the squares of each column: [R × C] → [1 × C]",
        shape: |a| mat(a, 0, "col_mean_squares").map(|(_, c)| Shape::Mat(Dim::Lit(1), c)),
        show: "mean_rows {0}²",
        vjp: |v, _| {
            let r = match &v.shapes[0] {
                Shape::Mat(r, _) => r.to_string(),
                _ => String::new(),
            };
            let text = format!("2·{g} / {r} ∘ {}   ({g} repeated over the rows)", v.texts[0], g = v.g_text);
            squares_vjp(v, "col_mean_squares", text)
        },
    },
    Rule {
        name: "pick",
        form: Form::Method { args: 1 },
        temp: "picked",
        consuming: None,
        with_backward: None,
        usage: "`a.pick(&y)` takes entry `a[i, y[i]]` of each row: [R × C] with `Labels<R, C>` → [R × 1]",
        shape: |a| labelled(a, "pick").map(|(r, _)| Shape::Mat(r, Dim::Lit(1))),
        show: "{0}[i, {1}ᵢ]",
        vjp: |v, _| {
            let (g, y, m) = (&v.g, &v.args[1], &v.mat);
            Contrib::Expr {
                fresh: quote!(#m::scatter(#y, #g)),
                in_place: Some((Ident::new("scatter_add", Span::call_site()), quote!(#y, #g))),
                text: format!("{} scattered to the entries (i, {}ᵢ)", v.g_text, v.texts[1]),
            }
        },
    },
    Rule {
        name: "softmax_rows",
        form: Form::Method { args: 0 },
        temp: "softmax",
        consuming: Some("into_softmax_rows"),
        with_backward: None,
        usage: "`a.softmax_rows()` is the softmax of each row: [R × C] → [R × C]",
        shape: |a| same_mat(a, "softmax_rows"),
        show: "softmax_rows({0})",
        vjp: |v, _| {
            let (out, g) = (&v.out_recv, &v.g_take);
            expr(
                quote!(#out.softmax_rows_backward(#g)),
                format!("{o} ∘ ({g} − Σ_cols({g} ∘ {o}))   (reuses softmax)", g = v.g_text, o = v.out_text),
            )
        },
    },
    Rule {
        name: "log_softmax_rows",
        form: Form::Method { args: 0 },
        temp: "log_softmax",
        consuming: Some("into_log_softmax_rows"),
        with_backward: None,
        usage: "`a.log_softmax_rows()` is the logarithm of the softmax of each row: [R × C] → [R × C]",
        shape: |a| same_mat(a, "log_softmax_rows"),
        show: "log_softmax_rows({0})",
        vjp: |v, _| {
            let (out, g) = (&v.out_recv, &v.g_take);
            expr(
                quote!(#out.log_softmax_rows_backward(#g)),
                format!("{g} − exp({o}) ∘ Σ_cols {g}   (reuses log_softmax)", g = v.g_text, o = v.out_text),
            )
        },
    },
    Rule {
        name: "cross_entropy",
        form: Form::Method { args: 1 },
        temp: "cross_entropy",
        consuming: None,
        with_backward: Some(("cross_entropy_and_backward", "into_cross_entropy_and_backward")),
        usage: "`a.cross_entropy(&y)` is the mean over rows of −log softmax(a)[i, y[i]]: [R × C] with `Labels<R, C>` → scalar",
        shape: |a| labelled(a, "cross_entropy").map(|_| Shape::Scalar),
        show: "mean_i −log softmax({0})[i, {1}ᵢ]",
        vjp: |v, _| {
            let (a, y, g) = (&v.recvs[0], &v.args[1], &v.g);
            let method = if v.take[0] {
                quote!(into_cross_entropy_backward)
            } else {
                quote!(cross_entropy_backward)
            };
            let r = match &v.shapes[0] {
                Shape::Mat(r, _) => r.to_string(),
                _ => String::new(),
            };
            expr(
                quote!(#a.#method(#y, #g)),
                format!("{} · (softmax({}) − onehot({})) / {r}", v.g_text, v.texts[0], v.texts[1]),
            )
        },
    },
];

/// Folds what the forward function computes in two steps into one op that does not build the
/// intermediate, after shape inference (so that errors speak of what the user wrote):
///
/// - transposes into the products that use them: `a.matmul(&b.t())` becomes `a.matmul_t(&b)`
///   and `a.t().matmul(&b)` becomes `a.t_matmul(&b)`, which read a transposed view;
/// - a map into the reduction that consumes it ([`FUSIONS`]): `a.square().col_means()` becomes
///   `a.col_mean_squares()` and `(a * b).sum()` becomes `a.inner(&b)`, when the intermediate
///   has no other use. Neither it nor the broadcast gradient flowing back into it is built.
///
/// An intermediate whose value is then unused is not computed at all, forward or backward.
pub fn fold(func: &mut Func, shapes: &[Shape]) {
    fold_transposes(func);
    let uses = |func: &Func, v: usize| {
        let in_bindings = func
            .bindings
            .iter()
            .flat_map(|b| &b.args)
            .filter(|a| Func::value_of(a) == Some(v))
            .count();
        let in_output = func
            .output
            .as_ref()
            .is_some_and(|(op, _)| Func::value_of(op) == Some(v));
        in_bindings + usize::from(in_output)
    };
    for bi in 0..func.bindings.len() {
        let outer = &func.bindings[bi];
        let [Operand::Value(v)] = outer.args[..] else {
            continue;
        };
        let Some(inner) = func.bindings.iter().find(|b| b.out == v) else {
            continue;
        };
        let Some(&(_, _, fused)) = FUSIONS
            .iter()
            .find(|(i, o, _)| *i == inner.rule.name && *o == outer.rule.name)
        else {
            continue;
        };
        // `a * s` with a scalar is not an entrywise product of two matrices.
        let all_matrices = inner
            .args
            .iter()
            .all(|a| Func::value_of(a).is_some_and(|a| matches!(shapes[a], Shape::Mat(..))));
        let Some(rule) = lookup_method(fused) else {
            continue;
        };
        if inner.call.is_some() || !all_matrices || uses(func, v) != 1 {
            continue;
        }
        let args = inner.args.clone();
        let outer = &mut func.bindings[bi];
        outer.rule = rule;
        outer.args = args;
    }
}

/// `(map, reduction, fused)`: `reduction(map(args))` computed as `fused(args)` in one pass.
pub const FUSIONS: &[(&str, &str, &str)] = &[
    ("square", "sum", "sum_squares"),
    ("square", "mean", "mean_squares"),
    ("square", "row_sums", "row_sum_squares"),
    ("square", "col_sums", "col_sum_squares"),
    ("square", "row_means", "row_mean_squares"),
    ("square", "col_means", "col_mean_squares"),
    ("*", "sum", "inner"),
];

fn fold_transposes(func: &mut Func) {
    let (Some(matmul), Some(matmul_t), Some(t_matmul)) = (
        lookup_method("matmul"),
        lookup_method("matmul_t"),
        lookup_method("t_matmul"),
    ) else {
        return;
    };
    let transposed_source = |func: &Func, op: &Operand| -> Option<Operand> {
        let v = Func::value_of(op)?;
        let b = func.bindings.iter().find(|b| b.out == v)?;
        (b.rule.name == "t").then(|| b.args[0].clone())
    };
    for bi in 0..func.bindings.len() {
        if !std::ptr::eq(func.bindings[bi].rule, matmul) {
            continue;
        }
        if let Some(src) = transposed_source(func, &func.bindings[bi].args[1]) {
            func.bindings[bi].rule = matmul_t;
            func.bindings[bi].args[1] = src;
        } else if let Some(src) = transposed_source(func, &func.bindings[bi].args[0]) {
            func.bindings[bi].rule = t_matmul;
            func.bindings[bi].args[0] = src;
        }
    }
}

/// A call to another `#[differentiable]` function, `f(a, b)`: its derivative is the callee's
/// companion, `f_backward(a, b, g).into_inputs()`, one gradient per argument in order. The
/// result's shape is the type the caller declares (`let h: Mat<N, H> = f(…)`); the arguments'
/// types are checked by rustc against the callee's signature.
pub static CALL: Rule = Rule {
    name: "call",
    form: Form::Call,
    temp: "call",
    consuming: None,
    with_backward: None,
    usage: "`let h: Mat<R, C> = layer(&x, &w);` calls another `#[differentiable]` function",
    shape: |_| {
        Err(Mismatch {
            at: At::Op,
            message: "a call's shape is the type declared for its result".to_owned(),
        })
    },
    show: "{callee}(…)",
    vjp: |v, i| {
        let (parts, index) = (&v.g_take, syn::Index::from(i));
        expr(
            quote!(#parts.#index),
            format!("from the callee's backward, argument {}", i + 1),
        )
    },
};

/// The rule for a method name.
pub fn lookup_method(name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.name == name && matches!(r.form, Form::Method { .. }))
}

/// The rule for an operator symbol with this many operands.
pub fn lookup_operator(symbol: &str, arity: usize) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.name == symbol && matches!(r.form, Form::Operator { arity: a } if a == arity))
}

/// Every method name, in table order.
pub fn method_names() -> Vec<&'static str> {
    RULES
        .iter()
        .filter(|r| matches!(r.form, Form::Method { .. }))
        .map(|r| r.name)
        .collect()
}

/// The method name closest to a misspelt one, if any is close enough to be what was meant.
pub fn closest_method(name: &str) -> Option<&'static str> {
    method_names()
        .into_iter()
        .map(|m| (edit_distance(name, m), m))
        .filter(|&(d, m)| d <= (m.len().max(name.len()) / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, m)| m)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

// ---- shape rules ----

/// Operand `i` must be a matrix.
fn mat(a: &ShapeArgs, i: usize, op: &str) -> Result<(Dim, Dim), Mismatch> {
    match &a.shapes[i] {
        Shape::Mat(r, c) => Ok((r.clone(), c.clone())),
        Shape::Labels(..) => Err(labels_are_not_numbers(a, i, op)),
        Shape::Scalar => Err(Mismatch {
            at: At::Arg(i),
            message: format!("`{op}` needs a matrix, but `{}` is a scalar", a.texts[i]),
        }),
    }
}

fn labels_are_not_numbers(a: &ShapeArgs, i: usize, op: &str) -> Mismatch {
    Mismatch {
        at: At::Arg(i),
        message: format!(
            "`{}` is {}, class indices and not numbers: `{op}` cannot use it\nhelp: labels are used with `pick`, e.g. `score.pick(&{})`",
            a.texts[i], a.shapes[i], a.texts[i]
        ),
    }
}

fn elementwise(a: &ShapeArgs, op: &str) -> Result<Shape, Mismatch> {
    let (l, r) = (&a.shapes[0], &a.shapes[1]);
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    for i in 0..2 {
        if let Shape::Labels(..) = a.shapes[i] {
            return Err(labels_are_not_numbers(a, i, op));
        }
    }
    match (l, r) {
        (Shape::Scalar, Shape::Scalar) => Ok(Shape::Scalar),
        // A scalar is applied to every entry of the matrix.
        (Shape::Mat(..), Shape::Scalar) => Ok(l.clone()),
        (Shape::Scalar, Shape::Mat(..)) => Ok(r.clone()),
        (Shape::Mat(lr, lc), Shape::Mat(rr, rc)) => {
            if l == r {
                return Ok(l.clone());
            }
            let mut message = format!(
                "mismatched shapes for `{op}`: `{lt}` is {l} but `{rt}` is {r}\nnote: `{op}` is entrywise and needs two matrices of the same shape"
            );
            let one = Dim::Lit(1);
            if op == "+" && *rr == one && rc == lc {
                message.push_str(&format!(
                    "\nhelp: to add the row `{rt}` to every row of `{lt}`, write `{lt}.add_row(&{rt})`"
                ));
            } else if op == "+" && *lr == one && rc == lc {
                message.push_str(&format!(
                    "\nhelp: to add the row `{lt}` to every row of `{rt}`, write `{rt}.add_row(&{lt})`"
                ));
            } else if lr == rc && lc == rr {
                message.push_str(&format!(
                    "\nhelp: `{rt}` has the transposed shape: write `{rt}.t()` for a [{lr} × {lc}] operand"
                ));
            }
            Err(Mismatch {
                at: At::Op,
                message,
            })
        }
        _ => Err(labels_are_not_numbers(a, 0, op)),
    }
}

fn matmul_shape(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, k) = mat(a, 0, "matmul")?;
    let (k2, c) = mat(a, 1, "matmul")?;
    if k == k2 {
        return Ok(Shape::Mat(r, c));
    }
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    let mut message = format!(
        "mismatched inner dimensions for `matmul`: `{lt}` is [{r} × {k}] and `{rt}` is [{k2} × {c}], but {k} ≠ {k2}\nnote: a matrix product [R × K] · [K × C] needs the columns of the left operand to match the rows of the right one"
    );
    if let Some(untransposed) = rt.strip_suffix(".t()").filter(|_| k == c) {
        message.push_str(&format!(
            "\nhelp: `{rt}` is transposed once too often: write `{lt}.matmul(&{untransposed})`: [{r} × {k}] · [{c} × {k2}] = [{r} × {k2}]"
        ));
    } else if k == c {
        message.push_str(&format!(
            "\nhelp: to multiply by the transpose of `{rt}`, write `{lt}.matmul(&{rt}.t())`: [{r} × {k}] · [{c} × {k2}] = [{r} × {k2}]"
        ));
    } else if r == k2 {
        message.push_str(&format!(
            "\nhelp: to multiply the transpose of `{lt}`, write `{lt}.t().matmul(&{rt})`: [{k} × {r}] · [{k2} × {c}] = [{k} × {c}]"
        ));
    } else if c == r {
        message.push_str(&format!(
            "\nhelp: the product the other way round fits: `{rt}.matmul(&{lt})` is [{k2} × {c}] · [{r} × {k}] = [{k2} × {k}]"
        ));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message,
    })
}

/// Operand 0 must be a matrix; the result has its shape.
fn same_mat(a: &ShapeArgs, op: &str) -> Result<Shape, Mismatch> {
    mat(a, 0, op).map(|(r, c)| Shape::Mat(r, c))
}

/// Checks the inner dimensions of a product; `k` belongs to operand 0, `k2` to operand 1.
fn inner_fits(a: &ShapeArgs, op: &str, k: &Dim, k2: &Dim) -> Result<(), Mismatch> {
    if k == k2 {
        return Ok(());
    }
    Err(Mismatch {
        at: At::Arg(1),
        message: format!(
            "mismatched inner dimensions for `{op}`: `{}` is {} and `{}` is {}, but {k} ≠ {k2}",
            a.texts[0], a.shapes[0], a.texts[1], a.shapes[1]
        ),
    })
}

/// Which way a [1 × C] row or an [R × 1] column is repeated.
#[derive(Clone, Copy)]
enum Along {
    /// A [1 × C] row, applied to every row.
    Rows,
    /// An [R × 1] column, applied to every column.
    Cols,
}

fn broadcast_shape(a: &ShapeArgs, op: &str, along: Along) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, op)?;
    let (br, bc) = mat(a, 1, op)?;
    let one = Dim::Lit(1);
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    let (fits, want, what, other) = match along {
        Along::Rows => (
            br == one && bc == c,
            format!("[1 × {c}] row"),
            "row",
            op.replace("_row", "_col"),
        ),
        Along::Cols => (
            bc == one && br == r,
            format!("[{r} × 1] column"),
            "column",
            op.replace("_col", "_row"),
        ),
    };
    if fits {
        return Ok(Shape::Mat(r, c));
    }
    let mut message = format!(
        "`{op}` needs a {want} to apply to every {what} of `{lt}` [{r} × {c}], but `{rt}` is [{br} × {bc}]"
    );
    let fits_other = match along {
        Along::Rows => bc == one && br == r,
        Along::Cols => br == one && bc == c,
    };
    if fits_other {
        message.push_str(&format!(
            "\nhelp: `{rt}` fits the other way: write `{lt}.{other}(&{rt})`"
        ));
    } else if (matches!(along, Along::Rows) && bc == one && br == c)
        || (matches!(along, Along::Cols) && br == one && bc == r)
    {
        message.push_str(&format!(
            "\nhelp: `{rt}` has the transposed shape: write `{lt}.{op}(&{rt}.t())`"
        ));
    } else if br == r && bc == c {
        let entrywise = match op.split('_').next() {
            Some("add") => "+",
            Some("sub") => "-",
            Some("mul") => "*",
            _ => "/",
        };
        message.push_str(&format!(
            "\nhelp: `{rt}` has the same shape as `{lt}`: combine them entrywise with `{lt} {entrywise} {rt}`"
        ));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message,
    })
}

/// Operand 0 is an [R × C] matrix, operand 1 `Labels<R, C>`.
fn labelled(a: &ShapeArgs, op: &str) -> Result<(Dim, Dim), Mismatch> {
    let (r, c) = mat(a, 0, op)?;
    let Shape::Labels(n, k) = &a.shapes[1] else {
        return Err(Mismatch {
            at: At::Arg(1),
            message: format!(
                "`{op}` takes labels (`&Labels<{r}, {c}>`), but `{}` is {}",
                a.texts[1], a.shapes[1]
            ),
        });
    };
    if *n == r && *k == c {
        return Ok((r, c));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message: format!(
            "`{op}` on `{}` [{r} × {c}] needs `Labels<{r}, {c}>` (a label for each of the {r} rows, below {c}), but `{}` is Labels<{n}, {k}>",
            a.texts[0], a.texts[1]
        ),
    })
}

// ---- shared vector-Jacobian products ----

/// The gradient of a reduction of squares (`col_mean_squares`, …): `2·k·g ∘ a`, by the
/// runtime's `<op>_backward`; in the operand's own buffer (`into_<op>_backward`) when the
/// operand is dead afterwards, added in place (`add_<op>_backward`) into an existing gradient.
fn squares_vjp(v: &Vjp, op: &str, text: String) -> Contrib {
    let (a, a_ref, g) = (&v.recvs[0], &v.args[0], &v.g);
    let method = |prefix: &str| Ident::new(&format!("{prefix}{op}_backward"), Span::call_site());
    let fresh = if v.take[0] {
        let m = method("into_");
        quote!(#a.#m(#g))
    } else {
        let m = method("");
        quote!(#a.#m(#g))
    };
    Contrib::Expr {
        fresh,
        in_place: Some((method("add_"), quote!(#a_ref, #g))),
        text,
    }
}

/// `+` and `−`: the gradient passes through; a scalar operand broadcast to a matrix receives
/// the sum of the gradient over the entries.
fn pass_or_sum(v: &Vjp, i: usize, negate: bool) -> Contrib {
    if !v.broadcast_scalar(i) {
        return Contrib::Pass { negate };
    }
    let g = &v.g_recv;
    let sign = if negate { quote!(-) } else { quote!() };
    let text = format!("{}Σ {}", if negate { "−" } else { "" }, v.g_text);
    expr(quote!(#sign #g.sum()), text)
}

/// The reduction that undoes a broadcast along `along`.
fn undo(along: Along) -> (TokenStream, &'static str) {
    match along {
        Along::Rows => (quote!(col_sums), "Σ_rows"),
        Along::Cols => (quote!(row_sums), "Σ_cols"),
    }
}

fn broadcast_add(v: &Vjp, i: usize, negate: bool, along: Along) -> Contrib {
    if i == 0 {
        return Contrib::Pass { negate: false };
    }
    let g = &v.g_recv;
    let (sum, sum_text) = undo(along);
    let sign = if negate { quote!(-) } else { quote!() };
    let text = format!(
        "{}{sum_text} {}   (broadcast → sum)",
        if negate { "−" } else { "" },
        v.g_text
    );
    expr(quote!(#sign #g.#sum()), text)
}

fn broadcast_mul(v: &Vjp, i: usize, along: Along) -> Contrib {
    let g_recv = &v.g_recv;
    let (sum_text, dots) = match along {
        Along::Rows => ("Σ_rows", quote!(col_dots)),
        Along::Cols => ("Σ_cols", quote!(row_dots)),
    };
    let op = match (along, v.g_owned) {
        (Along::Rows, false) => quote!(mul_row),
        (Along::Rows, true) => quote!(into_mul_row),
        (Along::Cols, false) => quote!(mul_col),
        (Along::Cols, true) => quote!(into_mul_col),
    };
    if i == 0 {
        let b = &v.args[1];
        return expr(
            quote!(#g_recv.#op(#b)),
            format!("{} ∘ {}", v.g_text, v.texts[1]),
        );
    }
    let a = &v.args[0];
    expr(
        quote!(#g_recv.#dots(#a)),
        format!(
            "{sum_text} ({} ∘ {})   (broadcast → sum)",
            v.g_text, v.texts[0]
        ),
    )
}

fn broadcast_div(v: &Vjp, i: usize, along: Along) -> Contrib {
    let (g_recv, out, b) = (&v.g_recv, &v.out, &v.args[1]);
    let (sum_text, dots) = match along {
        Along::Rows => ("Σ_rows", quote!(col_dots)),
        Along::Cols => ("Σ_cols", quote!(row_dots)),
    };
    let op = match (along, v.g_owned) {
        (Along::Rows, false) => quote!(div_row),
        (Along::Rows, true) => quote!(into_div_row),
        (Along::Cols, false) => quote!(div_col),
        (Along::Cols, true) => quote!(into_div_col),
    };
    if i == 0 {
        return expr(
            quote!(#g_recv.#op(#b)),
            format!("{} / {}", v.g_text, v.texts[1]),
        );
    }
    expr(
        quote!(-(#g_recv.#dots(#out) / #b)),
        format!(
            "−{sum_text} ({} ∘ {}) / {}   (reuses the quotient)",
            v.g_text, v.out_text, v.texts[1]
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_methods_find_the_op_meant() {
        assert_eq!(closest_method("matmull"), Some("matmul"));
        assert_eq!(closest_method("row_sum"), Some("row_sums"));
        assert_eq!(closest_method("colsums"), Some("col_sums"));
        assert_eq!(closest_method("frobnicate"), None);
    }

    /// The README's op table is the user's reference: it must list exactly this table.
    #[test]
    fn the_readme_op_table_lists_exactly_these_rules() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Operations")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has an Operations section");
        let mut documented: Vec<String> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|line| line.split('`').next())
            .map(|op| {
                if let Some(method) = op.strip_prefix("a.") {
                    method.split('(').next().unwrap_or_default().to_owned()
                } else if let Some(operand) = op.strip_prefix('-') {
                    format!("unary -{operand}")
                } else {
                    op.split(' ').nth(1).unwrap_or_default().to_owned()
                }
            })
            .collect();
        let mut implemented: Vec<String> = RULES
            .iter()
            .map(|r| match r.form {
                Form::Operator { arity: 1 } => format!("unary {}a", r.name),
                _ => r.name.to_owned(),
            })
            .collect();
        documented.sort();
        implemented.sort();
        assert_eq!(documented, implemented);
    }

    #[test]
    fn every_rule_is_found_by_its_own_name() {
        for rule in RULES {
            let found = match rule.form {
                Form::Method { .. } => lookup_method(rule.name),
                Form::Operator { arity } => lookup_operator(rule.name, arity),
                Form::Call => panic!("calls are not in the table: {}", rule.name),
            };
            assert!(
                found.is_some_and(|f| std::ptr::eq(f, rule)),
                "{}",
                rule.name
            );
        }
    }
}
