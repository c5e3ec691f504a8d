//! Collecting user errors: every stage reports into one [`Errors`], and the macro turns them into
//! `compile_error!`s together, so that all independent mistakes show up in one compile. Also the
//! suggestions errors make: the op meant by a misspelt method name.

use proc_macro2::{Span, TokenStream};

/// Where an error points: one token's span, or the tokens of a whole node (rustc underlines
/// from its first to its last token).
pub enum Place {
    Span(Span),
    Tokens(TokenStream),
}

impl From<Span> for Place {
    fn from(span: Span) -> Self {
        Place::Span(span)
    }
}

impl From<TokenStream> for Place {
    fn from(tokens: TokenStream) -> Self {
        Place::Tokens(tokens)
    }
}

/// The errors found so far in one function.
#[derive(Default)]
pub struct Errors {
    all: Option<syn::Error>,
}

impl Errors {
    /// Records a mistake at `span`. Messages follow rustc: lowercase, no final period; a second
    /// line starting with `help:` suggests the fix.
    pub fn push(&mut self, place: impl Into<Place>, message: impl std::fmt::Display) {
        self.add(match place.into() {
            Place::Span(span) => syn::Error::new(span, message),
            Place::Tokens(tokens) => syn::Error::new_spanned(tokens, message),
        });
    }

    /// Records an error that syn produced.
    pub fn add(&mut self, error: syn::Error) {
        match &mut self.all {
            Some(all) => all.combine(error),
            None => self.all = Some(error),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_none()
    }

    /// The `compile_error!` invocations for every recorded error (nothing if there is none).
    pub fn to_compile_errors(&self) -> TokenStream {
        self.all
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

/// The candidate closest to a misspelt name, if one is close enough to be what was meant
/// (rustc's "did you mean"): within a third of the longer name's length in edits.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|m| (edit_distance(name, m), m))
        .filter(|&(d, m)| d <= (m.len().max(name.len()) / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, m)| m)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The message for a method that is not an operation: the op meant, or the list of them.
pub fn unknown_method(method: &str) -> String {
    let names = crate::table::method_names();
    let mut msg = format!("`{method}` is not an operation gradgen can differentiate");
    match closest(method, names.iter().copied()) {
        Some(close) => msg.push_str(&format!("\nhelp: did you mean `{close}`?")),
        None => msg.push_str(&format!(
            "\nhelp: the supported methods are {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_methods_find_the_op_meant() {
        let names = crate::table::method_names();
        let find = |n: &str| closest(n, names.iter().copied());
        assert_eq!(find("matmull"), Some("matmul"));
        assert_eq!(find("row_sum"), Some("row_sums"));
        assert_eq!(find("colsums"), Some("col_sums"));
        assert_eq!(find("frobnicate"), None);
    }
}
