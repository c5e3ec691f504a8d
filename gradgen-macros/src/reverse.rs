//! Stage 4 — reverse: activity analysis, the reverse sweep, and who owns what.
//!
//! Input: a [`Func`] whose shapes are all known. Output: a [`Plan`]: the forward part (the
//! bindings the output needs, with the operands each may consume, and the `if`s among them) and
//! the backward part, in order.
//!
//! Guarantees:
//! - Activity: only values that depend on a differentiable input *and* that the output depends
//!   on get a gradient; labels, flags, scalar parameters, literals, constants and anything that
//!   does not reach the output cost no backward work.
//! - The sweep visits the bindings in reverse, seeds the output's gradient with `d_out`, and
//!   asks each binding's row for one contribution per active operand. A value used more than
//!   once receives one contribution per use: the first initialises its gradient (moved in, never
//!   added to a zero matrix), later ones are added to it, in place where the row says how. The
//!   one exception is a value from outside an `if` that a branch adds to: its gradient is
//!   declared (zero) before the `if`, since either branch may run.
//! - The backward of an `if` follows the branch the forward took: the same condition, then the
//!   branch's bindings that its backward reads (computed again, not kept), then the branch's
//!   contributions, starting from the gradients of the values the `if` gives.
//! - Ownership is decided in one place, `schedule.rs`, from what each row declares it uses: a
//!   region's forward and backward statements form one schedule, and a value may be moved only
//!   by its last use there. Within a binding, the contribution that can hold its result in the
//!   incoming gradient's buffer comes last, so that it is the one that may take it.

use std::collections::HashSet;

use proc_macro2::{Ident, Span, TokenStream};

use crate::ir::{Func, IfNode, LoopNode, Node, Operand, Shape};
use crate::naming::Names;
use crate::schedule::{self, Tracked, Uses};
use crate::steps::{self, Planned, Start};

mod loops;
use crate::table::Form;
use crate::vjp::{self, Mode, Slot};

/// What the backward function computes.
pub struct Plan {
    /// The forward part: the bindings the output needs, in order, and the `if`s among them.
    pub forward: Vec<Fwd>,
    /// The backward part, in order.
    pub backward: Vec<Bwd>,
    /// The gradient variable of each value that has one, indexed like [`Func::values`].
    pub grads: Vec<Option<Ident>>,
    /// The backward function's seed parameter.
    pub d_out: Ident,
    /// The generated gradient check's locals: the backward's result, the report, and the
    /// upstream gradient of a matrix value.
    pub check_locals: (Ident, Ident, Ident),
}

/// A step of a forward part.
pub enum Fwd {
    Bind(Forward),
    If(FwdIf),
    Loop(FwdLoop),
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

/// `let (outs…) = if cond { … } else { … };`
pub struct FwdIf {
    pub span: Span,
    pub cond: TokenStream,
    pub cond_text: String,
    /// The values the `if` gives.
    pub outs: Vec<usize>,
    pub branches: [FwdBranch; 2],
}

/// A branch of a forward `if`: its bindings, and the expression of each value it gives.
pub struct FwdBranch {
    pub body: Vec<Fwd>,
    pub outs: Vec<TokenStream>,
}

/// A loop of the forward part: the variables it carries, declared before it; its body; what
/// each step keeps for the backward (the tape); and the values the step assigns.
pub struct FwdLoop {
    pub span: Span,
    /// The loop as the derivation shows it: `for x in xs`.
    pub text: String,
    /// `for #pattern in #iter`.
    pub pattern: TokenStream,
    pub iter: TokenStream,
    /// Each carried variable (by its value after the loop, which names it) and its initial
    /// value's expression.
    pub carried: Vec<(usize, TokenStream)>,
    pub body: Vec<Fwd>,
    pub tape: Option<FwdTape>,
    /// Each carried variable and the expression of the value the step assigns it.
    pub nexts: Vec<(usize, TokenStream)>,
}

/// What each step of a loop keeps for the backward: one entry per step, allocated once.
pub struct FwdTape {
    pub name: Ident,
    /// The number of steps.
    pub len: TokenStream,
    pub values: Vec<usize>,
    /// Each value as the step pushes it: moved, or copied when the step reads it afterwards.
    pub pushed: Vec<TokenStream>,
}

/// The reverse loop: the steps again, last to first, with what the forward kept.
pub struct BwdLoop {
    pub span: Span,
    /// The loop as the derivation shows it.
    pub text: String,
    pub pattern: TokenStream,
    pub iter: TokenStream,
    pub body: Vec<Bwd>,
}

/// A step of a backward part.
pub enum Bwd {
    Stmt(Stmt),
    If(BwdIf),
    Loop(BwdLoop),
}

/// `if cond { … } else { … }` again, in the backward.
pub struct BwdIf {
    pub span: Span,
    pub cond: TokenStream,
    pub cond_text: String,
    pub branches: [BwdBranch; 2],
}

/// A branch of a backward `if`: the branch's bindings its backward reads, computed again, then
/// its contributions.
pub struct BwdBranch {
    pub recompute: Vec<Fwd>,
    pub body: Vec<Bwd>,
}

/// One statement of the backward part.
#[derive(Clone)]
pub struct Stmt {
    /// The user's binding it comes from, where a type error in it is reported.
    pub span: Span,
    /// For a contribution: the binding and the operand (by position) it is the gradient of.
    pub origin: Option<(usize, usize)>,
    /// The op whose row made it, for the derivation (`matmul`, `operator -`).
    pub note: String,
    /// The forward step it comes from, as the derivation writes it (`h = x · w`).
    pub from: String,
    pub kind: StmtKind,
    /// Its line of the derivation (`d_h = d_score`).
    pub text: String,
}

#[derive(Clone)]
pub enum StmtKind {
    /// `let [mut] d: Shape = expr;`, or `d = expr;` when not `declare` (a gradient a loop
    /// carries, started again at each step).
    Init {
        grad: Ident,
        shape: Shape,
        mutable: bool,
        declare: bool,
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
    /// A loop's bookkeeping (a sequence's gradients gathered, a value carried backwards):
    /// the statement, and nothing for the derivation unless `text` says something.
    Code(TokenStream),
}

impl Stmt {
    /// The gradient this statement starts or adds to; `None` for a call's parts.
    pub fn grad(&self) -> Option<&Ident> {
        match &self.kind {
            StmtKind::Init { grad, .. }
            | StmtKind::Add { grad, .. }
            | StmtKind::InPlace { grad, .. }
            | StmtKind::WithValue { grad } => Some(grad),
            StmtKind::Call { .. } | StmtKind::Code(_) => None,
        }
    }
}

/// Plans the backward pass. `shapes` must be complete (the shape stage reported no error).
pub fn plan(func: &mut Func, shapes: &[Shape]) -> Plan {
    let mut names = func.names.clone();
    let d_out = names.fresh("d_out", Span::call_site());
    let check_locals = (
        names.fresh("grads", Span::call_site()),
        names.fresh("check", Span::call_site()),
        names.fresh("upstream", Span::call_site()),
    );
    let mut planner = Planner::new(func, shapes, names, d_out.clone());
    let top = planner.top_region();
    let built = planner.build(&top, &HashSet::new());
    let mut plan = Plan {
        forward: built.forward,
        backward: built.backward,
        grads: planner.grads,
        d_out,
        check_locals,
    };
    func.names = planner.names;
    mark_accumulated(&mut plan);
    plan
}

// ---- activity ----

/// Which values the output depends on. Every value of a needed `if` counts (the forward
/// computes them together).
fn useful(func: &Func) -> Vec<bool> {
    let mut useful = vec![false; func.values.len()];
    if let Some(o) = output(func) {
        useful[o] = true;
    }
    useful_nodes(func, &func.body, &mut useful);
    useful
}

fn useful_nodes(func: &Func, nodes: &[Node], useful: &mut [bool]) {
    for node in nodes.iter().rev() {
        match node {
            Node::Bind(bi) => {
                let b = &func.bindings[*bi];
                if useful[b.out] {
                    for a in b.args.iter().filter_map(Func::value_of) {
                        useful[a] = true;
                    }
                }
            }
            Node::If(node) => {
                if node.outs.iter().any(|&o| useful[o]) {
                    for &o in &node.outs {
                        useful[o] = true;
                    }
                    for branch in &node.branches {
                        for v in branch.outs.iter().filter_map(Func::value_of) {
                            useful[v] = true;
                        }
                        useful_nodes(func, &branch.body, useful);
                    }
                }
            }
            Node::Loop(node) => {
                if node.carried.iter().any(|c| useful[c.out]) {
                    for c in &node.carried {
                        useful[c.out] = true;
                        useful[c.phi] = true;
                        for v in [&c.init, &c.next].into_iter().filter_map(Func::value_of) {
                            useful[v] = true;
                        }
                    }
                    useful_nodes(func, &node.body, useful);
                }
            }
        }
    }
}

fn output(func: &Func) -> Option<usize> {
    func.output.as_ref().and_then(|(op, _)| Func::value_of(op))
}

/// The output binding, when it is one of the body's own (not a branch's), its row computes
/// the value with its receiver's gradient, and the receiver is its only active operand.
fn fused_value(func: &Func, active: &[bool]) -> Option<usize> {
    let o = output(func)?;
    let bi = func.body.iter().find_map(|n| match n {
        Node::Bind(bi) if func.bindings[*bi].out == o => Some(*bi),
        _ => None,
    })?;
    let b = &func.bindings[bi];
    let receiver_only = b
        .args
        .iter()
        .enumerate()
        .all(|(i, a)| Func::value_of(a).is_some_and(|v| active[v]) == (i == 0));
    (b.op.with_backward && active[o] && receiver_only).then_some(bi)
}

/// The values a node defines: a binding's, an `if`'s (not its branches'), a loop's carried
/// variables after it.
fn defined(func: &Func, node: &Node) -> Vec<usize> {
    match node {
        Node::Bind(bi) => vec![func.bindings[*bi].out],
        Node::If(node) => node.outs.clone(),
        Node::Loop(node) => node.carried.iter().map(|c| c.out).collect(),
    }
}

/// The values a node reads from outside it.
fn node_reads(func: &Func, node: &Node) -> Vec<usize> {
    match node {
        Node::Bind(bi) => func.bindings[*bi]
            .args
            .iter()
            .filter_map(Func::value_of)
            .collect(),
        Node::If(nested) => if_reads(func, nested),
        Node::Loop(l) => loops::loop_reads(func, l),
    }
}

/// The values an `if` reads from outside it: its condition's, and those its branches read that
/// they do not define.
fn if_reads(func: &Func, node: &IfNode) -> Vec<usize> {
    let mut inside = HashSet::new();
    let mut read = Vec::new();
    collect_reads(
        func,
        &node.branches.each_ref().map(|b| b),
        &mut inside,
        &mut read,
    );
    let mut out: Vec<usize> = node.cond_values.clone();
    out.extend(read.into_iter().filter(|v| !inside.contains(v)));
    out.sort_unstable();
    out.dedup();
    out
}

fn collect_reads(
    func: &Func,
    branches: &[&crate::ir::Branch; 2],
    inside: &mut HashSet<usize>,
    read: &mut Vec<usize>,
) {
    for branch in branches {
        for node in &branch.body {
            inside.extend(defined(func, node));
            match node {
                Node::If(nested) => {
                    read.extend(nested.cond_values.iter().copied());
                    collect_reads(func, &nested.branches.each_ref().map(|b| b), inside, read);
                }
                other => read.extend(node_reads(func, other)),
            }
        }
        read.extend(branch.outs.iter().filter_map(Func::value_of));
    }
}

// ---- phase 1: the regions, their items, and the gradients' names ----

/// A region of generated code (the body, a branch), before ownership is decided.
struct Region<'f> {
    /// The values it defines itself.
    own: HashSet<usize>,
    /// Its forward steps (the forward pass, or a branch's bindings computed again).
    forward: Vec<FItem<'f>>,
    /// Its backward items.
    backward: Vec<Item<'f>>,
    /// Statements at its end that take their operands (moved, or copied when they cannot be):
    /// what a branch gives for the `if`'s values; what a loop's step keeps, and assigns.
    tail: Vec<Vec<Operand>>,
}

enum FItem<'f> {
    Bind(usize),
    /// An `if`, with the forward region of each branch.
    If(&'f IfNode, Box<[Region<'f>; 2]>),
    /// A loop, with the forward region of its body.
    Loop(&'f LoopNode, Box<Region<'f>>),
}

enum Item<'f> {
    /// `let parts = callee_backward(…)` for a call binding.
    Call {
        binding: usize,
        parts: Ident,
    },
    Contribution(Planned),
    /// A gradient passed on whole: an `if`'s value's to the branch's operand for it, a
    /// carried variable's to the value a step assigned it or to its initial value.
    Seed {
        from: usize,
        target: usize,
        start: Start,
        span: Span,
        /// For the derivation: why the gradient is passed on, and the step it stands for.
        note: &'static str,
        step: String,
    },
    /// The gradient of a value from outside a region, declared (zero) before it; or, with
    /// `declare` false, a carried gradient that a step of a loop did not reach, zeroed.
    Zeros {
        value: usize,
        span: Span,
        /// For the derivation: why it is zero here.
        note: &'static str,
        declare: bool,
    },
    /// A loop's bookkeeping statement (or a carried gradient's copy), with what it uses.
    Code {
        stmt: Stmt,
        uses: Uses,
    },
    /// A loop's bookkeeping that moves a value when it may: `let mut v = value;` (or
    /// `v = value;` when not `declare`), for a value carried backwards through a reverse loop.
    Carry {
        var: Ident,
        value: usize,
        declare: bool,
        span: Span,
    },
    If {
        node: &'f IfNode,
        branches: Box<[Region<'f>; 2]>,
        /// The `if`'s values whose gradients flow into it.
        phis: Vec<usize>,
        /// The values from outside it that it reads.
        reads: Vec<usize>,
    },
    Loop {
        node: &'f LoopNode,
        body: Box<Region<'f>>,
        header: loops::Header,
        /// The values from outside it that it reads, and the carried gradients it updates.
        uses: Uses,
    },
}

struct Planner<'f> {
    func: &'f Func,
    shapes: &'f [Shape],
    active: Vec<bool>,
    useful: Vec<bool>,
    fused: Option<usize>,
    d_out: Ident,
    grads: Vec<Option<Ident>>,
    names: Names,
    /// The carried variables of the loop body being swept whose gradient the step has not
    /// started again yet.
    pending: HashSet<usize>,
    /// What each loop's forward keeps, by the loop's node.
    tapes: Vec<(*const LoopNode, loops::Tape)>,
}

impl<'f> Planner<'f> {
    fn new(func: &'f Func, shapes: &'f [Shape], names: Names, d_out: Ident) -> Self {
        let varied = crate::ir::varied(func);
        let useful = useful(func);
        let active: Vec<bool> = (0..func.values.len())
            .map(|v| varied[v] && useful[v])
            .collect();
        let mut grads = vec![None; func.values.len()];
        if let Some(o) = output(func).filter(|&o| active[o]) {
            grads[o] = Some(d_out.clone());
        }
        Planner {
            func,
            shapes,
            fused: fused_value(func, &active),
            active,
            useful,
            d_out,
            grads,
            names,
            pending: HashSet::new(),
            tapes: Vec::new(),
        }
    }

    fn top_region(&mut self) -> Region<'f> {
        let body = &self.func.body;
        // The backward first: it decides what each loop's forward keeps.
        let backward = self.sweep(body);
        let mut own: HashSet<usize> = body.iter().flat_map(|n| defined(self.func, n)).collect();
        // A loop's carried gradients live around it.
        for n in body {
            if let Node::Loop(l) = n {
                own.extend(l.carried.iter().map(|c| c.phi));
            }
        }
        Region {
            own,
            forward: self.forward_items(body),
            backward,
            tail: Vec::new(),
        }
    }

    /// The forward steps of the nodes the output needs, in order.
    fn forward_items(&self, nodes: &'f [Node]) -> Vec<FItem<'f>> {
        nodes
            .iter()
            .filter(|n| defined(self.func, n).iter().any(|&v| self.useful[v]))
            .map(|n| match n {
                Node::Bind(bi) => FItem::Bind(*bi),
                Node::If(node) => {
                    FItem::If(node, Box::new([0, 1].map(|k| self.branch_forward(node, k))))
                }
                Node::Loop(node) => FItem::Loop(node, Box::new(self.loop_forward(node))),
            })
            .collect()
    }

    /// A branch of the forward pass: its needed bindings, and what it gives.
    fn branch_forward(&self, node: &'f IfNode, k: usize) -> Region<'f> {
        let branch = &node.branches[k];
        Region {
            own: branch
                .body
                .iter()
                .flat_map(|n| defined(self.func, n))
                .collect(),
            forward: self.forward_items(&branch.body),
            backward: Vec::new(),
            tail: vec![branch.outs.clone()],
        }
    }

    /// The backward items of some nodes, visited in reverse.
    fn sweep(&mut self, nodes: &'f [Node]) -> Vec<Item<'f>> {
        let mut items = Vec::new();
        for node in nodes.iter().rev() {
            match node {
                Node::Bind(bi) => self.binding_items(*bi, &mut items),
                Node::If(node) => self.if_items(node, &mut items),
                Node::Loop(node) => self.loop_items(node, &mut items),
            }
        }
        items
    }

    /// The gradient of a value, named when it does not have one yet; and whether a statement
    /// starts it (or, for a carried variable in a loop's step, starts it again) or adds to it.
    fn grad_of(&mut self, v: usize) -> (Ident, Start) {
        if self.pending.remove(&v) {
            if let Some(g) = &self.grads[v] {
                return (g.clone(), Start::Again);
            }
        }
        match &self.grads[v] {
            Some(g) => (g.clone(), Start::Add),
            None => {
                let g = self.names.gradient(&self.func.values[v].name);
                self.grads[v] = Some(g.clone());
                (g, Start::New)
            }
        }
    }

    fn binding_items(&mut self, bi: usize, items: &mut Vec<Item<'f>>) {
        let b = &self.func.bindings[bi];
        if !self.active[b.out] || self.grads[b.out].is_none() {
            return;
        }
        let parts = (b.op.form == Form::Call).then(|| {
            let name = format!("{}_grads", self.func.values[b.out].name);
            self.names.fresh(&name, b.op_span)
        });
        if let Some(parts) = &parts {
            items.push(Item::Call {
                binding: bi,
                parts: parts.clone(),
            });
        }
        for i in self.ordered_operands(bi) {
            let target = Func::value_of(&b.args[i]).unwrap_or_default();
            let (grad, start) = self.grad_of(target);
            items.push(Item::Contribution(Planned {
                binding: bi,
                operand: i,
                target,
                grad,
                start,
                parts: parts.clone(),
                with_value: Some(bi) == self.fused,
            }));
        }
    }

    /// The active operands of binding `bi`, ordered so that the contribution that can best use
    /// the incoming gradient's buffer comes last: a plain pass-through last of all, then those
    /// built in a buffer of the gradient's shape, and first those that reduce it.
    fn ordered_operands(&self, bi: usize) -> Vec<usize> {
        let b = &self.func.bindings[bi];
        let out_shape = &self.shapes[b.out];
        let mut operands: Vec<(usize, u8)> = (0..b.args.len())
            .filter_map(|i| {
                let v = Func::value_of(&b.args[i]).filter(|&v| self.active[v])?;
                let full = self.shapes[v] == *out_shape;
                let takes_g =
                    b.op.grad
                        .uses(i, b.args.len(), full)
                        .contains(&vjp::take(Slot::Grad));
                let pass = full && is_pass_through(b.op, i);
                Some((i, u8::from(takes_g) + u8::from(pass)))
            })
            .collect();
        operands.sort_by_key(|&(_, benefit)| benefit);
        operands.into_iter().map(|(i, _)| i).collect()
    }

    /// An `if` in the backward: the gradients of outside values it adds to, declared before
    /// it; then each branch's backward region.
    fn if_items(&mut self, node: &'f IfNode, items: &mut Vec<Item<'f>>) {
        let phis: Vec<usize> = node
            .outs
            .iter()
            .copied()
            .filter(|&o| self.active[o] && self.grads[o].is_some())
            .collect();
        if phis.is_empty() {
            return;
        }
        for v in if_reads(self.func, node) {
            if !self.active[v] {
                continue;
            }
            // A gradient carried through a loop that a branch may start again: zero before
            // the `if`, added to by either branch.
            let again = self.pending.remove(&v);
            if again || self.grads[v].is_none() {
                self.grad_of(v);
                items.push(Item::Zeros {
                    value: v,
                    span: node.span,
                    note: if again {
                        "zero again before the `if`: either branch may start it"
                    } else {
                        "declared before the `if`"
                    },
                    declare: !again,
                });
            }
        }
        let branches = Box::new([0, 1].map(|k| self.branch_backward(node, k, &phis)));
        let reads = self.branch_reads(node, &branches);
        items.push(Item::If {
            node,
            branches,
            phis,
            reads,
        });
    }

    /// The values from outside an `if` that its backward reads: its condition's, and those
    /// that the branches' recomputed bindings and contributions read.
    fn branch_reads(&self, node: &IfNode, branches: &[Region<'f>; 2]) -> Vec<usize> {
        let mut out = node.cond_values.clone();
        for b in branches {
            for (t, _) in self.statements(b).into_iter().flatten() {
                if let Tracked::Value(v) = t {
                    if !b.own.contains(&v) {
                        out.push(v);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A branch of the backward: the gradients of the `if`'s values passed to the branch's
    /// operands, its contributions, and the bindings they read, computed again.
    fn branch_backward(&mut self, node: &'f IfNode, k: usize, phis: &[usize]) -> Region<'f> {
        let branch = &node.branches[k];
        let mut backward = Vec::new();
        for (j, &out) in node.outs.iter().enumerate() {
            let target = branch.outs.get(j).and_then(Func::value_of);
            if let Some(t) = target.filter(|&t| phis.contains(&out) && self.active[t]) {
                let (_, start) = self.grad_of(t);
                backward.push(Item::Seed {
                    from: out,
                    target: t,
                    start,
                    span: node.span,
                    note: "the branch taken",
                    step: format!("{} = the `if`'s value", self.func.values[out].name),
                });
            }
        }
        backward.extend(self.sweep(&branch.body));
        let forward = self.recompute(&branch.body, &backward);
        Region {
            own: branch
                .body
                .iter()
                .flat_map(|n| defined(self.func, n))
                .collect(),
            forward,
            backward,
            tail: Vec::new(),
        }
    }

    /// The bindings of a branch that its backward reads, and what they depend on, in order.
    fn recompute(&self, nodes: &'f [Node], backward: &[Item<'f>]) -> Vec<FItem<'f>> {
        let mut need: HashSet<usize> = backward
            .iter()
            .flat_map(|item| self.item_uses(item))
            .filter_map(|(t, _)| match t {
                Tracked::Value(v) => Some(v),
                Tracked::Grad(_) => None,
            })
            .collect();
        let mut keep = vec![false; nodes.len()];
        for (n, node) in nodes.iter().enumerate().rev() {
            if defined(self.func, node).iter().any(|v| need.contains(v)) {
                keep[n] = true;
                need.extend(node_reads(self.func, node));
            }
        }
        nodes
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(n, _)| match n {
                Node::Bind(bi) => FItem::Bind(*bi),
                Node::If(nested) => FItem::If(
                    nested,
                    Box::new([0, 1].map(|k| self.branch_forward(nested, k))),
                ),
                Node::Loop(l) => FItem::Loop(l, Box::new(self.loop_forward(l))),
            })
            .collect()
    }

    /// What a backward item uses, for the schedule.
    fn item_uses(&self, item: &Item<'f>) -> Uses {
        let (func, shapes) = (self.func, self.shapes);
        match item {
            Item::Call { binding, .. } => schedule::call_uses(func, *binding),
            // Its uses are the forward binding's.
            Item::Contribution(p) if p.with_value => Vec::new(),
            Item::Contribution(p) => {
                schedule::contribution_uses(func, shapes, p.binding, p.operand)
            }
            Item::Seed { from, .. } => vec![(Tracked::Grad(*from), Mode::Take)],
            Item::Zeros { .. } => Vec::new(),
            Item::Code { uses, .. } | Item::Loop { uses, .. } => uses.clone(),
            Item::Carry { value, .. } => vec![(Tracked::Value(*value), Mode::Take)],
            Item::If { phis, reads, .. } => phis
                .iter()
                .map(|&p| (Tracked::Grad(p), Mode::Take))
                .chain(schedule::reads(reads.iter().copied()))
                .collect(),
        }
    }
}

/// The contribution to operand `i` is the incoming gradient itself.
fn is_pass_through(op: &crate::table::Op, i: usize) -> bool {
    matches!(&op.grad, vjp::Grad::Entrywise(e) if e.derivatives.get(i) == Some(&"g"))
}

// ---- phase 2: ownership, then the statements ----

/// A region's code.
struct Built {
    forward: Vec<Fwd>,
    backward: Vec<Bwd>,
    /// The expressions of the operands of its tail statements.
    tail: Vec<Vec<TokenStream>>,
}

impl<'f> Planner<'f> {
    /// The uses of every statement of a region, in order: its forward steps, its backward
    /// items, and, for a branch's forward pass, what it gives.
    fn statements(&self, region: &Region<'f>) -> Vec<Uses> {
        let mut all: Vec<Uses> = region
            .forward
            .iter()
            .map(|f| match f {
                FItem::Bind(bi) => schedule::forward_uses(self.func, *bi, Some(*bi) == self.fused),
                FItem::If(node, _) => schedule::reads(if_reads(self.func, node)),
                FItem::Loop(node, _) => loops::forward_uses(self.func, node),
            })
            .collect();
        all.extend(region.backward.iter().map(|i| self.item_uses(i)));
        for taken in &region.tail {
            let local = taken.iter().filter_map(Func::value_of);
            all.push(local.map(|v| (Tracked::Value(v), Mode::Take)).collect());
        }
        all
    }

    /// A region's code. `inherited`: what the enclosing region lets this one move (the
    /// gradients of an `if`'s values, into the branch that runs).
    fn build(&self, region: &Region<'f>, inherited: &HashSet<Tracked>) -> Built {
        let statements = self.statements(region);
        let own = |t: Tracked| {
            let local = match t {
                Tracked::Value(v) | Tracked::Grad(v) => region.own.contains(&v),
            };
            (local || inherited.contains(&t)) && schedule::movable(self.func, self.shapes, t)
        };
        let grants = schedule::grant(&statements, &own);
        let offset = region.forward.len();
        let spares = self.spares(region, &statements, &grants, &own);
        let (statements, grants) = (&statements, &grants);
        let moves = |s: usize| move |t: Tracked| schedule::granted(statements, grants, s, t);
        let forward = self.build_forward(region, &moves);
        // The contribution computed with the value consumes what its forward binding does.
        let fused_statement = region
            .forward
            .iter()
            .position(|f| matches!(f, FItem::Bind(bi) if Some(*bi) == self.fused));
        let backward = region
            .backward
            .iter()
            .enumerate()
            .map(|(k, item)| match (item, fused_statement) {
                (Item::Contribution(p), Some(s)) if p.with_value => {
                    Bwd::Stmt(self.with_value(p, &moves(s)))
                }
                _ => self.build_item(item, &moves(offset + k), spares[offset + k].as_ref()),
            })
            .collect();
        let first_tail = statements.len() - region.tail.len();
        let tail = region
            .tail
            .iter()
            .enumerate()
            .map(|(k, ops)| {
                let moves = moves(first_tail + k);
                ops.iter().map(|op| self.branch_out(op, &moves)).collect()
            })
            .collect();
        Built {
            forward,
            backward,
            tail,
        }
    }

    /// The spare buffer each statement of a region writes its product over, by name: a
    /// contribution that starts a gradient with a product asks for a dead matrix of its
    /// gradient's shape (`schedule::spares`).
    fn spares(
        &self,
        region: &Region<'f>,
        statements: &[Uses],
        grants: &[Vec<bool>],
        own: &dyn Fn(Tracked) -> bool,
    ) -> Vec<Option<Ident>> {
        let mut wants: Vec<Option<Shape>> = vec![None; region.forward.len()];
        wants.extend(region.backward.iter().map(|item| match item {
            Item::Contribution(p)
                if !p.with_value
                    && p.start != Start::Add
                    && schedule::wants_spare(self.func, self.shapes, p.binding, p.operand) =>
            {
                Some(self.shapes[p.target].clone())
            }
            _ => None,
        }));
        wants.resize(statements.len(), None);
        let fits = |t: Tracked, shape: &Shape| match t {
            Tracked::Value(v) => own(t) && self.shapes[v] == *shape,
            Tracked::Grad(_) => false,
        };
        schedule::spares(statements, grants, &wants, &fits)
            .into_iter()
            .map(|t| match t {
                Some(Tracked::Value(v)) => Some(self.func.values[v].name.clone()),
                _ => None,
            })
            .collect()
    }

    fn build_forward<M: Fn(Tracked) -> bool>(
        &self,
        region: &Region<'f>,
        moves: &dyn Fn(usize) -> M,
    ) -> Vec<Fwd> {
        region
            .forward
            .iter()
            .enumerate()
            .map(|(s, f)| match f {
                FItem::Bind(bi) => Fwd::Bind(self.forward_step(*bi, &moves(s))),
                FItem::If(node, branches) => Fwd::If(FwdIf {
                    span: node.span,
                    cond: node.cond.clone(),
                    cond_text: node.cond_text.clone(),
                    outs: node.outs.clone(),
                    branches: branches.each_ref().map(|b| {
                        let built = self.build(b, &HashSet::new());
                        FwdBranch {
                            body: built.forward,
                            outs: built.tail.into_iter().next().unwrap_or_default(),
                        }
                    }),
                }),
                FItem::Loop(node, body) => {
                    Fwd::Loop(self.build_forward_loop(node, body, &moves(s)))
                }
            })
            .collect()
    }

    fn forward_step(&self, bi: usize, moves: &dyn Fn(Tracked) -> bool) -> Forward {
        let b = &self.func.bindings[bi];
        let consumes = b
            .args
            .iter()
            .map(|a| Func::value_of(a).is_some_and(|v| moves(Tracked::Value(v))))
            .collect();
        let with_grad = (Some(bi) == self.fused)
            .then(|| Func::value_of(&b.args[0]))
            .flatten()
            .and_then(|v| self.grads[v].clone())
            .map(|g| (g, false));
        Forward {
            binding: bi,
            consumes,
            with_grad,
        }
    }

    fn cx(&self) -> steps::Cx<'_> {
        steps::Cx {
            func: self.func,
            shapes: self.shapes,
            grads: &self.grads,
            d_out: &self.d_out,
        }
    }

    fn build_item(
        &self,
        item: &Item<'f>,
        moves: &dyn Fn(Tracked) -> bool,
        spare: Option<&Ident>,
    ) -> Bwd {
        let cx = self.cx();
        match item {
            Item::Call { binding, parts } => Bwd::Stmt(steps::call(&cx, *binding, parts)),
            Item::Contribution(p) => Bwd::Stmt(steps::contribution(&cx, p, moves, spare)),
            Item::Seed {
                from,
                target,
                start,
                span,
                note,
                step,
            } => Bwd::Stmt(steps::seed(
                &cx,
                &steps::Seed {
                    from: *from,
                    target: *target,
                    start: *start,
                    owned: moves(Tracked::Grad(*from)),
                    span: *span,
                    note,
                    step: step.clone(),
                },
            )),
            Item::Zeros {
                value,
                span,
                note,
                declare,
            } => {
                let grad = self.grads[*value]
                    .clone()
                    .unwrap_or_else(|| self.d_out.clone());
                Bwd::Stmt(steps::zeros(&cx, *value, &grad, (*span, note), *declare))
            }
            Item::Code { stmt, .. } => Bwd::Stmt(stmt.clone()),
            Item::Carry {
                var,
                value,
                declare,
                span,
            } => Bwd::Stmt(self.carry(var, *value, *declare, moves, *span)),
            Item::Loop {
                node, body, header, ..
            } => Bwd::Loop(self.build_backward_loop(node, body, header)),
            Item::If {
                node,
                branches,
                phis,
                ..
            } => Bwd::If(self.build_backward_if(node, branches, phis, moves)),
        }
    }

    /// An `if` of the backward: each branch may move the gradients of the `if`'s values that
    /// the enclosing region lets it move.
    fn build_backward_if(
        &self,
        node: &IfNode,
        branches: &[Region<'f>; 2],
        phis: &[usize],
        moves: &dyn Fn(Tracked) -> bool,
    ) -> BwdIf {
        let inherited: HashSet<Tracked> = phis
            .iter()
            .map(|&p| Tracked::Grad(p))
            .filter(|&t| moves(t))
            .collect();
        BwdIf {
            span: node.span,
            cond: node.cond.clone(),
            cond_text: node.cond_text.clone(),
            branches: branches.each_ref().map(|b| {
                let built = self.build(b, &inherited);
                BwdBranch {
                    recompute: built.forward,
                    body: built.backward,
                }
            }),
        }
    }

    /// The contribution the forward binding computes with the function's value: a line of the
    /// derivation, consuming what that binding consumes.
    fn with_value(&self, p: &Planned, moves: &dyn Fn(Tracked) -> bool) -> Stmt {
        let mut stmt = steps::contribution(&self.cx(), p, moves, None);
        stmt.kind = StmtKind::WithValue {
            grad: p.grad.clone(),
        };
        stmt
    }

    /// What a branch gives for one of the `if`'s values: its own value moved out, a value from
    /// outside the branch copied, a constant as it is.
    fn branch_out(&self, op: &Operand, moves: &dyn Fn(Tracked) -> bool) -> TokenStream {
        let (func, shapes) = (self.func, self.shapes);
        match op {
            Operand::Value(v)
                if matches!(shapes[*v], Shape::Mat(..)) && !moves(Tracked::Value(*v)) =>
            {
                let name = &func.values[*v].name;
                quote::quote!(#name.clone())
            }
            other => steps::receiver(func, other),
        }
    }
}

/// A gradient that receives more than one contribution is declared `mut`.
fn mark_accumulated(plan: &mut Plan) {
    let mut added = Vec::new();
    added_to(&plan.backward, &mut added);
    mark_inits(&mut plan.backward, &added);
    mark_forward(&mut plan.forward, &added);
}

/// The gradients added to, or started again by a loop's step.
fn added_to(items: &[Bwd], added: &mut Vec<Ident>) {
    for item in items {
        match item {
            Bwd::Stmt(s) => match &s.kind {
                StmtKind::Add { grad, .. }
                | StmtKind::InPlace { grad, .. }
                | StmtKind::Init {
                    grad,
                    declare: false,
                    ..
                } => {
                    added.push(grad.clone());
                }
                _ => {}
            },
            Bwd::If(i) => i.branches.iter().for_each(|b| added_to(&b.body, added)),
            Bwd::Loop(l) => added_to(&l.body, added),
        }
    }
}

fn mark_inits(items: &mut [Bwd], added: &[Ident]) {
    for item in items {
        match item {
            Bwd::Stmt(s) => {
                if let StmtKind::Init { grad, mutable, .. } = &mut s.kind {
                    *mutable |= added.contains(grad);
                }
            }
            Bwd::If(i) => i
                .branches
                .iter_mut()
                .for_each(|b| mark_inits(&mut b.body, added)),
            Bwd::Loop(l) => mark_inits(&mut l.body, added),
        }
    }
}

fn mark_forward(items: &mut [Fwd], added: &[Ident]) {
    for item in items {
        if let Fwd::Bind(f) = item {
            if let Some((grad, mutable)) = &mut f.with_grad {
                *mutable = added.contains(grad);
            }
        }
    }
}
