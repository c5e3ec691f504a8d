//! Part of stage 1 (parse): the body lowered to A-normal form.
//!
//! Input: the function's block, with its parameters in scope. Output: the bindings
//! `out = op(args)`, one operation each: nested expressions get fresh intermediates, shadowed
//! names get new SSA names (all from `naming`), `&` around operands is dropped, and constants
//! (literals, dimensions cast to a scalar, items of the enclosing scope) are leaves.
//!
//! Guarantees: anything outside the supported language is an error at its own span that says
//! what is supported instead. A name whose binding failed is poisoned: uses of it are not
//! reported again. Op names are resolved through the table (`table::lookup_method`), never
//! spelt here.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt, Type};

use crate::errors::{Errors, Place};
use crate::ir::{Binding, Const, Declared, Literal, Node, Operand, Shape, Value, ValueKind};

mod flow;
mod loops;
use crate::naming::Names;
use crate::table::{self, Form};
use crate::types::TypeReader;

/// What the signature hands the body: the parameters' values, in scope, and what is known of
/// the calls it may make.
pub struct Start {
    pub values: Vec<Value>,
    pub scope: HashMap<String, Option<Operand>>,
    pub ret_shape: Shape,
    /// The parameters that are constants of another type.
    pub flags: HashSet<String>,
    /// The result shapes of calls known without an annotation (a model's methods).
    pub call_shapes: Vec<(String, Shape)>,
    /// The parameters that are sequences, which only a loop can walk.
    pub sequences: HashSet<usize>,
}

/// Lowers the body to bindings.
pub struct Lower<'a, 'e> {
    types: &'a TypeReader<'a>,
    pub values: Vec<Value>,
    pub bindings: Vec<Binding>,
    /// The nodes of the block being lowered: its bindings, and the regions among them.
    pub nodes: Vec<Node>,
    pub declared: Vec<Declared>,
    /// Each name in scope: its operand, or `None` when its binding failed (poisoned).
    scope: HashMap<String, Option<Operand>>,
    /// `let` names bound at least once (a second binding is a shadowing: a new SSA name).
    seen: HashSet<String>,
    /// Names declared `let mut`, which may be assigned.
    mutable: HashSet<String>,
    /// The declared shape of the expression being lowered at the top of a `let` or as the
    /// final value: what a call there returns.
    call_shape: Option<Shape>,
    /// The declared return shape.
    ret_shape: Shape,
    /// The parameters that are constants of another type (`k: usize`, `train: bool`).
    flags: HashSet<String>,
    /// The result shapes of calls known without an annotation (a model's methods).
    call_shapes: Vec<(String, Shape)>,
    /// The parameters that are sequences, which only a loop can walk.
    sequences: HashSet<usize>,
    /// The region being lowered, when it is a loop's body or an `if`'s branch: a loop there
    /// is reported (loops do not nest, nor stand in a branch).
    region: Option<&'static str>,
    /// The sequences a loop walks already: each is walked once.
    walked: HashSet<usize>,
    /// The value each `let mut` name was last assigned, where a loop reports a carried shape.
    assigned_at: HashMap<String, TokenStream>,
    pub names: Names,
    errors: &'e mut Errors,
}

impl<'a, 'e> Lower<'a, 'e> {
    pub fn new(
        types: &'a TypeReader<'a>,
        start: Start,
        names: Names,
        errors: &'e mut Errors,
    ) -> Self {
        Lower {
            types,
            values: start.values,
            bindings: Vec::new(),
            nodes: Vec::new(),
            declared: Vec::new(),
            scope: start.scope,
            seen: HashSet::new(),
            mutable: HashSet::new(),
            call_shape: None,
            ret_shape: start.ret_shape,
            flags: start.flags,
            call_shapes: start.call_shapes,
            sequences: start.sequences,
            region: None,
            walked: HashSet::new(),
            assigned_at: HashMap::new(),
            names,
            errors,
        }
    }
}

/// Failure of an expression that has already been reported (or that uses a poisoned name).
struct Reported;

impl Lower<'_, '_> {
    pub fn body(&mut self, block: &syn::Block) -> Option<(Operand, TokenStream)> {
        let mut output = None;
        let count = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            match stmt {
                Stmt::Expr(expr, None) if i + 1 == count => {
                    self.call_shape = Some(self.ret_shape.clone());
                    let target = self.names.fresh("value", expr.span());
                    if let Ok(op) = self.top(expr, target) {
                        output = Some((op, expr.to_token_stream()));
                    }
                }
                other => self.statement(other),
            }
        }
        // A final `return x;` has been reported as such already.
        let ends_with_expr = matches!(
            block.stmts.last(),
            Some(Stmt::Expr(_, None) | Stmt::Expr(Expr::Return(_), _))
        );
        if !ends_with_expr {
            let span = block
                .stmts
                .last()
                .map_or(block.brace_token.span.close(), Spanned::span);
            self.errors.push(
                span,
                "a differentiable function must end with the value it returns\nhelp: write the loss as the final expression, without `;`",
            );
        }
        output
    }

    /// A statement that is not the body's value: a `let`, an assignment of a `let mut` name, an
    /// `if` that assigns such names; anything else is reported.
    fn statement(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Local(local) => self.local(local),
            Stmt::Expr(Expr::Assign(assign), _) => self.assign(&assign.left, &assign.right, None),
            Stmt::Expr(Expr::Binary(bin), _) if is_compound(&bin.op) => {
                self.assign(&bin.left, &bin.right, Some(&bin.op));
            }
            Stmt::Expr(Expr::If(e), _) => self.if_stmt(e),
            Stmt::Expr(Expr::ForLoop(f), _) => self.for_loop(f),
            Stmt::Expr(Expr::Call(call), _) if self.calls_poisoned(call) => {}
            Stmt::Expr(expr, _) => {
                let msg = unsupported_expr(expr).unwrap_or_else(|| {
                    "a statement here has no effect: only `let` bindings and the final expression make up a differentiable function".to_owned()
                });
                self.errors.push(unsupported_span(expr), msg);
            }
            Stmt::Item(item) => self.errors.push(
                item.to_token_stream(),
                "items cannot be declared inside a differentiable function\nhelp: declare them outside the function",
            ),
            Stmt::Macro(m) => self.errors.push(
                m.mac.path.span(),
                format!("gradgen cannot differentiate through the macro `{}!`\nhelp: write the computation as `let` bindings of matrix operations", m.mac.path.to_token_stream()),
            ),
        }
    }

    /// Whether `call` calls a name whose binding failed (a closure, say): reported already.
    fn calls_poisoned(&self, call: &syn::ExprCall) -> bool {
        matches!(&*call.func, Expr::Path(p) if p.path.get_ident().is_some_and(|i| matches!(self.scope.get(&i.to_string()), Some(None))))
    }

    fn local(&mut self, local: &syn::Local) {
        if self.tuple_let(local) {
            return;
        }
        let Some((ident, init, annotation)) = self.let_parts(local) else {
            return;
        };
        let name = ident.to_string();
        let declared = annotation.and_then(|ty| {
            self.types
                .declared(ty, self.errors)
                .map(|shape| (shape, ty.to_token_stream()))
        });
        let first = self.seen.insert(name.clone());
        let target = self.names.binding(ident, first);
        self.call_shape = declared.as_ref().map(|(shape, _)| shape.clone());
        let result = self.top(&init.expr, target.clone());
        self.call_shape = None;
        let Ok(operand) = result else {
            self.scope.insert(name, None);
            return;
        };
        // Messages call the value by its name from here on, as the user's code does.
        if let Operand::Value(v) = operand {
            if self.values[v].name == target {
                self.values[v].text = format!("`{name}`");
            }
        }
        if let Some((shape, tokens)) = declared {
            self.declared.push(Declared {
                operand: operand.clone(),
                shape,
                tokens,
            });
        }
        self.scope.insert(name, Some(operand));
    }

    /// `let (a, b) = (x, y);`: one `let` per element, when the pattern and the value are tuples
    /// of the same length. As in Rust, every value is computed before any name is bound, so
    /// `let (a, b) = (b, a);` swaps.
    fn tuple_let(&mut self, local: &syn::Local) -> bool {
        let (Pat::Tuple(pat), Some(init)) = (&local.pat, &local.init) else {
            return false;
        };
        let Expr::Tuple(values) = strip_groups(&init.expr) else {
            return false;
        };
        if pat.elems.len() != values.elems.len() || init.diverge.is_some() {
            return false;
        }
        let mut bound = Vec::new();
        for (p, v) in pat.elems.iter().zip(&values.elems) {
            let names = bound_names(p);
            let before: Vec<_> = names.iter().map(|n| self.scope.get(n).cloned()).collect();
            let single = syn::Local {
                attrs: Vec::new(),
                let_token: local.let_token,
                pat: p.clone(),
                init: Some(syn::LocalInit {
                    eq_token: init.eq_token,
                    expr: Box::new(v.clone()),
                    diverge: None,
                }),
                semi_token: local.semi_token,
            };
            self.local(&single);
            // Hide the new names from the values still to be computed.
            for (name, old) in names.into_iter().zip(before) {
                let new = self.scope.remove(&name);
                if let Some(old) = old {
                    self.scope.insert(name.clone(), old);
                }
                bound.push((name, new));
            }
        }
        for (name, new) in bound {
            if let Some(new) = new {
                self.scope.insert(name, new);
            }
        }
        true
    }

    /// The name, value and type annotation of a `let` of the supported form; any other form is
    /// reported, and the names it binds are poisoned.
    fn let_parts<'l>(
        &mut self,
        local: &'l syn::Local,
    ) -> Option<(&'l syn::Ident, &'l syn::LocalInit, Option<&'l Type>)> {
        let (pat, annotation) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            other => (other, None),
        };
        let Pat::Ident(pi) = pat else {
            self.errors.push(
                pat.to_token_stream(),
                "gradgen supports `let` with a plain name, or a tuple of names given a tuple of values (`let (a, b) = (x, y);`)",
            );
            self.poison_pattern(pat);
            return None;
        };
        let name = pi.ident.to_string();
        if pi.mutability.is_some() {
            self.mutable.insert(name.clone());
        }
        let problem = self.let_problem(local, pi);
        if let Some((place, message)) = problem {
            self.errors.push(place, message);
            self.scope.insert(name, None);
            return None;
        }
        Some((&pi.ident, local.init.as_ref()?, annotation))
    }

    /// What is wrong with a `let` of a plain name, if anything.
    fn let_problem(&self, local: &syn::Local, pi: &syn::PatIdent) -> Option<(Place, String)> {
        let name = &pi.ident;
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return Some((
                pi.span().into(),
                "gradgen supports `let` with a plain name only".to_owned(),
            ));
        }
        let Some(init) = &local.init else {
            return Some((
                local.to_token_stream().into(),
                format!("`{name}` must be given its value where it is declared: `let {name} = …;`"),
            ));
        };
        init.diverge.as_ref().map(|(_, diverge)| {
            (
                diverge.to_token_stream().into(),
                "`let … else` is not supported in a differentiable function".to_owned(),
            )
        })
    }

    fn poison_pattern(&mut self, pat: &Pat) {
        for name in crate::parse::idents_in(pat.to_token_stream()) {
            self.scope.insert(name, None);
        }
    }

    /// Lowers the whole right-hand side of a `let` (or the final expression): its operation's
    /// result is named `target`.
    fn top(&mut self, expr: &Expr, target: syn::Ident) -> Result<Operand, Reported> {
        // The declared shape is the call's only when the call is the whole expression.
        if !matches!(strip_groups(expr), Expr::Call(_)) {
            self.call_shape = None;
        }
        let operand = self.expr(expr, Some(target));
        self.call_shape = None;
        operand
    }

    fn expr(&mut self, expr: &Expr, target: Option<syn::Ident>) -> Result<Operand, Reported> {
        match expr {
            Expr::Paren(p) => self.expr(&p.expr, target),
            Expr::Group(g) => self.expr(&g.expr, target),
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    self.errors.push(
                        m.span(),
                        "`&mut` is not supported: values are never modified",
                    );
                    return Err(Reported);
                }
                self.expr(&r.expr, target)
            }
            Expr::Lit(lit) => match &lit.lit {
                syn::Lit::Float(_) | syn::Lit::Int(_) => Ok(Operand::Literal(Literal {
                    lit: lit.lit.clone(),
                    negative: false,
                })),
                other => {
                    self.errors.push(
                        other.to_token_stream(),
                        "only numeric literals can take part in a differentiable computation",
                    );
                    Err(Reported)
                }
            },
            Expr::Path(p) => self.path(p),
            Expr::Cast(c) => self.cast(c),
            Expr::If(e) => self.if_expr(e, target),
            Expr::MethodCall(call) => self.method(call, target),
            Expr::Binary(bin) => self.binary(bin, target),
            Expr::Unary(un) => self.unary(un, target),
            Expr::Call(call) if self.calls_poisoned(call) => Err(Reported),
            Expr::Call(call) => self.call(call, target),
            other => {
                let msg = unsupported_expr(other).unwrap_or_else(|| {
                    format!(
                        "gradgen cannot differentiate `{}`\nhelp: a differentiable function is made of `let` bindings of matrix operations (methods such as `matmul`, operators `+ - * /`)",
                        other.to_token_stream()
                    )
                });
                self.errors.push(unsupported_span(other), msg);
                Err(Reported)
            }
        }
    }

    /// A name in scope is its value; any other path is an item of the enclosing scope (`EPS`,
    /// `consts::PI`): a constant, whose type rustc checks.
    fn path(&mut self, p: &syn::ExprPath) -> Result<Operand, Reported> {
        let local = p.path.get_ident().filter(|_| p.qself.is_none());
        match local.map(|i| (i, self.scope.get(&i.to_string()))) {
            Some((_, Some(Some(op)))) => Ok(op.clone()),
            Some((_, Some(None))) => Err(Reported),
            // Constants and statics are upper case (rustc warns otherwise): a lower-case name
            // that is not in the function is a typo, not an item.
            Some((i, None)) if i.to_string().starts_with(|c: char| c.is_lowercase()) => {
                self.errors.push(i.span(), self.unknown_value(i));
                Err(Reported)
            }
            _ => Ok(Operand::Const(Const {
                tokens: p.to_token_stream(),
                text: show(&Expr::Path(p.clone())),
            })),
        }
    }

    /// `cannot find value`, with the name in scope meant, if one is close.
    fn unknown_value(&self, ident: &syn::Ident) -> String {
        let name = ident.to_string();
        let mut msg = format!("cannot find value `{name}` in this function");
        let names = self.scope.keys().map(String::as_str);
        if let Some(close) = crate::errors::closest(&name, names) {
            msg.push_str(&format!(
                "\nhelp: a value with a similar name exists: `{close}`"
            ));
        } else {
            msg.push_str("\nhelp: an item of the enclosing scope (a `const` or a `static`) is named in upper case");
        }
        msg
    }

    /// `N as f64`: a dimension or an integer constant, cast to the element type, is a constant
    /// scalar. `N as T`, where `T` is the function's element type parameter, means the same
    /// (the function is emitted with `Scalar::cast_from(N)`, since Rust cannot cast to `T`).
    fn cast(&mut self, c: &syn::ExprCast) -> Result<Operand, Reported> {
        let target = ungroup_type(&c.ty);
        let target_name = match target {
            Type::Path(tp) if tp.qself.is_none() => tp.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let generic = target_name
            .as_ref()
            .is_some_and(|n| self.types.type_params.contains(n));
        let float = target_name
            .as_deref()
            .is_some_and(|n| n == "f64" || n == "f32");
        if !(generic || float) {
            self.errors.push(
                c.ty.to_token_stream(),
                format!("gradgen can only cast to the element type (`f64`, `f32` or the function's `T`), not to `{}`", crate::ir::type_text(target)),
            );
            return Err(Reported);
        }
        if !self.integer_constant(&c.expr) {
            self.errors
                .push(c.expr.to_token_stream(), self.not_castable(&c.expr));
            return Err(Reported);
        }
        let expr = &c.expr;
        let tokens = if generic {
            quote::quote!((<#target as ::gradgen::Scalar>::cast_from(#expr)))
        } else {
            quote::quote!((#expr as #target))
        };
        Ok(Operand::Const(Const {
            tokens,
            text: show(strip_groups(expr)),
        }))
    }

    /// Whether an expression is an integer known without the function's values: dimensions,
    /// integer parameters and literals, items of the enclosing scope, and arithmetic of them.
    fn integer_constant(&self, e: &Expr) -> bool {
        match strip_groups(e) {
            Expr::Lit(l) => matches!(l.lit, syn::Lit::Int(_)),
            Expr::Path(p) => match p.path.get_ident() {
                Some(i) if self.types.dims.contains(&i.to_string()) => true,
                Some(i) => match self.scope.get(&i.to_string()) {
                    Some(Some(Operand::Value(v))) => {
                        self.flags.contains(&self.values[*v].name.to_string())
                    }
                    Some(_) => false,
                    None => true,
                },
                None => true,
            },
            Expr::Binary(b) => self.integer_constant(&b.left) && self.integer_constant(&b.right),
            Expr::Unary(u) => self.integer_constant(&u.expr),
            _ => false,
        }
    }

    /// Why an expression cannot be cast.
    fn not_castable(&self, e: &Expr) -> String {
        let text = show(strip_groups(e));
        let value = match strip_groups(e) {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|i| self.scope.get(&i.to_string()).cloned().flatten()),
            _ => None,
        };
        match value {
            Some(Operand::Value(v)) if matches!(self.values[v].kind, ValueKind::Elem) => format!("`{text}` is a loop's step index, which gradgen cannot cast to a scalar yet\nhelp: compare it in an `if` (`if {text} == 0`), or pass the per-step scalars as a sequence of `Mat<1, 1>`"),
            Some(_) => format!("`{text}` is a value of the function, not an integer constant: only a dimension (`N as f64`) or an integer constant can be cast\nhelp: a scalar of the element type needs no cast"),
            None => format!("only a dimension (`N as f64`) or an integer constant can be cast to a scalar, not `{text}`\nhelp: a scalar of the element type needs no cast; a matrix cannot be cast"),
        }
    }

    fn method(
        &mut self,
        call: &syn::ExprMethodCall,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        if let Some(tf) = &call.turbofish {
            self.errors.push(
                tf.to_token_stream(),
                format!(
                    "`{}` takes no generic arguments: shapes are inferred",
                    call.method
                ),
            );
            return Err(Reported);
        }
        // A copy is the same value to the derivative: `x.clone()` where Rust needs an owned one.
        if call.args.is_empty() && (call.method == "clone" || call.method == "to_owned") {
            return self.expr(&call.receiver, target);
        }
        let is_self =
            matches!(strip_groups(&call.receiver), Expr::Path(p) if p.path.is_ident("self"));
        if is_self {
            self.errors.push(
                call.method.span(),
                format!("`self.{}(…)` is not a `#[differentiable]` method of the model, so its gradient is unknown\nhelp: mark it `#[differentiable]`, or compute its result inside this method", call.method),
            );
            return Err(Reported);
        }
        let mut exprs = vec![&*call.receiver];
        exprs.extend(call.args.iter());
        self.method_parts(&call.method, &exprs, call.span(), target)
    }

    /// `receiver.method(args…)`, or `f64::method(receiver, args…)`: `exprs` is the receiver
    /// and then the arguments.
    fn method_parts(
        &mut self,
        method_ident: &syn::Ident,
        exprs: &[&Expr],
        span: Span,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let method = method_ident.to_string();
        let Some(rule) = table::lookup_method(&method) else {
            self.errors
                .push(method_ident.span(), crate::errors::unknown_method(&method));
            // The operands may hold independent mistakes: report them too.
            for e in exprs {
                let _ = self.expr(e, None);
            }
            return Err(Reported);
        };
        let Form::Method { args: arity } = rule.form else {
            return Err(Reported);
        };
        let supplied = exprs.len() - 1;
        if supplied != arity {
            let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
            self.errors.push(
                method_ident.span(),
                format!(
                    "`{method}` takes {arity} {} but {supplied} {} supplied\nhelp: {}",
                    plural(arity),
                    if supplied == 1 { "was" } else { "were" },
                    rule.usage
                ),
            );
            return Err(Reported);
        }
        let operands = self.operands(exprs)?;
        Ok(self.bind(rule, operands, exprs, span, method_ident.span(), target))
    }

    fn binary(
        &mut self,
        bin: &syn::ExprBinary,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let symbol = bin.op.to_token_stream().to_string();
        let Some(rule) = table::lookup_operator(&symbol, 2) else {
            let msg = if symbol.ends_with('=')
                && !matches!(symbol.as_str(), "==" | "!=" | "<=" | ">=")
            {
                format!("compound assignment `{symbol}` is not supported: every value is computed once\nhelp: bind the result to a new name: `let x = x {} y;`", symbol.trim_end_matches('='))
            } else {
                format!("gradgen cannot differentiate the operator `{symbol}`\nhelp: the supported operators are `+`, `-`, `*`, `/` and unary `-`")
            };
            self.errors.push(bin.op.span(), msg);
            return Err(Reported);
        };
        let exprs = [&*bin.left, &*bin.right];
        let operands = self.operands(&exprs)?;
        Ok(self.bind(rule, operands, &exprs, bin.span(), bin.op.span(), target))
    }

    fn unary(
        &mut self,
        un: &syn::ExprUnary,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        // `-2` is a literal, not a negation to differentiate.
        if let (syn::UnOp::Neg(_), Expr::Lit(l)) = (&un.op, strip_groups(&un.expr)) {
            if matches!(l.lit, syn::Lit::Int(_) | syn::Lit::Float(_)) {
                return Ok(Operand::Literal(Literal {
                    lit: l.lit.clone(),
                    negative: true,
                }));
            }
        }
        let symbol = un.op.to_token_stream().to_string();
        let Some(rule) = table::lookup_operator(&symbol, 1) else {
            self.errors.push(
                un.op.span(),
                format!("gradgen cannot differentiate the operator `{symbol}`\nhelp: the supported operators are `+`, `-`, `*`, `/` and unary `-`"),
            );
            return Err(Reported);
        };
        let exprs = [&*un.expr];
        let operands = self.operands(&exprs)?;
        Ok(self.bind(rule, operands, &exprs, un.span(), un.op.span(), target))
    }

    /// Lowers every operand, reporting the mistakes of all of them.
    fn operands(&mut self, exprs: &[&Expr]) -> Result<Vec<Operand>, Reported> {
        let lowered: Vec<_> = exprs.iter().map(|e| self.expr(e, None)).collect();
        lowered.into_iter().collect()
    }

    fn bind(
        &mut self,
        op: &'static table::Op,
        args: Vec<Operand>,
        exprs: &[&Expr],
        span: Span,
        op_span: Span,
        target: Option<syn::Ident>,
    ) -> Operand {
        let recv = match (&op.form, args.first()) {
            (Form::Method { .. }, Some(Operand::Value(v))) => Some(self.values[*v].name.clone()),
            _ => None,
        };
        let name = target.unwrap_or_else(|| self.names.intermediate(op.temp, recv.as_ref(), span));
        let value = self.values.len();
        let text = format!("`{}`", rebuild(exprs, op));
        self.values.push(Value {
            name,
            text,
            kind: ValueKind::Binding,
        });
        self.nodes.push(Node::Bind(self.bindings.len()));
        self.bindings.push(Binding {
            out: value,
            op,
            args,
            span,
            op_span,
            arg_tokens: exprs.iter().map(|e| e.to_token_stream()).collect(),
            call: None,
        });
        Operand::Value(value)
    }

    /// `f(a, b)` as the whole right-hand side of a `let` whose type is declared (or as the
    /// final expression, whose type is the return type): a call to another differentiable
    /// function, differentiated through its companion `f_backward`.
    fn call(
        &mut self,
        call: &syn::ExprCall,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let Expr::Path(path) = strip_groups(&call.func) else {
            self.errors.push(
                call.func.to_token_stream(),
                "gradgen can only call a function by its name or path",
            );
            return Err(Reported);
        };
        if let Some(method) = self.float_function(&path.path) {
            return self.float_call(call, method, target);
        }
        let callee = path.path.clone();
        let name = callee
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let shape = self
            .call_shape
            .take()
            .or_else(|| self.known_call_shape(call));
        let target = match (target, &shape) {
            (None, Some(_)) => Some(self.names.intermediate(&name, None, call.span())),
            (target, _) => target,
        };
        let (Some(target), Some(shape)) = (target, shape) else {
            self.errors.push(
                call.func.to_token_stream(),
                format!("the shape of `{name}(…)` is unknown here\nhelp: bind the call's result with its type: `let h: Mat<R, C> = {name}(…);`"),
            );
            return Err(Reported);
        };
        let exprs: Vec<&Expr> = call.args.iter().collect();
        let args = self.operands(&exprs)?;
        let value = self.values.len();
        let shown: Vec<String> = exprs.iter().map(|e| show(e)).collect();
        self.values.push(Value {
            name: target,
            text: format!("`{name}({})`", shown.join(", ")),
            kind: ValueKind::Binding,
        });
        self.nodes.push(Node::Bind(self.bindings.len()));
        self.bindings.push(Binding {
            out: value,
            op: &table::CALL,
            args,
            span: call.span(),
            op_span: call.func.span(),
            arg_tokens: exprs.iter().map(|e| e.to_token_stream()).collect(),
            call: Some((callee, shape)),
        });
        Ok(Operand::Value(value))
    }
}

impl Lower<'_, '_> {
    /// `f64::sqrt(x)`: the method `x.sqrt()`.
    fn float_call(
        &mut self,
        call: &syn::ExprCall,
        method: &syn::Ident,
        target: Option<syn::Ident>,
    ) -> Result<Operand, Reported> {
        let exprs: Vec<&Expr> = call.args.iter().collect();
        if exprs.is_empty() {
            self.errors.push(
                call.to_token_stream(),
                format!(
                    "`{}` takes the value it applies to as its first argument",
                    show(&call.func)
                ),
            );
            return Err(Reported);
        }
        self.method_parts(method, &exprs, call.span(), target)
    }

    /// The result shape of a call that the macro knows without an annotation.
    fn known_call_shape(&mut self, call: &syn::ExprCall) -> Option<Shape> {
        let path = show(&call.func);
        let known = self.call_shapes.iter().find(|(p, _)| *p == path);
        if let Some((_, shape)) = known {
            return Some(shape.clone());
        }
        // `Mat::<N, H>::zeros()`: a constructor whose type says the shape.
        let Expr::Path(p) = strip_groups(&call.func) else {
            return None;
        };
        let segments: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        let [.., ty, _] = segments[..] else {
            return None;
        };
        if ty.ident != "Mat" || matches!(ty.arguments, syn::PathArguments::None) {
            return None;
        }
        let mut seg = ty.clone();
        if let syn::PathArguments::AngleBracketed(args) = &mut seg.arguments {
            args.colon2_token = None;
        }
        let written: Type = syn::parse_quote!(#seg);
        self.types.declared(&written, self.errors)
    }

    /// `f64::sqrt`, `f32::exp`, `T::ln`: a method of the element type called as a function,
    /// which is the same as the method (`x.sqrt()`).
    fn float_function<'p>(&self, path: &'p syn::Path) -> Option<&'p syn::Ident> {
        let [ty, method] = path.segments.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let ty = ty.ident.to_string();
        let float = ty == "f64" || ty == "f32" || self.types.type_params.contains(&ty);
        table::lookup_method(&method.ident.to_string())?;
        float.then_some(&method.ident)
    }
}

/// A type inside invisible groups and parentheses.
fn ungroup_type(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungroup_type(&g.elem),
        Type::Paren(p) => ungroup_type(&p.elem),
        other => other,
    }
}

/// `+=`, `-=`, `*=`, `/=`.
fn is_compound(op: &syn::BinOp) -> bool {
    matches!(
        op,
        syn::BinOp::AddAssign(_)
            | syn::BinOp::SubAssign(_)
            | syn::BinOp::MulAssign(_)
            | syn::BinOp::DivAssign(_)
    )
}

/// The user's expression for a binding, reassembled for messages.
fn rebuild(exprs: &[&Expr], rule: &table::Op) -> String {
    let parts: Vec<String> = exprs.iter().map(|e| show(e)).collect();
    match rule.form {
        Form::Method { .. } => format!("{}.{}({})", parts[0], rule.name, parts[1..].join(", ")),
        Form::Operator { arity: 2 } => format!("{} {} {}", parts[0], rule.name, parts[1]),
        Form::Operator { .. } => format!("{}{}", rule.name, parts[0]),
        Form::Call => format!("{}({})", rule.name, parts.join(", ")),
    }
}

/// The expression inside invisible groups (from `macro_rules!` fragments) and parentheses.
fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => strip_groups(&g.expr),
        Expr::Paren(p) => strip_groups(&p.expr),
        other => other,
    }
}

/// Renders the supported subset of expressions as the user would write them.
fn show(expr: &Expr) -> String {
    match expr {
        Expr::Paren(p) => format!("({})", show(&p.expr)),
        Expr::Group(g) => show(&g.expr),
        Expr::Reference(r) => format!("&{}", show(&r.expr)),
        Expr::Lit(l) => Literal {
            lit: l.lit.clone(),
            negative: false,
        }
        .text(),
        Expr::Path(p) => p.to_token_stream().to_string().replace(' ', ""),
        Expr::MethodCall(m) => {
            let args: Vec<String> = m.args.iter().map(show).collect();
            format!("{}.{}({})", show(&m.receiver), m.method, args.join(", "))
        }
        Expr::Binary(b) => format!(
            "{} {} {}",
            show(&b.left),
            b.op.to_token_stream(),
            show(&b.right)
        ),
        Expr::Unary(u) => format!("{}{}", u.op.to_token_stream(), show(&u.expr)),
        other => other.to_token_stream().to_string(),
    }
}

/// The message for syntax that is never supported, with what to write instead.
fn unsupported_expr(expr: &Expr) -> Option<String> {
    let instead =
        "help: write the computation as a sequence of `let` bindings of matrix operations";
    let msg = match expr {
        Expr::ForLoop(_) => "a `for` loop gives no value: it assigns `let mut` variables declared before it, which hold their last values after it".to_owned(),
        Expr::While(_) => format!("gradgen cannot differentiate a `while` loop: the backward must know how many steps ran\n{LOOP_FORMS}"),
        Expr::Loop(_) => format!("gradgen cannot differentiate a `loop`: the backward must know how many steps ran\n{LOOP_FORMS}"),
        Expr::Break(_) => "`break` is not supported: a differentiable loop runs every step of what it walks\nhelp: pass the sequence to walk, or choose each step's work with `if`/`else` on a flag".to_owned(),
        Expr::Continue(_) => "`continue` is not supported: a differentiable loop runs its whole body at every step\nhelp: choose each step's work with `if`/`else` on a flag".to_owned(),
        Expr::Match(_) => "gradgen cannot differentiate `match`\nhelp: choose with `if`/`else` on a flag or on constants; for an elementwise choice between values, use `maximum`, `minimum`, `clamp`, `relu` or a constant mask".to_owned(),
        Expr::Closure(_) => format!("gradgen cannot differentiate a closure\n{instead}"),
        Expr::Return(_) => "`return` is not supported: the function's value is its final expression\nhelp: remove `return` and the `;`".to_owned(),
        Expr::Assign(_) => "assignment is not supported: every value is computed once\nhelp: bind the new value to a new name, or shadow the old one: `let x = …;`".to_owned(),
        Expr::Macro(m) => format!("gradgen cannot differentiate through the macro `{}!`\n{instead}", m.mac.path.to_token_stream()),
        Expr::Call(c) => format!(
            "gradgen cannot differentiate a call to `{}`: calls to functions are not supported yet\nhelp: write the function's operations inline, as `let` bindings",
            c.func.to_token_stream().to_string().replace(' ', "")
        ),
        Expr::Block(_) | Expr::Unsafe(_) => format!("blocks are not supported in a differentiable function\n{instead}"),
        Expr::Field(f) => format!("gradgen cannot read the field `{}`: only parameters and `let` names can be used", f.member.to_token_stream()),
        Expr::Index(_) => "indexing is not supported: it would differentiate one entry at a time\nhelp: use `pick(&labels)` to take one entry per row".to_owned(),
        Expr::Tuple(_) | Expr::Array(_) | Expr::Struct(_) | Expr::Repeat(_) => format!("gradgen cannot differentiate a compound value\n{instead}"),
        Expr::Try(_) => "`?` is not supported in a differentiable function".to_owned(),
        Expr::Async(_) | Expr::Await(_) => "async code is not supported in a differentiable function".to_owned(),
        Expr::Range(_) => "ranges are not supported in a differentiable function".to_owned(),
        Expr::Let(_) | Expr::Yield(_) | Expr::TryBlock(_) | Expr::Const(_) | Expr::Infer(_) => {
            format!("this expression is not supported in a differentiable function\n{instead}")
        }
        _ => return None,
    };
    Some(msg)
}

/// The loops gradgen differentiates, for messages.
const LOOP_FORMS: &str = "help: walk sequence parameters (`for x in xs`, `for (x, y) in xs.iter().zip(ys)`) or count (`for _ in 0..K`), carrying `let mut` variables from step to step";

/// The smallest span that names an unsupported construct: its keyword, where it has one.
fn unsupported_span(expr: &Expr) -> Place {
    match expr {
        Expr::ForLoop(f) => f.for_token.span.into(),
        Expr::While(w) => w.while_token.span.into(),
        Expr::Loop(l) => l.loop_token.span.into(),
        Expr::Break(b) => b.break_token.span.into(),
        Expr::Continue(c) => c.continue_token.span.into(),
        Expr::If(i) => i.if_token.span.into(),
        Expr::Match(m) => m.match_token.span.into(),
        Expr::Return(r) => r.return_token.span.into(),
        Expr::Closure(c) => c.or1_token.span.into(),
        Expr::Macro(m) => m.mac.path.to_token_stream().into(),
        Expr::Call(c) => c.func.to_token_stream().into(),
        _ => expr.to_token_stream().into(),
    }
}

/// The names a `let` pattern binds: its plain name (typed or not), or every identifier of a
/// pattern gradgen rejects (they are poisoned).
fn bound_names(pat: &Pat) -> Vec<String> {
    match pat {
        Pat::Type(pt) => bound_names(&pt.pat),
        Pat::Ident(pi) => vec![pi.ident.to_string()],
        other => crate::parse::idents_in(other.to_token_stream()),
    }
}
