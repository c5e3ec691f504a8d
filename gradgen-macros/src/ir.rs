//! The model every stage after parsing reads: a function in A-normal form.
//!
//! Built by `parse`, never from raw syntax afterwards. Every node keeps the span of the user's
//! tokens it came from, so that any later stage can point an error at them.

use std::fmt;

use proc_macro2::{Ident, Span, TokenStream};

use crate::table::Op;

/// One dimension: a const-generic name of the function (`N`) or a literal (`1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Sym(String),
    Lit(usize),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Sym(s) => f.write_str(s),
            Dim::Lit(n) => write!(f, "{n}"),
        }
    }
}

/// What a value is, in the user's symbols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// An `R × C` matrix.
    Mat(Dim, Dim),
    /// A scalar of the element type.
    Scalar,
    /// `Labels<N, C>`: `N` class indices below `C`. Always a constant.
    Labels(Dim, Dim),
    /// A constant of another type (`train: bool`, `k: usize`), as the user wrote the type.
    Flag(String),
    /// A sequence of values of one shape (`xs: &[Mat<N, D>]`), which only a loop can walk.
    Seq(Box<Shape>),
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Mat(r, c) => write!(f, "[{r} × {c}]"),
            Shape::Scalar => f.write_str("a scalar"),
            Shape::Labels(n, c) => write!(f, "Labels<{n}, {c}>"),
            Shape::Flag(ty) => write!(f, "a constant `{ty}`"),
            Shape::Seq(item) => write!(f, "a sequence of {item}"),
        }
    }
}

/// The index of a value in [`Func::values`].
pub type ValueId = usize;

/// A named value: a parameter, a user's `let`, or an intermediate of a nested expression.
pub struct Value {
    /// Its name in the generated code (SSA: unique within the function).
    pub name: Ident,
    /// What the user wrote for it, for messages: the name, or the nested expression.
    pub text: String,
    pub kind: ValueKind,
}

pub enum ValueKind {
    /// The parameter at this index of [`Func::params`].
    Param(usize),
    /// The result of a binding.
    Binding,
    /// A value an `if` gives: its value as an expression, or a `let mut` it assigns.
    Branch,
    /// What a loop binds at each step: an element of a sequence it walks (`x` in
    /// `for x in xs`, borrowed from the sequence) or the step's index.
    Elem,
    /// A `let mut` variable a loop carries: inside the body, its value at the start of a
    /// step; after the loop, its final value. Both are the same variable of the generated code.
    Carried,
}

/// The structure of a body: its bindings in order, and the regions among them.
pub enum Node {
    /// The binding at this index of [`Func::bindings`].
    Bind(usize),
    If(IfNode),
    Loop(LoopNode),
}

/// `for … in … { … }` over sequences or a count, carrying `let mut` variables from step to step.
pub struct LoopNode {
    /// The `for` keyword, where errors about the loop point.
    pub span: Span,
    pub source: Source,
    /// The step's index, when the loop binds it (`for i in 0..K`, `for (t, x) in
    /// xs.iter().enumerate()`): a `usize` constant of each step.
    pub index: Option<ValueId>,
    pub carried: Vec<Carried>,
    pub body: Vec<Node>,
}

/// What a loop walks.
pub enum Source {
    /// Sequences walked together (`xs`, or `xs.iter().zip(ys)`), each with the value its element
    /// is bound to at each step (`None` for `_`). The loop stops at the shortest, as `zip` does.
    Seqs(Vec<(ValueId, Option<ValueId>)>),
    /// `start..end` with integer constants: the range and its length as the generated code
    /// writes them (`0..K`, `K`), and the range as the user wrote it.
    Count {
        range: TokenStream,
        len: TokenStream,
        text: String,
    },
}

/// A variable the loop carries: `init` before the loop, `phi` at the start of each step, `next`
/// at its end (what the body assigned last), `out` after the loop.
pub struct Carried {
    pub init: Operand,
    pub phi: ValueId,
    pub next: Operand,
    pub out: ValueId,
    /// The value the body last assigned to the variable, where a shape mistake is reported.
    pub assigned: TokenStream,
}

/// `if cond { … } else { … }` on a constant condition.
pub struct IfNode {
    /// The condition, its names those of the generated code.
    pub cond: TokenStream,
    /// The condition as the user wrote it, for the derivation and messages.
    pub cond_text: String,
    /// The values the condition reads: they must be constants.
    pub cond_values: Vec<ValueId>,
    /// The `if` keyword, where errors about the condition point.
    pub span: Span,
    /// The `then` and the `else` branch.
    pub branches: [Branch; 2],
    /// The values the `if` gives, in the order of each branch's `outs`.
    pub outs: Vec<ValueId>,
}

/// One branch of an `if`: its bindings, and the operand it gives for each of the `if`'s values.
pub struct Branch {
    pub body: Vec<Node>,
    pub outs: Vec<Operand>,
}

/// An argument of an operation.
#[derive(Clone)]
pub enum Operand {
    Value(ValueId),
    /// A numeric literal: a constant scalar.
    Literal(Literal),
    /// A constant scalar that the function does not compute: a dimension or an integer
    /// constant cast to the element type (`N as f64`), or an item of the enclosing scope (`EPS`).
    Const(Const),
}

/// A constant scalar, as the generated code writes it and as messages name it.
#[derive(Clone)]
pub struct Const {
    /// The expression, in parentheses unless it is a plain path (`(N as f64)`, `EPS`).
    pub tokens: TokenStream,
    /// How the user wrote it (`N as f64`).
    pub text: String,
}

/// A parameter of the user's function.
pub struct Param {
    pub name: Ident,
    pub kind: ParamKind,
    /// `&Mat<…>` rather than `Mat<…>`.
    pub by_ref: bool,
    /// Gets a gradient (matrices do by default; labels and scalars are constants).
    pub differentiable: bool,
    pub value: ValueId,
}

pub enum ParamKind {
    Mat(Dim, Dim),
    Labels(Dim, Dim),
    Scalar,
    /// A constant of another type (`bool`, `usize`, …), with its type as written.
    Flag(String),
    /// A sequence: `&[Mat<R, C>]` (its length known at run time) or `&[Mat<R, C>; T]`, of
    /// matrices or of labels.
    Seq {
        item: Box<ParamKind>,
        len: Option<Dim>,
    },
}

impl ParamKind {
    /// A matrix, or a sequence of matrices: what can be differentiated.
    pub fn is_matrix(&self) -> bool {
        match self {
            ParamKind::Mat(..) => true,
            ParamKind::Seq { item, .. } => item.is_matrix(),
            _ => false,
        }
    }
}

/// `out = op(args)`: one step of the forward computation.
pub struct Binding {
    pub out: ValueId,
    pub op: &'static Op,
    /// The receiver first, for a method.
    pub args: Vec<Operand>,
    /// The whole expression.
    pub span: Span,
    /// The method name or the operator.
    pub op_span: Span,
    /// Each argument's expression, for errors.
    pub arg_tokens: Vec<TokenStream>,
    /// For a call to another differentiable function: its path and the declared result shape.
    pub call: Option<(syn::Path, Shape)>,
}

/// `let h: Mat<N, C> = …`: a type the user declared, which the shape stage checks.
pub struct Declared {
    pub operand: Operand,
    pub shape: Shape,
    /// The type annotation, for errors.
    pub tokens: TokenStream,
}

/// A `#[differentiable]` function in A-normal form.
pub struct Func {
    pub item: syn::ItemFn,
    pub params: Vec<Param>,
    pub values: Vec<Value>,
    pub bindings: Vec<Binding>,
    /// The body's structure: the bindings in order, with the regions among them.
    pub body: Vec<Node>,
    pub declared: Vec<Declared>,
    /// The value the function returns; `None` when its expression could not be lowered.
    pub output: Option<(Operand, TokenStream)>,
    /// The path the user wrote for `Mat` (`Mat`, `gradgen::Mat`), reused by the generated code.
    pub mat_path: TokenStream,
    /// The element type when the user wrote one (`Mat<N, D, f32>`); `None` for the default f64.
    pub elem: Option<syn::Type>,
    /// The declared return type (`f64`, `Mat<N, H>`).
    pub ret_ty: syn::Type,
    /// What the function returns: a scalar, or a matrix of this shape.
    pub ret_shape: Shape,
    /// The element type (`f64` when the matrices do not name one).
    pub scalar_ty: syn::Type,
    pub names: crate::naming::Names,
    /// `#[differentiable(unfused)]`: never fused into passes.
    pub unfused: bool,
}

impl Func {
    /// The value an operand refers to, if it is not a literal.
    pub fn value_of(op: &Operand) -> Option<ValueId> {
        match op {
            Operand::Value(v) => Some(*v),
            Operand::Literal(_) | Operand::Const(_) => None,
        }
    }

    /// How an operand reads in a message: the user's name or expression.
    pub fn text(&self, op: &Operand) -> String {
        match op {
            Operand::Value(v) => self.values[*v].text.clone(),
            Operand::Literal(lit) => lit.text(),
            Operand::Const(c) => c.text.clone(),
        }
    }
}

/// A numeric literal, possibly negated (`2.0`, `-2`).
#[derive(Clone)]
pub struct Literal {
    pub lit: syn::Lit,
    pub negative: bool,
}

impl Literal {
    /// How it reads (`-2`).
    pub fn text(&self) -> String {
        let digits = match &self.lit {
            syn::Lit::Float(f) => f.to_string(),
            syn::Lit::Int(i) => i.to_string(),
            _ => "literal".to_owned(),
        };
        if self.negative {
            format!("-{digits}")
        } else {
            digits
        }
    }

    /// Its value, when it is an integer literal that fits.
    pub fn int(&self) -> Option<i64> {
        let syn::Lit::Int(i) = &self.lit else {
            return None;
        };
        let n: i64 = i.base10_parse().ok()?;
        Some(if self.negative { -n } else { n })
    }
}

impl quote::ToTokens for Literal {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let lit = &self.lit;
        if self.negative {
            tokens.extend(quote::quote!(-#lit));
        } else {
            lit.to_tokens(tokens);
        }
    }
}

/// Reads a type as the user wrote it, for messages: `&Mat<1, 3>` rather than `& Mat < 1 , 3 >`.
pub fn type_text(ty: &syn::Type) -> String {
    quote::ToTokens::to_token_stream(ty)
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace(" :: ", "::")
}

/// Which values vary with a differentiable input: the differentiable parameters, and every
/// value computed from such a value.
pub fn varied(func: &Func) -> Vec<bool> {
    let mut varied = vec![false; func.values.len()];
    for (v, value) in func.values.iter().enumerate() {
        if let ValueKind::Param(p) = value.kind {
            varied[v] = func.params[p].differentiable;
        }
    }
    vary_nodes(func, &func.body, &mut varied);
    varied
}

fn vary_nodes(func: &Func, nodes: &[Node], varied: &mut [bool]) {
    for node in nodes {
        match node {
            Node::Bind(bi) => {
                let b = &func.bindings[*bi];
                varied[b.out] = b.args.iter().filter_map(Func::value_of).any(|a| varied[a]);
            }
            Node::If(node) => {
                for branch in &node.branches {
                    vary_nodes(func, &branch.body, varied);
                }
                for (k, &out) in node.outs.iter().enumerate() {
                    varied[out] = node.branches.iter().any(|br| {
                        br.outs
                            .get(k)
                            .and_then(Func::value_of)
                            .is_some_and(|v| varied[v])
                    });
                }
            }
            Node::Loop(node) => vary_loop(func, node, varied),
        }
    }
}

/// A loop's element varies with its sequence; a carried variable varies when its initial value
/// does or when a step makes it vary (which may take one more pass over the body per variable).
fn vary_loop(func: &Func, node: &LoopNode, varied: &mut [bool]) {
    if let Source::Seqs(seqs) = &node.source {
        for &(seq, elem) in seqs {
            if let Some(e) = elem {
                varied[e] = varied[seq];
            }
        }
    }
    let operand = |op: &Operand, varied: &[bool]| Func::value_of(op).is_some_and(|v| varied[v]);
    for c in &node.carried {
        varied[c.phi] = operand(&c.init, varied);
    }
    loop {
        vary_nodes(func, &node.body, varied);
        let mut changed = false;
        for c in &node.carried {
            if !varied[c.phi] && operand(&c.next, varied) {
                varied[c.phi] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for c in &node.carried {
        varied[c.out] = varied[c.phi];
    }
}
