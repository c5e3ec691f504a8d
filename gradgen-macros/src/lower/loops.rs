//! Part of the lowering: loops.
//!
//! Input: `for PAT in ITER { … }`, where `ITER` walks sequence parameters (`xs`, `xs.iter()`,
//! zipped with `.zip(ys)`) or counts (`0..K`, `0..steps`), and the body assigns `let mut`
//! names declared before the loop. Output: a [`LoopNode`]: the body lowered like the function's
//! (its `let`s stay in it, as in Rust), the elements (or the index) it binds at each step, and
//! every variable it carries, with its value before the loop, at the start of a step, at the
//! end of the body and after the loop. After it, a carried name stands for its value after
//! the loop.
//!
//! Guarantees: a carried variable is a name declared `let mut` before the loop that the body
//! assigns (a name the body declares itself is the body's own); the pattern mirrors the zipped
//! sequences; loops do not nest; `while`, `loop`, `break`, `continue`, labels and iterators
//! other than these are errors that say what to write instead.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Expr, Pat, Stmt};

use super::{is_compound, show, strip_groups, Lower, Reported};
use crate::ir::{Carried, LoopNode, Node, Operand, Source, Value, ValueKind};

/// The names in scope and what they stand for.
type Scope = std::collections::HashMap<String, Option<Operand>>;

/// What each carried name stands for after a loop.
type After = Vec<(String, Operand)>;

/// The forms a loop may take, for messages.
use super::LOOP_FORMS as FORMS;

/// What a loop walks, before its pattern binds the elements.
enum Walk {
    /// The sequence parameters, in zip order (`xs.iter().zip(ys).zip(zs)` is `[xs, ys, zs]`),
    /// and whether they are enumerated (`.enumerate()` last).
    Seqs(Vec<usize>, bool),
    /// `start..end`, its length, and the range as written.
    Count {
        range: TokenStream,
        len: TokenStream,
        text: String,
    },
}

impl Lower<'_, '_> {
    /// A `for` loop: its node, and its carried names in scope after it (poisoned when the
    /// loop failed, so that their uses are not reported again).
    pub(super) fn for_loop(&mut self, f: &syn::ExprForLoop) {
        let carried = self.carried_names(&f.body.stmts);
        match self.lower_loop(f, &carried) {
            Ok((node, after)) => {
                for (name, op) in after {
                    self.scope.insert(name, Some(op));
                }
                self.nodes.push(Node::Loop(node));
            }
            Err(Reported) => {
                for name in carried {
                    self.scope.insert(name, None);
                }
            }
        }
    }

    /// The loop's node, and what each carried name stands for after it.
    fn lower_loop(
        &mut self,
        f: &syn::ExprForLoop,
        carried: &[String],
    ) -> Result<(LoopNode, After), Reported> {
        if let Some(label) = &f.label {
            self.errors.push(
                label.name.to_token_stream(),
                "a differentiable loop takes no label: it runs every step, without `break`",
            );
            return Err(Reported);
        }
        if let Some(region) = self.region {
            self.errors.push(
                f.for_token.span,
                format!("a loop inside {region} is not supported\nhelp: write the loop in a `#[differentiable]` function of its own and call it from here"),
            );
            return Err(Reported);
        }
        let walk = self.walk(&f.expr)?;
        let (source, index) = self.bind_pattern(&walk, &f.pat)?;
        let before = self.scope.clone();
        let outer_nodes = std::mem::take(&mut self.nodes);
        let phis = self.enter_body(&source, index, carried);
        self.region = Some("a loop");
        for stmt in &f.body.stmts {
            self.statement(stmt);
        }
        self.region = None;
        let body = std::mem::replace(&mut self.nodes, outer_nodes);
        let end = std::mem::replace(&mut self.scope, before.clone());
        let (carried, after) = self.carried(carried, &phis, (&before, &end), f)?;
        let node = LoopNode {
            span: f.for_token.span,
            source,
            index,
            carried,
            body,
        };
        Ok((node, after))
    }

    /// Each carried variable, from the scope before the loop and at the end of its body, and
    /// what each carried name stands for after the loop.
    fn carried(
        &mut self,
        carried: &[String],
        phis: &[usize],
        (before, end): (&Scope, &Scope),
        f: &syn::ExprForLoop,
    ) -> Result<(Vec<Carried>, After), Reported> {
        let (mut out, mut after) = (Vec::new(), Vec::new());
        for (name, &phi) in carried.iter().zip(phis) {
            let init = before.get(name).cloned().flatten().ok_or(Reported)?;
            let next = end.get(name).cloned().flatten().ok_or(Reported)?;
            if let Operand::Value(v) = next {
                if v != phi && phis.contains(&v) {
                    let from = self.values[v].text.clone();
                    self.errors.push(
                        self.assigned_at.get(name).cloned().unwrap_or_default(),
                        format!("the loop assigns `{name}` the value {from} had at the start of the step, which gradgen does not carry yet\nhelp: assign a value the step computes (`{name} = {} * 1.0;` copies it)", from.trim_matches('`')),
                    );
                    return Err(Reported);
                }
            }
            // `h = h;` leaves it as it was: nothing is carried.
            if matches!(next, Operand::Value(v) if v == phi) {
                after.push((name.clone(), init));
                continue;
            }
            let var = Value {
                name: self.values[phi].name.clone(),
                text: self.values[phi].text.clone(),
                kind: ValueKind::Carried,
            };
            self.values.push(var);
            after.push((name.clone(), Operand::Value(self.values.len() - 1)));
            out.push(Carried {
                init,
                phi,
                next,
                out: self.values.len() - 1,
                assigned: self
                    .assigned_at
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| f.for_token.to_token_stream()),
            });
        }
        Ok((out, after))
    }

    /// The scope of the body: the elements (or the index), and each carried name as its value
    /// at the start of a step. Returns those values, in the order of `carried`.
    fn enter_body(
        &mut self,
        source: &Source,
        index: Option<usize>,
        carried: &[String],
    ) -> Vec<usize> {
        let mut bound: Vec<usize> = match source {
            Source::Seqs(seqs) => seqs.iter().filter_map(|(_, e)| *e).collect(),
            Source::Count { .. } => Vec::new(),
        };
        bound.extend(index);
        for v in bound {
            let name = self.values[v].text.trim_matches('`').to_owned();
            self.scope.insert(name, Some(Operand::Value(v)));
        }
        let mut phis = Vec::new();
        for name in carried {
            // The variable keeps the user's name when no value of the function has it yet
            // (`let mut h = h0.clone();` names no value of its own).
            let taken = self.values.iter().any(|v| v.name == name.as_str());
            let ident = syn::Ident::new(name, Span::call_site());
            let var = if taken {
                self.names.fresh(name, Span::call_site())
            } else {
                ident
            };
            self.values.push(Value {
                name: var,
                text: format!("`{name}`"),
                kind: ValueKind::Carried,
            });
            let phi = self.values.len() - 1;
            self.scope.insert(name.clone(), Some(Operand::Value(phi)));
            phis.push(phi);
        }
        phis
    }

    /// The names declared `let mut` before the loop that its body assigns, in the order of
    /// their first assignment. A name the body declares itself is its own from there on.
    fn carried_names(&self, stmts: &[Stmt]) -> Vec<String> {
        let mut out = Vec::new();
        assigned(stmts, &mut HashSet::new(), &mut out);
        out.retain(|n| self.mutable.contains(n) && matches!(self.scope.get(n), Some(Some(_))));
        out
    }

    /// What the loop's iterator walks.
    fn walk(&mut self, e: &Expr) -> Result<Walk, Reported> {
        match strip_groups(e) {
            Expr::Range(r) => self.count(r),
            Expr::MethodCall(m) if m.method == "zip" && m.args.len() == 1 => {
                let Walk::Seqs(mut seqs, false) = self.walk(&m.receiver)? else {
                    self.errors.push(
                        m.method.span(),
                        format!("only sequences are zipped, before `enumerate`: `xs.iter().zip(ys).enumerate()`\n{FORMS}"),
                    );
                    return Err(Reported);
                };
                seqs.push(self.sequence(&m.args[0])?);
                Ok(Walk::Seqs(seqs, false))
            }
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
                match self.walk(&m.receiver)? {
                    Walk::Seqs(seqs, false) => Ok(Walk::Seqs(seqs, true)),
                    _ => {
                        self.errors.push(
                            m.method.span(),
                            format!("`enumerate` numbers the steps of sequences, once: `for (t, x) in xs.iter().enumerate()`; a count is its own index: `for i in 0..K`\n{FORMS}"),
                        );
                        Err(Reported)
                    }
                }
            }
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => {
                Ok(Walk::Seqs(vec![self.sequence(&m.receiver)?], false))
            }
            Expr::MethodCall(m) => {
                let what = match m.method.to_string().as_str() {
                    "rev" | "skip" | "take" | "step_by" | "chain" | "windows" | "chunks" => format!("gradgen walks a whole sequence, first to last: `{}` is not supported\nhelp: pass the sequence the loop should walk", m.method),
                    other => format!("gradgen cannot walk `{other}(…)`"),
                };
                self.errors
                    .push(m.method.span(), format!("{what}\n{FORMS}"));
                Err(Reported)
            }
            other => Ok(Walk::Seqs(vec![self.sequence(other)?], false)),
        }
    }

    /// `xs` or `xs.iter()`, a sequence parameter that no loop walked before.
    fn sequence(&mut self, e: &Expr) -> Result<usize, Reported> {
        let inner = match strip_groups(e) {
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => &*m.receiver,
            other => other,
        };
        if let Expr::Path(p) = strip_groups(inner) {
            if p.path.get_ident().is_some() {
                match self.path(p)? {
                    Operand::Value(v) if self.sequences.contains(&v) => {
                        if self.walked.insert(v) {
                            return Ok(v);
                        }
                        self.errors.push(
                            e.to_token_stream(),
                            format!("`{}` is walked by an earlier loop: gradgen walks each sequence once\nhelp: do both loops' work in one loop", show(e)),
                        );
                        return Err(Reported);
                    }
                    _ => {}
                }
            }
        }
        self.errors.push(
            e.to_token_stream(),
            format!(
                "`{}` is not a sequence parameter: a loop walks a parameter `&[Mat<R, C>]` (or `&[Mat<R, C>; T]`, `&[Labels<N, C>]`)\n{FORMS}; over the rows or columns of a matrix, use a reduction such as `row_sums()` or `col_sums()`",
                show(e)
            ),
        );
        Err(Reported)
    }

    /// `start..end` with integer constants.
    fn count(&mut self, r: &syn::ExprRange) -> Result<Walk, Reported> {
        let (Some(start), Some(end), syn::RangeLimits::HalfOpen(_)) = (&r.start, &r.end, &r.limits)
        else {
            self.errors.push(
                r.to_token_stream(),
                format!("a counted loop walks `start..end`, such as `0..K`\n{FORMS}"),
            );
            return Err(Reported);
        };
        for bound in [start, end] {
            if !self.integer_constant(bound) {
                self.errors.push(
                    bound.to_token_stream(),
                    format!("the number of steps must be known before the loop runs: `{}` is not an integer constant\nhelp: count with a dimension (`0..K`), an integer parameter or a `const`", show(bound)),
                );
                return Err(Reported);
            }
        }
        let zero = matches!(strip_groups(start), Expr::Lit(l) if l.lit.to_token_stream().to_string() == "0");
        let range = quote::quote!(#start..#end);
        let len = if zero {
            end.to_token_stream()
        } else {
            quote::quote!((#range).len())
        };
        Ok(Walk::Count {
            range,
            len,
            text: show(&Expr::Range(r.clone())),
        })
    }

    /// The values the pattern binds at each step, and the step's index if it binds one.
    fn bind_pattern(
        &mut self,
        walk: &Walk,
        pat: &Pat,
    ) -> Result<(Source, Option<usize>), Reported> {
        match walk {
            Walk::Seqs(seqs, enumerated) => {
                let (index, rest) = match (enumerated, pat) {
                    (false, _) => (None, pat),
                    (true, Pat::Tuple(t)) if t.elems.len() == 2 => {
                        (self.leaf(&t.elems[0])?, &t.elems[1])
                    }
                    (true, other) => {
                        self.errors.push(
                            other.to_token_stream(),
                            "`enumerate` gives pairs of the step's index and its elements: write `(t, x)`",
                        );
                        return Err(Reported);
                    }
                };
                let leaves = self.leaves(rest, seqs.len())?;
                let index = index.map(|i| self.elem(&i));
                let elems = seqs
                    .iter()
                    .zip(leaves)
                    .map(|(&s, leaf)| (s, leaf.map(|i| self.elem(&i))))
                    .collect();
                Ok((Source::Seqs(elems), index))
            }
            Walk::Count { range, len, text } => {
                let index = self.leaf(pat)?.map(|i| self.elem(&i));
                let source = Source::Count {
                    range: range.clone(),
                    len: len.clone(),
                    text: text.clone(),
                };
                Ok((source, index))
            }
        }
    }

    /// The names of `k` zipped elements: `x` for one, `((x, y), z)` for three.
    fn leaves(&mut self, pat: &Pat, k: usize) -> Result<Vec<Option<syn::Ident>>, Reported> {
        if k == 1 {
            return Ok(vec![self.leaf(pat)?]);
        }
        match pat {
            Pat::Tuple(t) if t.elems.len() == 2 => {
                let mut out = self.leaves(&t.elems[0], k - 1)?;
                out.push(self.leaf(&t.elems[1])?);
                Ok(out)
            }
            Pat::Paren(p) => self.leaves(&p.pat, k),
            other => {
                let names: Vec<String> = (1..=k).map(|i| format!("x{i}")).collect();
                let mut expected = names[0].clone();
                for n in &names[1..] {
                    expected = format!("({expected}, {n})");
                }
                self.errors.push(
                    other.to_token_stream(),
                    format!("this pattern does not match the {k} zipped sequences: `zip` gives pairs, so write `{expected}`"),
                );
                Err(Reported)
            }
        }
    }

    /// One name of a pattern, or `_`.
    fn leaf(&mut self, pat: &Pat) -> Result<Option<syn::Ident>, Reported> {
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
                Ok(Some(p.ident.clone()))
            }
            Pat::Wild(_) => Ok(None),
            other => {
                self.errors.push(
                    other.to_token_stream(),
                    "a loop binds each element to a plain name (or `_`)",
                );
                Err(Reported)
            }
        }
    }

    /// The value an element (or the index) is bound to at each step.
    fn elem(&mut self, ident: &syn::Ident) -> usize {
        let first = self.seen.insert(ident.to_string());
        let name = self.names.binding(ident, first);
        self.values.push(Value {
            name,
            text: format!("`{ident}`"),
            kind: ValueKind::Elem,
        });
        self.values.len() - 1
    }
}

/// The names that `stmts` assign and did not declare before, in order, into `out`; an `if`'s
/// branches declare their own names.
fn assigned(stmts: &[Stmt], declared: &mut HashSet<String>, out: &mut Vec<String>) {
    for stmt in stmts {
        let left = match stmt {
            Stmt::Local(l) => {
                declared.extend(crate::parse::idents_in(l.pat.to_token_stream()));
                continue;
            }
            Stmt::Expr(Expr::Assign(a), _) => &*a.left,
            Stmt::Expr(Expr::Binary(b), _) if is_compound(&b.op) => &*b.left,
            Stmt::Expr(Expr::If(i), _) => {
                let mut nested = Vec::new();
                if_assigned(i, declared, &mut nested);
                for n in nested {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
                continue;
            }
            _ => continue,
        };
        if let Expr::Path(p) = strip_groups(left) {
            if let Some(i) = p.path.get_ident() {
                let name = i.to_string();
                if !declared.contains(&name) && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
}

fn if_assigned(i: &syn::ExprIf, declared: &HashSet<String>, out: &mut Vec<String>) {
    assigned(&i.then_branch.stmts, &mut declared.clone(), out);
    match i.else_branch.as_ref().map(|(_, e)| strip_groups(e)) {
        Some(Expr::Block(b)) => assigned(&b.block.stmts, &mut declared.clone(), out),
        Some(Expr::If(nested)) => if_assigned(nested, declared, out),
        _ => {}
    }
}
