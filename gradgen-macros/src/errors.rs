//! Collecting user errors: every stage reports into one [`Errors`], and the macro turns them into
//! `compile_error!`s together, so that all independent mistakes show up in one compile.

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
