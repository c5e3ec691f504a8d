//! The workspace's root package: it owns the integration tests (`tests/`) and the runnable
//! models (`examples/`) of gradgen, and publishes nothing. The library is the `gradgen` crate;
//! this one only holds what several examples share.

/// Data the examples generate.
pub mod data {
    use gradgen::{Labels, Mat};

    /// SplitMix64, for data and initial weights that are the same on every machine.
    pub struct Rng(u64);

    impl Rng {
        #[must_use]
        pub fn new(seed: u64) -> Self {
            Rng(seed)
        }

        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in (0, 1).
        #[allow(clippy::cast_precision_loss)]
        fn uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        /// Standard normal (Box–Muller).
        pub fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// `C` spiral arms of `N / C` points each in the plane, with a little angular noise: a
    /// classic that no linear classifier separates.
    ///
    /// # Errors
    /// When `C` does not divide `N` (the points do not fill the matrix).
    #[allow(clippy::cast_precision_loss)]
    pub fn spiral<const N: usize, const C: usize>(
        rng: &mut Rng,
    ) -> Result<(Mat<N, 2>, Labels<N, C>), gradgen::Error> {
        let per_class = N / C;
        let mut points = Vec::with_capacity(2 * N);
        let mut labels = Vec::with_capacity(N);
        for class in 0..C {
            for i in 0..per_class {
                let r = i as f64 / (per_class.max(2) - 1) as f64;
                let t = 4.0 * (class as f64 + r) + 0.2 * rng.normal();
                points.extend([r * t.sin(), r * t.cos()]);
                labels.push(class);
            }
        }
        Ok((Mat::from_vec(points)?, Labels::new(labels)?))
    }
}
