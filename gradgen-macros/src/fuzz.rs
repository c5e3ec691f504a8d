//! The macro never panics: a corpus of generated and mutated inputs, each of which must yield
//! either code or an error. Deterministic (a fixed seed), so a failure reproduces.

use std::panic::{catch_unwind, AssertUnwindSafe};

use proc_macro2::TokenStream;

/// The fuzzer's draws, from rand's seeded xoshiro256++ (what `gradgen::init` uses): the same
/// corpus on every run and platform.
struct Rng(rand::rngs::Xoshiro256PlusPlus);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(rand::SeedableRng::seed_from_u64(seed))
    }

    fn next(&mut self) -> u64 {
        rand::Rng::next_u64(&mut self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Valid functions, whose pieces and mutations make up much of the corpus.
const SEEDS: &[&str] = &[
    "pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<D, C>, b: &Mat<1, C>, y: &Labels<N, C>) -> f64 {
        let h = x.matmul(w);
        let score = h.add_row(b);
        let correct = score.pick(y);
        let rowsum = score.exp().row_sums();
        (rowsum.ln() - correct).mean()
    }",
    "fn mlp<T: Scalar, const N: usize, const D: usize, const H: usize, const C: usize>(x: &Mat<N, D, T>, w1: &Mat<D, H, T>, b1: &Mat<1, H, T>, w2: &Mat<H, C, T>, y: &Labels<N, C>, reg: T) -> T where T: Scalar {
        let hidden = x.matmul(w1).add_row(b1).relu();
        let scores = hidden.matmul(w2);
        let l2 = w1.square().sum() + w2.square().sum();
        scores.cross_entropy(y) + reg * l2
    }",
    "fn bn<const N: usize, const D: usize>(x: &Mat<N, D>, gamma: &Mat<1, D>, beta: &Mat<1, D>, g: &Mat<N, D>, eps: f64) -> f64 {
        let mu = x.col_means();
        let xc = x.sub_row(&mu);
        let var = xc.square().col_means();
        let inv_std = (var + eps).sqrt().powi(-1);
        let out = xc.mul_row(&inv_std).mul_row(gamma).add_row(beta);
        (out * g).sum()
    }",
    "fn attention<const N: usize, const M: usize, const D: usize>(q: &Mat<N, D>, k: &Mat<M, D>, v: &Mat<M, D>, s: f64) -> f64 {
        let w = (q.matmul(&k.t()) / s).softmax_rows();
        let o = w.matmul(v);
        -o.log_softmax_rows().row_max().mean() + 2.0 * s - s / 3.0
    }",
];

const IDENTS: &[&str] = &[
    "x",
    "w",
    "b",
    "y",
    "h",
    "N",
    "D",
    "C",
    "Mat",
    "Labels",
    "f64",
    "f32",
    "T",
    "let",
    "fn",
    "mut",
    "matmul",
    "t",
    "exp",
    "ln",
    "sum",
    "mean",
    "pick",
    "add_row",
    "powi",
    "relu",
    "cross_entropy",
    "d_out",
    "value",
    "grads",
    "self",
    "Self",
    "r#fn",
    "r#type",
    "_",
    "__x",
    "usize",
    "where",
    "const",
    "return",
    "for",
    "in",
    "if",
    "else",
    "match",
    "loop",
    "while",
    "impl",
    "dyn",
    "pub",
    "crate",
    "super",
    "async",
    "unsafe",
    "extern",
];
const PUNCTS: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "&&", "|", "=", "==", "+=", ";", ",", ".", ":", "::", "<", ">",
    "->", "=>", "!", "?", "#", "'a", "..", "@", "^",
];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "2.0",
    "1e300",
    "0.5f32",
    "99999999999999999999999",
    "\"s\"",
    "'c'",
    "true",
    "1usize",
    "3i32",
    "b'x'",
];

/// A random token tree of bounded depth.
fn random_tokens(rng: &mut Rng, depth: usize) -> String {
    let len = rng.below(12);
    let mut out = String::new();
    for _ in 0..len {
        let piece = match rng.below(if depth == 0 { 3 } else { 4 }) {
            0 => rng.pick(IDENTS).to_owned(),
            1 => rng.pick(PUNCTS).to_owned(),
            2 => rng.pick(LITERALS).to_owned(),
            _ => {
                let inner = random_tokens(rng, depth - 1);
                match rng.below(3) {
                    0 => format!("({inner})"),
                    1 => format!("[{inner}]"),
                    _ => format!("{{{inner}}}"),
                }
            }
        };
        out.push_str(&piece);
        out.push(' ');
    }
    out
}

const TYPES: &[&str] = &[
    "&Mat<N, 3>",
    "Mat<N, 3>",
    "&Mat<1, N>",
    "&Mat<N, 3, f32>",
    "&Labels<N, 3>",
    "f64",
    "f32",
    "T",
    "&f64",
    "Mat",
    "Mat<>",
    "&Mat<N>",
    "&Mat<N, 3, f64, 4>",
    "&Mat<{ N }, 3>",
    "&Mat<N, 3, i32>",
    "&&Mat<N, 3>",
    "[f64; 3]",
    "(f64, f64)",
    "impl Fn()",
    "&Labels<N>",
    "&dyn Fn()",
    "&Mat<N, 99999999999999999999999>",
    "&mut Mat<N, 3>",
    "Vec<f64>",
    "&Mat<K, 3>",
    "&Mat<N, 'a>",
    "&gradgen::Mat<N, 3>",
    "&<T as X>::Mat<N, 3>",
    "!",
    "_",
    "&Mat<N, 3, T>",
];
const RETURNS: &[&str] = &[
    "f64",
    "f32",
    "T",
    "Mat<N, 3>",
    "Labels<N, 3>",
    "()",
    "i32",
    "!",
    "Vec<f64>",
];
const OPERANDS: &[&str] = &[
    "a", "b", "s", "y", "2.0", "-1", "3", "(a)", "&a", "a.t()", "s * 2.0",
];

/// Every op with every arity up to three and every kind of operand.
fn op_cases() -> Vec<String> {
    let methods: Vec<&str> = crate::table::method_names();
    let mut cases = Vec::new();
    let header =
        "fn f<const N: usize>(a: &Mat<N, 3>, b: &Mat<3, N>, s: f64, y: &Labels<N, 3>) -> f64";
    for m in &methods {
        for recv in OPERANDS {
            for arity in 0..=3 {
                let args: Vec<&str> = (0..arity)
                    .map(|i| OPERANDS[(i * 3 + m.len()) % OPERANDS.len()])
                    .collect();
                cases.push(format!(
                    "{header} {{ let r = {recv}.{m}({}); r.sum() }}",
                    args.join(", ")
                ));
                cases.push(format!("{header} {{ {recv}.{m}({}) }}", args.join(", ")));
            }
        }
    }
    for op in ["+", "-", "*", "/", "%", "==", "&&", "+="] {
        for l in OPERANDS {
            for r in OPERANDS {
                cases.push(format!("{header} {{ let r = {l} {op} {r}; r.sum() }}"));
                cases.push(format!("{header} {{ {l} {op} {r} }}"));
            }
        }
    }
    cases
}

fn run(attr_text: &str, item_text: &str) -> bool {
    let (Ok(attr), Ok(item)) = (
        attr_text.parse::<TokenStream>(),
        item_text.parse::<TokenStream>(),
    ) else {
        // Not even tokens (an unbalanced delimiter): rustc would never call the macro.
        return false;
    };
    let result = catch_unwind(AssertUnwindSafe(|| crate::expand(attr, item)));
    match result {
        Ok(out) => {
            assert!(!out.is_empty(), "no output for {item_text}");
            true
        }
        Err(_) => panic!("the macro panicked on:\n#[differentiable({attr_text})]\n{item_text}"),
    }
}

#[test]
fn the_macro_never_panics() {
    let mut rng = Rng::new(0x5EED);
    let mut tried = 0usize;
    let mut count = |ok: bool| tried += usize::from(ok);
    ops_types_and_names(&mut count);
    truncations_and_mutations(&mut rng, &mut count);
    random_items(&mut rng, &mut count);
    models(&mut rng, &mut count);
    println!("the macro produced code or an error, without panicking, on {tried} inputs");
    assert!(
        tried > 5000,
        "only {tried} inputs were well-formed token streams"
    );
}

/// Every op, arity and operand kind; nonsense types; raw identifiers and the generated code's
/// own names wherever a name goes; malformed attribute arguments.
fn ops_types_and_names(count: &mut dyn FnMut(bool)) {
    for case in op_cases() {
        count(run("", &case));
    }
    for ty in TYPES {
        for ret in RETURNS {
            count(run("", &format!("fn f<const N: usize, T>(x: {ty}, z: &Mat<N, 3>) -> {ret} {{ x.sum() + z.mean() }}")));
        }
    }
    for name in [
        "r#type", "r#fn", "r#match", "d_out", "value", "grads", "check", "Mat", "__x", "exp", "_",
    ] {
        count(run("", &format!("fn {name}<const N: usize>({name}: &Mat<N, 3>) -> f64 {{ let {name} = {name}.exp(); {name}.sum() }}")));
        count(run(
            &format!("wrt({name})"),
            &format!("fn r#loop<const {name}: usize>(x: &Mat<{name}, 3>) -> f64 {{ x.sum() }}"),
        ));
    }
    for attr in [
        "wrt",
        "wrt()",
        "wrt(x)",
        "wrt(x, x)",
        "wrt(q)",
        "wrt(y)",
        "wrt(1)",
        "foo",
        "wrt(x) wrt(x)",
        "wrt(x),",
        "= 3",
        "wrt[x]",
    ] {
        count(run(attr, SEEDS[0]));
    }
}

/// Every seed truncated at every token and with each token removed; then random mutations of
/// the seeds: tokens replaced, inserted, swapped.
fn truncations_and_mutations(rng: &mut Rng, count: &mut dyn FnMut(bool)) {
    for seed in SEEDS {
        let tokens: Vec<String> = flatten(&seed.parse::<TokenStream>().expect("seed tokens"));
        for cut in 0..tokens.len() {
            count(run("", &tokens[..cut].join(" ")));
            let mut removed = tokens.clone();
            removed.remove(cut);
            count(run("", &removed.join(" ")));
        }
    }
    for _ in 0..3000 {
        let seed = SEEDS[rng.below(SEEDS.len())];
        let mut tokens = flatten(&seed.parse::<TokenStream>().expect("seed tokens"));
        for _ in 0..=rng.below(3) {
            let at = rng.below(tokens.len());
            match rng.below(3) {
                0 => tokens[at] = random_tokens(rng, 1),
                1 => tokens.insert(at, random_tokens(rng, 1)),
                _ => {
                    let other = rng.below(tokens.len());
                    tokens.swap(at, other);
                }
            }
        }
        count(run("", &tokens.join(" ")));
    }
}

/// Random bodies and random whole items.
fn random_items(rng: &mut Rng, count: &mut dyn FnMut(bool)) {
    for _ in 0..2000 {
        let body = random_tokens(rng, 2);
        count(run(
            "",
            &format!(
                "fn f<const N: usize>(x: &Mat<N, 3>, y: &Labels<N, 3>, s: f64) -> f64 {{ {body} }}"
            ),
        ));
        count(run(&random_tokens(rng, 1), &random_tokens(rng, 2)));
    }
}

/// Models: structs, impl blocks, and the callback's input, with random and mutated parts.
fn models(rng: &mut Rng, count: &mut dyn FnMut(bool)) {
    let model_seed =
        "pub struct r#Net<const D: usize> { pub w: Mat<D, 3>, pub r#type: Mat<1, 3>, name: u8 }";
    let impl_seed = "impl<const D: usize> Net<D> { #[differentiable] fn r#loss<const N: usize>(&self, x: &Mat<N, D>) -> f64 { x.matmul(&self.w).add_row(&self.r#type).sum() } fn other(&self) {} }";
    for _ in 0..500 {
        let mut tokens = flatten(&model_seed.parse::<TokenStream>().expect("model tokens"));
        let at = rng.below(tokens.len());
        tokens[at] = random_tokens(rng, 1);
        count(run_with(crate::model::model, &tokens.join(" ")));
        let mut tokens = flatten(&impl_seed.parse::<TokenStream>().expect("impl tokens"));
        let at = rng.below(tokens.len());
        tokens[at] = random_tokens(rng, 1);
        let item = tokens.join(" ");
        count(run("", &item));
        let callback = format!("[Net] [NetGrads] [w: Mat<D, 3>, r#type: Mat<1, 3>,] {item}");
        count(run_with(crate::model::model_impl, &callback));
        count(run_with(crate::model::model_impl, &random_tokens(rng, 2)));
    }
    count(run_with(crate::model::model, model_seed));
    count(run_with(
        crate::model::model_impl,
        &format!("[Net] [NetGrads] [w: Mat<D, 3>, r#type: Mat<1, 3>,] {impl_seed}"),
    ));
}

/// Like [`run`], for the model macros, which take one token stream.
fn run_with(f: fn(TokenStream) -> TokenStream, text: &str) -> bool {
    let Ok(tokens) = text.parse::<TokenStream>() else {
        return false;
    };
    match catch_unwind(AssertUnwindSafe(|| f(tokens))) {
        Ok(_) => true,
        Err(_) => panic!("a model macro panicked on:\n{text}"),
    }
}

/// A token stream as a list of token texts, with groups kept whole only where they are leaves.
fn flatten(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tt in tokens.clone() {
        match tt {
            proc_macro2::TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                    proc_macro2::Delimiter::Brace => ("{", "}"),
                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                    proc_macro2::Delimiter::None => ("", ""),
                };
                out.push(open.to_owned());
                out.extend(flatten(&g.stream()));
                out.push(close.to_owned());
            }
            other => out.push(other.to_string()),
        }
    }
    out
}
