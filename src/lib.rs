//! The workspace's root package: it owns the integration tests (`tests/`) and the runnable
//! models (`examples/`) of gradgen, and publishes nothing. The library is the `gradgen` crate.
