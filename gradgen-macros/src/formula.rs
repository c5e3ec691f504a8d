//! The scalar formulas of the op table: each entrywise derivative written once, as data.
//!
//! Input: a formula as the table writes it, a Rust expression over named scalars: an entrywise
//! op's operands (`x` for a unary op, `a` and `b` for a binary one), its result `y`, the
//! incoming gradient `g`, and the op's constant parameters (`n` for `powi`). It may use numeric
//! literals, `+ - * /`, unary `-`, comparisons joined by `&&` and `||`, `if c { … } else { … }`
//! and the methods `exp ln ln_1p sqrt tanh abs powi max min`.
//!
//! Output: from that one source, Rust code for an element type ([`Formula::rust`]: the runtime's
//! element kernels and, for scalars, the generated code itself), text for readers
//! ([`Formula::text`]: the derivation, the README's gradient column and the runtime's docs), the
//! variables it reads ([`Formula::vars`]), and, for a derivative that is the incoming gradient
//! times a product of values ([`Formula::product`]), that product, from which the reverse stage
//! builds matrix code with broadcasting.
//!
//! Guarantees: parsing rejects anything outside this language with a message naming the
//! offending part; `rust` and `text` reproduce the formula's tree exactly (parentheses are added
//! where precedence needs them, never removed where the tree has them).

use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// A parsed formula.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    /// A named scalar: an operand, `y`, `g` or a parameter.
    Var(String),
    /// A numeric literal, as written (`1`, `0.5`).
    Num(String),
    Neg(Box<Formula>),
    Bin(BinOp, Box<Formula>, Box<Formula>),
    /// `receiver.method(args)`.
    Method(Method, Box<Formula>, Vec<Formula>),
    /// `if cond { then } else { otherwise }`.
    If(Box<Formula>, Box<Formula>, Box<Formula>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// The scalar functions a formula may call, each a method of `f32`, `f64` and `num_traits::Float`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Exp,
    Ln,
    Ln1p,
    Sqrt,
    Tanh,
    Abs,
    Powi,
    Max,
    Min,
}

const METHODS: &[(&str, Method, usize)] = &[
    ("exp", Method::Exp, 0),
    ("ln", Method::Ln, 0),
    ("ln_1p", Method::Ln1p, 0),
    ("sqrt", Method::Sqrt, 0),
    ("tanh", Method::Tanh, 0),
    ("abs", Method::Abs, 0),
    ("powi", Method::Powi, 1),
    ("max", Method::Max, 1),
    ("min", Method::Min, 1),
];

impl Method {
    fn name(self) -> &'static str {
        METHODS
            .iter()
            .find(|(_, m, _)| *m == self)
            .map_or("", |(n, ..)| n)
    }
}

impl BinOp {
    /// Binding strength: a child that binds less tightly than its parent needs parentheses.
    fn level(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div => 5,
        }
    }

    fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    fn rust(self) -> TokenStream {
        match self {
            BinOp::Add => quote!(+),
            BinOp::Sub => quote!(-),
            BinOp::Mul => quote!(*),
            BinOp::Div => quote!(/),
            BinOp::Lt => quote!(<),
            BinOp::Le => quote!(<=),
            BinOp::Gt => quote!(>),
            BinOp::Ge => quote!(>=),
            BinOp::And => quote!(&&),
            BinOp::Or => quote!(||),
        }
    }

    fn text(self) -> &'static str {
        match self {
            BinOp::Add => " + ",
            BinOp::Sub => " − ",
            BinOp::Mul => " ∘ ",
            BinOp::Div => " / ",
            BinOp::Lt => " < ",
            BinOp::Le => " ≤ ",
            BinOp::Gt => " > ",
            BinOp::Ge => " ≥ ",
            BinOp::And => " and ",
            BinOp::Or => " or ",
        }
    }
}

const NEG_LEVEL: u8 = 6;
const ATOM_LEVEL: u8 = 7;

impl Formula {
    /// Parses a formula of the table.
    pub fn parse(source: &str) -> Result<Formula, String> {
        let expr: syn::Expr =
            syn::parse_str(source).map_err(|e| format!("`{source}` is not an expression: {e}"))?;
        Self::from_expr(&expr).map_err(|part| format!("in `{source}`: {part}"))
    }

    fn from_expr(expr: &syn::Expr) -> Result<Formula, String> {
        use syn::Expr;
        match expr {
            Expr::Paren(p) => Self::from_expr(&p.expr),
            Expr::Group(g) => Self::from_expr(&g.expr),
            Expr::Path(p) => p
                .path
                .get_ident()
                .map(|i| Formula::Var(i.to_string()))
                .ok_or_else(|| "a variable must be a plain name".to_owned()),
            Expr::Lit(l) => match &l.lit {
                syn::Lit::Int(i) => Ok(Formula::Num(i.base10_digits().to_owned())),
                syn::Lit::Float(f) => Ok(Formula::Num(f.base10_digits().to_owned())),
                _ => Err("only numeric literals are allowed".to_owned()),
            },
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
                Ok(Formula::Neg(Box::new(Self::from_expr(&u.expr)?)))
            }
            Expr::Binary(b) => Ok(Formula::Bin(
                bin_op(&b.op)?,
                Box::new(Self::from_expr(&b.left)?),
                Box::new(Self::from_expr(&b.right)?),
            )),
            Expr::MethodCall(m) => Self::method(m),
            Expr::If(i) => Self::branch(i),
            Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
                syn::Stmt::Expr(e, None) => Self::from_expr(e),
                _ => Err("a block must hold one expression".to_owned()),
            },
            _ => Err(format!(
                "`{}` is outside the formula language",
                quote!(#expr)
            )),
        }
    }

    fn method(m: &syn::ExprMethodCall) -> Result<Formula, String> {
        let name = m.method.to_string();
        let &(_, method, arity) = METHODS
            .iter()
            .find(|(n, ..)| *n == name)
            .ok_or_else(|| format!("`{name}` is not a method of the formula language"))?;
        if m.args.len() != arity {
            return Err(format!("`{name}` takes {arity} argument(s)"));
        }
        let args = m
            .args
            .iter()
            .map(Self::from_expr)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Formula::Method(
            method,
            Box::new(Self::from_expr(&m.receiver)?),
            args,
        ))
    }

    fn branch(i: &syn::ExprIf) -> Result<Formula, String> {
        let block = |b: &syn::Block| match b.stmts.as_slice() {
            [syn::Stmt::Expr(e, None)] => Self::from_expr(e),
            _ => Err("each branch must hold one expression".to_owned()),
        };
        let then = block(&i.then_branch)?;
        let otherwise = match &i.else_branch {
            Some((_, e)) => Self::from_expr(e)?,
            None => return Err("an `if` needs an `else`".to_owned()),
        };
        Ok(Formula::If(
            Box::new(Self::from_expr(&i.cond)?),
            Box::new(then),
            Box::new(otherwise),
        ))
    }

    /// Every variable it reads, once each, in order of appearance.
    pub fn vars(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit(&mut |f| {
            if let Formula::Var(v) = f {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        });
        out
    }

    fn visit(&self, f: &mut dyn FnMut(&Formula)) {
        f(self);
        match self {
            Formula::Var(_) | Formula::Num(_) => {}
            Formula::Neg(a) => a.visit(f),
            Formula::Bin(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Formula::Method(_, r, args) => {
                r.visit(f);
                args.iter().for_each(|a| a.visit(f));
            }
            Formula::If(c, t, e) => {
                c.visit(f);
                t.visit(f);
                e.visit(f);
            }
        }
    }

    fn level(&self) -> u8 {
        match self {
            Formula::Bin(op, ..) => op.level(),
            Formula::Neg(_) => NEG_LEVEL,
            // An `if` is only ever a whole operand (parenthesised) or the whole formula.
            Formula::If(..) => 0,
            Formula::Var(_) | Formula::Num(_) | Formula::Method(..) => ATOM_LEVEL,
        }
    }
}

fn bin_op(op: &syn::BinOp) -> Result<BinOp, String> {
    use syn::BinOp as B;
    Ok(match op {
        B::Add(_) => BinOp::Add,
        B::Sub(_) => BinOp::Sub,
        B::Mul(_) => BinOp::Mul,
        B::Div(_) => BinOp::Div,
        B::Lt(_) => BinOp::Lt,
        B::Le(_) => BinOp::Le,
        B::Gt(_) => BinOp::Gt,
        B::Ge(_) => BinOp::Ge,
        B::And(_) => BinOp::And,
        B::Or(_) => BinOp::Or,
        other => return Err(format!("the operator `{}` is not allowed", quote!(#other))),
    })
}

// ---- Rust code ----

/// How a formula becomes Rust code: what each variable is, which are integers, and how a float
/// literal is written for the element type.
pub struct Rust<'a> {
    /// The tokens of a variable.
    pub var: &'a dyn Fn(&str) -> TokenStream,
    /// The integer-valued variables (`powi`'s `n`); every other one is of the element type.
    pub ints: &'a [&'a str],
    /// The element type (`f64`, `T`).
    pub elem: TokenStream,
    /// It is a type parameter, whose literals need a conversion (`f32` and `f64` take a float
    /// literal as it is).
    pub generic: bool,
    /// The runtime's own kernels: `exp`, `ln` and `tanh` are `gradgen::math`'s, which a loop
    /// over a matrix vectorises, rather than the standard library's call per entry.
    pub math: bool,
}

impl Formula {
    /// The formula as Rust code of the element type.
    pub fn rust(&self, cx: &Rust) -> TokenStream {
        self.rust_as(cx, false)
    }

    fn is_int(&self, cx: &Rust) -> bool {
        match self {
            Formula::Var(v) => cx.ints.contains(&v.as_str()),
            Formula::Num(n) => !n.contains('.') && !n.contains('e'),
            Formula::Neg(a) => a.is_int(cx),
            Formula::Bin(op, a, b)
                if !op.is_comparison() && !matches!(op, BinOp::And | BinOp::Or) =>
            {
                a.is_int(cx) && b.is_int(cx)
            }
            _ => false,
        }
    }

    /// `int`: the code is wanted as an integer (`powi`'s exponent), not as the element type.
    fn rust_as(&self, cx: &Rust, int: bool) -> TokenStream {
        match self {
            Formula::Var(v) => {
                let tokens = (cx.var)(v);
                if !int && cx.ints.contains(&v.as_str()) {
                    float_of_int(&tokens, cx)
                } else {
                    tokens
                }
            }
            Formula::Num(n) => literal(n, int, cx),
            Formula::Neg(a) => {
                let a = a.child(cx, int, NEG_LEVEL, false);
                quote!(-#a)
            }
            Formula::Bin(op, a, b) => self.rust_bin(*op, a, b, cx, int),
            Formula::Method(m, recv, _)
                if cx.math && matches!(m, Method::Exp | Method::Ln | Method::Tanh) =>
            {
                let recv = recv.rust_as(cx, int);
                let name = proc_macro2::Ident::new(m.name(), proc_macro2::Span::call_site());
                quote!(::gradgen::math::#name(#recv))
            }
            Formula::Method(m, recv, args) => {
                let recv = recv.child(cx, int, ATOM_LEVEL, false);
                let name = proc_macro2::Ident::new(m.name(), proc_macro2::Span::call_site());
                let args: Vec<TokenStream> = args
                    .iter()
                    .map(|a| a.rust_as(cx, *m == Method::Powi))
                    .collect();
                quote!(#recv.#name(#(#args),*))
            }
            Formula::If(c, t, e) => {
                let (c, t) = (c.rust_as(cx, false), t.rust_as(cx, int));
                let e = match &**e {
                    nested @ Formula::If(..) => nested.rust_as(cx, int),
                    other => {
                        let other = other.rust_as(cx, int);
                        quote!({ #other })
                    }
                };
                quote!(if #c { #t } else #e)
            }
        }
    }

    fn rust_bin(&self, op: BinOp, a: &Formula, b: &Formula, cx: &Rust, int: bool) -> TokenStream {
        // Comparisons compare values of the element type unless both sides are integers.
        let operands_int = if op.is_comparison() {
            a.is_int(cx) && b.is_int(cx)
        } else {
            int
        };
        let level = op.level();
        let a = a.child(cx, operands_int, level, false);
        let b = b.child(cx, operands_int, level, true);
        let op = op.rust();
        quote!(#a #op #b)
    }

    /// This formula as an operand of a parent that binds with `level`, in parentheses when it
    /// binds less tightly (or as tightly, on the right: the tree is kept as written).
    fn child(&self, cx: &Rust, int: bool, level: u8, right: bool) -> TokenStream {
        let code = self.rust_as(cx, int);
        let mine = self.level();
        if mine < level || (right && mine == level) {
            quote!((#code))
        } else {
            code
        }
    }
}

fn literal(digits: &str, int: bool, cx: &Rust) -> TokenStream {
    if int {
        let n: i64 = digits.parse().unwrap_or(0);
        let lit = Literal::i64_unsuffixed(n);
        return quote!(#lit);
    }
    let value: f64 = digits.parse().unwrap_or(f64::NAN);
    let lit = Literal::f64_unsuffixed(value);
    let elem = &cx.elem;
    if cx.generic {
        quote!(<#elem as ::gradgen::Scalar>::from_f64(#lit))
    } else {
        quote!(#lit)
    }
}

fn float_of_int(int: &TokenStream, cx: &Rust) -> TokenStream {
    let elem = &cx.elem;
    quote!(<#elem as ::gradgen::Scalar>::from_f64(f64::from(#int)))
}

// ---- text ----

/// How a formula reads: the name of each variable, and which variables are matrices (their
/// products are entrywise, `∘`; a product with a scalar is `·`).
pub struct Text<'a> {
    pub name: &'a dyn Fn(&str) -> String,
    pub matrix: &'a dyn Fn(&str) -> bool,
}

impl Formula {
    /// The formula as a reader sees it: `g ∘ (1 − y²)`.
    pub fn text(&self, cx: &Text) -> String {
        match self {
            Formula::Var(v) => (cx.name)(v),
            Formula::Num(n) => n.clone(),
            Formula::Neg(a) => format!("−{}", a.text_child(cx, NEG_LEVEL, false)),
            Formula::Bin(BinOp::Mul, a, b) if a == b && matches!(**a, Formula::Var(_)) => {
                format!("{}²", a.text(cx))
            }
            Formula::Bin(op, a, b) => {
                let number = |f: &Formula| matches!(f, Formula::Num(_));
                let symbol = match op {
                    BinOp::Mul if number(a) || number(b) => "·",
                    BinOp::Mul if !(a.is_matrix(cx) && b.is_matrix(cx)) => " · ",
                    other => other.text(),
                };
                let level = op.level();
                format!(
                    "{}{symbol}{}",
                    a.text_child(cx, level, false),
                    b.text_child(cx, level, true)
                )
            }
            Formula::Method(m, recv, args) => method_text(*m, recv, args, cx),
            Formula::If(c, t, e) => {
                let head = format!("{} where {}", t.text(cx), c.text(cx));
                match &**e {
                    nested @ Formula::If(..) => format!("{head}, {}", nested.text(cx)),
                    other => format!("{head}, else {}", other.text(cx)),
                }
            }
        }
    }

    fn text_child(&self, cx: &Text, level: u8, right: bool) -> String {
        let text = self.text(cx);
        let mine = self.level();
        // A variable that stands for a negative literal (`powi`'s `n = -1`) is a factor in
        // parentheses: `g·(-1)`.
        let negative_name = matches!(self, Formula::Var(_)) && text.starts_with('-');
        if mine < level || (right && mine == level) || (negative_name && level >= NEG_LEVEL - 1) {
            format!("({text})")
        } else {
            text
        }
    }

    fn is_matrix(&self, cx: &Text) -> bool {
        self.vars().iter().any(|v| (cx.matrix)(v))
    }
}

fn method_text(m: Method, recv: &Formula, args: &[Formula], cx: &Text) -> String {
    let inner = recv.text(cx);
    let atom = recv.text_child(cx, ATOM_LEVEL, false);
    let arg = |i: usize| args.get(i).map(|a| a.text(cx)).unwrap_or_default();
    match m {
        Method::Abs => format!("|{inner}|"),
        Method::Sqrt => format!("√{atom}"),
        Method::Ln1p => format!("ln(1 + {inner})"),
        Method::Powi => match args.first() {
            Some(Formula::Var(_) | Formula::Num(_)) => format!("{atom}^{}", arg(0)),
            _ => format!("{atom}^({})", arg(0)),
        },
        Method::Max | Method::Min => format!("{}({inner}, {})", m.name(), arg(0)),
        Method::Exp | Method::Ln | Method::Tanh => format!("{}({inner})", m.name()),
    }
}

// ---- products ----

/// A derivative of the form `±g · Π num / Π den`, each factor a variable.
#[derive(Debug, PartialEq)]
pub struct Product {
    pub negate: bool,
    pub num: Vec<String>,
    pub den: Vec<String>,
}

impl Formula {
    /// The formula as a signed product of the incoming gradient `g` and other variables, when it
    /// is one (`g`, `-g`, `g * b`, `-g * y / b`).
    pub fn product(&self) -> Option<Product> {
        let mut p = Product {
            negate: false,
            num: Vec::new(),
            den: Vec::new(),
        };
        let mut g = 0;
        collect(self, false, &mut p, &mut g)?;
        (g == 1).then_some(p)
    }
}

fn collect(f: &Formula, inverted: bool, p: &mut Product, g: &mut usize) -> Option<()> {
    match f {
        Formula::Var(v) if v == "g" => {
            *g += usize::from(!inverted);
            (!inverted).then_some(())
        }
        Formula::Var(v) => {
            if inverted {
                p.den.push(v.clone());
            } else {
                p.num.push(v.clone());
            }
            Some(())
        }
        Formula::Neg(a) => {
            p.negate = !p.negate;
            collect(a, inverted, p, g)
        }
        Formula::Bin(BinOp::Mul, a, b) => {
            collect(a, inverted, p, g)?;
            collect(b, inverted, p, g)
        }
        Formula::Bin(BinOp::Div, a, b) => {
            collect(a, inverted, p, g)?;
            collect(b, !inverted, p, g)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(source: &str) -> String {
        let f = Formula::parse(source).unwrap();
        f.text(&Text {
            name: &|v: &str| match v {
                "y" => "out".to_owned(),
                "x" => "a".to_owned(),
                other => other.to_owned(),
            },
            matrix: &|v: &str| v != "n",
        })
    }

    fn rust(source: &str, generic: bool) -> String {
        let f = Formula::parse(source).unwrap();
        f.rust(&Rust {
            var: &|v: &str| {
                let i = proc_macro2::Ident::new(v, proc_macro2::Span::call_site());
                quote!(#i)
            },
            ints: &["n"],
            elem: if generic { quote!(T) } else { quote!(f64) },
            generic,
            math: false,
        })
        .to_string()
    }

    /// The runtime's kernels call `gradgen::math` for `exp`, `ln` and `tanh`, which vectorise,
    /// and the standard library for the rest.
    #[test]
    fn kernels_call_the_vectorisable_math() {
        let f = Formula::parse("x.exp() / (1 + (-x).exp().ln_1p()) + x.tanh().ln()").unwrap();
        let code = f
            .rust(&Rust {
                var: &|v: &str| {
                    let i = proc_macro2::Ident::new(v, proc_macro2::Span::call_site());
                    quote!(#i)
                },
                ints: &[],
                elem: quote!(f64),
                generic: false,
                math: true,
            })
            .to_string();
        assert_eq!(
            code,
            ":: gradgen :: math :: exp (x) / (1.0 + :: gradgen :: math :: exp (- x) . ln_1p ()) + :: gradgen :: math :: ln (:: gradgen :: math :: tanh (x))"
        );
    }

    #[test]
    fn text_reads_like_a_derivation() {
        assert_eq!(text("g * (1 - y * y)"), "g ∘ (1 − out²)");
        assert_eq!(text("g / (2 * y)"), "g / (2·out)");
        assert_eq!(text("2 * g * x"), "2·g ∘ a");
        assert_eq!(text("g * n * x.powi(n - 1)"), "g · n ∘ a^(n − 1)");
        assert_eq!(text("g * y * (1 - y)"), "g ∘ out ∘ (1 − out)");
        assert_eq!(text("if y > 0 { g } else { 0 }"), "g where out > 0, else 0");
        assert_eq!(
            text("if x > 0 { g } else if x < 0 { -g } else { 0 }"),
            "g where a > 0, −g where a < 0, else 0"
        );
        assert_eq!(
            text("x.max(0) + (-x.abs()).exp().ln_1p()"),
            "max(a, 0) + ln(1 + exp(−|a|))"
        );
        assert_eq!(text("-g * y / b"), "−g ∘ out / b");
        assert_eq!(text("a - (b - g)"), "a − (b − g)");
    }

    #[test]
    fn rust_keeps_the_tree_and_converts_literals_for_a_generic_element() {
        assert_eq!(rust("g * (1 - y * y)", false), "g * (1.0 - y * y)");
        assert_eq!(
            rust("g * (1 - y)", true),
            "g * (< T as :: gradgen :: Scalar > :: from_f64 (1.0) - y)"
        );
        assert_eq!(
            rust("g * n * x.powi(n - 1)", false),
            "g * < f64 as :: gradgen :: Scalar > :: from_f64 (f64 :: from (n)) * x . powi (n - 1)"
        );
        assert_eq!(rust("(-x).exp()", false), "(- x) . exp ()");
        assert_eq!(
            rust("if x > 0 { g } else if x < 0 { -g } else { 0 }", false),
            "if x > 0.0 { g } else if x < 0.0 { - g } else { 0.0 }"
        );
        assert_eq!(rust("a - (b - g)", false), "a - (b - g)");
    }

    #[test]
    fn products_of_the_gradient_are_recognised() {
        let p = Formula::parse("-g * y / b").unwrap().product().unwrap();
        assert_eq!(
            p,
            Product {
                negate: true,
                num: vec!["y".into()],
                den: vec!["b".into()]
            }
        );
        assert_eq!(Formula::parse("g").unwrap().product().unwrap().num.len(), 0);
        assert!(Formula::parse("g * g").unwrap().product().is_none());
        assert!(Formula::parse("b / g").unwrap().product().is_none());
        assert!(Formula::parse("g * (1 - y)").unwrap().product().is_none());
    }

    #[test]
    fn outside_the_language_is_an_error() {
        assert!(Formula::parse("x.sin()").is_err());
        assert!(Formula::parse("x % 2").is_err());
        assert!(Formula::parse("if x > 0 { g }").is_err());
        assert!(Formula::parse("f(x)").is_err());
    }
}
