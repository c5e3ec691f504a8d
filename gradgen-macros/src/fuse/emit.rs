//! Part of stage 4b (fuse): the passes as Rust.
//!
//! Input: the quantities and their passes. Output: the backward function's statements. A pass
//! over a matrix shape is a block: the matrices it reads, as rows of entries
//! (`let x = &*x.entries();`), the ones it writes (`let d_x = d_x.entries_mut();`), then
//! `for i in 0..N { for j in 0..D { … } }` with one statement per line of the pass, each
//! documented with its line of the derivation; a pass over scalars is plain statements.
//! Guarantees: every stored quantity is declared (zero) before the first pass that writes it,
//! or created zero by it (a threaded pass's matrix, `gradgen::fused::rows_new`);
//! the only names introduced are the loop indices and the per-column sums of a scalar, all
//! fresh (`naming.rs`).

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::schedule::{line_terms, Line, Pass};
use super::{Class, Graph, Ref, Term};
use crate::ir::{Func, Shape};
use crate::naming::{dim_tokens, Names};

struct Cx<'a> {
    func: &'a Func,
    g: &'a Graph,
    i: Ident,
    j: Ident,
    /// Row and column quantities that live in one pass only: a `let` there, not a matrix.
    local: Vec<bool>,
    declared: Vec<bool>,
    /// The per-column sums of a scalar that a pass over `[R × C]` accumulates.
    by_col: HashMap<usize, Ident>,
    /// Per pass: its rows are shared among threads.
    threaded: Vec<bool>,
    /// Per quantity: the passes that write it.
    writers: Vec<Vec<usize>>,
    /// The pass being written.
    current: usize,
    /// In a threaded pass, the matrix whose rows it writes, and the range of rows a thread has.
    offset: Option<(usize, Ident)>,
    /// A thread's range of rows, in every threaded pass.
    rows: Ident,
}

/// The statements of the fused backward, the value and the returned gradients defined.
pub fn emit(func: &Func, g: &Graph, passes: &[Pass], names: &mut Names) -> Vec<TokenStream> {
    let mut cx = Cx {
        func,
        g,
        i: names.fresh("i", Span::call_site()),
        j: names.fresh("j", Span::call_site()),
        local: local(g, passes),
        declared: g.qs.iter().map(|q| q.given).collect(),
        by_col: HashMap::new(),
        threaded: Vec::new(),
        writers: vec![Vec::new(); g.qs.len()],
        current: 0,
        offset: None,
        rows: names.fresh("rows", Span::call_site()),
    };
    for (k, pass) in passes.iter().enumerate() {
        let written = cx.written(pass);
        for &q in &written {
            cx.writers[q].push(k);
        }
        let row_indexed = written
            .iter()
            .filter(|&&q| matches!(g.qs[q].class, Class::Big | Class::Col))
            .count();
        // The runtime adds up to eight accumulators per pass (`gradgen::fused::Accumulate`).
        let accumulators = written.len() - row_indexed;
        cx.threaded
            .push(pass.domain == Class::Big && row_indexed <= 1 && accumulators <= 8);
    }
    let mut out = Vec::new();
    let loops = passes.iter().filter(|p| p.domain != Class::Scalar).count();
    let mut k = 0;
    for (current, pass) in passes.iter().enumerate() {
        k += usize::from(pass.domain != Class::Scalar);
        cx.current = current;
        out.extend(cx.pass(k, loops, pass, names));
    }
    // A returned gradient that nothing contributes to is zero.
    for quantity in g.qs.iter().filter(|q| q.output && q.is_zero()) {
        let (name, ty) = (&quantity.name, cx.ty(&quantity.shape));
        let zero = crate::steps::zero(func, &quantity.shape);
        out.push(quote!(let #name: #ty = #zero;));
    }
    out
}

/// The row and column quantities that one pass computes and only that pass reads.
fn local(g: &Graph, passes: &[Pass]) -> Vec<bool> {
    let mut own_pass = vec![None; g.qs.len()];
    let mut read_in: Vec<Vec<usize>> = vec![Vec::new(); g.qs.len()];
    for (k, pass) in passes.iter().enumerate() {
        for &line in &pass.lines {
            if let Line::Own(q) = line {
                own_pass[q] = Some(k);
            }
            for r in line_terms(g, line).into_iter().flat_map(Term::reads) {
                read_in[r].push(k);
            }
        }
    }
    g.qs.iter()
        .enumerate()
        .map(|(q, quantity)| {
            matches!(quantity.class, Class::Row | Class::Col)
                && !quantity.output
                && !quantity.given
                && quantity.parts.is_empty()
                && quantity.mean.is_none()
                && own_pass[q].is_some()
                && read_in[q].iter().all(|&k| Some(k) == own_pass[q])
        })
        .collect()
}

fn doc(text: &str, stmt: TokenStream, is_let: bool) -> TokenStream {
    let text = format!(" {text}");
    if is_let {
        quote!(#[doc = #text] #stmt)
    } else {
        quote!(#[doc = #text] { #stmt })
    }
}

impl Cx<'_> {
    fn ty(&self, shape: &Shape) -> TokenStream {
        crate::emit::mat_type(self.func, shape)
    }

    fn scalar_zero(&self) -> TokenStream {
        crate::steps::zero(self.func, &Shape::Scalar)
    }

    /// The index of a `class` entry in a pass: `[i][j]`, `[0][j]`, `[i][0]`.
    fn index(&self, class: Class) -> TokenStream {
        let (i, j) = (&self.i, &self.j);
        match class {
            Class::Big => quote!([#i][#j]),
            Class::Row => quote!([0][#j]),
            Class::Col => quote!([#i][0]),
            Class::Scalar => quote!(),
        }
    }

    /// Quantity `q`'s entry where the current pass reads it; `named`: it is a `let` of the pass.
    fn entry(&self, q: usize, named: &[bool]) -> TokenStream {
        let quantity = &self.g.qs[q];
        let name = &quantity.name;
        if named[q] || quantity.class == Class::Scalar {
            quote!(#name)
        } else if let Some((_, rows)) = self.offset.as_ref().filter(|(o, _)| *o == q) {
            let (i, j) = (&self.i, &self.j);
            match quantity.class {
                Class::Col => quote!(#name[#i - #rows.start][0]),
                _ => quote!(#name[#i - #rows.start][#j]),
            }
        } else {
            let index = self.index(quantity.class);
            quote!(#name #index)
        }
    }

    fn term(&self, t: &Term, named: &[bool]) -> TokenStream {
        super::code(self.func, t, &|r| match r {
            Ref::Q(q) => self.entry(*q, named),
            Ref::Code(code, _) => code.clone(),
        })
    }

    fn sum(&self, terms: &[Term], named: &[bool]) -> TokenStream {
        if terms.is_empty() {
            return self.scalar_zero();
        }
        let codes = terms.iter().map(|t| self.term(t, named));
        quote!(#(#codes)+*)
    }

    /// One line of a pass as a statement.
    fn line(&self, line: Line, domain: Class, named: &mut [bool]) -> TokenStream {
        let g = self.g;
        match line {
            Line::Inline(q) => self.let_line(q, named),
            Line::Own(q) if self.local[q] => self.let_line(q, named),
            Line::Own(q) => self.own_line(q, named),
            Line::Part(q, pi) => {
                let (quantity, part) = (&g.qs[q], &g.qs[q].parts[pi]);
                let value = self.term(&part.term, named);
                let target = match (quantity.class, self.by_col.get(&q)) {
                    (Class::Scalar, Some(cols)) if domain == Class::Big => {
                        let j = &self.j;
                        quote!(#cols[0][#j])
                    }
                    _ => self.entry(q, named),
                };
                doc(&part.term.text, quote!(#target += #value;), false)
            }
        }
    }

    /// `let name = terms;`, a value of this pass.
    fn let_line(&self, q: usize, named: &mut [bool]) -> TokenStream {
        let quantity = &self.g.qs[q];
        let (name, value) = (&quantity.name, self.sum(&quantity.own, named));
        named[q] = true;
        let text: Vec<&str> = quantity.own.iter().map(|t| t.text.as_str()).collect();
        doc(&text.join("; "), quote!(let #name = #value;), true)
    }

    /// A stored quantity's own terms, or its division by its count.
    fn own_line(&self, q: usize, named: &[bool]) -> TokenStream {
        let quantity = &self.g.qs[q];
        let name = &quantity.name;
        let target = self.entry(q, named);
        let text: Vec<&str> = quantity.own.iter().map(|t| t.text.as_str()).collect();
        let text = text.join("; ");
        if quantity.class == Class::Scalar && quantity.parts.is_empty() {
            let (ty, value) = (self.ty(&quantity.shape), self.sum(&quantity.own, named));
            return doc(&text, quote!(let #name: #ty = #value;), true);
        }
        if let (true, Some((count, count_text))) = (quantity.own.is_empty(), &quantity.mean) {
            let text = format!("{name}: the sum divided by {count_text}, a mean");
            return doc(&text, quote!(#target /= #count;), false);
        }
        let value = self.sum(&quantity.own, named);
        if quantity.parts.is_empty() {
            doc(&text, quote!(#target = #value;), false)
        } else {
            doc(&text, quote!(#target += #value;), false)
        }
    }
}

impl Cx<'_> {
    /// The stored quantities a pass writes, in order of their first line.
    fn written(&self, pass: &Pass) -> Vec<usize> {
        let mut written = Vec::new();
        for line in &pass.lines {
            let q = match *line {
                Line::Own(q) if !self.local[q] => q,
                Line::Part(q, _) => q,
                _ => continue,
            };
            let scalar_here = self.g.qs[q].class == Class::Scalar && pass.domain == Class::Scalar;
            if !scalar_here && !written.contains(&q) {
                written.push(q);
            }
        }
        written
    }

    /// A pass after the current one writes `q` in place (not by moving it into threads).
    fn written_in_place_later(&self, q: usize) -> bool {
        self.writers[q]
            .iter()
            .any(|&p| p > self.current && !self.threaded[p])
    }

    /// The matrices and scalars a pass writes, declared before it if they are not yet: `mut`
    /// where the pass writes them in place, not where it moves them into its threads.
    fn declare(&mut self, pass: &Pass, names: &mut Names) -> (Vec<TokenStream>, Vec<usize>) {
        let mut decls = Vec::new();
        let written = self.written(pass);
        let moved = self.threaded[self.current];
        let created = self.created(pass, &written);
        for &q in &written {
            let quantity = &self.g.qs[q];
            if !self.declared[q] {
                self.declared[q] = true;
                if Some(q) == created {
                    continue;
                }
                let (name, ty) = (&quantity.name, self.ty(&quantity.shape));
                let zero = crate::steps::zero(self.func, &quantity.shape);
                // A threaded pass moves its row reductions into its threads, and borrows the
                // rest.
                let mutable = (!moved || quantity.class != Class::Row).then(|| quote!(mut));
                decls.push(quote!(let #mutable #name: #ty = #zero;));
            }
            if quantity.class == Class::Scalar
                && pass.domain == Class::Big
                && !self.by_col.contains_key(&q)
            {
                let cols = names.fresh(&format!("{}_by_col", quantity.name), Span::call_site());
                let mat = &self.func.mat_path;
                let c = dim_tokens(&self.g.big.1);
                let elem = &self.func.scalar_ty;
                let mutable = (!moved).then(|| quote!(mut));
                decls.push(quote!(let #mutable #cols: #mat<1, #c, #elem> = #mat::zeros();));
                self.by_col.insert(q, cols);
            }
        }
        (decls, written)
    }

    /// The `[R × C]` matrix a threaded pass writes row by row, when no pass before it wrote it:
    /// the pass creates it (`gradgen::fused::rows_new`).
    fn created(&self, pass: &Pass, written: &[usize]) -> Option<usize> {
        let out = self.row_indexed(written)?;
        // `rows_new` creates an `[R × C]` matrix; a column stays declared beforehand.
        let big = self.g.qs[out].class == Class::Big;
        (big && self.threaded[self.current] && !self.declared[out] && pass.domain == Class::Big)
            .then_some(out)
    }

    /// The matrix a pass writes row by row, if any: a returned gradient, or a column summed.
    fn row_indexed(&self, written: &[usize]) -> Option<usize> {
        written
            .iter()
            .copied()
            .find(|&q| matches!(self.g.qs[q].class, Class::Big | Class::Col))
    }

    fn pass(&mut self, k: usize, n: usize, pass: &Pass, names: &mut Names) -> Vec<TokenStream> {
        let created = self.created(pass, &self.written(pass));
        let (mut out, written) = self.declare(pass, names);
        let text = format!(
            " Pass {k} of {n}, over the entries of {}",
            self.shape_text(pass.domain)
        );
        if self.threaded[self.current] {
            out.push(self.threaded_pass(pass, &written, created, &text));
        } else {
            let mut named = vec![false; self.g.qs.len()];
            let body: Vec<TokenStream> = pass
                .lines
                .iter()
                .map(|&line| self.line(line, pass.domain, &mut named))
                .collect();
            if pass.domain == Class::Scalar {
                out.extend(body);
                return out;
            }
            let views = self.views(pass, &written);
            let mut looped = self.loops(pass.domain, &body);
            if pass.domain == Class::Big {
                // Compiled for AVX-512, AVX2 and the baseline, chosen by the CPU (as the
                // threaded passes are).
                looped = quote!(::gradgen::fused::vectorised(#[inline(always)] || { #looped }););
            }
            out.push(quote!(#[doc = #text] { #(#views)* #looped }));
        }
        for q in written {
            if let Some(cols) = self.by_col.remove(&q) {
                let name = &self.g.qs[q].name;
                out.push(quote!(#name += #cols.sum();));
            }
        }
        out
    }

    fn shape_text(&self, domain: Class) -> String {
        let (r, c) = &self.g.big;
        match domain {
            Class::Big => format!("[{r} × {c}]"),
            Class::Row => format!("[1 × {c}]"),
            Class::Col => format!("[{r} × 1]"),
            Class::Scalar => "a scalar".to_owned(),
        }
    }

    /// `let x = &*x.entries();` for what the pass reads, `entries_mut` for what it writes.
    fn views(&self, pass: &Pass, written: &[usize]) -> Vec<TokenStream> {
        let mut views = self.read_views(pass, written);
        views.extend(self.write_views(written));
        views
    }

    /// The `entries_mut` views of what the pass writes.
    fn write_views(&self, written: &[usize]) -> Vec<TokenStream> {
        let mut views = Vec::new();
        for &q in written {
            let name = match self.by_col.get(&q) {
                Some(cols) => cols,
                None if self.g.qs[q].class == Class::Scalar => continue,
                None => &self.g.qs[q].name,
            };
            views.push(quote!(let #name = #name.entries_mut();));
        }
        views
    }

    /// The `entries` views of what the pass reads and does not write.
    fn read_views(&self, pass: &Pass, written: &[usize]) -> Vec<TokenStream> {
        let mut read: Vec<usize> = Vec::new();
        for &line in &pass.lines {
            for r in line_terms(self.g, line).into_iter().flat_map(Term::reads) {
                let quantity = &self.g.qs[r];
                if quantity.stored()
                    && quantity.class != Class::Scalar
                    && !self.local[r]
                    && !written.contains(&r)
                    && !read.contains(&r)
                {
                    read.push(r);
                }
            }
        }
        read.iter()
            .map(|&r| {
                let name = &self.g.qs[r].name;
                quote!(let #name = &*#name.entries();)
            })
            .collect()
    }

    fn loops(&self, domain: Class, body: &[TokenStream]) -> TokenStream {
        let (i, j) = (&self.i, &self.j);
        let (r, c) = (dim_tokens(&self.g.big.0), dim_tokens(&self.g.big.1));
        match domain {
            Class::Big => quote!(for #i in 0..#r { for #j in 0..#c { #(#body)* } }),
            Class::Row => quote!(for #j in 0..#c { #(#body)* }),
            Class::Col => quote!(for #i in 0..#r { #(#body)* }),
            Class::Scalar => quote!(#(#body)*),
        }
    }
}

impl Cx<'_> {
    /// A pass over `[R × C]` whose rows are shared among threads: its row reductions move into
    /// the threads as a tuple and come back summed, and the one matrix it writes row by row, if
    /// any, is handed out a range of rows per thread.
    /// `let (var, sum_xc_g) = { …reads…; ::gradgen::fused::rows::<N, _>(D, (var, sum_xc_g),
    /// |rows, (var, sum_xc_g)| { …writes…; for i in rows { for j in 0..D { … } } }) };`
    fn threaded_pass(
        &mut self,
        pass: &Pass,
        written: &[usize],
        created: Option<usize>,
        text: &str,
    ) -> TokenStream {
        let g = self.g;
        let rows = self.rows.clone();
        let out = self.row_indexed(written);
        let accs: Vec<usize> = written
            .iter()
            .copied()
            .filter(|&q| Some(q) != out)
            .collect();
        let acc_names: Vec<&Ident> = accs
            .iter()
            .map(|q| self.by_col.get(q).unwrap_or(&g.qs[*q].name))
            .collect();
        self.offset = out.map(|q| (q, rows.clone()));
        let mut named = vec![false; g.qs.len()];
        let body: Vec<TokenStream> = pass
            .lines
            .iter()
            .map(|&line| self.line(line, pass.domain, &mut named))
            .collect();
        self.offset = None;
        let reads = self.read_views(pass, written);
        let acc_views = self.write_views(&accs);
        let (i, j) = (&self.i, &self.j);
        let (r, c) = (dim_tokens(&g.big.0), dim_tokens(&g.big.1));
        let range = if out.is_some() {
            quote!(#rows.clone())
        } else {
            quote!(#rows)
        };
        let closure_body = quote! {
            #(#acc_views)*
            for #i in #range { for #j in 0..#c { #(#body)* } }
        };
        let tuple = quote!((#(#acc_names,)*));
        let call = match out {
            Some(q) if created == Some(q) => {
                let (name, elem) = (&g.qs[q].name, &self.func.scalar_ty);
                quote!(::gradgen::fused::rows_new::<#r, #c, #elem, _>(#tuple,
                    #[inline(always)] |#rows, #name, #tuple| { #closure_body }))
            }
            Some(q) => {
                let name = &g.qs[q].name;
                quote!(::gradgen::fused::rows_into(#c, #name.entries_mut(), #tuple,
                    #[inline(always)] |#rows, #name, #tuple| { #closure_body }))
            }
            None => quote!(::gradgen::fused::rows::<#r, _>(#c, #tuple,
                #[inline(always)] |#rows, #tuple| { #closure_body })),
        };
        let pattern = self.threaded_results(&accs, &acc_names, created);
        let text = format!("{text}, its rows shared among threads");
        quote!(#[doc = #text] let #pattern = { #(#reads)* #call };)
    }

    /// What a threaded pass returns: its accumulators, `mut` where a later pass adds to them
    /// in place, after the matrix it creates, if it does.
    fn threaded_results(
        &self,
        accs: &[usize],
        acc_names: &[&Ident],
        created: Option<usize>,
    ) -> TokenStream {
        let accs = accs.iter().zip(acc_names).map(|(&q, name)| {
            // A scalar's per-column sums are only read after the pass (`s += s_by_col.sum()`).
            let in_place = !self.by_col.contains_key(&q) && self.written_in_place_later(q);
            let mutable = in_place.then(|| quote!(mut));
            quote!(#mutable #name)
        });
        let accs = quote!((#(#accs,)*));
        match created {
            Some(q) => {
                let name = &self.g.qs[q].name;
                // Any later pass writes it in place (`entries_mut`).
                let later = self.writers[q].iter().any(|&p| p > self.current);
                let mutable = later.then(|| quote!(mut));
                quote!((#mutable #name, #accs))
            }
            None => accs,
        }
    }
}
