//! Stage 4b — fuse: the backward of an entrywise function as a few passes over its entries.
//!
//! Input: a function, its shapes and the reverse stage's plan (which gradients exist, their
//! names, the derivation line of every contribution). It applies when every binding the value
//! needs is entrywise, broadcast or a reduction (a row with a scalar reading,
//! [`Grad::scalarwise`](crate::vjp::Grad::scalarwise)) over one matrix shape `[R × C]`, its
//! rows `[1 × C]`, its columns `[R × 1]` and scalars, with no loop, `if` or call, and returns a
//! scalar. Output: the statements of its backward function; `None` for any other function,
//! which keeps `emit.rs`'s one runtime call per binding.
//!
//! Every forward value and every gradient is a quantity defined entry by entry by the table's
//! formulas: a sum of terms in its own shape, plus reductions of terms over a larger shape (a
//! broadcast operand's gradient, a sum's value). A pass is one loop over the entries of one
//! shape whose body has one line per binding, named like it and documented with its line of the
//! derivation. An `[R × C]` value is recomputed in each pass that reads it instead of stored
//! (rematerialisation): only rows, columns, scalars and the returned gradients are stored, and
//! passes split only where a reduction must finish before a value that reads it. Before the
//! passes are scheduled, `factor.rs` takes the factors that are constant along a sum out of
//! it where that lets the sum run in an earlier pass, and shares the sums that remain.
//!
//! Guarantees: the chain rule is the table's, term for term (factored only by exact identities
//! of products), so the result is the unfused code's up to rounding; the passes read every value after it is complete; anything this
//! stage does not understand gives `None`, never a panic.

use proc_macro2::{Ident, TokenStream};
use quote::{quote, ToTokens};

use crate::formula::{Formula, Rust};
use crate::ir::{Dim, Func, Operand, Shape, ValueKind};
use crate::naming::dim_tokens;
use crate::reverse::{Bwd, Fwd, Plan};
use crate::vjp::{Axis, Scalarwise};

mod emit;
mod factor;
mod schedule;

/// Where a value's entries live, relative to the function's `[R × C]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Class {
    Scalar,
    Row,
    Col,
    Big,
}

impl Class {
    /// A pass over `self`'s entries can read a value of class `other`, repeated.
    fn covers(self, other: Class) -> bool {
        self == other || other == Class::Scalar || self == Class::Big
    }
}

/// What a formula's variable stands for.
#[derive(Clone)]
pub enum Ref {
    /// A quantity's entry.
    Q(usize),
    /// A constant: a literal, a constant expression, a count; as code and as a reader sees it.
    Code(TokenStream, String),
}

/// One term of a quantity: a table formula and what its variables are.
pub struct Term {
    pub formula: Formula,
    pub env: Vec<(&'static str, Ref)>,
    pub ints: Vec<&'static str>,
    /// Its line of the derivation.
    pub text: String,
    /// The quantities its formula reads.
    reads: Vec<usize>,
}

impl Term {
    fn new(
        formula: Formula,
        env: Vec<(&'static str, Ref)>,
        ints: Vec<&'static str>,
        text: String,
    ) -> Term {
        let vars = formula.vars();
        let reads = env
            .iter()
            .filter_map(|(name, r)| match r {
                Ref::Q(q) if vars.iter().any(|v| v == name) => Some(*q),
                _ => None,
            })
            .collect();
        Term {
            formula,
            env,
            ints,
            text,
            reads,
        }
    }

    /// The quantities it reads.
    fn reads(&self) -> impl Iterator<Item = usize> + '_ {
        self.reads.iter().copied()
    }
}

/// A term summed over a larger shape into a quantity (a reduction).
pub struct Part {
    pub domain: Class,
    pub term: Term,
}

/// A forward value or a gradient.
pub struct Quantity {
    pub name: Ident,
    pub class: Class,
    pub shape: Shape,
    /// A parameter, or the seed `d_out`.
    pub given: bool,
    /// Terms in its own shape, added.
    pub own: Vec<Term>,
    /// Reductions into it.
    pub parts: Vec<Part>,
    /// A mean: divided by this count once its parts are summed.
    pub mean: Option<(TokenStream, String)>,
    /// Returned by the backward function.
    pub output: bool,
}

impl Quantity {
    /// A gradient that nothing contributes to: zero, complete from the start.
    fn is_zero(&self) -> bool {
        !self.given && self.own.is_empty() && self.parts.is_empty() && self.mean.is_none()
    }

    /// Kept in a variable of its own rather than recomputed where it is read.
    fn stored(&self) -> bool {
        self.class != Class::Big || self.output || self.given
    }

    fn reads(&self) -> impl Iterator<Item = usize> + '_ {
        self.own
            .iter()
            .chain(self.parts.iter().map(|p| &p.term))
            .flat_map(Term::reads)
    }
}

/// The function as quantities.
pub struct Graph {
    pub qs: Vec<Quantity>,
    /// The `[R × C]` of the passes.
    pub big: (Dim, Dim),
}

/// The fused backward's statements, or `None` when the function is not of the fused form.
pub fn fuse(func: &Func, shapes: &[Shape], plan: &Plan) -> Option<Vec<TokenStream>> {
    if func.unfused {
        return None;
    }
    let mut graph = build(func, shapes, plan)?;
    let mut names = func.names.clone();
    for q in &graph.qs {
        names.reserve(&q.name);
    }
    names.reserve(&plan.d_out);
    // A `let` that shadows a parameter has its name in the user's code, where the two are
    // never live together; in a pass they are.
    for q in 0..graph.qs.len() {
        let name = graph.qs[q].name.to_string();
        if !graph.qs[q].given && graph.qs[..q].iter().any(|p| p.name == name) {
            if graph.qs[q].output {
                return None;
            }
            graph.qs[q].name = names.fresh(&name, graph.qs[q].name.span());
        }
    }
    factor::factor(&mut graph, &mut names);
    let passes = schedule::schedule(&graph)?;
    Some(emit::emit(func, &graph, &passes, &mut names))
}

/// The class of a shape, relative to `[R × C]`.
fn class_of(shape: &Shape, big: &(Dim, Dim)) -> Option<Class> {
    let one = Dim::Lit(1);
    match shape {
        Shape::Scalar => Some(Class::Scalar),
        Shape::Mat(r, c) if (r, c) == (&big.0, &big.1) => Some(Class::Big),
        Shape::Mat(r, c) if *r == one && *c == big.1 => Some(Class::Row),
        Shape::Mat(r, c) if *r == big.0 && *c == one => Some(Class::Col),
        _ => None,
    }
}

/// The class a reduction over `axis` of a `domain` value gives.
fn reduced(domain: Class, axis: Axis) -> Option<Class> {
    match (domain, axis) {
        (Class::Big, Axis::Rows) => Some(Class::Row),
        (Class::Big, Axis::Cols) => Some(Class::Col),
        (Class::Big | Class::Row | Class::Col, Axis::All) => Some(Class::Scalar),
        _ => None,
    }
}

/// The bindings of the forward part, in order, when it is straight-line code.
fn straight_line(plan: &Plan) -> Option<Vec<usize>> {
    plan.forward
        .iter()
        .map(|f| match f {
            Fwd::Bind(f) if f.with_grad.is_none() => Some(f.binding),
            _ => None,
        })
        .collect()
}

/// The `[R × C]` the passes run over: the first matrix shape with no dimension of 1.
fn big_shape(func: &Func, shapes: &[Shape], bindings: &[usize]) -> Option<(Dim, Dim)> {
    bindings.iter().find_map(|&bi| {
        let b = &func.bindings[bi];
        std::iter::once(b.out)
            .chain(b.args.iter().filter_map(Func::value_of))
            .find_map(|v| match &shapes[v] {
                Shape::Mat(r, c) if *r != Dim::Lit(1) && *c != Dim::Lit(1) => {
                    Some((r.clone(), c.clone()))
                }
                _ => None,
            })
    })
}

struct Builder<'a> {
    func: &'a Func,
    shapes: &'a [Shape],
    plan: &'a Plan,
    big: (Dim, Dim),
    qs: Vec<Quantity>,
    /// Each value's quantity, and its gradient's.
    val: Vec<Option<usize>>,
    grad: Vec<Option<usize>>,
}

fn build(func: &Func, shapes: &[Shape], plan: &Plan) -> Option<Graph> {
    let bindings = straight_line(plan)?;
    let Some((Operand::Value(out), _)) = &func.output else {
        return None;
    };
    if shapes[*out] != Shape::Scalar || bindings.is_empty() {
        return None;
    }
    let big = big_shape(func, shapes, &bindings)?;
    let mut b = Builder {
        func,
        shapes,
        plan,
        big,
        qs: Vec::new(),
        val: vec![None; func.values.len()],
        grad: vec![None; func.values.len()],
    };
    for &bi in &bindings {
        b.forward(bi)?;
    }
    let value = b.val[*out]?;
    b.qs[value].output = true;
    b.gradients(&bindings, *out)?;
    for p in func.params.iter().filter(|p| p.differentiable) {
        if let Some(q) = b.grad[p.value] {
            b.qs[q].output = true;
        }
    }
    Some(Graph {
        qs: b.qs,
        big: b.big,
    })
}

impl Builder<'_> {
    fn push(&mut self, q: Quantity) -> usize {
        self.qs.push(q);
        self.qs.len() - 1
    }

    fn class(&self, v: usize) -> Option<Class> {
        class_of(&self.shapes[v], &self.big)
    }

    /// The quantity of a value: a parameter's on first use.
    fn value(&mut self, v: usize) -> Option<usize> {
        if let Some(q) = self.val[v] {
            return Some(q);
        }
        if !matches!(self.func.values[v].kind, ValueKind::Param(_)) {
            return None;
        }
        let q = self.push(Quantity {
            name: self.func.values[v].name.clone(),
            class: self.class(v)?,
            shape: self.shapes[v].clone(),
            given: true,
            own: Vec::new(),
            parts: Vec::new(),
            mean: None,
            output: false,
        });
        self.val[v] = Some(q);
        Some(q)
    }

    /// What each operand of binding `bi` is, by the names its formulas use.
    fn operands(&mut self, bi: usize, sw: &Scalarwise) -> Option<Vec<(&'static str, Ref)>> {
        let b = &self.func.bindings[bi];
        if sw.operands.len() != b.args.len() {
            return None;
        }
        let mut env = Vec::new();
        for (name, arg) in sw.operands.iter().zip(&b.args) {
            let r = match arg {
                Operand::Value(v) => Ref::Q(self.value(*v)?),
                Operand::Literal(lit) => Ref::Code(lit.to_token_stream(), lit.text()),
                Operand::Const(c) => Ref::Code(c.tokens.clone(), c.text.clone()),
            };
            env.push((*name, r));
        }
        (env.len() == b.args.len()).then_some(env)
    }

    /// The number of entries a reduction of binding `bi` sums, as code and as text.
    fn count(&self, bi: usize, axis: Axis) -> Option<(TokenStream, String)> {
        let v = Func::value_of(&self.func.bindings[bi].args[0])?;
        let Shape::Mat(r, c) = &self.shapes[v] else {
            return None;
        };
        let (rt, ct) = (dim_tokens(r), dim_tokens(c));
        let (n, text) = match axis {
            Axis::Rows => (quote!(#rt), r.to_string()),
            Axis::Cols => (quote!(#ct), c.to_string()),
            Axis::All => (quote!(#rt * #ct), format!("{r}·{c}")),
        };
        let elem = &self.func.scalar_ty;
        Some((quote!(<#elem as ::gradgen::Scalar>::from_usize(#n)), text))
    }

    /// The forward value of binding `bi`.
    fn forward(&mut self, bi: usize) -> Option<()> {
        let b = &self.func.bindings[bi];
        if b.call.is_some() {
            return None;
        }
        let sw = b.op.grad.scalarwise()?;
        let class = self.class(b.out)?;
        let env = self.operands(bi, &sw)?;
        let text = format!(
            "{} = {}",
            self.func.values[b.out].name,
            crate::derivation::forward_formula(self.func, bi)
        );
        let term = Term::new(sw.forward.clone(), env, sw.ints.clone(), text);
        let (own, parts, mean) = match sw.reduce {
            None => (vec![term], Vec::new(), None),
            Some((axis, mean)) => {
                let domain = self.operand_class(bi)?;
                if reduced(domain, axis)? != class {
                    return None;
                }
                let mean = if mean {
                    Some(self.count(bi, axis)?)
                } else {
                    None
                };
                (Vec::new(), vec![Part { domain, term }], mean)
            }
        };
        if own.iter().any(|t| !self.term_fits(t, class)) {
            return None;
        }
        let q = self.push(Quantity {
            name: self.func.values[b.out].name.clone(),
            class,
            shape: self.shapes[b.out].clone(),
            given: false,
            own,
            parts,
            mean,
            output: false,
        });
        self.val[b.out] = Some(q);
        Some(())
    }

    fn operand_class(&self, bi: usize) -> Option<Class> {
        self.class(Func::value_of(&self.func.bindings[bi].args[0])?)
    }

    /// Every quantity the term reads can be read in a pass over `domain`.
    fn term_fits(&self, t: &Term, domain: Class) -> bool {
        t.reads().all(|q| domain.covers(self.qs[q].class))
    }

    /// The gradients: the output's is the seed; every other one sums its consumers'
    /// contributions.
    fn gradients(&mut self, bindings: &[usize], out: usize) -> Option<()> {
        let seed = self.push(Quantity {
            name: self.plan.d_out.clone(),
            class: Class::Scalar,
            shape: Shape::Scalar,
            given: true,
            own: Vec::new(),
            parts: Vec::new(),
            mean: None,
            output: false,
        });
        self.grad[out] = Some(seed);
        for &bi in bindings.iter().rev() {
            let b = &self.func.bindings[bi];
            if b.args.iter().any(|a| Func::value_of(a) == Some(out)) {
                return None;
            }
            self.contributions(bi)?;
        }
        Some(())
    }

    /// The gradient quantity of value `v`, made on first use.
    fn grad_of(&mut self, v: usize) -> Option<usize> {
        if let Some(q) = self.grad[v] {
            return Some(q);
        }
        let name = self.plan.grads[v].clone()?;
        let q = self.push(Quantity {
            name,
            class: self.class(v)?,
            shape: self.shapes[v].clone(),
            given: false,
            own: Vec::new(),
            parts: Vec::new(),
            mean: None,
            output: false,
        });
        self.grad[v] = Some(q);
        Some(q)
    }

    /// The contributions of binding `bi` to its operands' gradients.
    fn contributions(&mut self, bi: usize) -> Option<()> {
        let b = &self.func.bindings[bi];
        let Some(g) = self.grad[b.out] else {
            return Some(());
        };
        let sw = b.op.grad.scalarwise()?;
        let y = self.val[b.out]?;
        let out_class = self.qs[y].class;
        for (k, arg) in b.args.iter().enumerate() {
            let (Some(v), Some(Some(d))) = (Func::value_of(arg), sw.derivatives.get(k)) else {
                continue;
            };
            if self.plan.grads[v].is_none() {
                continue;
            }
            let target = self.grad_of(v)?;
            let mut env = self.operands(bi, &sw)?;
            env.push(("y", Ref::Q(y)));
            env.push(("g", Ref::Q(g)));
            if let Some((axis, true)) = sw.reduce {
                let (code, text) = self.count(bi, axis)?;
                env.push(("count", Ref::Code(code, text)));
            }
            let text = self.contribution_text(bi, k);
            let term = Term::new(d.clone(), env, sw.ints.clone(), text);
            let class = self.qs[target].class;
            let domain = if sw.reduce.is_some() {
                class
            } else {
                out_class
            };
            if !self.term_fits(&term, domain) || !domain.covers(class) {
                return None;
            }
            if domain == class {
                self.qs[target].own.push(term);
            } else {
                self.qs[target].parts.push(Part { domain, term });
            }
        }
        Some(())
    }

    /// The derivation's line for the contribution of binding `bi` to operand `k`.
    fn contribution_text(&self, bi: usize, k: usize) -> String {
        fn find(items: &[Bwd], origin: (usize, usize)) -> Option<String> {
            items.iter().find_map(|b| match b {
                Bwd::Stmt(s) if s.origin == Some(origin) => Some(s.text.clone()),
                _ => None,
            })
        }
        find(&self.plan.backward, (bi, k)).unwrap_or_else(|| {
            format!(
                "contribution of `{}`",
                crate::derivation::forward_formula(self.func, bi)
            )
        })
    }
}

/// A formula as code, each variable by `var`.
pub fn code(func: &Func, term: &Term, var: &dyn Fn(&Ref) -> TokenStream) -> TokenStream {
    let lookup = |name: &str| {
        term.env
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| quote!(::core::unreachable!()), |(_, r)| var(r))
    };
    term.formula.rust(&Rust {
        var: &lookup,
        ints: &term.ints,
        elem: func.scalar_ty.to_token_stream(),
        generic: crate::steps::generic_elem(func).is_some(),
        math: true,
    })
}
