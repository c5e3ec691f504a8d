//! Compile-fail cases: each mistake gives exactly one readable error at its span; and pass cases,
//! whole crates that must compile (warning-free) and run.
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test suite ui::`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
