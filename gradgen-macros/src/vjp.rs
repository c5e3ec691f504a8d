//! Part of the rule table: the vocabulary a row declares its derivative in, and the code each
//! word becomes.
//!
//! Input: a row's [`Grad`], and a [`Ctx`] in which the reverse stage has already decided who
//! owns what: whether the incoming gradient may be moved, and which operands may be consumed.
//! Output: a [`Contribution`], the gradient of one operand as a fresh value, how it is added to
//! a gradient that exists already, and its line of the derivation.
//!
//! A row declares, per operand, one of:
//! - [`Grad::Map`]: an entrywise function `y = f(x)` with its derivative as a scalar formula
//!   over `x`, `y`, `g` and what it reads. The runtime's kernels (`f`, `into_f`,
//!   `f_backward`) are generated from the same formulas (`kernels.rs`).
//! - [`Grad::Entrywise`]: an entrywise op of several operands, with broadcasting (`+ - * /`,
//!   `add_row`, `mul_col`, …): per operand, its derivative as a formula that is `g` times a
//!   signed product of operands and the result. A broadcast operand (a scalar, a row, a column)
//!   receives the sum of that product over the entries it was repeated to.
//! - [`Grad::Reduce`]: a sum or mean over rows, columns or everything: `g` broadcast back.
//! - [`Grad::SumOfSquares`], [`Grad::OfOutput`]: fused reductions of squares, and ops whose
//!   runtime `_backward` is called on their result (the row-wise softmaxes).
//! - [`Grad::Dots`]: `Σ a ∘ b` over an axis or everything (`inner`, `row_dots`).
//! - [`Grad::Custom`]: the escape hatch, for what is not entrywise (the matrix products,
//!   `pick`, `cross_entropy`, …), with the values it reads declared as data.
//!
//! The entrywise and reduction words (all but `OfOutput`, `Custom` and `Call`) also have a
//! scalar reading, [`Grad::scalarwise`]: the same derivative one entry at a time, from which
//! `fuse.rs` writes fused passes.
//!
//! Guarantees: an emitter never decides ownership; it reads `owned` flags set by the reverse
//! stage, and moves a value only where the flag says so. Runtime method names are derived from
//! the op's name (`{op}_backward`, `into_{op}_backward`, `add_{op}_backward`), never spelt per
//! row.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::formula::{Formula, Product, Rust, Text};
use crate::ir::{Dim, Shape};

/// How a row's derivative is written.
pub enum Grad {
    Map(Map),
    Map2(Map2),
    Entrywise(Entrywise),
    Reduce {
        axis: Axis,
        mean: bool,
    },
    SumOfSquares {
        axis: Axis,
        mean: bool,
    },
    /// `Σ_axis a ∘ b` (`inner`, `row_dots`): `d_a = g ∘ b` and `d_b = g ∘ a`, `g` repeated over
    /// the axis.
    Dots {
        axis: Axis,
    },
    /// `out.{op}_backward(g)`: a derivative that reads the result, written in the runtime.
    OfOutput {
        text: &'static str,
    },
    Custom(Custom),
    /// A call to another differentiable function: the reverse stage calls its backward once,
    /// and each operand takes its gradient from the tuple that returns (`cx.g`).
    Call,
}

/// An entrywise function of one operand `x`: `y = forward`, `d_x = derivative`.
pub struct Map {
    /// Constant parameters after the receiver (`powi`'s `n`), in order.
    pub params: &'static [(&'static str, Param)],
    /// The scalar forward, over `x` and the parameters.
    pub forward: &'static str,
    /// The scalar derivative, over `g` and what `reads` names.
    pub derivative: &'static str,
    pub reads: Reads,
    /// What it computes, for the runtime's documentation: "The hyperbolic tangent".
    pub doc: &'static str,
    /// Lines of a doctest of the runtime method (`use gradgen::Mat;` comes first).
    pub example: &'static str,
}

/// An entrywise function of two matrices of the same shape, `y = f(a, b)`, whose derivatives
/// are not products (`maximum`): the runtime's `{op}`, `into_{op}`, `{op}_backward_a` and
/// `{op}_backward_b` are generated from the row, and read both operands.
pub struct Map2 {
    /// The scalar forward, over `a` and `b`.
    pub forward: &'static str,
    /// Per operand, the scalar derivative over `a`, `b` and `g`.
    pub derivatives: [&'static str; 2],
    /// What it computes, for the runtime's documentation.
    pub doc: &'static str,
    /// Lines of a doctest of the runtime method.
    pub example: &'static str,
}

/// The type of a constant parameter.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `i32`.
    Int,
    /// The element type.
    Elem,
}

/// What a derivative reads besides the incoming gradient, like dfdx's `DF_USES_FX`: the input,
/// or the output (which the backward keeps from the forward pass instead of recomputing it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reads {
    Input,
    Output,
}

/// An entrywise op of operands `a`, `b`.
pub struct Entrywise {
    /// The scalar forward, over `a` and `b` (a broadcast operand's entry repeated).
    pub forward: &'static str,
    /// Per operand, its derivative: `g` times a signed product of `a`, `b` and `y`.
    pub derivatives: &'static [&'static str],
    /// Which operand may be repeated over the entries, for the README.
    #[cfg_attr(not(test), allow(dead_code))]
    pub repeated: Repeated,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Repeated {
    /// Either operand may be a scalar (the arithmetic operators).
    Scalar,
    /// Operand 1 is a `[1 × C]` row.
    Row,
    /// Operand 1 is an `[R × 1]` column.
    Col,
}

/// The axis a reduction sums over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Over the columns: `[R × C]` → `[R × 1]`.
    Cols,
    /// Over the rows: `[R × C]` → `[1 × C]`.
    Rows,
    /// Over every entry: a scalar.
    All,
}

/// The escape hatch: what the contribution to each operand reads, and how it is written.
pub struct Custom {
    /// What the contribution to operand `i` uses, the incoming gradient included.
    pub uses: fn(usize) -> &'static [Use],
    /// The operands that must be constants (`huber`'s `delta`): no gradient flows into them.
    pub constants: &'static [usize],
    pub vjp: fn(&Ctx, usize) -> Contribution,
    /// The README's gradient column.
    #[cfg_attr(not(test), allow(dead_code))]
    pub readme: &'static str,
}

/// A value a contribution uses, and whether it may consume it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Use {
    pub what: Slot,
    pub mode: Mode,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Slot {
    /// Operand `i` (the receiver is 0).
    Arg(usize),
    /// The op's result.
    Out,
    /// The incoming gradient.
    Grad,
    /// Any matrix of the contribution's shape that nothing reads any more: a contribution
    /// that would allocate its result (a product) may write it there instead. The schedule
    /// picks one, or none; the emitter finds it in [`Ctx::spare`].
    Spare,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Read by reference.
    Borrow,
    /// Read, and consumed (its buffer reused) when this is its last use.
    Take,
    /// Not read: its buffer may hold the contribution when nothing reads it afterwards.
    Donor,
}

pub const fn borrow(what: Slot) -> Use {
    Use {
        what,
        mode: Mode::Borrow,
    }
}

pub const fn take(what: Slot) -> Use {
    Use {
        what,
        mode: Mode::Take,
    }
}

pub const fn donor(what: Slot) -> Use {
    Use {
        what,
        mode: Mode::Donor,
    }
}

/// A value as the emitters see it.
#[derive(Clone)]
pub struct Val {
    /// By reference: `&h`, a `&Mat` parameter as it is, a scalar by value.
    pub by_ref: TokenStream,
    /// As a method receiver, or by value: `h`.
    pub name: TokenStream,
    /// As the derivation names it.
    pub text: String,
    pub shape: Shape,
    /// The reverse stage gave this use ownership: it may be moved.
    pub owned: bool,
}

/// Everything an emitter needs, ownership decided.
pub struct Ctx<'a> {
    /// The op's name, from which runtime method names are derived.
    pub op: &'static str,
    pub args: &'a [Val],
    pub out: Val,
    /// The incoming gradient.
    pub g: Val,
    /// The user's path to `Mat`.
    pub mat: &'a TokenStream,
    /// The element type (`f64`, `T`).
    pub elem: TokenStream,
    /// The element type is a type parameter.
    pub generic: bool,
    /// A dead matrix of the contribution's shape that the schedule gave it, for a rule whose
    /// uses ask for [`Slot::Spare`]: its buffer holds the contribution.
    pub spare: Option<TokenStream>,
}

/// The gradient contribution to one operand.
pub struct Contribution {
    /// The contribution as a new value, when it starts the operand's gradient.
    pub fresh: TokenStream,
    /// How it is added to a gradient that exists already.
    pub add: Add,
    /// The contribution as the derivation shows it, after `d_a = ` or `d_a += `.
    pub text: String,
}

pub enum Add {
    /// `d += fresh`.
    Plus,
    /// `d += expr`: the same contribution in another form (`&g` rather than a copy of it).
    PlusWith(TokenStream),
    /// `d -= expr`: a negated contribution, subtracted.
    Minus(TokenStream),
    /// `d.method(args)`: added in place, without building the contribution.
    InPlace(Ident, TokenStream),
}

/// What a row computes entry by entry, for the fused passes (`fuse.rs`): the same derivative
/// as the word's matrix code, read one entry at a time.
pub struct Scalarwise {
    /// The names the formulas give the operands, in order: `x` and a map's parameters, or `a`,
    /// `b`.
    pub operands: Vec<&'static str>,
    /// Which operands are integers (`powi`'s `n`).
    pub ints: Vec<&'static str>,
    /// The result's entry, over the operands; for a reduction, the entry it sums.
    pub forward: Formula,
    /// Per operand, its contribution entry by entry, over the operands, the result `y`, the
    /// incoming gradient `g` and, for a mean, the number of entries averaged, `count`; `None`
    /// for a constant parameter.
    pub derivatives: Vec<Option<Formula>>,
    /// For a reduction: the axis it sums over (`g` is repeated over it), and whether it divides
    /// by `count`.
    pub reduce: Option<(Axis, bool)>,
}

impl Grad {
    /// The row's scalar reading; `None` for what is not entrywise (products, softmaxes,
    /// `pick`, calls) or a formula that does not parse (the table's tests parse every one).
    pub fn scalarwise(&self) -> Option<Scalarwise> {
        let two = ["a", "b"];
        match self {
            Grad::Map(m) => {
                let mut derivatives = vec![Some(m.derivative)];
                derivatives.extend(m.params.iter().map(|_| None));
                let operands = std::iter::once("x").chain(m.params.iter().map(|p| p.0));
                let ints = m.params.iter().filter(|p| p.1 == Param::Int).map(|p| p.0);
                let (operands, ints): (Vec<_>, Vec<_>) = (operands.collect(), ints.collect());
                reading(&operands, &ints, m.forward, &derivatives, None)
            }
            Grad::Map2(m) => {
                let derivatives = m.derivatives.map(Some);
                reading(&two, &[], m.forward, &derivatives, None)
            }
            Grad::Entrywise(e) => {
                let derivatives: Vec<_> = e.derivatives.iter().copied().map(Some).collect();
                reading(
                    &two[..e.derivatives.len()],
                    &[],
                    e.forward,
                    &derivatives,
                    None,
                )
            }
            Grad::Reduce { axis, mean } => {
                let d = if *mean { "g / count" } else { "g" };
                reading(&["a"], &[], "a", &[Some(d)], Some((*axis, *mean)))
            }
            Grad::SumOfSquares { axis, mean } => {
                let d = if *mean {
                    "2 * g * a / count"
                } else {
                    "2 * g * a"
                };
                reading(&["a"], &[], "a * a", &[Some(d)], Some((*axis, *mean)))
            }
            Grad::Dots { axis } => {
                let d = [Some("g * b"), Some("g * a")];
                reading(&two, &[], "a * b", &d, Some((*axis, false)))
            }
            Grad::OfOutput { .. } | Grad::Custom(_) | Grad::Call => None,
        }
    }
}

/// A scalar reading from its formulas' sources; `None` when one does not parse.
fn reading(
    operands: &[&'static str],
    ints: &[&'static str],
    forward: &str,
    derivatives: &[Option<&str>],
    reduce: Option<(Axis, bool)>,
) -> Option<Scalarwise> {
    let derivatives = derivatives
        .iter()
        .map(|d| match d {
            Some(d) => Formula::parse(d).ok().map(Some),
            None => Some(None),
        })
        .collect::<Option<_>>()?;
    Some(Scalarwise {
        operands: operands.to_vec(),
        ints: ints.to_vec(),
        forward: Formula::parse(forward).ok()?,
        derivatives,
        reduce,
    })
}

impl Grad {
    /// The operands that must be constants: a map's parameters, a custom row's `constants`.
    pub fn constant_args(&self) -> Vec<usize> {
        match self {
            Grad::Map(m) => (1..=m.params.len()).collect(),
            Grad::Custom(c) => c.constants.to_vec(),
            _ => Vec::new(),
        }
    }

    /// What the contribution to operand `i` uses. `g_full`: the incoming gradient has the
    /// operand's shape (it could hold the contribution).
    pub fn uses(&self, i: usize, arity: usize, g_full: bool) -> Vec<Use> {
        match self {
            Grad::Map(m) => {
                let read = match m.reads {
                    Reads::Input => borrow(Slot::Arg(0)),
                    Reads::Output => borrow(Slot::Out),
                };
                vec![read, take(Slot::Grad)]
            }
            Grad::Map2(_) => vec![borrow(Slot::Arg(0)), borrow(Slot::Arg(1)), take(Slot::Grad)],
            Grad::Entrywise(e) => entrywise_uses(e, i, arity, g_full),
            Grad::Reduce { .. } => vec![borrow(Slot::Grad)],
            Grad::SumOfSquares { .. } => vec![take(Slot::Arg(0)), borrow(Slot::Grad)],
            Grad::OfOutput { .. } => vec![borrow(Slot::Out), take(Slot::Grad)],
            Grad::Dots { axis: Axis::Cols } => product_uses(i).to_vec(),
            Grad::Dots { .. } => inner_uses(i).to_vec(),
            Grad::Custom(c) => (c.uses)(i).to_vec(),
            Grad::Call => Vec::new(),
        }
    }

    /// The contribution to operand `i`.
    pub fn vjp(&self, cx: &Ctx, i: usize) -> Contribution {
        match self {
            Grad::Map(m) => map(m, cx),
            Grad::Map2(m) => map2(m, cx, i),
            Grad::Entrywise(e) => entrywise(e, cx, i),
            Grad::Reduce { axis, mean } => reduce(*axis, *mean, cx),
            Grad::SumOfSquares { axis, mean } => squares(*axis, *mean, cx),
            Grad::OfOutput { text } => of_output(text, cx),
            Grad::Dots { axis: Axis::Cols } => row_dots(cx, i),
            Grad::Dots { .. } => inner(cx, i),
            Grad::Custom(c) => (c.vjp)(cx, i),
            Grad::Call => {
                let (parts, index) = (&cx.g.name, syn::Index::from(i));
                plus(
                    quote!(#parts.#index),
                    format!("from the callee's backward, argument {}", i + 1),
                )
            }
        }
    }
}

/// Operand `a`, `b`, the result `y` or the gradient `g`, by the name a formula uses.
pub fn slot_of(var: &str) -> Option<Slot> {
    match var {
        "x" | "a" => Some(Slot::Arg(0)),
        "b" => Some(Slot::Arg(1)),
        "y" => Some(Slot::Out),
        "g" => Some(Slot::Grad),
        _ => None,
    }
}

fn entrywise_uses(e: &Entrywise, i: usize, arity: usize, g_full: bool) -> Vec<Use> {
    let g = if g_full {
        take(Slot::Grad)
    } else {
        borrow(Slot::Grad)
    };
    let mut uses = vec![g];
    let vars = e
        .derivatives
        .get(i)
        .and_then(|d| Formula::parse(d).ok())
        .map(|f| f.vars())
        .unwrap_or_default();
    for slot in vars.iter().filter_map(|v| slot_of(v)) {
        let read = matches!(slot, Slot::Out) || matches!(slot, Slot::Arg(k) if k < arity);
        if read && slot != Slot::Grad && !uses.contains(&borrow(slot)) {
            uses.push(borrow(slot));
        }
    }
    uses
}

// ---- entrywise maps ----

/// The name of a formula variable in a contribution: an operand, the result, the gradient.
fn val<'a>(cx: &'a Ctx, var: &str) -> Option<&'a Val> {
    match slot_of(var)? {
        Slot::Arg(i) => cx.args.get(i),
        Slot::Out => Some(&cx.out),
        Slot::Grad => Some(&cx.g),
        Slot::Spare => None,
    }
}

/// A formula variable's value: an operand, the result, the gradient, or a map's parameter
/// (`n`), which is the operand after the receiver at its position.
fn lookup<'a>(cx: &'a Ctx, params: &[(&str, Param)], var: &str) -> Option<&'a Val> {
    val(cx, var).or_else(|| {
        let k = params.iter().position(|(n, _)| *n == var)?;
        cx.args.get(1 + k)
    })
}

/// The formula's text with the contribution's names.
pub fn formula_text(f: &Formula, cx: &Ctx, params: &[(&str, Param)]) -> String {
    f.text(&Text {
        name: &|v: &str| lookup(cx, params, v).map_or_else(|| v.to_owned(), |x| x.text.clone()),
        matrix: &|v: &str| val(cx, v).is_some_and(|x| matches!(x.shape, Shape::Mat(..))),
    })
}

/// The formula as scalar code, each variable by value.
pub fn formula_code(f: &Formula, cx: &Ctx, params: &[(&str, Param)]) -> TokenStream {
    let ints: Vec<&str> = params
        .iter()
        .filter(|(_, p)| *p == Param::Int)
        .map(|(n, _)| *n)
        .collect();
    f.rust(&Rust {
        var: &|v: &str| {
            lookup(cx, params, v)
                .map(|x| x.name.clone())
                .unwrap_or_default()
        },
        ints: &ints,
        elem: cx.elem.clone(),
        generic: cx.generic,
        math: false,
    })
}

fn parsed(source: &str) -> Formula {
    // The table's formulas are checked by its tests; an unparsable one reads as `g`.
    Formula::parse(source).unwrap_or_else(|_| Formula::Var("g".to_owned()))
}

fn map(m: &Map, cx: &Ctx) -> Contribution {
    let f = parsed(m.derivative);
    let mut text = formula_text(&f, cx, m.params);
    if m.reads == Reads::Output {
        text.push_str(&format!("   (reuses {})", cx.op));
    }
    if !matches!(cx.g.shape, Shape::Mat(..)) {
        let code = formula_code(&f, cx, m.params);
        return Contribution {
            fresh: code,
            add: Add::Plus,
            text,
        };
    }
    // A product of the gradient and matrices (`g * y`, `g / x`) reads best as operators.
    if let Some(p) = f.product().filter(|p| m.params.is_empty() && !p.negate) {
        return full_product(&p, cx, text);
    }
    let method = ident(&format!("{}_backward", cx.op));
    let params: Vec<&TokenStream> = cx.args[1..].iter().map(|a| &a.name).collect();
    let g = owned_or_clone(&cx.g);
    let fresh = match m.reads {
        Reads::Input => {
            let x = &cx.args[0].name;
            quote!(#x.#method(#(#params,)* #g))
        }
        Reads::Output => {
            let y = &cx.out.name;
            quote!(#y.#method(#(#params,)* #g))
        }
    };
    Contribution {
        fresh,
        add: Add::Plus,
        text,
    }
}

/// The gradient by value: moved when the reverse stage allows it, copied otherwise.
fn owned_or_clone(g: &Val) -> TokenStream {
    let name = &g.name;
    if g.owned {
        quote!(#name)
    } else {
        quote!(#name.clone())
    }
}

/// `a.{op}_backward_a(&b, g)`: the generated kernel of the operand's derivative.
fn map2(m: &Map2, cx: &Ctx, i: usize) -> Contribution {
    let f = parsed(m.derivatives[i]);
    let method = ident(&format!("{}_backward_{}", cx.op, ["a", "b"][i]));
    let (a, b) = (&cx.args[0].name, &cx.args[1].by_ref);
    let g = owned_or_clone(&cx.g);
    Contribution {
        fresh: quote!(#a.#method(#b, #g)),
        add: Add::Plus,
        text: formula_text(&f, cx, &[]),
    }
}

fn of_output(text: &str, cx: &Ctx) -> Contribution {
    let method = ident(&format!("{}_backward", cx.op));
    let (y, g) = (&cx.out.name, owned_or_clone(&cx.g));
    let text = text
        .replace("{g}", &cx.g.text)
        .replace("{out}", &cx.out.text);
    Contribution {
        fresh: quote!(#y.#method(#g)),
        add: Add::Plus,
        text: format!("{text}   (reuses {})", cx.op),
    }
}

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

// ---- entrywise ops with broadcasting ----

/// How an operand is laid over the result's entries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Full,
    Row,
    Col,
    Scalar,
}

fn kind(shape: &Shape, out: &Shape) -> Kind {
    match (shape, out) {
        (Shape::Mat(..), _) if shape == out => Kind::Full,
        (Shape::Mat(r, _), Shape::Mat(..)) if *r == Dim::Lit(1) => Kind::Row,
        (Shape::Mat(..), Shape::Mat(..)) => Kind::Col,
        _ => Kind::Scalar,
    }
}

fn entrywise(e: &Entrywise, cx: &Ctx, i: usize) -> Contribution {
    let f = parsed(e.derivatives.get(i).copied().unwrap_or("g"));
    let target = kind(&cx.args[i].shape, &cx.out.shape);
    let scalar_only = !matches!(cx.out.shape, Shape::Mat(..));
    let text = formula_text(&f, cx, &[]);
    match (f.product(), scalar_only) {
        (_, true) | (None, _) => Contribution {
            fresh: formula_code(&f, cx, &[]),
            add: Add::Plus,
            text,
        },
        (Some(p), false) if target == Kind::Full => full_product(&p, cx, text),
        (Some(p), false) => reduced_product(&p, cx, target),
    }
}

/// A matrix expression being built, and whether it owns its buffer (`&g` does not).
struct Built {
    code: TokenStream,
    owned: bool,
    /// A bare name or `&name`, which needs no parentheses as a receiver.
    atom: bool,
}

impl Built {
    fn start(g: &Val) -> Built {
        Built {
            code: if g.owned {
                g.name.clone()
            } else {
                g.by_ref.clone()
            },
            owned: g.owned,
            atom: true,
        }
    }

    fn receiver(&self) -> TokenStream {
        let code = &self.code;
        match (self.atom, self.owned) {
            // `&g` as a receiver is `g` (auto-ref).
            (true, false) => strip_ref(code),
            (true, true) => code.clone(),
            (false, _) => quote!((#code)),
        }
    }

    /// `self ∘ f` or `self / f`, for a factor laid over the entries as `k`.
    fn apply(self, f: &Val, k: Kind, divide: bool) -> Built {
        let code = &self.code;
        let f_ref = &f.by_ref;
        let code = match k {
            Kind::Full | Kind::Scalar if divide => quote!(#code / #f_ref),
            Kind::Full | Kind::Scalar => quote!(#code * #f_ref),
            Kind::Row | Kind::Col => {
                let verb = match (k, divide) {
                    (Kind::Row, false) => "mul_row",
                    (Kind::Row, true) => "div_row",
                    (_, false) => "mul_col",
                    (_, true) => "div_col",
                };
                let method = ident(&if self.owned {
                    format!("into_{verb}")
                } else {
                    verb.to_owned()
                });
                let recv = self.receiver();
                let built = quote!(#recv.#method(#f_ref));
                return Built {
                    code: built,
                    owned: true,
                    atom: true,
                };
            }
        };
        Built {
            code,
            owned: true,
            atom: false,
        }
    }
}

fn strip_ref(code: &TokenStream) -> TokenStream {
    let mut tokens = code.clone().into_iter().peekable();
    if matches!(tokens.peek(), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '&') {
        tokens.next();
    }
    tokens.collect()
}

/// The factors of a product with their operands, in order: numerator, then denominator.
fn factors<'a>(p: &'a Product, cx: &'a Ctx) -> Vec<(&'a Val, bool)> {
    let num = p.num.iter().map(|v| (v, false));
    let den = p.den.iter().map(|v| (v, true));
    num.chain(den)
        .filter_map(|(v, d)| val(cx, v).map(|x| (x, d)))
        .collect()
}

/// `±g ∘ Π f / Π h` into a gradient of the result's shape: in `g`'s buffer when it is owned.
fn full_product(p: &Product, cx: &Ctx, text: String) -> Contribution {
    let mut built = Built::start(&cx.g);
    for (f, divide) in factors(p, cx) {
        built = built.apply(f, kind(&f.shape, &cx.out.shape), divide);
    }
    let code = built.code;
    let (fresh, add) = match (p.negate, built.owned) {
        // No factor: the gradient itself, moved, or copied while it is still needed.
        (false, false) => {
            let name = &cx.g.name;
            (quote!(#name.clone()), Add::PlusWith(code))
        }
        (false, true) if p.num.is_empty() && p.den.is_empty() => {
            (code, Add::PlusWith(cx.g.by_ref.clone()))
        }
        (false, true) => (code, Add::Plus),
        (true, _) if built.atom => (quote!(-#code), Add::Minus(code)),
        (true, _) => (quote!(-(#code)), Add::Minus(code)),
    };
    Contribution { fresh, add, text }
}

/// `±Σ (g ∘ Π f / Π h)` over the entries a broadcast operand was repeated to.
fn reduced_product(p: &Product, cx: &Ctx, target: Kind) -> Contribution {
    let (full, invariant): (Vec<_>, Vec<_>) = factors(p, cx)
        .into_iter()
        .partition(|(f, _)| kind(&f.shape, &cx.out.shape) == Kind::Full);
    let (sum, dots, sum_text) = match target {
        Kind::Row => (quote!(col_sums), quote!(col_dots), "Σ_rows"),
        Kind::Col => (quote!(row_sums), quote!(row_dots), "Σ_cols"),
        _ => (quote!(sum), quote!(inner), "Σ"),
    };
    let g = &cx.g.name;
    let mut code = match full.as_slice() {
        [] => quote!(#g.#sum()),
        [(f, false)] => {
            let f = &f.by_ref;
            quote!(#g.#dots(#f))
        }
        _ => {
            let mut built = Built::start(&cx.g);
            for (f, divide) in &full {
                built = built.apply(f, Kind::Full, *divide);
            }
            let recv = built.receiver();
            quote!(#recv.#sum())
        }
    };
    for (f, divide) in &invariant {
        let f = &f.by_ref;
        code = if *divide {
            quote!(#code / #f)
        } else {
            quote!(#code * #f)
        };
    }
    let text = reduced_text(p, cx, &full, &invariant, sum_text);
    if p.negate {
        let fresh = if invariant.is_empty() {
            quote!(-#code)
        } else {
            quote!(-(#code))
        };
        return Contribution {
            fresh,
            add: Add::Minus(code),
            text,
        };
    }
    let plain = full.is_empty() && invariant.is_empty();
    Contribution {
        fresh: code,
        add: sum_in_place(cx, target, plain),
        text,
    }
}

/// A plain sum of the gradient over a row's or a column's repeats is added in place, without a
/// temporary row or column (`d_b.add_col_sums(&g)`).
fn sum_in_place(cx: &Ctx, target: Kind, plain: bool) -> Add {
    let method = match target {
        Kind::Row => "add_col_sums",
        Kind::Col => "add_row_sums",
        _ => return Add::Plus,
    };
    if plain {
        Add::InPlace(ident(method), cx.g.by_ref.clone())
    } else {
        Add::Plus
    }
}

/// `−Σ_rows (g ∘ out) / b   (broadcast → sum)`: the sum over the repeated entries, with the
/// factors that do not vary along it taken out.
fn reduced_text(
    p: &Product,
    cx: &Ctx,
    full: &[(&Val, bool)],
    invariant: &[(&Val, bool)],
    sum_text: &str,
) -> String {
    let mut summed = cx.g.text.clone();
    for (f, divide) in full {
        summed.push_str(if *divide { " / " } else { " ∘ " });
        summed.push_str(&f.text);
    }
    if !full.is_empty() {
        summed = format!("({summed})");
    }
    let mut text = format!("{}{sum_text} {summed}", if p.negate { "−" } else { "" });
    for (f, divide) in invariant {
        let scalar = !matches!(f.shape, Shape::Mat(..));
        text.push_str(match (divide, scalar) {
            (true, _) => " / ",
            (false, true) => " · ",
            (false, false) => " ∘ ",
        });
        text.push_str(&f.text);
    }
    format!("{text}   (broadcast → sum)")
}

// ---- reductions ----

fn dim_of(shape: &Shape, which: usize) -> TokenStream {
    match shape {
        Shape::Mat(r, c) => crate::naming::dim_tokens(if which == 0 { r } else { c }),
        _ => quote!(_),
    }
}

fn dim_text(shape: &Shape, which: usize) -> String {
    match shape {
        Shape::Mat(r, c) => (if which == 0 { r } else { c }).to_string(),
        _ => String::new(),
    }
}

/// The gradient of a reduction: `g` repeated over what was reduced, divided by the count for a
/// mean; added in place to an existing gradient.
fn reduce(axis: Axis, mean: bool, cx: &Ctx) -> Contribution {
    let (g, g_ref, a) = (&cx.g.name, &cx.g.by_ref, &cx.args[0].shape);
    let (r, c) = (dim_of(a, 0), dim_of(a, 1));
    let (rt, ct) = (dim_text(a, 0), dim_text(a, 1));
    let gt = &cx.g.text;
    let (fresh, add, text) = match (axis, mean) {
        (Axis::Cols, false) => (
            quote!(#g.broadcast_cols::<#c>()),
            ("add_col_assign", quote!(#g_ref)),
            format!("{gt} repeated over the columns   (sum → broadcast)"),
        ),
        (Axis::Cols, true) => (
            quote!(#g.spread_cols::<#c>()),
            ("add_spread_cols", quote!(#g_ref)),
            format!("{gt} / {ct} repeated over the columns"),
        ),
        (Axis::Rows, false) => (
            quote!(#g.broadcast_rows::<#r>()),
            ("add_row_assign", quote!(#g_ref)),
            format!("{gt} repeated over the rows   (sum → broadcast)"),
        ),
        (Axis::Rows, true) => (
            quote!(#g.spread_rows::<#r>()),
            ("add_spread_rows", quote!(#g_ref)),
            format!("{gt} / {rt} repeated over the rows"),
        ),
        (Axis::All, false) => {
            let mat = cx.mat;
            return Contribution {
                fresh: quote!(#mat::full(#g)),
                add: Add::PlusWith(quote!(#g)),
                text: format!("{gt} in every entry"),
            };
        }
        (Axis::All, true) => {
            let mat = cx.mat;
            return Contribution {
                fresh: quote!(#mat::mean_backward(#g)),
                add: Add::InPlace(ident("add_mean_backward"), quote!(#g)),
                text: format!("{gt} / ({rt}·{ct}) in every entry"),
            };
        }
    };
    Contribution {
        fresh,
        add: Add::InPlace(ident(add.0), add.1),
        text,
    }
}

/// A fused reduction of squares (`col_mean_squares`): its runtime `{op}_backward` computes
/// `2·k·g ∘ a` in a new buffer, `into_{op}_backward` in the operand's own (when it is dead),
/// `add_{op}_backward` into an existing gradient.
fn squares(axis: Axis, mean: bool, cx: &Ctx) -> Contribution {
    let a = &cx.args[0];
    let (recv, a_ref, g) = (&a.name, &a.by_ref, &cx.g.by_ref);
    let op = cx.op;
    let method = if a.owned {
        ident(&format!("into_{op}_backward"))
    } else {
        ident(&format!("{op}_backward"))
    };
    let (gt, at) = (&cx.g.text, &a.text);
    let (rt, ct) = (dim_text(&a.shape, 0), dim_text(&a.shape, 1));
    let text = match (axis, mean) {
        (Axis::All, false) => format!("2·{gt} · {at}"),
        (Axis::All, true) => format!("2·{gt} / ({rt}·{ct}) · {at}"),
        (Axis::Cols, false) => format!("2·{gt} ∘ {at}   ({gt} repeated over the columns)"),
        (Axis::Cols, true) => format!("2·{gt} / {ct} ∘ {at}   ({gt} repeated over the columns)"),
        (Axis::Rows, false) => format!("2·{gt} ∘ {at}   ({gt} repeated over the rows)"),
        (Axis::Rows, true) => format!("2·{gt} / {rt} ∘ {at}   ({gt} repeated over the rows)"),
    };
    Contribution {
        fresh: quote!(#recv.#method(#g)),
        add: Add::InPlace(ident(&format!("add_{op}_backward")), quote!(#a_ref, #g)),
        text,
    }
}

// ---- the escape hatch ----

/// `[A × B]·[B × C]`: the shapes of a product's factors, for the derivation.
fn factor_shapes(left: (&Shape, bool), right: (&Shape, bool)) -> String {
    let show = |(shape, transposed): (&Shape, bool)| match (shape, transposed) {
        (Shape::Mat(r, c), false) => format!("[{r} × {c}]"),
        (Shape::Mat(r, c), true) => format!("[{c} × {r}]"),
        (other, _) => other.to_string(),
    };
    format!("{}·{}", show(left), show(right))
}

const G_AND_B: &[Use] = &[borrow(Slot::Grad), borrow(Slot::Arg(1))];
const G_AND_A: &[Use] = &[borrow(Slot::Grad), borrow(Slot::Arg(0))];
const MATMUL_0: &[Use] = &[borrow(Slot::Grad), borrow(Slot::Arg(1)), donor(Slot::Spare)];
const MATMUL_1: &[Use] = &[borrow(Slot::Grad), borrow(Slot::Arg(0)), donor(Slot::Spare)];

/// What each operand's contribution to a matrix product reads: the gradient and the other
/// factor. The product may be written over a spare buffer.
pub fn matmul_uses(i: usize) -> &'static [Use] {
    if i == 0 {
        MATMUL_0
    } else {
        MATMUL_1
    }
}

/// What each operand's contribution to a product reads: the gradient and the other factor.
pub fn product_uses(i: usize) -> &'static [Use] {
    if i == 0 {
        G_AND_B
    } else {
        G_AND_A
    }
}

/// `a · b`: `d_a = g · bᵀ`, `d_b = aᵀ · g`.
pub fn matmul(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt) = (&cx.g, &cx.g.text);
    let (a, b) = (&cx.args[0], &cx.args[1]);
    if i == 0 {
        let f = factor_shapes((&cx.out.shape, false), (&b.shape, true));
        product(cx, "matmul_t", (g, b), format!("{gt} · {}ᵀ   {f}", b.text))
    } else {
        let f = factor_shapes((&a.shape, true), (&cx.out.shape, false));
        product(cx, "t_matmul", (a, g), format!("{}ᵀ · {gt}   {f}", a.text))
    }
}

/// `a · bᵀ`: `d_a = g · b`, `d_b = gᵀ · a`.
pub fn matmul_t(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt) = (&cx.g, &cx.g.text);
    let (a, b) = (&cx.args[0], &cx.args[1]);
    if i == 0 {
        let f = factor_shapes((&cx.out.shape, false), (&b.shape, false));
        product(cx, "matmul", (g, b), format!("{gt} · {}   {f}", b.text))
    } else {
        let f = factor_shapes((&cx.out.shape, true), (&a.shape, false));
        product(cx, "t_matmul", (g, a), format!("{gt}ᵀ · {}   {f}", a.text))
    }
}

/// `aᵀ · b`: `d_a = b · gᵀ`, `d_b = a · g`.
pub fn t_matmul(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt) = (&cx.g, &cx.g.text);
    let (a, b) = (&cx.args[0], &cx.args[1]);
    if i == 0 {
        let f = factor_shapes((&b.shape, false), (&cx.out.shape, true));
        product(cx, "matmul_t", (b, g), format!("{} · {gt}ᵀ   {f}", b.text))
    } else {
        let f = factor_shapes((&a.shape, false), (&cx.out.shape, false));
        product(cx, "matmul", (a, g), format!("{} · {gt}   {f}", a.text))
    }
}

const ADD_MATMUL_A: &[Use] = &[borrow(Slot::Grad), borrow(Slot::Arg(2)), donor(Slot::Spare)];
const ADD_MATMUL_B: &[Use] = &[borrow(Slot::Grad), borrow(Slot::Arg(1)), donor(Slot::Spare)];

/// What each operand's contribution to `c + a · b` reads: `c` takes the gradient as it is.
pub fn add_matmul_uses(i: usize) -> &'static [Use] {
    match i {
        0 => TAKES_G,
        1 => ADD_MATMUL_A,
        _ => ADD_MATMUL_B,
    }
}

/// `c + a · b`: `d_c = g` (the gradient's own buffer when it may be moved), `d_a = g · bᵀ`,
/// `d_b = aᵀ · g`.
pub fn add_matmul(cx: &Ctx, i: usize) -> Contribution {
    let (g, g_ref, gt) = (&cx.g.name, &cx.g.by_ref, &cx.g.text);
    let (a, b) = (&cx.args[1], &cx.args[2]);
    match i {
        0 => Contribution {
            fresh: if cx.g.owned {
                quote!(#g)
            } else {
                quote!(#g.clone())
            },
            add: Add::PlusWith(g_ref.clone()),
            text: gt.clone(),
        },
        1 => {
            let f = factor_shapes((&cx.out.shape, false), (&b.shape, true));
            product(
                cx,
                "matmul_t",
                (&cx.g, b),
                format!("{gt} · {}ᵀ   {f}", b.text),
            )
        }
        _ => {
            let f = factor_shapes((&a.shape, true), (&cx.out.shape, false));
            product(
                cx,
                "t_matmul",
                (a, &cx.g),
                format!("{}ᵀ · {gt}   {f}", a.text),
            )
        }
    }
}

/// A product's contribution (`kind` is `matmul`, `matmul_t` or `t_matmul`, of `left` and
/// `right`): a new matrix when it starts the gradient, or written over the spare buffer the
/// schedule gave it (`spare.into_matmul_t_of(&g, w)`); added to a gradient that exists, in
/// place (`d.add_matmul_t_assign(&g, w)`, a product added in place), with no temporary.
fn product(cx: &Ctx, kind: &str, (left, right): (&Val, &Val), text: String) -> Contribution {
    let (l_name, l_ref, r_ref) = (&left.name, &left.by_ref, &right.by_ref);
    let method = ident(kind);
    let fresh = match &cx.spare {
        Some(spare) => {
            let into = ident(&format!("into_{kind}_of"));
            quote!(#spare.#into(#l_ref, #r_ref))
        }
        None => quote!(#l_name.#method(#r_ref)),
    };
    Contribution {
        fresh,
        add: Add::InPlace(ident(&format!("add_{kind}_assign")), quote!(#l_ref, #r_ref)),
        text,
    }
}

fn plus(fresh: TokenStream, text: String) -> Contribution {
    Contribution {
        fresh,
        add: Add::Plus,
        text,
    }
}

pub const TAKES_G: &[Use] = &[take(Slot::Grad)];

/// `aᵀ`: `d_a = gᵀ`, in the gradient's own buffer when it may be moved.
pub fn transpose(cx: &Ctx, _: usize) -> Contribution {
    let g = &cx.g.name;
    let fresh = if cx.g.owned {
        quote!(#g.into_t())
    } else {
        quote!(#g.t())
    };
    plus(fresh, format!("{}ᵀ", cx.g.text))
}

pub const READS_A: &[Use] = &[borrow(Slot::Arg(0)), borrow(Slot::Grad)];

/// `a.row_max()`: `g[i]` to row `i`'s first arg-max.
pub fn row_max(cx: &Ctx, _: usize) -> Contribution {
    let (a, g) = (&cx.args[0], &cx.g.by_ref);
    let recv = &a.name;
    plus(
        quote!(#recv.row_max_backward(#g)),
        format!(
            "{} at each row's arg-max of {}, 0 elsewhere",
            cx.g.text, a.text
        ),
    )
}

const INNER_0: &[Use] = &[
    borrow(Slot::Grad),
    borrow(Slot::Arg(1)),
    donor(Slot::Arg(0)),
];
const INNER_1: &[Use] = &[
    borrow(Slot::Grad),
    borrow(Slot::Arg(0)),
    donor(Slot::Arg(1)),
];

pub fn inner_uses(i: usize) -> &'static [Use] {
    if i == 0 {
        INNER_0
    } else {
        INNER_1
    }
}

/// `Σ a ∘ b`: `d_a = g · b`, in `a`'s own buffer when nothing reads `a` afterwards.
pub fn inner(cx: &Ctx, i: usize) -> Contribution {
    let (this, other) = (&cx.args[i], &cx.args[1 - i]);
    let (o, g) = (&other.by_ref, &cx.g.name);
    let fresh = if this.owned {
        let recv = &this.name;
        quote!(#recv.into_scaled_copy_of(#o, #g))
    } else {
        quote!(#o * #g)
    };
    Contribution {
        fresh,
        add: Add::InPlace(ident("add_scaled"), quote!(#o, #g)),
        text: format!("{} · {}", cx.g.text, other.text),
    }
}

pub const READS_LABELS: &[Use] = &[borrow(Slot::Arg(1)), borrow(Slot::Grad)];

/// `a.pick(&y)`: `g[i]` to entry `(i, y[i])`.
pub fn pick(cx: &Ctx, _: usize) -> Contribution {
    let (y, g, mat) = (&cx.args[1].by_ref, &cx.g.by_ref, cx.mat);
    Contribution {
        fresh: quote!(#mat::scatter(#y, #g)),
        add: Add::InPlace(ident("scatter_add"), quote!(#y, #g)),
        text: format!(
            "{} scattered to the entries (i, {}ᵢ)",
            cx.g.text, cx.args[1].text
        ),
    }
}

pub const CROSS_ENTROPY: &[Use] = &[take(Slot::Arg(0)), borrow(Slot::Arg(1)), borrow(Slot::Grad)];

/// A fused loss of a receiver and labels (`cross_entropy`): its runtime `{op}_backward`
/// (`into_{op}_backward` in the receiver's buffer when it is dead).
pub fn fused_loss(cx: &Ctx, _: usize) -> Contribution {
    let (a, y, g) = (&cx.args[0], &cx.args[1].by_ref, &cx.g.name);
    let op = cx.op;
    let method = if a.owned {
        ident(&format!("into_{op}_backward"))
    } else {
        ident(&format!("{op}_backward"))
    };
    let recv = &a.name;
    plus(
        quote!(#recv.#method(#y, #g)),
        format!(
            "{} · (softmax({}) − onehot({y})) / n_{y}",
            cx.g.text,
            a.text,
            y = cx.args[1].text
        ),
    )
}

pub const READS_LABELS_ONLY: &[Use] = &[borrow(Slot::Arg(1)), borrow(Slot::Grad)];

/// `a.labelled_mean(&y)`: `g / n` at each labelled row, 0 at the ignored ones.
pub fn labelled_mean(cx: &Ctx, _: usize) -> Contribution {
    let (y, g, mat) = (&cx.args[1].by_ref, &cx.g.name, cx.mat);
    plus(
        quote!(#mat::labelled_mean_backward(#y, #g)),
        format!(
            "{} / n_{y} at the rows {y} labels, 0 at the rows it ignores",
            cx.g.text,
            y = cx.args[1].text
        ),
    )
}

/// `a.row_dots(&b)`: `d_a = g ∘ b`, `g` repeated over the columns.
pub fn row_dots(cx: &Ctx, i: usize) -> Contribution {
    let other = &cx.args[1 - i];
    let (o, g) = (&other.name, &cx.g.by_ref);
    plus(
        quote!(#o.mul_col(#g)),
        format!(
            "{} ∘ {}   ({} repeated over the columns)",
            cx.g.text, other.text, cx.g.text
        ),
    )
}

const LOSS_RECEIVER: &[Use] = &[take(Slot::Arg(0)), borrow(Slot::Arg(1)), borrow(Slot::Grad)];
const LOSS_OTHER: &[Use] = &[
    borrow(Slot::Arg(0)),
    borrow(Slot::Arg(1)),
    borrow(Slot::Grad),
];

/// What each operand's contribution to a fused loss of two matrices reads: both operands; the
/// receiver's may consume the receiver.
pub fn loss_uses(i: usize) -> &'static [Use] {
    if i == 0 {
        LOSS_RECEIVER
    } else {
        LOSS_OTHER
    }
}

/// The receiver's gradient of a fused loss: the runtime's `{op}_backward(args…, g)`, in the
/// receiver's own buffer (`into_{op}_backward`) when nothing reads it afterwards.
fn loss_receiver(cx: &Ctx, g: &TokenStream, text: String) -> Contribution {
    let a = &cx.args[0];
    let op = cx.op;
    let method = if a.owned {
        ident(&format!("into_{op}_backward"))
    } else {
        ident(&format!("{op}_backward"))
    };
    let recv = &a.name;
    let rest: Vec<&TokenStream> = cx.args[1..].iter().map(|v| &v.by_ref).collect();
    plus(quote!(#recv.#method(#(#rest,)* #g)), text)
}

/// `a.mse(&t)`: `d_a = g · 2(a − t)/(R·C)`, and `d_t` the same with `−g`.
pub fn mse(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt, at, tt) = (&cx.g.name, &cx.g.text, &cx.args[0].text, &cx.args[1].text);
    let count = count_text(&cx.args[0].shape);
    if i == 0 {
        return loss_receiver(cx, g, format!("2·{gt} · ({at} − {tt}) / ({count})"));
    }
    let recv = &cx.args[0].name;
    let t = &cx.args[1].by_ref;
    let op = ident("mse_backward");
    plus(
        quote!(#recv.#op(#t, -#g)),
        format!("−2·{gt} · ({at} − {tt}) / ({count})"),
    )
}

/// `a.huber(&t, delta)`: `d_a = g · clamp(a − t, −δ, δ)/(R·C)`, and `d_t` with `−g`.
pub fn huber(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt, at, tt) = (&cx.g.name, &cx.g.text, &cx.args[0].text, &cx.args[1].text);
    let (delta, dt) = (&cx.args[2].by_ref, &cx.args[2].text);
    let count = count_text(&cx.args[0].shape);
    let text = |sign: &str| format!("{sign}{gt} · clamp({at} − {tt}, −{dt}, {dt}) / ({count})");
    if i == 0 {
        return loss_receiver(cx, g, text(""));
    }
    let recv = &cx.args[0].name;
    let t = &cx.args[1].by_ref;
    plus(quote!(#recv.huber_backward(#t, #delta, -#g)), text("−"))
}

/// `a.bce_with_logits(&t)`: `d_a = g · (σ(a) − t)/(R·C)`, `d_t = −g · a/(R·C)`.
pub fn bce_with_logits(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt, at, tt) = (&cx.g.name, &cx.g.text, &cx.args[0].text, &cx.args[1].text);
    let count = count_text(&cx.args[0].shape);
    if i == 0 {
        return loss_receiver(cx, g, format!("{gt} · (σ({at}) − {tt}) / ({count})"));
    }
    let recv = &cx.args[0].name;
    plus(
        quote!(#recv.bce_with_logits_backward_target(#g)),
        format!("−{gt} · {at} / ({count})"),
    )
}

/// `a.cosine_rows(&b)`: row i of `d_a` is `−g/R · (bᵢ/(|aᵢ||bᵢ|) − cos·aᵢ/|aᵢ|²)`, and `d_b` the
/// same with the roles swapped.
pub fn cosine_rows(cx: &Ctx, i: usize) -> Contribution {
    let (g, gt) = (&cx.g.name, &cx.g.text);
    let (this, other) = (&cx.args[i], &cx.args[1 - i]);
    let r = dim_text(&this.shape, 0);
    let text = format!(
        "−{gt}/{r} · ({ot}ᵢ/(|{tt}ᵢ||{ot}ᵢ|) − cos·{tt}ᵢ/|{tt}ᵢ|²) per row",
        ot = other.text,
        tt = this.text
    );
    if i == 0 {
        return loss_receiver(cx, g, text);
    }
    let (recv, o) = (&this.name, &other.by_ref);
    plus(quote!(#recv.cosine_rows_backward(#o, #g)), text)
}

pub const ROW_NORMS: &[Use] = &[take(Slot::Arg(0)), borrow(Slot::Out), borrow(Slot::Grad)];

/// `a.row_norms()`: `d_a = g ∘ a / out`, `g` and `out` repeated over the columns; 0 on a zero
/// row.
pub fn row_norms(cx: &Ctx, _: usize) -> Contribution {
    let a = &cx.args[0];
    let (y, g) = (&cx.out.by_ref, &cx.g.by_ref);
    let method = if a.owned {
        ident("into_row_norms_backward")
    } else {
        ident("row_norms_backward")
    };
    let recv = &a.name;
    plus(
        quote!(#recv.#method(#y, #g)),
        format!(
            "{} ∘ {} / {}   (repeated over the columns; 0 on a zero row)",
            cx.g.text, a.text, cx.out.text
        ),
    )
}

fn count_text(shape: &Shape) -> String {
    format!("{}·{}", dim_text(shape, 0), dim_text(shape, 1))
}
