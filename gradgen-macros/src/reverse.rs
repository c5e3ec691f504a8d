//! Stage 4 — reverse: activity analysis, the reverse sweep, and who owns what.
//!
//! Input: a [`Func`] whose shapes are all known. Output: a [`Plan`]: the forward bindings the
//! output needs (with the operands each may consume), and the backward statements, in order.
//!
//! Guarantees:
//! - Activity: only values that depend on a differentiable input *and* that the output depends
//!   on get a gradient; labels, scalar parameters, literals and anything that does not reach the
//!   output cost no backward work.
//! - The sweep visits the bindings in reverse, seeds the output's gradient with `d_out`, and
//!   asks each binding's row for one contribution per active operand. A value used more than
//!   once receives one contribution per use: the first initialises its gradient (moved in, never
//!   added to a zero matrix), later ones are added to it, in place where the row says how.
//! - Ownership is decided here, once, from what each row declares it uses ([`vjp::Use`]): the
//!   forward and backward statements form one schedule, and a value (a forward temporary or a
//!   gradient) may be moved only by the statement that uses it last, where nothing else in that
//!   statement reads it. A row's emitter only reads the decision. Within a binding, the
//!   contribution that can hold its result in the incoming gradient's buffer comes last, so
//!   that it is the one that may take it.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use crate::ir::{Func, Operand, Shape, ValueKind};
use crate::table::Form;
use crate::vjp::{self, Add, Ctx, Mode, Slot, Use, Val};

/// What the backward function computes.
pub struct Plan {
    /// The forward bindings the output needs, in order.
    pub forward: Vec<Forward>,
    /// The backward statements, in order.
    pub backward: Vec<Stmt>,
    /// The gradient variable of each value that has one, indexed like [`Func::values`].
    pub grads: Vec<Option<Ident>>,
    /// The backward function's seed parameter.
    pub d_out: Ident,
    /// The generated gradient check's locals: the backward's result, the report, and the
    /// upstream gradient of a matrix value.
    pub check_locals: (Ident, Ident, Ident),
}

/// A forward binding.
pub struct Forward {
    pub binding: usize,
    /// Which operands it consumes: nothing reads them afterwards, so their buffer becomes the
    /// result's.
    pub consumes: Vec<bool>,
    /// When it computes the function's value together with its receiver's gradient
    /// (`cross_entropy_and_backward`): that gradient, and whether it is added to later.
    pub with_grad: Option<(Ident, bool)>,
}

/// One statement of the backward part.
pub struct Stmt {
    /// The binding whose row produced it.
    pub binding: usize,
    pub kind: StmtKind,
    /// Its line of the derivation (`d_h = d_score`).
    pub text: String,
}

pub enum StmtKind {
    /// `let [mut] d: Shape = expr;`
    Init {
        grad: Ident,
        shape: Shape,
        mutable: bool,
        expr: TokenStream,
    },
    /// `d += expr;`, or `d -= expr;` when `negate`.
    Add {
        grad: Ident,
        negate: bool,
        expr: TokenStream,
    },
    /// `d.method(args);`: a contribution added in place.
    InPlace {
        grad: Ident,
        method: Ident,
        args: TokenStream,
    },
    /// `let parts = callee_backward(…).into_inputs();`
    Call { parts: Ident, expr: TokenStream },
    /// The gradient the forward binding computes with the function's value: no statement of
    /// its own, a line of the derivation.
    WithValue { grad: Ident },
}

impl Stmt {
    /// The gradient this statement starts or adds to; `None` for a call's parts.
    pub fn grad(&self) -> Option<&Ident> {
        match &self.kind {
            StmtKind::Init { grad, .. }
            | StmtKind::Add { grad, .. }
            | StmtKind::InPlace { grad, .. }
            | StmtKind::WithValue { grad } => Some(grad),
            StmtKind::Call { .. } => None,
        }
    }
}

/// Plans the backward pass. `shapes` must be complete (the shape stage reported no error).
pub fn plan(func: &mut Func, shapes: &[Shape]) -> Plan {
    let active = activity(func);
    let needed = needed(func);
    let d_out = func.names.fresh("d_out", Span::call_site());
    let fused = fused_value(func, &active);
    let sweep = sweep(func, shapes, &active, fused, &d_out);
    let schedule = Schedule::build(func, shapes, &needed, &sweep, fused);
    let owned = schedule.grant(func, shapes);
    let mut plan = Plan {
        forward: Vec::new(),
        backward: Vec::new(),
        grads: sweep.grads.clone(),
        d_out,
        check_locals: (
            func.names.fresh("grads", Span::call_site()),
            func.names.fresh("check", Span::call_site()),
            func.names.fresh("upstream", Span::call_site()),
        ),
    };
    plan.forward = forward_steps(func, &needed, &schedule, &owned, &sweep, fused);
    plan.backward = backward_steps(func, shapes, &plan, &sweep, &schedule, &owned);
    mark_accumulated(&mut plan);
    plan
}

// ---- activity ----

/// Which values get a gradient: those that vary with a differentiable input and that the
/// output depends on.
fn activity(func: &Func) -> Vec<bool> {
    let varied = crate::ir::varied(func);
    let useful = useful(func);
    (0..func.values.len())
        .map(|v| varied[v] && useful[v])
        .collect()
}

/// Which values the output depends on.
fn useful(func: &Func) -> Vec<bool> {
    let mut useful = vec![false; func.values.len()];
    if let Some(o) = output(func) {
        useful[o] = true;
    }
    for b in func.bindings.iter().rev() {
        if useful[b.out] {
            for a in b.args.iter().filter_map(Func::value_of) {
                useful[a] = true;
            }
        }
    }
    useful
}

fn output(func: &Func) -> Option<usize> {
    func.output.as_ref().and_then(|(op, _)| Func::value_of(op))
}

/// The bindings the output needs, in order.
fn needed(func: &Func) -> Vec<usize> {
    let useful = useful(func);
    (0..func.bindings.len())
        .filter(|&i| useful[func.bindings[i].out])
        .collect()
}

/// The output binding, when its row computes the value with its receiver's gradient and the
/// receiver is its only active operand.
fn fused_value(func: &Func, active: &[bool]) -> Option<usize> {
    let o = output(func)?;
    let bi = func.bindings.iter().position(|b| b.out == o)?;
    let b = &func.bindings[bi];
    let receiver_only = b
        .args
        .iter()
        .enumerate()
        .all(|(i, a)| Func::value_of(a).is_some_and(|v| active[v]) == (i == 0));
    (b.op.with_backward && active[o] && receiver_only).then_some(bi)
}

// ---- the sweep: which contributions, in which order, to which gradient ----

/// One contribution to an operand's gradient.
struct Planned {
    binding: usize,
    operand: usize,
    /// The operand's value, whose gradient receives it.
    target: usize,
    grad: Ident,
    /// It starts the gradient (rather than adding to it).
    first: bool,
    /// For a call's operand: the tuple of gradients its backward returned.
    parts: Option<Ident>,
    /// Computed by the forward binding with the function's value.
    with_value: bool,
}

struct Sweep {
    /// The contributions, and the call statements among them (`None` operand), in order.
    items: Vec<Item>,
    grads: Vec<Option<Ident>>,
}

enum Item {
    /// `let parts = callee_backward(…)` for a call binding.
    Call {
        binding: usize,
        parts: Ident,
    },
    Contribution(Planned),
}

fn sweep(
    func: &mut Func,
    shapes: &[Shape],
    active: &[bool],
    fused: Option<usize>,
    d_out: &Ident,
) -> Sweep {
    let mut grads: Vec<Option<Ident>> = vec![None; func.values.len()];
    if let Some(o) = output(func).filter(|&o| active[o]) {
        grads[o] = Some(d_out.clone());
    }
    let mut items = Vec::new();
    for bi in (0..func.bindings.len()).rev() {
        let b = &func.bindings[bi];
        if !active[b.out] || grads[b.out].is_none() {
            continue;
        }
        let parts = (b.op.form == Form::Call).then(|| {
            let name = format!("{}_grads", func.values[b.out].name);
            func.names.fresh(&name, b.op_span)
        });
        if let Some(parts) = &parts {
            items.push(Item::Call {
                binding: bi,
                parts: parts.clone(),
            });
        }
        for i in ordered_operands(func, shapes, active, bi) {
            let target = Func::value_of(&func.bindings[bi].args[i]).unwrap_or_default();
            let first = grads[target].is_none();
            let grad = match &grads[target] {
                Some(g) => g.clone(),
                None => {
                    let g = func.names.gradient(&func.values[target].name);
                    grads[target] = Some(g.clone());
                    g
                }
            };
            items.push(Item::Contribution(Planned {
                binding: bi,
                operand: i,
                target,
                grad,
                first,
                parts: parts.clone(),
                with_value: Some(bi) == fused,
            }));
        }
    }
    Sweep { items, grads }
}

/// The active operands of binding `bi`, ordered so that the contribution that can best use the
/// incoming gradient's buffer comes last: a plain pass-through last of all, then those built
/// in a buffer of the gradient's shape, and first those that reduce it.
fn ordered_operands(func: &Func, shapes: &[Shape], active: &[bool], bi: usize) -> Vec<usize> {
    let b = &func.bindings[bi];
    let out_shape = &shapes[b.out];
    let mut operands: Vec<(usize, u8)> = (0..b.args.len())
        .filter(|&i| Func::value_of(&b.args[i]).is_some_and(|v| active[v]))
        .map(|i| {
            let v = Func::value_of(&b.args[i]).unwrap_or_default();
            let full = shapes[v] == *out_shape;
            let takes_g =
                b.op.grad
                    .uses(i, b.args.len(), full)
                    .contains(&vjp::take(Slot::Grad));
            let pass = full && is_pass_through(b.op, i);
            (i, u8::from(takes_g) + u8::from(pass))
        })
        .collect();
    operands.sort_by_key(|&(_, benefit)| benefit);
    operands.into_iter().map(|(i, _)| i).collect()
}

/// The contribution to operand `i` is the incoming gradient itself.
fn is_pass_through(op: &crate::table::Op, i: usize) -> bool {
    matches!(&op.grad, vjp::Grad::Entrywise(e) if e.derivatives.get(i) == Some(&"g"))
}

// ---- the schedule: every statement's uses, and who may move what ----

/// A value or a gradient, as the schedule tracks them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tracked {
    Value(usize),
    Grad(usize),
}

struct Schedule {
    /// Per statement (the needed forward bindings, then the sweep's items), its uses.
    uses: Vec<Vec<(Tracked, Mode)>>,
    /// The forward bindings, in the order of their statements.
    forward: Vec<usize>,
    /// The index of the first backward statement.
    forward_len: usize,
}

/// The statement of forward binding `bi`.
fn needed_index(schedule: &Schedule, bi: usize) -> Option<usize> {
    schedule.forward.iter().position(|&f| f == bi)
}

impl Schedule {
    fn build(
        func: &Func,
        shapes: &[Shape],
        needed: &[usize],
        sweep: &Sweep,
        fused: Option<usize>,
    ) -> Schedule {
        let mut uses: Vec<Vec<(Tracked, Mode)>> = needed
            .iter()
            .map(|&bi| forward_uses(func, bi, Some(bi) == fused))
            .collect();
        let forward_len = uses.len();
        for item in &sweep.items {
            uses.push(match item {
                Item::Call { binding, .. } => call_uses(func, *binding),
                // Its uses are the forward binding's.
                Item::Contribution(p) if p.with_value => Vec::new(),
                Item::Contribution(p) => contribution_uses(func, shapes, p),
            });
        }
        Schedule {
            uses,
            forward: needed.to_vec(),
            forward_len,
        }
    }

    /// For every statement and each of its uses, whether it may move the value.
    fn grant(&self, func: &Func, shapes: &[Shape]) -> Vec<Vec<bool>> {
        let mut last_read: Vec<Option<usize>> = Vec::new();
        let index = |t: Tracked| match t {
            Tracked::Value(v) => 2 * v,
            Tracked::Grad(v) => 2 * v + 1,
        };
        last_read.resize(2 * func.values.len(), None);
        for (s, uses) in self.uses.iter().enumerate() {
            for &(t, mode) in uses {
                if mode != Mode::Donor {
                    last_read[index(t)] = Some(s);
                }
            }
        }
        let ownable = |t: Tracked| ownable(func, shapes, t);
        self.uses
            .iter()
            .enumerate()
            .map(|(s, uses)| {
                uses.iter()
                    .map(|&(t, mode)| {
                        let alone = uses.iter().filter(|(u, _)| *u == t).count() == 1;
                        let last = last_read[index(t)];
                        let free = match mode {
                            Mode::Borrow => false,
                            Mode::Take => last == Some(s),
                            Mode::Donor => last.is_none_or(|l| l < s),
                        };
                        free && alone && ownable(t)
                    })
                    .collect()
            })
            .collect()
    }
}

/// Whether moving `t` is allowed at all: an owned matrix that the function does not return
/// (a forward temporary, or a gradient the backward built).
fn ownable(func: &Func, shapes: &[Shape], t: Tracked) -> bool {
    let o = output(func);
    match t {
        Tracked::Value(v) => {
            matches!(func.values[v].kind, ValueKind::Binding)
                && Some(v) != o
                && matches!(shapes[v], Shape::Mat(..))
        }
        // The seed of a matrix value is borrowed; every other gradient is the backward's own.
        Tracked::Grad(v) => Some(v) != o && matches!(shapes[v], Shape::Mat(..)),
    }
}

/// A forward binding reads its operands; an operator, or a method with an in-place variant,
/// may consume the receiver (an operator, any operand).
fn forward_uses(func: &Func, bi: usize, fused: bool) -> Vec<(Tracked, Mode)> {
    let b = &func.bindings[bi];
    b.args
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let v = Func::value_of(a)?;
            let mode = match b.op.form {
                Form::Operator { .. } => Mode::Take,
                Form::Method { .. } if i == 0 && (b.op.consuming || fused) => Mode::Take,
                _ => Mode::Borrow,
            };
            Some((Tracked::Value(v), mode))
        })
        .collect()
}

/// A call's backward reads its arguments and the gradient of its result.
fn call_uses(func: &Func, bi: usize) -> Vec<(Tracked, Mode)> {
    let b = &func.bindings[bi];
    let args = b.args.iter().filter_map(Func::value_of);
    args.map(|v| (Tracked::Value(v), Mode::Borrow))
        .chain([(Tracked::Grad(b.out), Mode::Borrow)])
        .collect()
}

/// What a contribution uses, as its row declares it.
fn contribution_uses(func: &Func, shapes: &[Shape], p: &Planned) -> Vec<(Tracked, Mode)> {
    let b = &func.bindings[p.binding];
    let full = shapes[p.target] == shapes[b.out];
    b.op.grad
        .uses(p.operand, b.args.len(), full)
        .into_iter()
        .filter_map(|Use { what, mode }| {
            let t = match what {
                Slot::Arg(j) => Tracked::Value(Func::value_of(b.args.get(j)?)?),
                Slot::Out => Tracked::Value(b.out),
                Slot::Grad => Tracked::Grad(b.out),
            };
            Some((t, mode))
        })
        .collect()
}

/// Whether statement `s` may move `t` (one of its uses of it was granted).
fn granted(schedule: &Schedule, owned: &[Vec<bool>], s: usize, t: Tracked) -> bool {
    schedule.uses[s]
        .iter()
        .zip(&owned[s])
        .any(|(&(u, _), &ok)| u == t && ok)
}

// ---- statements ----

fn forward_steps(
    func: &Func,
    needed: &[usize],
    schedule: &Schedule,
    owned: &[Vec<bool>],
    sweep: &Sweep,
    fused: Option<usize>,
) -> Vec<Forward> {
    needed
        .iter()
        .enumerate()
        .map(|(s, &bi)| {
            let b = &func.bindings[bi];
            let consumes = b
                .args
                .iter()
                .map(|a| {
                    Func::value_of(a)
                        .is_some_and(|v| granted(schedule, owned, s, Tracked::Value(v)))
                })
                .collect();
            let with_grad = (Some(bi) == fused)
                .then(|| Func::value_of(&b.args[0]))
                .flatten()
                .and_then(|v| sweep.grads[v].clone())
                .map(|g| (g, false));
            Forward {
                binding: bi,
                consumes,
                with_grad,
            }
        })
        .collect()
}

fn backward_steps(
    func: &Func,
    shapes: &[Shape],
    plan: &Plan,
    sweep: &Sweep,
    schedule: &Schedule,
    owned: &[Vec<bool>],
) -> Vec<Stmt> {
    sweep
        .items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let s = schedule.forward_len + k;
            match item {
                Item::Call { binding, parts } => call_stmt(func, shapes, plan, *binding, parts),
                Item::Contribution(p) if p.with_value => {
                    // As the forward binding computes it: consuming what that one consumes.
                    let f = needed_index(schedule, p.binding);
                    let moves = |t: Tracked| f.is_some_and(|f| granted(schedule, owned, f, t));
                    let mut stmt = contribution_stmt(func, shapes, plan, p, &moves);
                    stmt.kind = StmtKind::WithValue {
                        grad: p.grad.clone(),
                    };
                    stmt
                }
                Item::Contribution(p) => {
                    let moves = |t: Tracked| granted(schedule, owned, s, t);
                    contribution_stmt(func, shapes, plan, p, &moves)
                }
            }
        })
        .collect()
}

/// The gradient of binding `bi`'s value as the statements read it.
fn incoming(func: &Func, shapes: &[Shape], plan: &Plan, bi: usize) -> (Ident, TokenStream) {
    let out = func.bindings[bi].out;
    let g = plan.grads[out]
        .clone()
        .unwrap_or_else(|| plan.d_out.clone());
    // The seed of a matrix value is borrowed already; a scalar is passed by value.
    let by_ref = if output(func) == Some(out) || shapes[out] == Shape::Scalar {
        quote!(#g)
    } else {
        quote!(&#g)
    };
    (g, by_ref)
}

fn call_stmt(func: &Func, shapes: &[Shape], plan: &Plan, bi: usize, parts: &Ident) -> Stmt {
    let b = &func.bindings[bi];
    let (g, seed) = incoming(func, shapes, plan, bi);
    let args: Vec<TokenStream> = b.args.iter().map(|a| by_ref(func, a, shapes)).collect();
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
        binding: bi,
        kind: StmtKind::Call {
            parts: parts.clone(),
            expr: quote_spanned!(b.op_span=> #backward(#(#args,)* #seed).into_inputs()),
        },
        text: format!("{parts} = the gradients from {shown}'s backward, given {g}"),
    }
}

fn contribution_stmt(
    func: &Func,
    shapes: &[Shape],
    plan: &Plan,
    p: &Planned,
    moves: &dyn Fn(Tracked) -> bool,
) -> Stmt {
    let b = &func.bindings[p.binding];
    let args: Vec<Val> = b
        .args
        .iter()
        .map(|a| {
            let owned = Func::value_of(a).is_some_and(|v| moves(Tracked::Value(v)));
            val(func, shapes, a, owned)
        })
        .collect();
    let cx = Ctx {
        op: b.op.name,
        args: &args,
        out: val(func, shapes, &Operand::Value(b.out), false),
        g: incoming_val(func, shapes, plan, p, moves),
        mat: &func.mat_path,
        elem: func.scalar_ty.to_token_stream(),
        generic: generic_elem(func).is_some(),
    };
    let c = b.op.grad.vjp(&cx, p.operand);
    let grad = p.grad.clone();
    let kind = match (p.first, c.add) {
        (true, _) => StmtKind::Init {
            grad,
            shape: shapes[p.target].clone(),
            mutable: false,
            expr: c.fresh,
        },
        (false, Add::Plus) => add(grad, false, c.fresh),
        (false, Add::PlusWith(e)) => add(grad, false, e),
        (false, Add::Minus(e)) => add(grad, true, e),
        (false, Add::InPlace(method, args)) => StmtKind::InPlace { grad, method, args },
    };
    let sign = if p.first { "=" } else { "+=" };
    Stmt {
        binding: p.binding,
        kind,
        text: format!("{} {sign} {}", p.grad, c.text),
    }
}

/// The incoming gradient as the emitters see it; for a call's operand, the tuple of gradients
/// its backward returned.
fn incoming_val(
    func: &Func,
    shapes: &[Shape],
    plan: &Plan,
    p: &Planned,
    moves: &dyn Fn(Tracked) -> bool,
) -> Val {
    let out = func.bindings[p.binding].out;
    let shape = shapes[out].clone();
    if let Some(parts) = &p.parts {
        return Val {
            by_ref: quote!(#parts),
            name: quote!(#parts),
            text: parts.to_string(),
            shape,
            owned: true,
        };
    }
    let (g, by_ref) = incoming(func, shapes, plan, p.binding);
    Val {
        by_ref,
        name: quote!(#g),
        text: g.to_string(),
        shape,
        owned: moves(Tracked::Grad(out)),
    }
}

fn add(grad: Ident, negate: bool, expr: TokenStream) -> StmtKind {
    StmtKind::Add { grad, negate, expr }
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

/// A gradient that receives more than one contribution is declared `mut`.
fn mark_accumulated(plan: &mut Plan) {
    let added: Vec<Ident> = plan
        .backward
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::Add { grad, .. } | StmtKind::InPlace { grad, .. } => Some(grad.clone()),
            _ => None,
        })
        .collect();
    for s in &mut plan.backward {
        if let StmtKind::Init { grad, mutable, .. } = &mut s.kind {
            *mutable = added.contains(grad);
        }
    }
    for f in &mut plan.forward {
        if let Some((grad, mutable)) = &mut f.with_grad {
            *mutable = added.contains(grad);
        }
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
                ValueKind::Binding => false,
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
