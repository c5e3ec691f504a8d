//! `gradgen::data`: loading a CSV file (every bad input an error naming what was expected and
//! what was found, and where), building from `Vec`s and ndarray arrays, splitting, standardising,
//! batches that cover every row, and predictions and accuracy on any number of rows.

use std::path::PathBuf;

use gradgen::data::{accuracy, CsvOptions, Dataset};
use gradgen::ndarray::{array, Array1, Array2};
use gradgen::prelude::*;
use gradgen::Error;

/// A CSV file with these contents in a fresh temporary directory; the directory is removed
/// when the value is dropped.
struct TempCsv {
    dir: PathBuf,
    path: PathBuf,
}

impl TempCsv {
    fn new(name: &str, contents: &str) -> TempCsv {
        let dir = std::env::temp_dir().join(format!("gradgen-data-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, contents).expect("the fixture is written");
        TempCsv { dir, path }
    }

    /// The path as messages show it.
    fn shown(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for TempCsv {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

const FLOWERS: &str = "\
sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
";

fn load_err<const D: usize, const C: usize>(
    name: &str,
    contents: &str,
    label: &str,
) -> (String, String) {
    let file = TempCsv::new(name, contents);
    let err = Dataset::<D, C>::load_csv(&file.path, label).unwrap_err();
    (err.to_string(), file.shown())
}

// ---- loading a CSV file: what is read ----

#[test]
fn class_names_become_indices_in_sorted_order() {
    let file = TempCsv::new("names", FLOWERS);
    let data = Dataset::<2, 3>::load_csv(&file.path, "species").unwrap();
    assert_eq!(data.len(), 4);
    assert_eq!(data.class_names(), ["setosa", "versicolor", "virginica"]);
    assert_eq!(data.labels(), [0, 1, 2, 0]);
    assert_eq!(data.feature_names(), ["sepal_length", "sepal_width"]);
    assert_eq!(
        data.features(),
        array![[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]]
    );
    // The same rows in another order give the same class indices.
    let shuffled =
        "sepal_length,sepal_width,species\n6.3,3.3,virginica\n5.1,3.5,setosa\n7.0,3.2,versicolor\n";
    let data = Dataset::<2, 3>::read_csv(shuffled.as_bytes(), "species").unwrap();
    assert_eq!(data.labels(), [2, 0, 1]);
}

#[test]
fn integer_labels_are_class_indices_and_the_label_column_may_be_anywhere() {
    let csv = "digit,a,b\n3,0.5,1\n0,2,-1e-3\n3,\"4\",5\n";
    let data = Dataset::<2, 4>::read_csv(csv.as_bytes(), "digit").unwrap();
    assert_eq!(data.labels(), [3, 0, 3]);
    assert_eq!(data.class_names(), ["0", "1", "2", "3"]);
    assert_eq!(
        data.features(),
        array![[0.5, 1.0], [2.0, -1e-3], [4.0, 5.0]]
    );
    assert_eq!(data.class_counts(), [1, 0, 0, 2]);
}

#[test]
fn given_class_names_fix_the_indices_and_fields_are_trimmed() {
    let csv = "x ; kind\r\n1 ; b\r\n\r\n2 ; a\r\n";
    let options = CsvOptions::new("kind")
        .delimiter(b';')
        .classes(["b", "a", "c"]);
    let data = Dataset::<1, 3, f32>::read_csv_with(csv.as_bytes(), &options).unwrap();
    assert_eq!(data.labels(), [0, 1]);
    assert_eq!(data.class_names(), ["b", "a", "c"]);
    assert_eq!(data.features(), array![[1.0f32], [2.0]]);
}

#[test]
fn the_shipped_data_sets_load() {
    let root = env!("CARGO_MANIFEST_DIR");
    let digits =
        Dataset::<64, 10>::load_csv(format!("{root}/examples/data/digits.csv"), "digit").unwrap();
    assert_eq!(digits.len(), 1797);
    assert!(digits
        .class_counts()
        .iter()
        .all(|&n| (174..=183).contains(&n)));
    let iris =
        Dataset::<4, 3>::load_csv(format!("{root}/examples/data/iris.csv"), "species").unwrap();
    assert_eq!(iris.class_counts(), [50, 50, 50]);
}

// ---- loading a CSV file: one test per bad input, checking the message ----

#[test]
fn a_missing_file_names_the_file_and_the_reason() {
    let path = std::env::temp_dir().join("gradgen-no-such-dir/none.csv");
    let err = Dataset::<2, 3>::load_csv(&path, "species").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read {}: No such file or directory (os error 2)",
            path.display()
        )
    );
}

#[test]
fn an_empty_file_is_an_error() {
    let (msg, path) = load_err::<2, 3>("empty", "", "species");
    assert_eq!(
        msg,
        format!(
            "{path} is empty: expected a header line naming the columns, then one row per sample"
        )
    );
}

#[test]
fn a_header_without_rows_is_an_error() {
    let (msg, path) = load_err::<2, 3>("header", "sepal_length,sepal_width,species\n", "species");
    assert_eq!(
        msg,
        format!("{path} has a header line but no rows: expected at least one row of data after it")
    );
}

#[test]
fn a_row_with_too_few_fields_names_its_line() {
    let csv = "a,b,species\n1,2,setosa\n3,versicolor\n";
    let (msg, path) = load_err::<2, 3>("few", csv, "species");
    assert_eq!(
        msg,
        format!("{path} line 3: expected 3 fields, as in the header, found 2")
    );
}

#[test]
fn a_row_with_too_many_fields_names_its_line() {
    let csv = "a,b,species\n1,2,setosa\n3,4,versicolor\n5,6,7,virginica\n";
    let (msg, path) = load_err::<2, 3>("many", csv, "species");
    assert_eq!(
        msg,
        format!("{path} line 4: expected 3 fields, as in the header, found 4")
    );
}

#[test]
fn a_value_that_is_not_a_number_names_line_column_and_value() {
    let csv = "a,b,species\n1,2,setosa\n3,4,versicolor\n5,six,virginica\n";
    let (msg, path) = load_err::<2, 3>("nan", csv, "species");
    assert_eq!(
        msg,
        format!("{path} line 4, column 2 (`b`): expected a number, found `six`")
    );
    // A missing value and a non-finite one are not numbers either.
    let err = Dataset::<2, 3>::read_csv("a,b,y\n1,,0\n".as_bytes(), "y").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the CSV input line 2, column 2 (`b`): expected a number, found ``"
    );
    let err = Dataset::<2, 3>::read_csv("a,b,y\ninf,1,0\n".as_bytes(), "y").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("column 1 (`a`): expected a number, found `inf`"),
        "{err}"
    );
}

#[test]
fn a_label_out_of_range_names_the_label_and_the_class_count() {
    let csv = "a,b,digit\n1,2,0\n3,4,2\n5,6,3\n";
    let (msg, path) = load_err::<2, 3>("range", csv, "digit");
    assert_eq!(
        msg,
        format!("{path} line 4: label 3 is out of range: the dataset type has C = 3 classes, numbered 0..3")
    );
    let err = Dataset::<2, 3>::read_csv("a,b,digit\n1,2,-1\n".as_bytes(), "digit").unwrap_err();
    assert!(
        matches!(err, Error::LabelOutOfRange { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn an_unknown_class_name_names_the_known_ones() {
    let options = CsvOptions::new("species").classes(["setosa", "versicolor", "virginica"]);
    let csv = "a,b,species\n1,2,setosa\n3,4,virginca\n";
    let err = Dataset::<2, 3>::read_csv_with(csv.as_bytes(), &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the CSV input line 3: unknown class `virginca`: expected one of `setosa`, `versicolor`, `virginica`"
    );
}

#[test]
fn a_number_of_class_names_other_than_c_is_an_error() {
    let (msg, path) = load_err::<2, 2>("classes", FLOWERS, "species");
    assert_eq!(
        msg,
        format!("the label column `species` of {path} has 3 distinct classes (`setosa`, `versicolor`, `virginica`), but the dataset type expects C = 2")
    );
    // Fewer names than classes: which index is missing cannot be guessed.
    let (msg, _) = load_err::<2, 4>("fewer", FLOWERS, "species");
    assert!(
        msg.ends_with(
            "expects C = 4; name all the classes, in index order, with `CsvOptions::classes`"
        ),
        "{msg}"
    );
    let options = CsvOptions::new("species").classes(["setosa"]);
    let err = Dataset::<2, 3>::read_csv_with(FLOWERS.as_bytes(), &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid class names for a dataset of C = 3 classes: expected one name per class, found 1 names"
    );
}

#[test]
fn a_feature_count_other_than_d_says_what_the_file_has_and_the_type_expects() {
    let (msg, path) = load_err::<3, 3>("features", FLOWERS, "species");
    assert_eq!(
        msg,
        format!("{path} has 2 feature columns (every column but `species`), but the dataset type expects D = 3")
    );
}

#[test]
fn a_missing_label_column_lists_the_header() {
    let (msg, path) = load_err::<2, 3>("label", FLOWERS, "class");
    assert_eq!(
        msg,
        format!("{path} has no column named `class`: its header has `sepal_length`, `sepal_width`, `species`")
    );
}

#[test]
fn an_empty_label_and_invalid_utf8_are_errors_with_their_line() {
    let err = Dataset::<1, 2>::read_csv("x,y\n1,\n".as_bytes(), "y").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the CSV input line 2: the label `y` is empty"
    );
    let err = Dataset::<1, 2>::read_csv(&b"x,y\n1,\xff\n"[..], "y").unwrap_err();
    assert!(
        matches!(err, Error::CsvSyntax { line: Some(2), .. }),
        "{err:?}"
    );
}

// ---- building from Vecs and ndarray arrays ----

#[test]
fn vecs_and_arrays_build_the_same_dataset() {
    let from_vec = Dataset::<2, 2>::from_vec(vec![1.0, 2.0, 3.0, 4.0], vec![1, 0]).unwrap();
    let from_rows = Dataset::<2, 2>::from_rows(&[[1.0, 2.0], [3.0, 4.0]], vec![1, 0]).unwrap();
    let from_array =
        Dataset::<2, 2>::from_array(array![[1.0, 2.0], [3.0, 4.0]], Array1::from(vec![1, 0]))
            .unwrap();
    assert_eq!(from_vec, from_rows);
    assert_eq!(from_vec, from_array);
}

#[test]
fn bad_vecs_and_arrays_are_errors() {
    let err =
        Dataset::<3, 2>::from_array(Array2::zeros((4, 2)), Array1::from(vec![0; 4])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "feature count mismatch: the features have 2 columns, but the dataset type expects D = 3"
    );
    let err =
        Dataset::<2, 2>::from_array(Array2::zeros((4, 2)), Array1::from(vec![0; 3])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "label count mismatch: expected 4 labels, found 3"
    );
    let err = Dataset::<2, 2>::from_rows(&[[1.0, 2.0]], vec![2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "label out of range: label 0 is 2, but there are 2 classes (0..2)"
    );
}

// ---- splitting, shuffling, standardising ----

fn numbered(n: usize) -> Dataset<1, 3> {
    Dataset::from_vec(
        (0..n).map(|i| i as f64).collect(),
        (0..n).map(|i| i % 3).collect(),
    )
    .unwrap()
}

#[test]
fn a_split_is_seeded_and_its_parts_partition_the_rows() {
    let data = numbered(101);
    let (train, test) = data.split(0.2, 9).unwrap();
    assert_eq!((train.len(), test.len()), (80, 21)); // ⌈0.2 · 101⌉ = 21 held out
    let mut all: Vec<f64> = train
        .features()
        .iter()
        .chain(test.features().iter())
        .copied()
        .collect();
    all.sort_by(f64::total_cmp);
    assert_eq!(all, (0..101).map(|i| i as f64).collect::<Vec<_>>());
    // Each row keeps its label.
    for part in [&train, &test] {
        for i in 0..part.len() {
            let (x, y) = part.row(i).unwrap();
            assert_eq!(x[0] as usize % 3, y);
        }
    }
    assert_eq!(data.split(0.2, 9).unwrap(), (train.clone(), test));
    assert_ne!(data.split(0.2, 10).unwrap().0, train);
    let err = data.split(1.5, 9).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid test fraction: expected a number from 0 to 1, found 1.5"
    );
}

#[test]
fn standardising_uses_the_training_rows_only() {
    let mut train =
        Dataset::<2, 2>::from_rows(&[[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]], vec![0, 1, 0]).unwrap();
    let mut test = Dataset::<2, 2>::from_rows(&[[100.0, 9.0]], vec![1]).unwrap();
    let scaler = train.standardize().unwrap();
    scaler.apply(&mut test);
    let std = (8.0f64 / 3.0).sqrt();
    assert_eq!(scaler.mean, Mat::from_rows([[3.0, 7.0]]));
    assert_eq!(scaler.std, Mat::from_rows([[std, 1.0]])); // a constant column keeps std 1
    assert_eq!(
        train.features().column(0).to_vec(),
        [-2.0 / std, 0.0, 2.0 / std]
    );
    assert_eq!(test.features().row(0).to_vec(), [97.0 / std, 2.0]);
    let mut empty = Dataset::<2, 2>::from_vec(vec![], vec![]).unwrap();
    let err = empty.standardize().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid dataset to fit a standardizer on: expected at least one row, found no rows"
    );
}

// ---- batches ----

#[test]
fn batches_cover_every_row_once_and_pad_the_last() {
    let data = numbered(11);
    let batches: Vec<(Mat<4, 1>, Labels<4, 3>)> = data.batches::<4>().collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(data.batches::<4>().len(), 3);
    let mut seen = Vec::new();
    for (x, y) in &batches {
        for (i, class) in y.iter().enumerate() {
            if let Some(class) = class {
                seen.push(x[(i, 0)]);
                assert_eq!(x[(i, 0)] as usize % 3, class);
            } else {
                assert_eq!(x[(i, 0)], 0.0, "padding rows are zeros");
            }
        }
    }
    assert_eq!(seen, (0..11).map(|i| i as f64).collect::<Vec<_>>());
    assert_eq!(batches[2].1.as_slice(), [Some(2), Some(0), Some(1), None]);
    // A size that divides the count pads nothing; an empty dataset has no batch.
    assert!(numbered(8)
        .batches::<4>()
        .all(|(_, y)| y.is_fully_labelled()));
    assert_eq!(numbered(0).batches::<4>().count(), 0);
}

#[test]
fn the_whole_dataset_fits_a_matrix_of_its_exact_size_only() {
    let data = numbered(5);
    let (x, y) = data.to_mats::<5>().unwrap();
    assert_eq!(x.to_vec(), [0.0, 1.0, 2.0, 3.0, 4.0]);
    assert_eq!(y.to_classes(), Some(vec![0, 1, 2, 0, 1]));
    let err = data.to_mats::<6>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape mismatch: expected a 6 × 1 matrix, found 5 × 1"
    );
}

// ---- prediction and accuracy on any number of rows ----

/// Scores that put row `i` (feature `i`) in class `i % 3` when `i` is even and in class 0
/// when it is odd.
fn scorer<const B: usize>(x: &Mat<B, 1>) -> Mat<B, 3> {
    Mat::from_fn(|i, j| {
        let v = x[(i, 0)] as usize;
        let class = if v.is_multiple_of(2) { v % 3 } else { 0 };
        if j == class {
            1.0
        } else {
            0.0
        }
    })
}

#[test]
fn predictions_and_accuracy_count_every_row_once_whatever_the_batch_size() {
    let data = numbered(13);
    let expected: Vec<usize> = (0..13)
        .map(|i| if i % 2 == 0 { i % 3 } else { 0 })
        .collect();
    assert_eq!(data.predict::<4>(scorer), expected);
    assert_eq!(data.predict::<13>(scorer), expected);
    assert_eq!(data.predict::<32>(scorer), expected);
    let right = (0..13).filter(|&i| expected[i] == i % 3).count();
    for acc in [
        data.accuracy::<4>(scorer),
        data.accuracy::<5>(scorer),
        data.accuracy::<64>(scorer),
    ] {
        assert_eq!((acc.correct, acc.total), (right, 13));
    }
}

#[test]
fn accuracy_skips_ignored_rows() {
    let scores = Mat::from_rows([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]);
    let y = Labels::<3, 2>::with_ignored(vec![Some(0), None, Some(0)]).unwrap();
    let acc = accuracy(&scores, &y);
    assert_eq!((acc.correct, acc.total), (1, 2));
    let none = Labels::<3, 2>::with_ignored(vec![None; 3]).unwrap();
    assert_eq!(accuracy(&scores, &none).fraction(), 0.0);
}

#[test]
fn the_mean_loss_over_batches_is_the_mean_over_rows() {
    let data = numbered(10);
    // Per-row loss: the feature itself, averaged over the labelled rows of each batch.
    // Each batch's loss is the mean feature of its labelled rows (padding rows are zeros).
    let mean = data.mean_loss::<3>(|x, y| x.sum() / y.labelled() as f64);
    assert!((mean - 4.5).abs() < 1e-12, "{mean}");
}
