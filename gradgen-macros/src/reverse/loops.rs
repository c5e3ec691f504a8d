//! Part of stage 4 (reverse): loops, differentiated into reverse loops.
//!
//! Input: a [`LoopNode`] whose shapes are known. Output: the loop's forward (its carried
//! variables declared before it, its body, and a tape: what each step keeps for the backward,
//! one entry per step, allocated once) and its backward: a reverse loop over the same steps,
//! last to first, around the body's contributions.
//!
//! Guarantees:
//! - A carried variable's gradient is carried the same way, backwards: before the reverse
//!   loop it is the gradient of the variable's value after the loop; each step passes it to the
//!   value the step assigned, then starts it again from the step's contributions to the
//!   variable's value at the start of the step (zero when there are none); after the loop it is
//!   the gradient of the initial value.
//! - The gradients of values from outside the loop (weights used at every step) are declared
//!   before the reverse loop and accumulated in place; a sequence's gradients are gathered one
//!   per step and come back in sequence order, zero for the steps `zip` never reached.
//! - The tape keeps only what the backward reads: a value the body computed, or a carried
//!   variable's value at the start of a step. A value that a step assigns to a carried
//!   variable is not kept twice: the reverse loop carries it backwards (it is the variable's
//!   value at the start of the following step). Elements are read again from their sequences.

use std::collections::HashSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::{defined, node_reads, Item, Planner, Region};
use crate::ir::{Carried, Func, LoopNode, Operand, Shape, Source};
use crate::reverse::{BwdLoop, FwdLoop, FwdTape, Stmt, StmtKind};
use crate::schedule::{Tracked, Uses};
use crate::vjp::Mode;

/// What a loop's forward keeps for its backward.
#[derive(Clone, Default)]
pub struct Tape {
    pub name: Option<Ident>,
    pub values: Vec<usize>,
}

/// `for #pattern in #iter` of a reverse loop, and how the derivation shows it.
pub struct Header {
    pattern: TokenStream,
    iter: TokenStream,
    text: String,
}

/// The values the body reads from outside the loop (not the elements, not the carried
/// variables' values inside it).
fn body_reads(func: &Func, node: &LoopNode) -> Vec<usize> {
    let mut inside: HashSet<usize> = node.carried.iter().map(|c| c.phi).collect();
    inside.extend(elements(node).into_iter().map(|(_, e)| e));
    let mut read = Vec::new();
    for n in &node.body {
        read.extend(node_reads(func, n));
        inside.extend(defined(func, n));
    }
    read.extend(node.carried.iter().filter_map(|c| Func::value_of(&c.next)));
    let mut out: Vec<usize> = read.into_iter().filter(|v| !inside.contains(v)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Every value a loop reads from outside it: the carried variables' initial values, the
/// sequences, and what the body reads.
pub(super) fn loop_reads(func: &Func, node: &LoopNode) -> Vec<usize> {
    let mut out = body_reads(func, node);
    out.extend(node.carried.iter().filter_map(|c| Func::value_of(&c.init)));
    out.extend(sequences(node));
    out.sort_unstable();
    out.dedup();
    out
}

/// The forward loop takes the initial values (into its carried variables) and reads the rest.
pub(super) fn forward_uses(func: &Func, node: &LoopNode) -> Uses {
    let inits: Vec<usize> = node
        .carried
        .iter()
        .filter_map(|c| Func::value_of(&c.init))
        .collect();
    let mut uses: Uses = inits
        .iter()
        .map(|&v| (Tracked::Value(v), Mode::Take))
        .collect();
    let reads = body_reads(func, node).into_iter().chain(sequences(node));
    uses.extend(reads.map(|v| (Tracked::Value(v), Mode::Borrow)));
    uses
}

fn sequences(node: &LoopNode) -> Vec<usize> {
    match &node.source {
        Source::Seqs(seqs) => seqs.iter().map(|&(s, _)| s).collect(),
        Source::Count { .. } => Vec::new(),
    }
}

/// The values bound at each step (elements, and the index), with their sequence (`None` for
/// the index).
fn elements(node: &LoopNode) -> Vec<(Option<usize>, usize)> {
    let mut out: Vec<(Option<usize>, usize)> = match &node.source {
        Source::Seqs(seqs) => seqs
            .iter()
            .filter_map(|&(s, e)| Some((Some(s), e?)))
            .collect(),
        Source::Count { .. } => Vec::new(),
    };
    out.extend(node.index.map(|i| (None, i)));
    out
}

/// A statement of a loop's bookkeeping, with no line in the derivation.
fn code(tokens: TokenStream, span: Span) -> Stmt {
    Stmt {
        span,
        origin: None,
        note: String::new(),
        from: String::new(),
        kind: StmtKind::Code(tokens),
        text: String::new(),
    }
}

impl<'f> Planner<'f> {
    /// The forward region of a loop's body: its bindings, then the tape's entry for the step
    /// and the carried variables' new values.
    pub(super) fn loop_forward(&self, node: &'f LoopNode) -> Region<'f> {
        let tape = self.tape(node);
        let mut own: HashSet<usize> = node.carried.iter().map(|c| c.phi).collect();
        own.extend(node.body.iter().flat_map(|n| defined(self.func, n)));
        Region {
            own,
            forward: self.forward_items(&node.body),
            backward: Vec::new(),
            tail: vec![
                tape.values.iter().map(|&v| Operand::Value(v)).collect(),
                node.carried.iter().map(|c| c.next.clone()).collect(),
            ],
        }
    }

    fn tape(&self, node: &LoopNode) -> Tape {
        let key: *const LoopNode = node;
        self.tapes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }

    /// A loop in the backward: what is declared before the reverse loop, the reverse loop, and
    /// what follows it.
    pub(super) fn loop_items(&mut self, node: &'f LoopNode, items: &mut Vec<Item<'f>>) {
        let carried: Vec<&'f Carried> =
            node.carried.iter().filter(|c| self.active[c.out]).collect();
        if carried.is_empty() {
            return;
        }
        for c in &carried {
            self.carried_grad(c, node.span, items);
        }
        for v in body_reads(self.func, node) {
            if self.active[v] && self.grads[v].is_none() {
                self.grad_of(v);
                items.push(Item::Zeros {
                    value: v,
                    span: node.span,
                    note: "declared before the loop",
                    declare: true,
                });
            }
        }
        let gathered = self.sequence_grads(node, items);
        let (body, header, carried_back) = self.reverse_body(node, &carried);
        for &(v, c) in &carried_back {
            items.push(Item::Carry {
                var: self.func.values[v].name.clone(),
                value: c.out,
                declare: true,
                span: node.span,
            });
        }
        let mut uses: Uses = loop_reads(self.func, node)
            .into_iter()
            .map(|v| (Tracked::Value(v), Mode::Borrow))
            .collect();
        uses.extend(carried.iter().map(|c| (Tracked::Grad(c.phi), Mode::Borrow)));
        items.push(Item::Loop {
            node,
            body: Box::new(body),
            header,
            uses,
        });
        self.after_loop(node, &carried, &gathered, items);
    }

    /// The variable a carried gradient lives in: the gradient of the variable's value after
    /// the loop, when the backward owns it; a copy of the function's `d_out`; or zero.
    fn carried_grad(&mut self, c: &Carried, span: Span, items: &mut Vec<Item<'f>>) {
        let name = self.func.values[c.out].name.clone();
        let g = match self.grads[c.out].clone() {
            Some(g) if g != self.d_out => g,
            Some(d_out) => {
                let g = self.names.gradient(&name);
                let copy = if self.shapes[c.out] == Shape::Scalar {
                    quote!(#d_out)
                } else {
                    quote!(#d_out.clone())
                };
                let stmt = Stmt {
                    span,
                    origin: None,
                    note: "carried through the loop, backwards".to_owned(),
                    from: String::new(),
                    kind: StmtKind::Init {
                        grad: g.clone(),
                        shape: self.shapes[c.out].clone(),
                        mutable: true,
                        declare: true,
                        expr: copy,
                    },
                    text: format!("{g} = {d_out}"),
                };
                items.push(Item::Code {
                    stmt,
                    uses: Vec::new(),
                });
                g
            }
            None => {
                let g = self.names.gradient(&name);
                self.grads[c.phi] = Some(g.clone());
                items.push(Item::Zeros {
                    value: c.phi,
                    span,
                    note: "declared before the loop",
                    declare: true,
                });
                g
            }
        };
        self.grads[c.phi] = Some(g);
    }

    /// `let mut d_xs = Vec::with_capacity(xs.len());` for each differentiated sequence whose
    /// elements the body differentiates. Returns those sequences with their elements.
    fn sequence_grads(
        &mut self,
        node: &LoopNode,
        items: &mut Vec<Item<'f>>,
    ) -> Vec<(usize, usize)> {
        let mut gathered = Vec::new();
        for (seq, e) in elements(node) {
            let Some(seq) = seq.filter(|_| self.active[e]) else {
                continue;
            };
            let (g, _) = self.grad_of(seq);
            let name = &self.func.values[seq].name;
            let stmt = code(
                quote!(let mut #g = ::std::vec::Vec::with_capacity(#name.len());),
                node.span,
            );
            items.push(Item::Code {
                stmt,
                uses: Vec::new(),
            });
            gathered.push((seq, e));
        }
        gathered
    }

    /// After the reverse loop: each sequence's gradients in sequence order (zero for the tail
    /// `zip` never reached), and each carried gradient passed to the variable's initial value.
    fn after_loop(
        &mut self,
        node: &LoopNode,
        carried: &[&Carried],
        gathered: &[(usize, usize)],
        items: &mut Vec<Item<'f>>,
    ) {
        let zipped = sequences(node).len() > 1;
        for &(seq, _) in gathered {
            let g = self.grads[seq].clone();
            let name = &self.func.values[seq].name;
            let mat = &self.func.mat_path;
            let tokens = if zipped {
                quote! {
                    #g.reverse();
                    #g.resize_with(#name.len(), #mat::zeros);
                }
            } else {
                quote!(#g.reverse();)
            };
            items.push(Item::Code {
                stmt: code(tokens, node.span),
                uses: Vec::new(),
            });
        }
        for c in carried {
            let Some(init) = Func::value_of(&c.init).filter(|&i| self.active[i]) else {
                continue;
            };
            let (_, start) = self.grad_of(init);
            items.push(Item::Seed {
                from: c.phi,
                target: init,
                start,
                span: node.span,
                note: "the value before the loop",
                step: format!(
                    "{} = {} before the loop",
                    self.func.values[c.phi].name, self.func.values[init].name
                ),
            });
        }
    }

    /// The reverse loop's body: each carried gradient passed to the value the step assigned,
    /// the body's contributions in reverse, the carried gradients the step did not reach
    /// zeroed, the elements' gradients gathered, and the values carried backwards. Decides the
    /// tape from what it reads.
    fn reverse_body(
        &mut self,
        node: &'f LoopNode,
        carried: &[&'f Carried],
    ) -> (Region<'f>, Header, Vec<(usize, &'f Carried)>) {
        let mut backward = Vec::new();
        for c in carried {
            let Some(t) = Func::value_of(&c.next).filter(|&t| self.active[t]) else {
                continue;
            };
            let (_, start) = self.grad_of(t);
            backward.push(Item::Seed {
                from: c.phi,
                target: t,
                start,
                span: node.span,
                note: "carried from the next step",
                step: format!(
                    "{} = {} at the end of the step",
                    self.func.values[c.phi].name, self.func.values[t].name
                ),
            });
        }
        self.pending.extend(carried.iter().map(|c| c.phi));
        backward.extend(self.sweep(&node.body));
        for c in carried {
            if self.pending.remove(&c.phi) {
                backward.push(Item::Zeros {
                    value: c.phi,
                    span: node.span,
                    note: "this step does not read it: zero for the step before",
                    declare: false,
                });
            }
        }
        backward.extend(self.gather_elements(node));
        let (tape, carried_back, read) = self.plan_tape(node, carried, &backward);
        for &(v, c) in &carried_back {
            backward.push(Item::Carry {
                var: self.func.values[v].name.clone(),
                value: c.phi,
                declare: false,
                span: node.span,
            });
        }
        let header = self.reverse_header(node, &read, &tape);
        self.tapes.push((node, tape.clone()));
        let mut own: HashSet<usize> = node.carried.iter().map(|c| c.phi).collect();
        own.extend(node.body.iter().flat_map(|n| defined(self.func, n)));
        own.extend(elements(node).into_iter().map(|(_, e)| e));
        let region = Region {
            own,
            forward: Vec::new(),
            backward,
            tail: Vec::new(),
        };
        (region, header, carried_back)
    }

    /// `d_xs.push(d_x);` for each element whose sequence is differentiated (zero when the step
    /// did not reach it).
    fn gather_elements(&mut self, node: &LoopNode) -> Vec<Item<'f>> {
        let mut out = Vec::new();
        for (seq, e) in elements(node) {
            let Some(g_seq) = seq.and_then(|s| self.grads[s].clone()) else {
                continue;
            };
            let (expr, uses) = match &self.grads[e] {
                Some(g) => (quote!(#g), vec![(Tracked::Grad(e), Mode::Take)]),
                None => {
                    let mat = &self.func.mat_path;
                    (quote!(#mat::zeros()), Vec::new())
                }
            };
            out.push(Item::Code {
                stmt: code(quote!(#g_seq.push(#expr);), node.span),
                uses,
            });
        }
        out
    }

    /// What the reverse loop reads, and from where: the tape (values the body computed,
    /// carried variables at the start of a step), values carried backwards (what a step
    /// assigned to a carried variable), the elements.
    fn plan_tape(
        &mut self,
        node: &LoopNode,
        carried: &[&'f Carried],
        backward: &[Item<'f>],
    ) -> (Tape, Vec<(usize, &'f Carried)>, HashSet<usize>) {
        let read: HashSet<usize> = backward
            .iter()
            .flat_map(|i| self.item_uses(i))
            .filter_map(|(t, _)| match t {
                Tracked::Value(v) => Some(v),
                Tracked::Grad(_) => None,
            })
            .collect();
        let computed: HashSet<usize> = node
            .body
            .iter()
            .flat_map(|n| defined(self.func, n))
            .collect();
        let mut carried_back = Vec::new();
        let mut kept: Vec<usize> = Vec::new();
        let mut ids: Vec<usize> = read
            .iter()
            .copied()
            .filter(|v| computed.contains(v))
            .collect();
        ids.sort_unstable();
        for v in ids {
            let assigned: Vec<&&Carried> = carried
                .iter()
                .filter(|c| Func::value_of(&c.next) == Some(v))
                .collect();
            match assigned.as_slice() {
                [c] => carried_back.push((v, **c)),
                _ => kept.push(v),
            }
        }
        let mut values: Vec<usize> = carried
            .iter()
            .map(|c| c.phi)
            .filter(|p| read.contains(p) || carried_back.iter().any(|(_, c)| c.phi == *p))
            .collect();
        values.extend(kept);
        let name = (!values.is_empty()).then(|| self.names.fresh("tape", node.span));
        (Tape { name, values }, carried_back, read)
    }

    /// `for ((x, y), (h, a)) in xs.iter().zip(ys).zip(tape).rev()`: the elements the
    /// backward reads (`_` for the others) and the tape's entry.
    fn reverse_header(&self, node: &LoopNode, read: &HashSet<usize>, tape: &Tape) -> Header {
        let (src_iter, src_pat, src_needed) = self.source(node, false, read);
        let names: Vec<&Ident> = tape
            .values
            .iter()
            .map(|&v| &self.func.values[v].name)
            .collect();
        let tape_pat = match names.as_slice() {
            [one] => quote!(#one),
            many => quote!((#(#many),*)),
        };
        let (pattern, iter) = match (&tape.name, src_needed) {
            (Some(t), true) => (quote!((#src_pat, #tape_pat)), quote!(#src_iter.zip(#t))),
            (Some(t), false) => (tape_pat, quote!(#t.into_iter())),
            (None, _) => (src_pat, src_iter),
        };
        Header {
            pattern,
            iter: quote!(#iter.rev()),
            text: format!("for each step, last to first ({})", self.source_text(node)),
        }
    }

    /// The loop's iterator and pattern, binding the elements in `used` (`_` for the others),
    /// and whether any is bound. `forward`: as the forward writes it (`for x in xs`).
    fn source(
        &self,
        node: &LoopNode,
        forward: bool,
        used: &HashSet<usize>,
    ) -> (TokenStream, TokenStream, bool) {
        let leaf = |e: Option<usize>| match e.filter(|e| used.contains(e)) {
            Some(e) => {
                let name = &self.func.values[e].name;
                (quote!(#name), true)
            }
            None => (quote!(_), false),
        };
        match &node.source {
            Source::Count { range, .. } => {
                let (pat, bound) = leaf(node.index);
                (quote!((#range)), pat, bound)
            }
            Source::Seqs(seqs) => {
                let plain = forward && seqs.len() == 1 && !leaf(node.index).1;
                let mut bound = false;
                let mut iter = TokenStream::new();
                let mut pat = TokenStream::new();
                for (k, &(s, e)) in seqs.iter().enumerate() {
                    let name = &self.func.values[s].name;
                    let (p, b) = leaf(e);
                    bound |= b;
                    if k == 0 {
                        iter = if plain {
                            quote!(#name)
                        } else {
                            quote!(#name.iter())
                        };
                        pat = p;
                    } else {
                        iter = quote!(#iter.zip(#name));
                        pat = quote!((#pat, #p));
                    }
                }
                // The index is bound only when read (`enumerate` is needed for nothing else).
                if let (p, true) = leaf(node.index) {
                    iter = quote!(#iter.enumerate());
                    pat = quote!((#p, #pat));
                    bound = true;
                }
                (iter, pat, bound)
            }
        }
    }

    /// The loop as the user wrote it, for the derivation: `x in xs`, `_ in 0..K`.
    fn source_text(&self, node: &LoopNode) -> String {
        let name = |v: Option<usize>| {
            v.map_or_else(
                || "_".to_owned(),
                |v| self.func.values[v].text.trim_matches('`').to_owned(),
            )
        };
        match &node.source {
            Source::Count { text, .. } => format!("{} in {text}", name(node.index)),
            Source::Seqs(seqs) => {
                let elems: Vec<String> = seqs.iter().map(|&(_, e)| name(e)).collect();
                let seqs: Vec<String> = seqs
                    .iter()
                    .map(|&(s, _)| self.func.values[s].name.to_string())
                    .collect();
                let walked = if seqs.len() == 1 {
                    format!("{} in {}", elems[0], seqs[0])
                } else {
                    format!("({}) in zip({})", elems.join(", "), seqs.join(", "))
                };
                match node.index {
                    Some(i) => format!("{}, step {walked}", name(Some(i))),
                    None => walked,
                }
            }
        }
    }

    /// The number of steps, which a tape is allocated for.
    fn steps_len(&self, node: &LoopNode) -> TokenStream {
        match &node.source {
            Source::Count { len, .. } => len.clone(),
            Source::Seqs(seqs) => {
                let mut lens = seqs.iter().map(|&(s, _)| {
                    let name = &self.func.values[s].name;
                    quote!(#name.len())
                });
                let first = lens.next().unwrap_or_else(|| quote!(0));
                lens.fold(first, |acc, l| quote!(#acc.min(#l)))
            }
        }
    }

    /// The forward loop, once ownership is decided.
    pub(super) fn build_forward_loop(
        &self,
        node: &LoopNode,
        body: &Region<'f>,
        moves: &dyn Fn(Tracked) -> bool,
    ) -> FwdLoop {
        let built = self.build(body, &HashSet::new());
        let used: HashSet<usize> = self
            .statements(body)
            .into_iter()
            .flatten()
            .filter_map(|(t, _)| match t {
                Tracked::Value(v) => Some(v),
                Tracked::Grad(_) => None,
            })
            .collect();
        let (iter, pattern, _) = self.source(node, true, &used);
        let carried = node
            .carried
            .iter()
            .map(|c| (c.out, self.branch_out(&c.init, moves)))
            .collect();
        let mut tail = built.tail.into_iter();
        let pushed = tail.next().unwrap_or_default();
        let nexts = tail.next().unwrap_or_default();
        let tape = self.tape(node);
        let tape = tape.name.map(|name| FwdTape {
            name,
            len: self.steps_len(node),
            values: tape.values,
            pushed,
        });
        FwdLoop {
            span: node.span,
            text: format!("for {}", self.source_text(node)),
            pattern,
            iter,
            carried,
            body: built.forward,
            tape,
            nexts: node.carried.iter().map(|c| c.out).zip(nexts).collect(),
        }
    }

    /// The reverse loop, once ownership is decided.
    pub(super) fn build_backward_loop(
        &self,
        node: &LoopNode,
        body: &Region<'f>,
        header: &Header,
    ) -> BwdLoop {
        let built = self.build(body, &HashSet::new());
        BwdLoop {
            span: node.span,
            text: header.text.clone(),
            pattern: header.pattern.clone(),
            iter: header.iter.clone(),
            body: built.backward,
        }
    }

    /// `let mut var = value;` (or `var = value;`): a value carried backwards, moved when it may.
    pub(super) fn carry(
        &self,
        var: &Ident,
        value: usize,
        declare: bool,
        moves: &dyn Fn(Tracked) -> bool,
        span: Span,
    ) -> Stmt {
        let expr = self.branch_out(&Operand::Value(value), moves);
        let tokens = if declare {
            quote!(let mut #var = #expr;)
        } else {
            quote!(#var = #expr;)
        };
        code(tokens, span)
    }
}
