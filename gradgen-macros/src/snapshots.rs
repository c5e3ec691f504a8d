//! Expansion snapshots: `examples/expanded/<example>.rs` holds the code that `#[differentiable]`
//! generates for every differentiable function of `examples/<example>.rs`, pretty-printed. The
//! test below expands the examples afresh and fails when a snapshot differs; with
//! `GRADGEN_EXPANDED=overwrite` it rewrites them instead.

use std::path::{Path, PathBuf};

use quote::ToTokens;

const REFRESH: &str = "GRADGEN_EXPANDED=overwrite cargo test -p gradgen-macros expanded";

/// The generated items of every `#[differentiable]` function and every `#[model]` in `source`,
/// pretty-printed; `None` when it has none.
fn expand_file(source: &str, origin: &str) -> Option<String> {
    let mut generated = Vec::new();
    for (args, func) in differentiable_fns(source, origin) {
        let name = func.sig.ident.clone();
        let out = crate::expand(args, func.to_token_stream());
        let out: syn::File = syn::parse2(out).unwrap_or_else(|e| panic!("{origin}: {e}"));
        // The user's own function comes back unchanged: only what was generated is shown.
        generated.extend(
            out.items
                .into_iter()
                .filter(|item| !matches!(item, syn::Item::Fn(f) if f.sig.ident == name)),
        );
    }
    generated.extend(model_items(source, origin));
    if generated.is_empty() {
        return None;
    }
    let body = prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: generated,
    });
    Some(format!(
        "// The code `#[differentiable]` generates for {origin}.\n\
         // A test keeps it current: after changing the example or the macro, run\n\
         //     {REFRESH}\n\
         // and read the diff.\n\n{body}"
    ))
}

/// The `#[differentiable]` functions of a source file, each with its attribute's arguments and
/// without the attribute, as the compiler hands them to the macro.
fn differentiable_fns(source: &str, origin: &str) -> Vec<(proc_macro2::TokenStream, syn::ItemFn)> {
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("{origin}: {e}"));
    file.items
        .into_iter()
        .filter_map(|item| {
            let syn::Item::Fn(mut func) = item else {
                return None;
            };
            let pos = func
                .attrs
                .iter()
                .position(|a| a.path().is_ident("differentiable"))?;
            let args = match func.attrs.remove(pos).meta {
                syn::Meta::List(list) => list.tokens,
                _ => proc_macro2::TokenStream::new(),
            };
            Some((args, func))
        })
        .collect()
}

/// What `#[model]` generates for each model struct of the file, and `#[differentiable]` for each
/// marked `impl` of it, as the struct's callback hands it over; without the user's own struct and
/// impl, which come back unchanged.
fn model_items(source: &str, origin: &str) -> Vec<syn::Item> {
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("{origin}: {e}"));
    let mut generated = Vec::new();
    for item in &file.items {
        let syn::Item::Struct(strukt) = item else {
            continue;
        };
        let mut strukt = strukt.clone();
        let Some(pos) = strukt.attrs.iter().position(|a| a.path().is_ident("model")) else {
            continue;
        };
        strukt.attrs.remove(pos);
        let out: syn::File = syn::parse2(crate::model::model(strukt.to_token_stream()))
            .unwrap_or_else(|e| panic!("{origin}: {e}"));
        generated.extend(
            out.items
                .into_iter()
                .filter(|i| !is_user_item(i, &strukt.ident)),
        );
        for imp in marked_impls(&file, &strukt.ident) {
            let out: syn::File =
                syn::parse2(crate::model::model_impl(callback_input(&strukt, &imp)))
                    .unwrap_or_else(|e| panic!("{origin}: {e}"));
            generated.extend(out.items.into_iter().skip(1));
        }
    }
    generated
}

/// The struct itself, and the `macro_rules!` callback that only hands its weights over.
fn is_user_item(item: &syn::Item, name: &syn::Ident) -> bool {
    matches!(item, syn::Item::Struct(s) if s.ident == *name) || matches!(item, syn::Item::Macro(_))
}

/// The `impl` blocks of `name` marked `#[differentiable]`, without the marker.
fn marked_impls(file: &syn::File, name: &syn::Ident) -> Vec<syn::ItemImpl> {
    file.items
        .iter()
        .filter_map(|item| {
            let syn::Item::Impl(imp) = item else {
                return None;
            };
            let syn::Type::Path(ty) = &*imp.self_ty else {
                return None;
            };
            let mut imp = imp.clone();
            let pos = imp
                .attrs
                .iter()
                .position(|a| a.path().is_ident("differentiable"))?;
            imp.attrs.remove(pos);
            ty.path
                .segments
                .last()
                .is_some_and(|s| s.ident == *name)
                .then_some(imp)
        })
        .collect()
}

/// What the struct's callback passes to `model_impl`: its name, its gradients' name, its weights,
/// then the impl.
fn callback_input(strukt: &syn::ItemStruct, imp: &syn::ItemImpl) -> proc_macro2::TokenStream {
    let name = &strukt.ident;
    let grads = crate::naming::model::grads(name);
    let weights = strukt.fields.iter().filter_map(|f| {
        let ty = &f.ty;
        let is_mat = quote::quote!(#ty).to_string().starts_with("Mat");
        let field = f.ident.as_ref()?;
        is_mat.then(|| quote::quote!(#field: #ty,))
    });
    quote::quote!([#name] [#grads] [#(#weights)*] #imp)
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

#[test]
fn expanded_examples_are_current() {
    let overwrite = std::env::var("GRADGEN_EXPANDED").is_ok_and(|v| v == "overwrite");
    let dir = examples_dir();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the examples directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    examples.sort();
    let mut checked = 0;
    let mut stale = Vec::new();
    for path in examples {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let source = std::fs::read_to_string(&path).expect("a readable example");
        let Some(expected) = expand_file(&source, &format!("examples/{file_name}")) else {
            continue;
        };
        let snapshot = dir.join("expanded").join(&file_name);
        checked += 1;
        if overwrite {
            std::fs::create_dir_all(dir.join("expanded")).expect("examples/expanded");
            std::fs::write(&snapshot, &expected).expect("a writable snapshot");
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(found) if found == expected => {}
            _ => stale.push(format!("examples/expanded/{file_name}")),
        }
    }
    assert!(checked > 0, "no example has a #[differentiable] function");
    assert!(
        stale.is_empty(),
        "the generated code of the examples changed, and these snapshots are stale: {}\n\
         Refresh them with\n    {REFRESH}\nand read the diff.",
        stale.join(", ")
    );
}

/// The README shows the softmax example's generated backward and derivation: they must be the
/// current ones.
#[test]
fn the_readme_shows_the_current_generated_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let expanded = std::fs::read_to_string(root.join("examples/expanded/softmax_classifier.rs"))
        .expect("the softmax snapshot");
    let start = expanded
        .find("pub fn softmax_loss_backward")
        .expect("the backward function");
    let len = expanded[start..].find("\n}\n").expect("its end") + 2;
    let backward = &expanded[start..start + len];
    assert!(
        readme.contains(backward),
        "the README's generated backward differs from examples/expanded/softmax_classifier.rs:\n{backward}"
    );
    let heading = "Forward: one operation per binding";
    let derivation = readme
        .split(&format!("```text\n{heading}"))
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .map(|rest| format!("{heading}{rest}"))
        .expect("the README shows the derivation");
    for line in derivation.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            expanded.contains(&format!("/// {line}\n")),
            "the README's derivation line is not the generated one: {line}"
        );
    }
}

/// Compile cost: how long the macro takes per differentiable function of the examples. Printed
/// (`cargo test -p gradgen-macros expansion_time -- --nocapture`), not asserted: wall-clock
/// time depends on the machine. BENCHMARKS.md records it.
#[test]
fn expansion_time_is_reported() {
    const ROUNDS: u32 = 50;
    let dir = examples_dir();
    for name in ["softmax_classifier", "two_layer_net", "batchnorm"] {
        let source = std::fs::read_to_string(dir.join(format!("{name}.rs"))).expect("example");
        for (args, func) in differentiable_fns(&source, name) {
            let tokens = func.to_token_stream();
            let out = crate::expand(args.clone(), tokens.clone());
            assert!(!out.to_string().contains("compile_error"), "{name}: {out}");
            let start = std::time::Instant::now();
            for _ in 0..ROUNDS {
                drop(crate::expand(args.clone(), tokens.clone()));
            }
            let per = start.elapsed() / ROUNDS;
            println!("expansion of {name}::{}: {per:?}", func.sig.ident);
        }
    }
}
