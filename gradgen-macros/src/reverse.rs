//! Stage 4 — reverse: activity analysis and the reverse sweep.
//!
//! Input: a [`Func`] whose shapes are all known. Output: a [`Plan`]: which forward bindings the
//! backward recomputes, and the backward steps, in order.
//!
//! Guarantees:
//! - Activity: only values that depend on a differentiable input *and* that the output depends
//!   on get a gradient; labels, scalar parameters, literals and anything that does not reach the
//!   output cost no backward work.
//! - The sweep visits the bindings in reverse, seeds the output's gradient with `d_out`, and asks
//!   the rule table for each active operand's contribution. A value used more than once receives
//!   one contribution per use: the first initialises its gradient (moved in, never added to a
//!   zero matrix), later ones are added in place.
//! - A gradient is consumed only by the binding that produced its value, so after that binding
//!   it is dead: its last use moves it (reusing its buffer) instead of copying it.
//! - A forward temporary is consumed by the backward step that reads it last, or, when no
//!   backward step reads it, may be taken by the step of its last forward use (its buffer then
//!   holds that step's contribution).

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};

use crate::ir::{Func, Operand, Shape, ValueKind};
use crate::rules::{Contrib, Vjp};

/// One statement of the backward part.
pub enum Step {
    /// `let [mut] d_v: Shape = expr;`, or, `with_forward`, computed together with the
    /// function's value by the forward binding (the statement is that binding's).
    Init {
        grad: Ident,
        shape: Shape,
        mutable: bool,
        expr: TokenStream,
        doc: String,
        with_forward: bool,
    },
    /// `d_v += expr;` or `d_v -= expr;`
    Add {
        grad: Ident,
        negate: bool,
        expr: TokenStream,
        doc: String,
    },
    /// `d_v.method(args);`: a contribution added in place.
    InPlace {
        grad: Ident,
        method: Ident,
        args: TokenStream,
        doc: String,
    },
    /// `let name = expr;`: the gradients a called function's backward returns, one per argument.
    Let {
        name: Ident,
        expr: TokenStream,
        doc: String,
    },
}

impl Step {
    /// The gradient this step initialises or adds to (the local it declares, for a `Let`).
    pub fn grad(&self) -> &Ident {
        match self {
            Step::Init { grad, .. } | Step::Add { grad, .. } | Step::InPlace { grad, .. } => grad,
            Step::Let { name, .. } => name,
        }
    }
}

/// What the backward function computes.
pub struct Plan {
    /// The bindings whose values the output depends on, in order: the forward part.
    pub forward: Vec<usize>,
    /// The gradient steps, in order, each after the binding whose contributions it holds.
    pub steps: Vec<(usize, Vec<Step>)>,
    /// The gradient variable of each value that has one, indexed like [`Func::values`].
    pub grads: Vec<Option<Ident>>,
    /// The backward function's seed parameter.
    pub d_out: Ident,
    /// The generated gradient check's locals: the backward's result, the report, and the
    /// upstream gradient of a matrix value.
    pub check_locals: (Ident, Ident, Ident),
    /// For each forward binding, which operands it may consume (their buffer becomes the
    /// result's): temporaries that nothing reads afterwards, forward or backward.
    pub consumes: HashMap<usize, Vec<bool>>,
    /// The output binding, when it computes the function's value together with its receiver's
    /// gradient (`cross_entropy_and_backward`), and that gradient.
    pub with_value: Option<(usize, Ident)>,
}

/// Plans the backward pass. `shapes` must be complete (the shape stage reported no error).
pub fn plan(func: &mut Func, shapes: &[Shape]) -> Plan {
    let n = func.values.len();
    let value_of = |op: &Operand| Func::value_of(op);

    // Forward: which values vary with a differentiable input.
    let mut varied = vec![false; n];
    for (v, value) in func.values.iter().enumerate() {
        if let ValueKind::Param(p) = value.kind {
            varied[v] = func.params[p].differentiable;
        }
    }
    for b in &func.bindings {
        varied[b.out] = b.args.iter().filter_map(value_of).any(|a| varied[a]);
    }
    // Backward: which values the output depends on.
    let mut useful = vec![false; n];
    let output = func.output.as_ref().and_then(|(op, _)| value_of(op));
    if let Some(o) = output {
        useful[o] = true;
    }
    for b in func.bindings.iter().rev() {
        if useful[b.out] {
            for a in b.args.iter().filter_map(value_of) {
                useful[a] = true;
            }
        }
    }
    let active: Vec<bool> = (0..n).map(|v| varied[v] && useful[v]).collect();

    let d_out = func.names.fresh("d_out", proc_macro2::Span::call_site());
    let forward: Vec<usize> = (0..func.bindings.len())
        .filter(|&i| useful[func.bindings[i].out])
        .collect();

    // The value and its receiver's gradient in one pass, when the op can and the receiver is
    // the value's only active operand.
    let with_value = output.and_then(|o| {
        let bi = func.bindings.iter().position(|b| b.out == o)?;
        let b = &func.bindings[bi];
        let receiver_only = b
            .args
            .iter()
            .enumerate()
            .all(|(i, a)| value_of(a).is_some_and(|v| active[v]) == (i == 0));
        (b.rule.with_backward.is_some() && active[o] && receiver_only).then_some(bi)
    });

    // Two sweeps: the first finds, for each forward value, the binding whose backward step uses
    // it last; the second lets that step consume it (its buffer becomes the gradient's).
    let names_before = func.names.clone();
    let first = sweep(
        func,
        shapes,
        &active,
        output,
        &d_out,
        with_value,
        &|_, _| false,
    );
    func.names = names_before;
    let mut last_use: Vec<Option<usize>> = vec![None; n];
    for (bi, steps) in first.0.iter().rev() {
        let refs = referenced(steps);
        for (v, value) in func.values.iter().enumerate() {
            if refs.contains(&value.name.to_string()) && last_use[v].is_none() {
                last_use[v] = Some(*bi);
            }
        }
    }
    let owned_temporary = |func: &Func, v: usize| {
        matches!(func.values[v].kind, ValueKind::Binding)
            && Some(v) != output
            && matches!(shapes[v], Shape::Mat(..))
    };
    let temporaries: Vec<bool> = (0..n).map(|v| owned_temporary(func, v)).collect();
    // A temporary that no backward step reads is free once the forward part is done: the
    // backward step of its last forward use may take its buffer (`inner` writes the
    // operand's gradient there).
    let mut last_forward_use: Vec<Option<usize>> = vec![None; n];
    for &bi in &forward {
        for v in func.bindings[bi].args.iter().filter_map(value_of) {
            last_forward_use[v] = Some(bi);
        }
    }
    let may_take =
        |bi: usize, v: usize| temporaries[v] && last_use[v].or(last_forward_use[v]) == Some(bi);
    let (steps, grads) = sweep(func, shapes, &active, output, &d_out, with_value, &may_take);
    let with_value = with_value.and_then(|bi| {
        let v = value_of(&func.bindings[bi].args[0])?;
        Some((bi, grads[v].clone()?))
    });

    // The forward part: an operand that nothing later reads, forward or backward, is consumed.
    let backward_refs: HashSet<String> = steps.iter().flat_map(|(_, s)| referenced(s)).collect();
    let mut consumes = HashMap::new();
    for (k, &bi) in forward.iter().enumerate() {
        let b = &func.bindings[bi];
        let flags: Vec<bool> = b
            .args
            .iter()
            .map(|a| {
                let Some(v) = value_of(a) else {
                    return false;
                };
                let name = func.values[v].name.to_string();
                temporaries[v]
                    && b.args.iter().filter(|o| value_of(o) == Some(v)).count() == 1
                    && !backward_refs.contains(&name)
                    && !forward[k + 1..].iter().any(|&later| {
                        func.bindings[later]
                            .args
                            .iter()
                            .any(|o| value_of(o) == Some(v))
                    })
            })
            .collect();
        consumes.insert(bi, flags);
    }

    Plan {
        forward,
        steps,
        grads,
        d_out,
        consumes,
        with_value,
        check_locals: (
            func.names.fresh("grads", proc_macro2::Span::call_site()),
            func.names.fresh("check", proc_macro2::Span::call_site()),
            func.names.fresh("upstream", proc_macro2::Span::call_site()),
        ),
    }
}

fn fresh_tokens(c: &Contrib) -> String {
    match c {
        Contrib::Expr { fresh, .. } => fresh.to_string(),
        Contrib::Pass { .. } => String::new(),
    }
}

/// Every identifier in some steps' tokens.
fn referenced(steps: &[Step]) -> HashSet<String> {
    fn walk(tokens: TokenStream, out: &mut HashSet<String>) {
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = HashSet::new();
    for step in steps {
        let tokens = match step {
            Step::Init {
                with_forward: true, ..
            } => continue,
            Step::Init { expr, .. } | Step::Add { expr, .. } | Step::Let { expr, .. } => {
                expr.clone()
            }
            Step::InPlace { args, .. } => args.clone(),
        };
        walk(tokens, &mut out);
    }
    out
}

type Steps = Vec<(usize, Vec<Step>)>;

/// The reverse sweep: one step per contribution, bindings in reverse order. `may_take(b, v)`
/// says whether binding `b`'s step may consume the forward value `v`.
fn sweep(
    func: &mut Func,
    shapes: &[Shape],
    active: &[bool],
    output: Option<usize>,
    d_out: &Ident,
    with_value: Option<usize>,
    may_take: &dyn Fn(usize, usize) -> bool,
) -> (Steps, Vec<Option<Ident>>) {
    let value_of = |op: &Operand| Func::value_of(op);
    let mut grads: Vec<Option<Ident>> = vec![None; func.values.len()];
    if let Some(o) = output.filter(|&o| active[o]) {
        grads[o] = Some(d_out.clone());
    }
    let mut steps = Vec::new();
    for bi in (0..func.bindings.len()).rev() {
        let b = &func.bindings[bi];
        if !active[b.out] {
            continue;
        }
        let Some(g) = grads[b.out].clone() else {
            continue;
        };
        let out_shape = &shapes[b.out];
        let scalar_grad = *out_shape == Shape::Scalar;
        let active_args: Vec<usize> = (0..b.args.len())
            .filter(|&i| value_of(&b.args[i]).is_some_and(|v| active[v]))
            .collect();
        // A single contribution may consume an operand whose last use it is.
        let take: Vec<bool> = b
            .args
            .iter()
            .map(|a| active_args.len() == 1 && value_of(a).is_some_and(|v| may_take(bi, v)))
            .collect();
        let arg_shapes: Vec<Shape> = b
            .args
            .iter()
            .map(|a| match a {
                Operand::Value(v) => shapes[*v].clone(),
                Operand::Literal(_) => Shape::Scalar,
            })
            .collect();
        let args: Vec<TokenStream> = b.args.iter().map(|a| by_ref(func, a, shapes)).collect();
        let recvs: Vec<TokenStream> = b.args.iter().map(|a| receiver(func, a)).collect();
        let texts: Vec<String> = b.args.iter().map(|a| derivation_name(func, a)).collect();
        let out_name = &func.values[b.out].name;
        // The seed of a function with a matrix value is borrowed (`d_out: &Mat<…>`): used as
        // a reference, and copied where a rule needs the gradient by value.
        let borrowed = Some(b.out) == output && !scalar_grad;
        let g_ref = if scalar_grad || borrowed {
            quote!(#g)
        } else {
            quote!(&#g)
        };
        let g_take = if borrowed {
            quote!(#g.clone())
        } else if active_args.len() == 1 || scalar_grad {
            quote!(#g)
        } else {
            g_ref.clone()
        };
        // A call: the callee's backward gives every argument's gradient at once; the rule then
        // takes each from that tuple.
        let mut local = Vec::new();
        let mut g_take = g_take;
        if let Some((path, _)) = &b.call {
            let parts = func.names.fresh(&format!("{out_name}_grads"), b.op_span);
            let mut backward = path.clone();
            if let Some(last) = backward.segments.last_mut() {
                last.ident = crate::naming::Names::backward_fn(&last.ident);
            }
            let seed = if scalar_grad || borrowed {
                quote!(#g)
            } else {
                quote!(&#g)
            };
            let doc = format!(
                "{parts} = the gradients from {}'s backward, given {g}",
                quote::ToTokens::to_token_stream(path)
                    .to_string()
                    .replace(' ', "")
            );
            local.push(Step::Let {
                name: parts.clone(),
                expr: quote_spanned!(b.op_span=> #backward(#(#args,)* #seed).into_inputs()),
                doc,
            });
            g_take = quote!(#parts);
        }
        let vjp = Vjp {
            shapes: &arg_shapes,
            args: &args,
            recvs: &recvs,
            texts: &texts,
            out: by_ref(func, &Operand::Value(b.out), shapes),
            out_recv: quote!(#out_name),
            out_shape,
            out_text: out_name.to_string(),
            g: g_ref.clone(),
            g_recv: quote!(#g),
            g_take,
            g_owned: active_args.len() == 1 && !scalar_grad && !borrowed,
            g_text: g.to_string(),
            mat: func.mat_path.clone(),
            take: &take,
        };
        // Fresh expressions first, then negated pass-throughs (which allocate anyway), then plain
        // ones, so that the last statement can move the incoming gradient instead of copying it.
        let mut contribs: Vec<(usize, Contrib)> = active_args
            .iter()
            .map(|&i| (i, (b.rule.vjp)(&vjp, i)))
            .collect();
        // When every contribution is a new value, the first operand's is computed last, from
        // the incoming gradient by value: its buffer becomes that operand's gradient.
        let all_fresh = contribs
            .iter()
            .all(|(_, c)| matches!(c, Contrib::Expr { .. }));
        if contribs.len() >= 2 && all_fresh && !scalar_grad && !borrowed && b.call.is_none() {
            let consumer = contribs[0].0;
            let owned = Vjp {
                g_take: quote!(#g),
                g_owned: true,
                ..vjp
            };
            let taking = (b.rule.vjp)(&owned, consumer);
            // Only when the rule does use the gradient's buffer: the order stays as written
            // otherwise.
            if fresh_tokens(&taking) != fresh_tokens(&contribs[0].1) {
                contribs.remove(0);
                contribs.push((consumer, taking));
            }
        }
        contribs.sort_by_key(|(_, c)| match c {
            Contrib::Expr { .. } => 0,
            Contrib::Pass { negate: true } => 1,
            Contrib::Pass { negate: false } => 2,
        });

        let count = contribs.len();
        for (k, (i, contrib)) in contribs.into_iter().enumerate() {
            let last = k + 1 == count;
            let Some(target_value) = value_of(&b.args[i]) else {
                continue;
            };
            let target_shape = shapes[target_value].clone();
            let first = grads[target_value].is_none();
            let target = match &grads[target_value] {
                Some(t) => t.clone(),
                None => {
                    let t = func.names.gradient(&func.values[target_value].name);
                    grads[target_value] = Some(t.clone());
                    t
                }
            };
            let op = if first { "=" } else { "+=" };
            match contrib {
                Contrib::Pass { negate } => {
                    let sign = if negate { "−" } else { "" };
                    let doc = format!("{target} {op} {sign}{g}");
                    if first {
                        let movable = (scalar_grad || last) && !borrowed;
                        let expr = match (negate, movable) {
                            (false, true) => quote!(#g),
                            (false, false) => quote!(#g.clone()),
                            (true, true) => quote!(-#g),
                            (true, false) => quote!(-#g_ref),
                        };
                        local.push(Step::Init {
                            grad: target,
                            shape: target_shape,
                            mutable: false,
                            expr,
                            doc,
                            with_forward: false,
                        });
                    } else {
                        local.push(Step::Add {
                            grad: target,
                            negate,
                            expr: g_ref.clone(),
                            doc,
                        });
                    }
                }
                Contrib::Expr {
                    fresh,
                    in_place,
                    text,
                } => {
                    let doc = format!("{target} {op} {text}");
                    if first {
                        local.push(Step::Init {
                            grad: target,
                            shape: target_shape,
                            mutable: false,
                            expr: fresh,
                            doc,
                            with_forward: Some(bi) == with_value,
                        });
                    } else if let Some((method, args)) = in_place {
                        local.push(Step::InPlace {
                            grad: target,
                            method,
                            args,
                            doc,
                        });
                    } else {
                        local.push(Step::Add {
                            grad: target,
                            negate: false,
                            expr: fresh,
                            doc,
                        });
                    }
                }
            }
        }
        steps.push((bi, local));
    }

    // A gradient that receives more than one contribution is declared `mut`.
    let accumulated: Vec<String> = steps
        .iter()
        .flat_map(|(_, s)| s.iter())
        .filter_map(|s| match s {
            Step::Add { grad, .. } | Step::InPlace { grad, .. } => Some(grad.to_string()),
            Step::Init { .. } | Step::Let { .. } => None,
        })
        .collect();
    for step in steps.iter_mut().flat_map(|(_, s)| s.iter_mut()) {
        if let Step::Init { grad, mutable, .. } = step {
            *mutable = accumulated.contains(&grad.to_string());
        }
    }
    (steps, grads)
}

/// An operand by reference: `&h` for an owned matrix, a `&Mat` parameter as it is, a scalar or
/// a literal by value.
pub fn by_ref(func: &Func, op: &Operand, shapes: &[Shape]) -> TokenStream {
    match op {
        Operand::Literal(lit) => quote!(#lit),
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

/// An operand as a method receiver: its name (auto-ref does the rest).
pub fn receiver(func: &Func, op: &Operand) -> TokenStream {
    match op {
        Operand::Literal(lit) => quote!(#lit),
        Operand::Value(v) => {
            let name = &func.values[*v].name;
            quote!(#name)
        }
    }
}

/// How the derivation text names an operand.
fn derivation_name(func: &Func, op: &Operand) -> String {
    match op {
        Operand::Literal(lit) => lit.text(),
        Operand::Value(v) => func.values[*v].name.to_string(),
    }
}
