//! Part of stage 4 (reverse): the statements of the plan, once ownership is decided.
//!
//! Input: a planned contribution (or a call's backward, a pre-declared gradient, the gradient
//! of an `if`'s value passed into a branch), and which of its uses may move their value.
//! Output: a [`Stmt`], the code and its line of the derivation. A row's derivative is asked
//! for through its vocabulary word ([`crate::vjp`]), with the ownership flags set here.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use crate::ir::{Func, Operand, Shape, ValueKind};
use crate::reverse::{Stmt, StmtKind};
use crate::schedule::Tracked;
use crate::table::Form;
use crate::vjp::{Add, Ctx, Val};

/// What every statement reads of the plan: the function, its shapes, the gradients' names.
pub struct Cx<'a> {
    pub func: &'a Func,
    pub shapes: &'a [Shape],
    pub grads: &'a [Option<Ident>],
    pub d_out: &'a Ident,
}

/// One contribution to an operand's gradient, as the sweep planned it.
pub struct Planned {
    pub binding: usize,
    pub operand: usize,
    /// The operand's value, whose gradient receives it.
    pub target: usize,
    pub grad: Ident,
    /// Whether it starts the gradient or adds to it.
    pub start: Start,
    /// For a call's operand: the tuple of gradients its backward returned.
    pub parts: Option<Ident>,
    /// Computed by the forward binding with the function's value.
    pub with_value: bool,
}

/// How a statement meets the gradient it contributes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    /// It starts it: `let d_h = …;`.
    New,
    /// It starts it again, in the variable a loop carries the gradient in: `d_h = …;`.
    Again,
    /// It adds to it: `d_h += …;`.
    Add,
}

/// The note a statement of binding `bi` gets in the derivation: the op whose row made it.
pub fn op_note(func: &Func, bi: usize) -> String {
    let b = &func.bindings[bi];
    match b.op.form {
        Form::Method { .. } => b.op.name.to_owned(),
        Form::Operator { arity: 1 } => format!("unary {}", b.op.name),
        Form::Operator { .. } => format!("operator {}", b.op.name),
        Form::Call => {
            let path = b.call.as_ref().map_or_else(String::new, |(p, _)| {
                p.to_token_stream().to_string().replace(' ', "")
            });
            format!("{path}'s backward")
        }
    }
}

/// `h = x · w`: binding `bi` as the derivation writes it.
fn from(func: &Func, bi: usize) -> String {
    format!(
        "{} = {}",
        func.values[func.bindings[bi].out].name,
        crate::derivation::forward_formula(func, bi)
    )
}

/// The statement of a planned contribution; `moves(t)`: its use of `t` may move it; `spare`:
/// a dead matrix of the contribution's shape it may write its result over.
pub fn contribution(
    cx: &Cx,
    p: &Planned,
    moves: &dyn Fn(Tracked) -> bool,
    spare: Option<&Ident>,
) -> Stmt {
    let (func, shapes) = (cx.func, cx.shapes);
    let b = &func.bindings[p.binding];
    let args: Vec<Val> = b
        .args
        .iter()
        .map(|a| {
            let owned = Func::value_of(a).is_some_and(|v| moves(Tracked::Value(v)));
            val(func, shapes, a, owned)
        })
        .collect();
    let ctx = Ctx {
        op: b.op.name,
        args: &args,
        out: val(func, shapes, &Operand::Value(b.out), false),
        g: incoming_val(cx, p, moves),
        mat: &func.mat_path,
        elem: func.scalar_ty.to_token_stream(),
        generic: generic_elem(func).is_some(),
        spare: spare.map(|name| quote!(#name)),
    };
    let c = b.op.grad.vjp(&ctx, p.operand);
    let grad = p.grad.clone();
    let kind = match (p.start, c.add) {
        (Start::New | Start::Again, _) => StmtKind::Init {
            grad,
            shape: shapes[p.target].clone(),
            mutable: false,
            declare: p.start == Start::New,
            expr: c.fresh,
        },
        (Start::Add, Add::Plus) => add(grad, false, c.fresh),
        (Start::Add, Add::PlusWith(e)) => add(grad, false, e),
        (Start::Add, Add::Minus(e)) => add(grad, true, e),
        (Start::Add, Add::InPlace(method, args)) => StmtKind::InPlace { grad, method, args },
    };
    let sign = if p.start == Start::Add { "+=" } else { "=" };
    Stmt {
        span: b.span,
        origin: Some((p.binding, p.operand)),
        note: op_note(func, p.binding),
        from: from(func, p.binding),
        kind,
        text: format!("{} {sign} {}", p.grad, c.text),
    }
}

fn add(grad: Ident, negate: bool, expr: TokenStream) -> StmtKind {
    StmtKind::Add { grad, negate, expr }
}

/// The incoming gradient of binding `bi`'s value, by name and as the statements read it.
fn incoming(cx: &Cx, bi: usize) -> (Ident, TokenStream) {
    let out = cx.func.bindings[bi].out;
    let g = cx.grads[out].clone().unwrap_or_else(|| cx.d_out.clone());
    (g.clone(), by_ref_grad(cx, out, &g))
}

/// A gradient as a statement reads it: the seed of a matrix value is borrowed already, a
/// scalar is passed by value, any other by reference.
fn by_ref_grad(cx: &Cx, v: usize, g: &Ident) -> TokenStream {
    let output = cx
        .func
        .output
        .as_ref()
        .and_then(|(op, _)| Func::value_of(op));
    if output == Some(v) || cx.shapes[v] == Shape::Scalar {
        quote!(#g)
    } else {
        quote!(&#g)
    }
}

/// The incoming gradient as the emitters see it; for a call's operand, the tuple of gradients
/// its backward returned.
fn incoming_val(cx: &Cx, p: &Planned, moves: &dyn Fn(Tracked) -> bool) -> Val {
    let out = cx.func.bindings[p.binding].out;
    let shape = cx.shapes[out].clone();
    if let Some(parts) = &p.parts {
        return Val {
            by_ref: quote!(#parts),
            name: quote!(#parts),
            text: parts.to_string(),
            shape,
            owned: true,
        };
    }
    let (g, by_ref) = incoming(cx, p.binding);
    Val {
        by_ref,
        name: quote!(#g),
        text: g.to_string(),
        shape,
        owned: moves(Tracked::Grad(out)),
    }
}

/// `let parts = callee_backward(args…, g).into_inputs();`
pub fn call(cx: &Cx, bi: usize, parts: &Ident) -> Stmt {
    let b = &cx.func.bindings[bi];
    let (g, seed) = incoming(cx, bi);
    let args: Vec<TokenStream> = b
        .args
        .iter()
        .map(|a| by_ref(cx.func, a, cx.shapes))
        .collect();
    let (path, _) = b
        .call
        .clone()
        .unwrap_or_else(|| (syn::parse_quote!(missing), Shape::Scalar));
    let mut backward = path.clone();
    if let Some(last) = backward.segments.last_mut() {
        last.ident = crate::naming::Names::backward_fn(&last.ident);
    }
    let shown = path.to_token_stream().to_string().replace(' ', "");
    Stmt {
        span: b.span,
        origin: None,
        note: op_note(cx.func, bi),
        from: from(cx.func, bi),
        kind: StmtKind::Call {
            parts: parts.clone(),
            expr: quote_spanned!(b.op_span=> #backward(#(#args,)* #seed).into_inputs()),
        },
        text: format!("{parts} = the gradients from {shown}'s backward, given {g}"),
    }
}

/// How a gradient is passed on whole: into the branch's own value for an `if`'s value, into
/// the value a loop's step assigned to a carried variable, into a carried variable's initial
/// value after the loop.
pub struct Seed<'a> {
    /// The value whose gradient is passed on, and the value that receives it.
    pub from: usize,
    pub target: usize,
    pub start: Start,
    /// The gradient passed on may be moved.
    pub owned: bool,
    pub span: Span,
    /// For the derivation: why the gradient is passed on, and the forward step it stands for.
    pub note: &'a str,
    pub step: String,
}

/// `d_h = d_phi` (moved when `owned`), or `d_x += d_phi` when the target has a gradient already.
pub fn seed(cx: &Cx, s: &Seed) -> Stmt {
    let (g, t) = (
        cx.grads[s.from].clone().unwrap_or_else(|| cx.d_out.clone()),
        cx.grads[s.target]
            .clone()
            .unwrap_or_else(|| cx.d_out.clone()),
    );
    let g_ref = by_ref_grad(cx, s.from, &g);
    let kind = if s.start == Start::Add {
        add(t.clone(), false, g_ref)
    } else {
        let expr = if s.owned || cx.shapes[s.from] == Shape::Scalar {
            quote!(#g)
        } else {
            quote!(#g.clone())
        };
        StmtKind::Init {
            grad: t.clone(),
            shape: cx.shapes[s.target].clone(),
            mutable: false,
            declare: s.start == Start::New,
            expr,
        }
    };
    let sign = if s.start == Start::Add { "+=" } else { "=" };
    Stmt {
        span: s.span,
        origin: None,
        note: s.note.to_owned(),
        from: s.step.clone(),
        kind,
        text: format!("{t} {sign} {g}"),
    }
}

/// `let mut d_x = zeros;`: the gradient of a value from outside a region, declared before it,
/// since the region may or may not add to it. With `declare` false, `d_x = zeros;`: a gradient
/// a loop carries, started again. `note` says which, for the derivation.
pub fn zeros(
    cx: &Cx,
    value: usize,
    grad: &Ident,
    (span, note): (Span, &str),
    declare: bool,
) -> Stmt {
    let shape = cx.shapes[value].clone();
    Stmt {
        span,
        origin: None,
        note: note.to_owned(),
        from: String::new(),
        kind: StmtKind::Init {
            grad: grad.clone(),
            expr: zero(cx.func, &shape),
            shape,
            mutable: true,
            declare,
        },
        text: format!("{grad} = 0"),
    }
}

/// How the note of a gradient declared before a region starts: it is no contribution.
pub const DECLARED: &str = "declared before";

/// The zero of a shape, as the generated code writes it.
pub fn zero(func: &Func, shape: &Shape) -> TokenStream {
    match shape {
        Shape::Mat(..) => {
            let mat = &func.mat_path;
            quote!(#mat::zeros())
        }
        _ => {
            let elem = &func.scalar_ty;
            quote!(<#elem as ::gradgen::Scalar>::from_f64(0.0))
        }
    }
}

/// The element type, when it is one of the function's type parameters.
pub fn generic_elem(func: &Func) -> Option<TokenStream> {
    let ty = &func.scalar_ty;
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let name = p.path.get_ident()?.to_string();
    (name != "f64" && name != "f32").then(|| ty.to_token_stream())
}

fn val(func: &Func, shapes: &[Shape], op: &Operand, owned: bool) -> Val {
    Val {
        by_ref: by_ref(func, op, shapes),
        name: receiver(func, op),
        text: derivation_name(func, op),
        shape: match op {
            Operand::Value(v) => shapes[*v].clone(),
            Operand::Literal(_) | Operand::Const(_) => Shape::Scalar,
        },
        owned,
    }
}

/// An operand by reference: `&h` for an owned matrix, a `&Mat` parameter as it is, a scalar or
/// a literal by value.
pub fn by_ref(func: &Func, op: &Operand, shapes: &[Shape]) -> TokenStream {
    match op {
        Operand::Literal(lit) => quote!(#lit),
        Operand::Const(c) => c.tokens.clone(),
        Operand::Value(v) => {
            let name = &func.values[*v].name;
            let is_ref_param = match func.values[*v].kind {
                ValueKind::Param(p) => func.params[p].by_ref,
                ValueKind::Binding | ValueKind::Branch | ValueKind::Carried => false,
                // An element is a reference into its sequence.
                ValueKind::Elem => true,
            };
            if is_ref_param || shapes[*v] == Shape::Scalar {
                quote!(#name)
            } else {
                quote!(&#name)
            }
        }
    }
}

/// An operand as a method receiver, or by value: its name (auto-ref does the rest).
pub fn receiver(func: &Func, op: &Operand) -> TokenStream {
    match op {
        Operand::Literal(lit) => quote!(#lit),
        Operand::Const(c) => c.tokens.clone(),
        Operand::Value(v) => {
            let name = &func.values[*v].name;
            quote!(#name)
        }
    }
}

/// How the derivation names an operand.
pub fn derivation_name(func: &Func, op: &Operand) -> String {
    match op {
        Operand::Literal(lit) => lit.text(),
        Operand::Const(c) => c.text.clone(),
        Operand::Value(v) => func.values[*v].name.to_string(),
    }
}
