//! Weights in the safetensors format: written and read back bit for bit, read from a file
//! built by hand from the format's specification, every mismatch an error naming the tensor,
//! and saving never leaves a half-written file.

use std::path::{Path, PathBuf};

use gradgen::data::Standardizer;
use gradgen::prelude::*;
use gradgen::{weights, Error};

#[model]
#[derive(Clone, Debug, PartialEq)]
struct Net<const D: usize, const H: usize> {
    w1: Mat<D, H>,
    b1: Mat<1, H>,
}

#[model]
#[derive(Clone, Debug, PartialEq)]
struct Net32 {
    w1: Mat<2, 3, f32>,
    b1: Mat<1, 3, f32>,
}

/// A fresh directory for one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("gradgen-weights-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Values whose bits a lossy round trip would change: signed zero, subnormals, extremes.
fn awkward() -> Net<2, 3> {
    Net {
        w1: Mat::from_rows([
            [-0.0, 1e-310, f64::MAX],
            [f64::MIN_POSITIVE, -1.0 / 3.0, 0.1],
        ]),
        b1: Mat::from_rows([[f64::EPSILON, -7.5e300, 2.0f64.powi(-1070)]]),
    }
}

fn bits<S: Tensors>(set: &S) -> Vec<(String, Vec<u64>)> {
    let mut out = Vec::new();
    set.for_each(&mut |name, view| {
        out.push((
            name.to_owned(),
            view.iter()
                .map(|v| gradgen::Scalar::to_f64(*v).to_bits())
                .collect(),
        ));
    });
    out
}

#[test]
fn weights_read_back_bit_for_bit_and_the_save_leaves_one_file() {
    let dir = TempDir::new("roundtrip");
    let path = dir.path("net.safetensors");
    let saved = awkward();
    weights::save(&saved, &path).unwrap();
    assert_eq!(
        dir.files(),
        ["net.safetensors"],
        "no temporary file is left"
    );
    let mut loaded = Net::<2, 3> {
        w1: Mat::full(9.0),
        b1: Mat::full(9.0),
    };
    weights::load(&mut loaded, &path).unwrap();
    assert_eq!(bits(&loaded), bits(&saved));
    // f32 weights are stored as F32 and read back exactly too.
    let small = Net32 {
        w1: Mat::from_rows([[-0.0, 1e-40, f32::MAX], [0.1, -3.5, 7.0]]),
        b1: Mat::full(0.3),
    };
    let path32 = dir.path("net32.safetensors");
    weights::save(&small, &path32).unwrap();
    let mut back = Net32 {
        w1: Mat::zeros(),
        b1: Mat::zeros(),
    };
    weights::load(&mut back, &path32).unwrap();
    assert_eq!(bits(&back), bits(&small));
    // Saving again replaces the file with the new weights.
    weights::save(
        &Net::<2, 3> {
            w1: Mat::full(1.0),
            b1: Mat::full(2.0),
        },
        &path,
    )
    .unwrap();
    weights::load(&mut loaded, &path).unwrap();
    assert_eq!(loaded.w1, Mat::full(1.0));
}

#[differentiable]
fn affine(x: &Mat<3, 2>, w: &Mat<2, 4>) -> f64 {
    x.matmul(w).sum()
}

#[test]
fn a_function_s_params_and_a_standardizer_save_under_their_names() {
    let params = AffineParams {
        x: Mat::full(0.5),
        w: Mat::full(-2.0),
    };
    assert_eq!(affine(&params.x, &params.w), -24.0);
    let header = header_json(&weights::to_bytes(&params).unwrap());
    assert!(
        header.contains(r#""x":{"dtype":"F64","shape":[3,2]"#),
        "{header}"
    );
    assert!(
        header.contains(r#""w":{"dtype":"F64","shape":[2,4]"#),
        "{header}"
    );
    let scaler = Standardizer::<2> {
        mean: Mat::from_rows([[1.0, 2.0]]),
        std: Mat::from_rows([[0.5, 4.0]]),
    };
    let bytes = weights::to_bytes(&scaler).unwrap();
    let mut back = Standardizer::<2> {
        mean: Mat::zeros(),
        std: Mat::zeros(),
    };
    weights::from_bytes(&mut back, &bytes).unwrap();
    assert_eq!(back, scaler);
    let header = header_json(&bytes);
    assert!(
        header.contains(r#""mean":{"dtype":"F64","shape":[1,2],"data_offsets""#),
        "{header}"
    );
}

/// The JSON header of safetensors bytes.
fn header_json(bytes: &[u8]) -> String {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    String::from_utf8(bytes[8..8 + n].to_vec()).unwrap()
}

/// A safetensors file written from the format's specification, not by the `safetensors`
/// crate: an 8-byte little-endian header length, a JSON header giving each tensor's dtype,
/// shape and byte range, then the data, little-endian, row-major. The tensors are out of
/// alphabetical order and the header is padded with spaces, as other writers may do.
fn spec_file(w1_dtype: &str, w1_shape: &str, extra: Option<&str>) -> Vec<u8> {
    let w1: Vec<f64> = (0..6).map(|i| i as f64 * 0.25 - 0.5).collect();
    let b1: Vec<f64> = vec![10.0, -20.0, 30.0];
    let mut data = Vec::new();
    for v in b1.iter().chain(&w1) {
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut header = format!(
        r#"{{"__metadata__":{{"format":"np"}},"b1":{{"dtype":"F64","shape":[1,3],"data_offsets":[0,24]}},"w1":{{"dtype":"{w1_dtype}","shape":{w1_shape},"data_offsets":[24,72]}}"#
    );
    if let Some(name) = extra {
        header.push_str(&format!(
            r#","{name}":{{"dtype":"F64","shape":[1],"data_offsets":[72,80]}}"#
        ));
        data.extend_from_slice(&1.5f64.to_le_bytes());
    }
    header.push('}');
    header.push_str("   ");
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&data);
    file
}

#[test]
fn a_file_built_from_the_specification_loads() {
    let mut net = Net::<2, 3> {
        w1: Mat::zeros(),
        b1: Mat::zeros(),
    };
    weights::from_bytes(&mut net, &spec_file("F64", "[2,3]", None)).unwrap();
    assert_eq!(
        net.w1,
        Mat::from_rows([[-0.5, -0.25, 0.0], [0.25, 0.5, 0.75]])
    );
    assert_eq!(net.b1, Mat::from_rows([[10.0, -20.0, 30.0]]));
}

fn load_error(bytes: &[u8]) -> (Error, Net<2, 3>) {
    let mut net = Net::<2, 3> {
        w1: Mat::full(7.0),
        b1: Mat::full(7.0),
    };
    let err = weights::from_bytes(&mut net, bytes).unwrap_err();
    (err, net)
}

fn untouched(net: &Net<2, 3>) -> bool {
    net.w1 == Mat::full(7.0) && net.b1 == Mat::full(7.0)
}

#[test]
fn a_missing_tensor_is_named() {
    let only_b1 = weights::to_bytes(&Standardizer::<3> {
        mean: Mat::zeros(),
        std: Mat::zeros(),
    })
    .unwrap();
    let (err, net) = load_error(&only_b1);
    assert_eq!(
        err.to_string(),
        "the safetensors data has no tensor `w1`: it holds `mean`, `std`"
    );
    assert!(untouched(&net));
}

#[test]
fn a_tensor_of_another_shape_is_named_with_both_shapes() {
    let (err, net) = load_error(&spec_file("F64", "[3,2]", None));
    assert_eq!(
        err.to_string(),
        "the safetensors data: tensor `w1` has shape [3, 2], expected [2, 3]"
    );
    assert!(
        untouched(&net),
        "b1 was valid, but nothing is copied before everything is checked"
    );
}

#[test]
fn a_tensor_of_another_dtype_is_named_with_both_dtypes() {
    // 6 × I64 is 48 bytes too: only the dtype is wrong.
    let (err, net) = load_error(&spec_file("I64", "[2,3]", None));
    assert_eq!(
        err.to_string(),
        "the safetensors data: tensor `w1` has dtype I64, expected F64"
    );
    assert!(untouched(&net));
    // f64 weights written as f32 are another dtype too.
    let small = Net32 {
        w1: Mat::zeros(),
        b1: Mat::zeros(),
    };
    let mut net = Net::<2, 3> {
        w1: Mat::zeros(),
        b1: Mat::zeros(),
    };
    let err = weights::from_bytes(&mut net, &weights::to_bytes(&small).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the safetensors data: tensor `w1` has dtype F32, expected F64"
    );
}

#[test]
fn a_tensor_the_weights_do_not_have_is_an_error() {
    let (err, net) = load_error(&spec_file("F64", "[2,3]", Some("w2")));
    assert_eq!(
        err.to_string(),
        "the safetensors data holds a tensor `w2` that the weights do not have: expected only `w1`, `b1`"
    );
    assert!(untouched(&net));
}

#[test]
fn a_truncated_or_corrupt_file_is_an_error() {
    let good = spec_file("F64", "[2,3]", None);
    for cut in [0, 5, 20, good.len() - 1] {
        let (err, net) = load_error(&good[..cut]);
        assert!(
            matches!(err, Error::Safetensors { .. }),
            "cut at {cut}: {err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("the safetensors data is not a valid safetensors file: "),
            "{err}"
        );
        assert!(untouched(&net));
    }
    let mut corrupt = good.clone();
    corrupt[10] = b'!';
    let (err, _) = load_error(&corrupt);
    assert!(matches!(err, Error::Safetensors { .. }), "{err:?}");
    let (err, _) = load_error(b"not a safetensors file at all");
    assert!(matches!(err, Error::Safetensors { .. }), "{err:?}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = TempDir::new("errors");
    let missing = dir.path("none.safetensors");
    let mut net = Net::<2, 3> {
        w1: Mat::zeros(),
        b1: Mat::zeros(),
    };
    let err = weights::load(&mut net, &missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    let truncated = dir.path("cut.safetensors");
    std::fs::write(&truncated, &spec_file("F64", "[2,3]", None)[..50]).unwrap();
    let err = weights::load(&mut net, &truncated).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{} is not a valid safetensors file",
            truncated.display()
        )),
        "{err}"
    );
}

#[test]
fn a_failed_save_leaves_no_file_and_keeps_the_old_one() {
    let dir = TempDir::new("failed");
    let nowhere: &Path = &dir.path("no-such-dir").join("net.safetensors");
    let err = weights::save(&awkward(), nowhere).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                action: "write",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(dir.files(), Vec::<String>::new());
    // A directory in the way of the rename: the write succeeds, the rename fails, and the
    // temporary file is removed.
    let blocked = dir.path("blocked.safetensors");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), "x").unwrap();
    let err = weights::save(&awkward(), &blocked).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                action: "rename a temporary file to",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(dir.files(), ["blocked.safetensors"]);
}

/// The Python side: `tools/safetensors_interop.py` (run by `.ci/run`, which installs
/// `safetensors` and `numpy`) loads a file written here with `safetensors.numpy.load_file`,
/// and writes one with `safetensors.numpy.save_file` that loads here. Fails, never skips, when
/// Python or its packages are missing.
#[test]
#[ignore = "needs python3 with safetensors and numpy; .ci/run installs them and runs it"]
fn python_reads_our_files_and_we_read_its() {
    let dir = TempDir::new("python");
    let ours = dir.path("from_rust.safetensors");
    let theirs = dir.path("from_python.safetensors");
    let net = Net::<2, 3> {
        w1: Mat::from_fn(|i, j| (i * 3 + j) as f64 / 8.0 - 0.3),
        b1: Mat::from_rows([[-0.0, 1e-310, 42.0]]),
    };
    weights::save(&net, &ours).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/safetensors_interop.py");
    let output = std::process::Command::new("python3")
        .args([script, ours.to_str().unwrap(), theirs.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Python check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut back = Net::<2, 3> {
        w1: Mat::zeros(),
        b1: Mat::zeros(),
    };
    weights::load(&mut back, &theirs).unwrap();
    // Python wrote each value of ours doubled, with the same names, shapes and dtype.
    let doubled = Net::<2, 3> {
        w1: &net.w1 * 2.0,
        b1: &net.b1 * 2.0,
    };
    assert_eq!(bits(&back), bits(&doubled));
}
