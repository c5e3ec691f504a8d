//! Collecting user errors: every stage reports into one [`Errors`], and the macro turns them into
//! `compile_error!`s together, so that all independent mistakes show up in one compile.

use proc_macro2::{Span, TokenStream};

/// The errors found so far in one function.
#[derive(Default)]
pub struct Errors {
    all: Option<syn::Error>,
}

impl Errors {
    /// Records a mistake at `span`. Messages follow rustc: lowercase, no final period; a second
    /// line starting with `help:` suggests the fix.
    pub fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.add(syn::Error::new(span, message));
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
