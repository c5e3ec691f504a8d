//! Part of stage 4b (fuse): row factors out of column sums, and sums that several gradients share.
//!
//! Input: the quantities as `build` makes them from the table's formulas. Output: the same
//! quantities, with some reductions over `[R × C]` into a row (or a column) rewritten so that
//! they can run earlier. Such a reduction's term is expanded into a sum of products, through
//! the `[R × C]` values that are products of others and through the contributions a gradient
//! adds up. Each product's factors that are constant along the summed axis (rows for a sum over
//! rows, scalars, constants) come out of the sum, `Σ_rows (h ∘ A) = h ∘ Σ_rows A`. What stays
//! inside becomes a sum of its own (`sum_xc_g`), shared by every reduction that needs the same
//! one. The reduction becomes an own term of its quantity, computed in a pass over the small
//! shape once its factors are complete. Batch norm's `dγ = Σ_rows (d_out·g ∘ xc ∘ inv_std)`
//! reads `inv_std`, which needs the variance, which needs a pass of its own;
//! `d_out · inv_std ∘ Σ_rows (g ∘ xc)` can be summed in the variance's pass.
//!
//! Guarantees: the result equals the original in exact arithmetic. Only products distribute
//! over the sum; a difference such as `x − μ` is never expanded, so `Σ (x − μ) ∘ g` does not
//! become `Σ x ∘ g − μ · Σ g`, which would cancel. What changes is the order of additions: a
//! gradient's contributions, added entry by entry before, are summed apart and added after
//! (`Σ (a + b) = Σ a + Σ b`; where `a ≈ −b` entry by entry, that sum cancels where the first
//! did not). A quantity's reductions are rewritten only when that makes it
//! complete in an earlier pass (then, in a second round, any other whose sums exist already
//! and that runs no later for it), and the expansion is bounded: a term too large to expand,
//! or one this stage does not read as a product, is left as it was.

use std::collections::HashMap;

use super::{Class, Graph, Part, Quantity, Ref, Term};
use crate::formula::{BinOp, Formula, Text};
use crate::naming::Names;

/// How many products one term may expand to, and how many factors each may have.
const MAX_PRODUCTS: usize = 16;
const MAX_FACTORS: usize = 12;
/// How deep an expansion may look through the values it reads.
const MAX_DEPTH: usize = 8;
/// The variable names of the formulas this stage writes; a rewrite needing more is not made.
const VARS: [&str; 32] = [
    "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
    "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27",
    "v28", "v29", "v30", "v31",
];

/// A factor of a product: what a variable stands for, or a number.
#[derive(Clone)]
enum Factor {
    Var(Ref),
    Num(String),
}

/// `±Π num / Π den`.
#[derive(Clone, Default)]
struct Product {
    negate: bool,
    num: Vec<Factor>,
    den: Vec<Factor>,
}

impl Product {
    fn of(f: Factor) -> Product {
        Product {
            negate: false,
            num: vec![f],
            den: Vec::new(),
        }
    }

    fn size(&self) -> usize {
        self.num.len() + self.den.len()
    }
}

/// What stays inside a sum: the quantities multiplied and divided, in a canonical order.
type Inner = (Vec<usize>, Vec<usize>);

/// A product split into the factors that come out of the sum and the sum they multiply.
struct Split {
    out: Product,
    inner: Inner,
}

/// Rewrites the reductions into a row or a column that can then run in an earlier pass over
/// `[R × C]`, where that makes the quantity they sum into complete earlier; then every other
/// one whose sums the first ones made already, if that makes it no later
/// (`dβ = d_out · Σ_rows g` when `Σ_rows g` is there for `dμ`).
pub fn factor(g: &mut Graph, names: &mut Names) {
    let mut shared: HashMap<(Class, Inner), usize> = HashMap::new();
    // The sums made here are not rewritten: each would become itself.
    let made_here = g.qs.len();
    for reuse_only in [false, true] {
        // Until nothing changes: a rewrite can make a quantity that an earlier one reads
        // complete sooner. Each rewrite removes a reduction, so this ends; the bound is a guard.
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            for q in 0..made_here {
                changed |= factor_quantity(g, q, reuse_only, &mut shared, names);
            }
            if !changed {
                break;
            }
        }
    }
}

/// How many times `factor` goes over the quantities.
const MAX_ROUNDS: usize = 8;

/// Rewrites the reductions of quantity `q` that `factor` chooses; whether it rewrote any.
fn factor_quantity(
    g: &mut Graph,
    q: usize,
    reuse_only: bool,
    shared: &mut HashMap<(Class, Inner), usize>,
    names: &mut Names,
) -> bool {
    let class = g.qs[q].class;
    if !matches!(class, Class::Row | Class::Col) || g.qs[q].mean.is_some() {
        return false;
    }
    let done = complete_after(g);
    let plans: Vec<Option<Plan>> = (0..g.qs[q].parts.len())
        .map(|pi| splits(g, q, pi, &done))
        .collect();
    let earlier = |p: &Option<Plan>| matches!(p, Some(p) if p.then < p.now);
    let chosen: Vec<bool> = if reuse_only {
        plans
            .iter()
            .map(|p| {
                p.as_ref().is_some_and(|p| {
                    p.then <= p.now
                        && p.splits
                            .iter()
                            .all(|s| shared.contains_key(&(class, s.inner.clone())))
                })
            })
            .collect()
    } else {
        // The quantity is complete once its own terms' reads and every part are.
        let own = g.qs[q].own.iter().flat_map(Term::reads).map(|r| done[r]);
        let parts = plans.iter().enumerate().map(|(pi, p)| match p {
            Some(p) if p.then < p.now => p.then,
            _ => part_pass(g, q, pi, &done),
        });
        let after = own.chain(parts).max().unwrap_or(0);
        let pays = after < done[q];
        plans.iter().map(|p| pays && earlier(p)).collect()
    };
    let mut changed = false;
    // From the last part back, so that the indices of the others stay valid.
    for (pi, plan) in plans.into_iter().enumerate().rev() {
        if let (true, Some(plan)) = (chosen[pi], plan) {
            rewrite(g, q, pi, &plan.splits, shared, names);
            changed = true;
        }
    }
    changed
}

/// A reduction as products split around the sum, with the pass over `[R × C]` it can run in as
/// it is (`now`) and rewritten (`then`).
struct Plan {
    splits: Vec<Split>,
    now: usize,
    then: usize,
}

/// The pass over `[R × C]` in which part `pi` of `q` can run as it is.
fn part_pass(g: &Graph, q: usize, pi: usize, done: &[usize]) -> usize {
    let part = &g.qs[q].parts[pi];
    let reads = part.term.reads().map(|r| done[r]).max().unwrap_or(0);
    reads + usize::from(part.domain == Class::Big)
}

/// Part `pi` of quantity `q` as products split around the sum, when it is a sum over `[R × C]`
/// of products.
fn splits(g: &Graph, q: usize, pi: usize, done: &[usize]) -> Option<Plan> {
    let (class, part) = (g.qs[q].class, &g.qs[q].parts[pi]);
    if part.domain != Class::Big {
        return None;
    }
    let products = expand(g, &part.term, &part.term.formula, 0)?;
    let splits: Vec<Split> = products
        .iter()
        .map(|p| split(g, p, class))
        .collect::<Option<_>>()?;
    // `var` names every variable of the formulas `rewrite` and `new_sum` write from `VARS`: one
    // per factor that comes out and one per sum here, at most `MAX_FACTORS` in a sum.
    let vars: usize = splits.iter().map(|s| s.out.size() + 1).sum();
    if splits.is_empty() || vars > VARS.len() {
        return None;
    }
    let now = part_pass(g, q, pi, done);
    let then = splits
        .iter()
        .map(|s| {
            let inner = s.inner.0.iter().chain(&s.inner.1).map(|&r| done[r] + 1);
            let out = s.out.num.iter().chain(&s.out.den).map(|f| match f {
                Factor::Var(Ref::Q(r)) => done[*r],
                _ => 0,
            });
            inner.chain(out).max().unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    Some(Plan { splits, now, then })
}

/// For each quantity, the number of passes over `[R × C]` before it can be read: none for a
/// given one, and one more than what it reads for a sum over `[R × C]`.
fn complete_after(g: &Graph) -> Vec<usize> {
    fn visit(g: &Graph, q: usize, memo: &mut [Option<usize>], open: &mut [bool]) -> usize {
        if let Some(k) = memo[q] {
            return k;
        }
        if open[q] {
            // A quantity that reads itself: never earlier than anything.
            return usize::MAX / 4;
        }
        open[q] = true;
        let quantity = &g.qs[q];
        let mut k = 0;
        for r in quantity.own.iter().flat_map(Term::reads) {
            k = k.max(visit(g, r, memo, open));
        }
        for part in &quantity.parts {
            let reads: Vec<usize> = part.term.reads().collect();
            let read = reads.into_iter().map(|r| visit(g, r, memo, open)).max();
            let big = usize::from(part.domain == Class::Big);
            k = k.max(read.unwrap_or(0).saturating_add(big));
        }
        open[q] = false;
        memo[q] = Some(k);
        k
    }
    let mut memo = vec![None; g.qs.len()];
    let mut open = vec![false; g.qs.len()];
    (0..g.qs.len())
        .map(|q| visit(g, q, &mut memo, &mut open))
        .collect()
}

/// A formula of a term as a sum of products; `None` when it is not one.
fn expand(g: &Graph, t: &Term, f: &Formula, depth: usize) -> Option<Vec<Product>> {
    let products = match f {
        Formula::Var(name) => {
            if t.ints.contains(&name.as_str()) {
                return None;
            }
            match &t.env.iter().find(|(n, _)| n == name)?.1 {
                Ref::Q(r) => through(g, *r, depth),
                code @ Ref::Code(..) => vec![Product::of(Factor::Var(code.clone()))],
            }
        }
        Formula::Num(n) => vec![Product::of(Factor::Num(n.clone()))],
        Formula::Neg(a) => {
            let mut products = expand(g, t, a, depth)?;
            for p in &mut products {
                p.negate = !p.negate;
            }
            products
        }
        Formula::Bin(BinOp::Mul, a, b) => times(&expand(g, t, a, depth)?, &expand(g, t, b, depth)?),
        Formula::Bin(BinOp::Div, a, b) => {
            let [d] = <[Product; 1]>::try_from(expand(g, t, b, depth)?).ok()?;
            let inverse = Product {
                negate: d.negate,
                num: d.den,
                den: d.num,
            };
            times(&expand(g, t, a, depth)?, &[inverse])
        }
        _ => return None,
    };
    let small = products.len() <= MAX_PRODUCTS && products.iter().all(|p| p.size() <= MAX_FACTORS);
    small.then_some(products)
}

/// Quantity `r`'s entry as a sum of products: its own terms when it is an `[R × C]` value
/// recomputed where it is read and they are products; `r` itself otherwise.
fn through(g: &Graph, r: usize, depth: usize) -> Vec<Product> {
    let quantity = &g.qs[r];
    let open = depth < MAX_DEPTH
        && quantity.class == Class::Big
        && !quantity.stored()
        && quantity.parts.is_empty()
        && quantity.mean.is_none()
        && !quantity.own.is_empty();
    if open {
        let mut all = Vec::new();
        for t in &quantity.own {
            match expand(g, t, &t.formula, depth + 1) {
                Some(products) => all.extend(products),
                None => return vec![Product::of(Factor::Var(Ref::Q(r)))],
            }
        }
        if all.len() <= MAX_PRODUCTS {
            return all;
        }
    }
    vec![Product::of(Factor::Var(Ref::Q(r)))]
}

fn times(a: &[Product], b: &[Product]) -> Vec<Product> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let mut p = x.clone();
            p.negate ^= y.negate;
            p.num.extend(y.num.iter().cloned());
            p.den.extend(y.den.iter().cloned());
            out.push(p);
        }
    }
    out
}

/// The factors of `p` that are constant in a sum into `class`, and the quantities that are not.
fn split(g: &Graph, p: &Product, class: Class) -> Option<Split> {
    let comes_out = |f: &Factor| match f {
        Factor::Var(Ref::Q(r)) => {
            matches!(g.qs[*r].class, Class::Scalar) || g.qs[*r].class == class
        }
        Factor::Var(Ref::Code(..)) | Factor::Num(_) => true,
    };
    let mut out = Product {
        negate: p.negate,
        ..Product::default()
    };
    let (mut num, mut den) = (Vec::new(), Vec::new());
    for (factors, outside, inside) in [
        (&p.num, &mut out.num, &mut num),
        (&p.den, &mut out.den, &mut den),
    ] {
        for f in factors {
            match f {
                Factor::Var(Ref::Q(r)) if !comes_out(f) => inside.push(*r),
                _ => outside.push(f.clone()),
            }
        }
    }
    if num.is_empty() && den.is_empty() {
        return None;
    }
    num.sort_unstable();
    den.sort_unstable();
    Some(Split {
        out,
        inner: (num, den),
    })
}

/// Replaces part `pi` of `q` by an own term: each product's outer factors times its sum.
fn rewrite(
    g: &mut Graph,
    q: usize,
    pi: usize,
    splits: &[Split],
    shared: &mut HashMap<(Class, Inner), usize>,
    names: &mut Names,
) {
    let original = g.qs[q].parts[pi].term.text.clone();
    let mut env: Vec<(&'static str, Ref)> = Vec::new();
    let mut formula: Option<Formula> = None;
    for s in splits {
        let key = (g.qs[q].class, s.inner.clone());
        let sum = match shared.get(&key) {
            Some(&sum) => sum,
            None => {
                let sum = new_sum(g, q, &s.inner, names);
                shared.insert(key, sum);
                sum
            }
        };
        let mut product: Option<Formula> = None;
        for f in &s.out.num {
            let f = factor_formula(&mut env, f);
            product = Some(product.map_or(f.clone(), |p| mul(BinOp::Mul, p, f)));
        }
        let sum = var(&mut env, Ref::Q(sum));
        let mut product = product.map_or(sum.clone(), |p| mul(BinOp::Mul, p, sum));
        for f in &s.out.den {
            product = mul(BinOp::Div, product, factor_formula(&mut env, f));
        }
        formula = Some(match (formula, s.out.negate) {
            (None, false) => product,
            (None, true) => Formula::Neg(Box::new(product)),
            (Some(sum), false) => mul(BinOp::Add, sum, product),
            (Some(sum), true) => mul(BinOp::Sub, sum, product),
        });
    }
    let Some(formula) = formula else {
        return;
    };
    let text = format!("{original}; factored: {}", text(g, &formula, &env));
    g.qs[q].parts.remove(pi);
    g.qs[q].own.push(Term::new(formula, env, Vec::new(), text));
}

/// A new quantity: the sum over `[R × C]` of `inner`, in `q`'s shape.
fn new_sum(g: &mut Graph, q: usize, inner: &Inner, names: &mut Names) -> usize {
    let mut env = Vec::new();
    let num = inner.0.iter().map(|&r| var(&mut env, Ref::Q(r)));
    let num = num.reduce(|a, b| mul(BinOp::Mul, a, b));
    let mut formula = num.unwrap_or_else(|| Formula::Num("1".to_owned()));
    for &r in &inner.1 {
        formula = mul(BinOp::Div, formula, var(&mut env, Ref::Q(r)));
    }
    let (class, shape) = (g.qs[q].class, g.qs[q].shape.clone());
    let named =
        |rs: &[usize]| -> Vec<String> { rs.iter().map(|&r| g.qs[r].name.to_string()).collect() };
    let name = names.sum_of(&named(&inner.0), &named(&inner.1));
    let axis = if class == Class::Row { "rows" } else { "cols" };
    let body = text(g, &formula, &env);
    let text = format!("{name} = Σ_{axis} {body}, a sum the factored lines share");
    let term = Term::new(formula, env, Vec::new(), text);
    g.qs.push(Quantity {
        name,
        class,
        shape,
        given: false,
        own: Vec::new(),
        parts: vec![Part {
            domain: Class::Big,
            term,
        }],
        mean: None,
        output: false,
    });
    g.qs.len() - 1
}

fn mul(op: BinOp, a: Formula, b: Formula) -> Formula {
    Formula::Bin(op, Box::new(a), Box::new(b))
}

/// A variable of the formula being written, standing for `r`.
fn var(env: &mut Vec<(&'static str, Ref)>, r: Ref) -> Formula {
    let name = VARS[env.len().min(VARS.len() - 1)];
    env.push((name, r));
    Formula::Var(name.to_owned())
}

fn factor_formula(env: &mut Vec<(&'static str, Ref)>, f: &Factor) -> Formula {
    match f {
        Factor::Var(r) => var(env, r.clone()),
        Factor::Num(n) => Formula::Num(n.clone()),
    }
}

/// A written formula as a reader sees it, its variables by the quantities' names.
fn text(g: &Graph, formula: &Formula, env: &[(&'static str, Ref)]) -> String {
    let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, r)| r);
    let name = |v: &str| match lookup(v) {
        Some(Ref::Q(r)) => g.qs[*r].name.to_string(),
        Some(Ref::Code(_, text)) => text.clone(),
        None => v.to_owned(),
    };
    let matrix = |v: &str| matches!(lookup(v), Some(Ref::Q(r)) if g.qs[*r].class != Class::Scalar);
    formula.text(&Text {
        name: &name,
        matrix: &matrix,
    })
}
