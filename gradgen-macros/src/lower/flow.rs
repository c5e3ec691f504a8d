//! Part of the lowering: the body's control flow.
//!
//! Input: an `if`/`else` whose condition the function knows without its differentiated values
//! (a flag, a comparison of constants), and assignments `h = …;` of `let mut` names. Output: an
//! [`IfNode`] whose branches are lowered like the body, each giving one operand per value of
//! the `if`: its value when it is an expression, and each `let mut` name a branch assigns.
//! After it, those names stand for the `if`'s values.
//!
//! Guarantees: a branch's `let`s stay in the branch, as in Rust; an `if` used as a value has an
//! `else`; a condition that reads a differentiated value is reported by the shape stage, which
//! knows what is differentiated; `if let` and `match` are errors that say what to write instead.

use std::collections::HashMap;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

use super::{show, Lower, Reported};
use crate::ir::{Branch, IfNode, Node, Operand, Value, ValueId, ValueKind};

/// The scope before a region, to come back to after each branch.
type Scope = HashMap<String, Option<Operand>>;

/// What a lowered branch gives: its nodes, its value (for an `if` used as a value), the scope
/// at its end.
struct Lowered {
    nodes: Vec<Node>,
    value: Option<Operand>,
    scope: Scope,
}

impl Lower<'_, '_> {
    /// `if c { a } else { b }` as a value: the value it gives.
    pub(super) fn if_expr(
        &mut self,
        e: &syn::ExprIf,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let value = self.lower_if(e, true, target)?;
        value.ok_or(Reported)
    }

    /// `if c { … }` as a statement: the `let mut` names it assigns.
    pub(super) fn if_stmt(&mut self, e: &syn::ExprIf) {
        let _ = self.lower_if(e, false, None);
    }

    fn lower_if(
        &mut self,
        e: &syn::ExprIf,
        want_value: bool,
        target: Option<syn::Ident>,
    ) -> Result<Option<Operand>, Reported> {
        let cond = self.condition(&e.cond);
        let before = self.scope.clone();
        let outer_nodes = std::mem::take(&mut self.nodes);
        let outer_region = self.region.replace("an `if`");
        let then = self.branch(&e.then_branch, want_value, &before);
        let otherwise = match &e.else_branch {
            Some((_, expr)) => self.else_branch(expr, want_value, &before),
            None if want_value => {
                self.errors.push(
                    e.if_token.span,
                    "an `if` whose value is used needs an `else` that gives a value of the same shape",
                );
                Err(Reported)
            }
            None => Ok(Lowered {
                nodes: Vec::new(),
                value: None,
                scope: before.clone(),
            }),
        };
        self.nodes = outer_nodes;
        self.scope = before.clone();
        self.region = outer_region;
        let (cond, then, otherwise) = (cond?, then?, otherwise?);
        Ok(self.join(e, cond, [then, otherwise], &before, target))
    }

    /// The `else` of an `if`: a block, or another `if` (an `else if` chain), which is lowered as
    /// a branch holding that `if`.
    fn else_branch(
        &mut self,
        expr: &Expr,
        want_value: bool,
        before: &Scope,
    ) -> Result<Lowered, Reported> {
        match expr {
            Expr::Block(b) => self.branch(&b.block, want_value, before),
            Expr::If(nested) => {
                self.scope = before.clone();
                let value = self.lower_if(nested, want_value, None)?;
                Ok(Lowered {
                    nodes: std::mem::take(&mut self.nodes),
                    value,
                    scope: std::mem::replace(&mut self.scope, before.clone()),
                })
            }
            other => {
                self.errors.push(
                    other.to_token_stream(),
                    "an `else` takes a block: `else { … }`",
                );
                Err(Reported)
            }
        }
    }

    /// One branch: its statements, and its final expression when the `if` is a value.
    fn branch(
        &mut self,
        block: &syn::Block,
        want_value: bool,
        before: &Scope,
    ) -> Result<Lowered, Reported> {
        self.scope = before.clone();
        let mut value = None;
        let mut failed = false;
        let count = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            match stmt {
                Stmt::Expr(expr, None) if i + 1 == count && want_value => {
                    value = self.expr(expr, None).ok();
                    failed |= value.is_none();
                }
                other => self.statement(other),
            }
        }
        if want_value && value.is_none() && !failed {
            self.errors.push(
                block.brace_token.span.close(),
                "this branch must end with the value the `if` gives, without `;`",
            );
            return Err(Reported);
        }
        Ok(Lowered {
            nodes: std::mem::take(&mut self.nodes),
            value,
            scope: std::mem::replace(&mut self.scope, before.clone()),
        })
    }

    /// The `if`'s node, and its values in scope: its own value, then every `let mut` name
    /// that a branch assigns (in name order, so that the generated code is stable).
    fn join(
        &mut self,
        e: &syn::ExprIf,
        (cond, cond_text, cond_values): (proc_macro2::TokenStream, String, Vec<ValueId>),
        branches: [Lowered; 2],
        before: &Scope,
        target: Option<syn::Ident>,
    ) -> Option<Operand> {
        let mut assigned: Vec<&String> = self
            .mutable
            .iter()
            .filter(|name| before.contains_key(*name))
            .filter(|name| {
                branches
                    .iter()
                    .any(|b| changed(b.scope.get(*name), before.get(*name)))
            })
            .collect();
        assigned.sort();
        let assigned: Vec<String> = assigned.into_iter().cloned().collect();
        let mut outs = Vec::new();
        let mut branch_outs: [Vec<Operand>; 2] = [Vec::new(), Vec::new()];
        let value = branches[0].value.is_some().then(|| {
            let name = target.unwrap_or_else(|| self.names.fresh("chosen", e.span()));
            let v = self.branch_value(name, "the value of the `if`");
            for (k, b) in branches.iter().enumerate() {
                branch_outs[k].push(b.value.clone().unwrap_or(Operand::Value(v)));
            }
            outs.push(v);
            Operand::Value(v)
        });
        for name in &assigned {
            let ident = syn::Ident::new(name, e.if_token.span);
            let fresh = self.names.binding(&ident, false);
            let v = self.branch_value(fresh, &format!("`{name}`"));
            for (k, b) in branches.iter().enumerate() {
                let op = b.scope.get(name).or(before.get(name)).cloned().flatten();
                branch_outs[k].push(op.unwrap_or(Operand::Value(v)));
            }
            outs.push(v);
            self.scope.insert(name.clone(), Some(Operand::Value(v)));
        }
        let [then, otherwise] = branches;
        let [then_outs, else_outs] = branch_outs;
        self.nodes.push(Node::If(IfNode {
            cond,
            cond_text,
            cond_values,
            span: e.if_token.span,
            branches: [
                Branch {
                    body: then.nodes,
                    outs: then_outs,
                },
                Branch {
                    body: otherwise.nodes,
                    outs: else_outs,
                },
            ],
            outs,
        }));
        value
    }

    fn branch_value(&mut self, name: syn::Ident, text: &str) -> ValueId {
        self.values.push(Value {
            name,
            text: text.to_owned(),
            kind: ValueKind::Branch,
        });
        self.values.len() - 1
    }

    /// The condition as the generated code writes it (each name the generated one), as the user
    /// wrote it, and the values it reads.
    fn condition(
        &mut self,
        cond: &Expr,
    ) -> Result<(proc_macro2::TokenStream, String, Vec<ValueId>), Reported> {
        if let Expr::Let(l) = cond {
            self.errors.push(
                l.let_token.span,
                "`if let` is not supported in a differentiable function: a condition is a flag or a comparison of constants\nhelp: match on the value outside the function and pass a flag",
            );
            // The names the pattern binds are not reported again in the branch.
            for name in crate::parse::idents_in(l.pat.to_token_stream()) {
                self.scope.insert(name, None);
            }
            return Err(Reported);
        }
        let mut renamed = cond.clone();
        let mut names = Renames {
            lower: self,
            read: Vec::new(),
            poisoned: false,
        };
        names.visit_expr_mut(&mut renamed);
        let (read, poisoned) = (names.read, names.poisoned);
        if poisoned {
            return Err(Reported);
        }
        Ok((renamed.to_token_stream(), show(cond), read))
    }

    /// `h = value;` or `h op= value;`, for a name declared `let mut`: from here on, `h` is the
    /// new value (which a branch or a step gives to the code after it).
    pub(super) fn assign(&mut self, left: &Expr, value: &Expr, compound: Option<&syn::BinOp>) {
        let name = match left {
            Expr::Path(p) => p.path.get_ident().cloned(),
            _ => None,
        };
        let Some(name) = name else {
            self.errors.push(
                left.to_token_stream(),
                "only a name declared `let mut` can be assigned in a differentiable function",
            );
            return;
        };
        let key = name.to_string();
        if !self.mutable.contains(&key) {
            let msg = match self.scope.get(&key) {
                Some(_) => format!("cannot assign twice to `{key}`, which is not declared `let mut`\nhelp: declare it `let mut {key}`, or bind the new value to a new name: `let {key} = …;`"),
                None => format!("cannot find value `{key}` in this function"),
            };
            self.errors.push(name.span(), msg);
            return;
        }
        if matches!(self.scope.get(&key), Some(None)) {
            return;
        }
        self.assigned_at
            .insert(key.clone(), value.to_token_stream());
        let target = self.names.binding(&name, false);
        let own = target.clone();
        let result = match compound {
            None => self.top(value, target),
            Some(op) => self.compound(left, op, value, target),
        };
        let operand = result.ok();
        // A value computed here is called by the name from now on; another value keeps its own.
        if let Some(Operand::Value(v)) = &operand {
            if self.values[*v].name == own {
                self.values[*v].text = format!("`{key}`");
            }
        }
        self.scope.insert(key, operand);
    }

    /// `h += x` as `h = h + x`.
    fn compound(
        &mut self,
        left: &Expr,
        op: &syn::BinOp,
        value: &Expr,
        target: syn::Ident,
    ) -> Result<Operand, Reported> {
        let symbol = op.to_token_stream().to_string();
        let plain: proc_macro2::TokenStream =
            symbol.trim_end_matches('=').parse().unwrap_or_default();
        let expr: Expr = syn::parse_quote_spanned!(op.span()=> #left #plain (#value));
        self.top(&expr, target)
    }
}

/// Whether a name stands for another operand than before (a literal or a constant assigned
/// always counts as a change).
fn changed(now: Option<&Option<Operand>>, before: Option<&Option<Operand>>) -> bool {
    let value = |op: Option<&Option<Operand>>| match op {
        Some(Some(Operand::Value(v))) => Some(Some(*v)),
        Some(Some(_)) => Some(None),
        _ => None,
    };
    match (value(now), value(before)) {
        (Some(Some(a)), Some(Some(b))) => a != b,
        (a, b) => a != b || a == Some(None),
    }
}

/// Renames the names a condition reads to those of the generated code, and records them.
struct Renames<'l, 'a, 'e> {
    lower: &'l mut Lower<'a, 'e>,
    read: Vec<ValueId>,
    poisoned: bool,
}

impl VisitMut for Renames<'_, '_, '_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let Expr::Path(p) = expr else {
            syn::visit_mut::visit_expr_mut(self, expr);
            return;
        };
        let Some(ident) = p.path.get_ident() else {
            return;
        };
        match self.lower.scope.get(&ident.to_string()) {
            Some(Some(Operand::Value(v))) => {
                self.read.push(*v);
                let name = &self.lower.values[*v].name;
                *expr = syn::parse_quote!(#name);
            }
            Some(Some(Operand::Const(c))) => {
                let tokens = &c.tokens;
                *expr = syn::parse_quote!(#tokens);
            }
            Some(Some(Operand::Literal(l))) => *expr = syn::parse_quote!(#l),
            Some(None) => self.poisoned = true,
            None => {}
        }
    }
}
