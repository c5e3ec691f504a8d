//! Loading a dataset from a CSV file: a header line, numeric feature columns, and one label
//! column chosen by name.
//!
//! Parsed with the `csv` crate, which handles quoted fields, `\r\n` line ends and reports the
//! line of every record; the checks and their messages are ours.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::Dataset;
use crate::{Error, Scalar};

/// How to read a CSV file into a [`Dataset`]: which column holds the labels, and optionally
/// the class names in index order.
///
/// The file has a header line naming its columns, then one row per sample. The label column
/// is found by its name; every other column is a feature, in file order, and must hold a
/// finite number. Fields are trimmed; blank lines are skipped.
///
/// The labels are read in one of three ways:
/// - **class names given** ([`classes`](CsvOptions::classes)): each label must be one of the
///   names, and its index is the name's position in the list;
/// - **integers**, when every label is an integer: each is the class index itself, and must be
///   in `0..C`;
/// - **names**, otherwise: the distinct names, **sorted** (byte order, as scikit-learn's
///   `LabelEncoder` does), are the classes `0..C`; there must be exactly `C` of them. Sorting
///   makes the indices independent of the order of the rows: shuffling the file changes nothing.
///   [`Dataset::class_names`] tells the mapping.
///
/// ```
/// use gradgen::data::{CsvOptions, Dataset};
/// let csv = "a;b;animal\n1;2;dog\n3;4;cat\n";
/// let sorted = Dataset::<2, 2>::read_csv_with(csv.as_bytes(), &CsvOptions::new("animal").delimiter(b';'))?;
/// assert_eq!(sorted.labels(), [1, 0]); // cat = 0, dog = 1
/// let named = CsvOptions::new("animal").delimiter(b';').classes(["dog", "cat"]);
/// let given = Dataset::<2, 2>::read_csv_with(csv.as_bytes(), &named)?;
/// assert_eq!(given.labels(), [0, 1]);
/// assert_eq!(given.class_names(), ["dog", "cat"]);
/// # Ok::<(), gradgen::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    label: String,
    classes: Option<Vec<String>>,
    delimiter: u8,
}

impl CsvOptions {
    /// Labels from the column named `label`, comma-separated fields, classes as described above.
    #[must_use]
    pub fn new(label: impl Into<String>) -> Self {
        CsvOptions {
            label: label.into(),
            classes: None,
            delimiter: b',',
        }
    }

    /// The class names, in index order: a label must be one of them.
    #[must_use]
    pub fn classes<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.classes = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The field separator (`b','` by default; `b';'`, `b'\t'`, …).
    #[must_use]
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }
}

/// The fields of a file before the labels become class indices.
struct Raw<T> {
    feature_names: Vec<String>,
    features: Vec<T>,
    /// Each row's label as written, with its line.
    labels: Vec<(u64, String)>,
}

impl<const D: usize, const C: usize, T: Scalar> Dataset<D, C, T> {
    /// Loads a CSV file whose column `label` holds the labels (see [`CsvOptions`] for how they
    /// are read); every other column is a feature.
    ///
    /// # Errors
    /// An [`Error`] naming the file and, for a bad row, its line (and column): the file cannot
    /// be read ([`Error::Io`]), is empty or has no rows ([`Error::NoRows`]), has no column
    /// `label` ([`Error::NoLabelColumn`]), has another number of feature columns than `D`
    /// ([`Error::FeatureColumns`]), a row with another number of fields than the header
    /// ([`Error::FieldCount`]), a feature that is not a finite number ([`Error::NotANumber`]),
    /// an integer label outside `0..C` ([`Error::LabelOutOfRange`]), a label that is not one of
    /// the given class names ([`Error::UnknownClass`]), or class names whose number is not `C`
    /// ([`Error::ClassCount`]).
    pub fn load_csv(path: impl AsRef<Path>, label: &str) -> Result<Self, Error> {
        Self::load_csv_with(path, &CsvOptions::new(label))
    }

    /// [`load_csv`](Dataset::load_csv) with the class names or the delimiter set.
    ///
    /// # Errors
    /// As [`load_csv`](Dataset::load_csv).
    pub fn load_csv_with(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self, Error> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let file = File::open(path).map_err(|e| io_error(&source, &e))?;
        Self::parse(&source, file, options)
    }

    /// Reads CSV text from any reader (a string's bytes, a network stream) as
    /// [`load_csv`](Dataset::load_csv) reads a file; messages call it "the CSV input".
    ///
    /// # Errors
    /// As [`load_csv`](Dataset::load_csv).
    pub fn read_csv(reader: impl Read, label: &str) -> Result<Self, Error> {
        Self::read_csv_with(reader, &CsvOptions::new(label))
    }

    /// [`read_csv`](Dataset::read_csv) with the class names or the delimiter set.
    ///
    /// # Errors
    /// As [`load_csv`](Dataset::load_csv).
    pub fn read_csv_with(reader: impl Read, options: &CsvOptions) -> Result<Self, Error> {
        Self::parse("the CSV input", reader, options)
    }

    fn parse(source: &str, reader: impl Read, options: &CsvOptions) -> Result<Self, Error> {
        let raw = read_raw::<T>(source, reader, options, D)?;
        let (labels, class_names) = class_indices(source, options, &raw.labels, C)?;
        let rows = labels.len();
        let features =
            Array2::from_shape_vec((rows, D), raw.features).map_err(|_| Error::FeatureLen {
                expected: D,
                rows,
                found: rows * D,
                flat: true,
            })?;
        let mut data = Self::checked(features, labels)?;
        data.class_names = class_names;
        data.feature_names = raw.feature_names;
        Ok(data)
    }
}

fn io_error(source: &str, e: &std::io::Error) -> Error {
    Error::Io {
        action: "read",
        path: source.to_owned(),
        kind: e.kind(),
        message: e.to_string(),
    }
}

fn csv_error(source: &str, e: csv::Error) -> Error {
    let line = e.position().map(csv::Position::line);
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io_error(source, &io),
        _ => Error::CsvSyntax {
            source: source.to_owned(),
            line,
            message,
        },
    }
}

/// Reads the header and every row, checking the columns and parsing the features.
fn read_raw<T: Scalar>(
    source: &str,
    reader: impl Read,
    options: &CsvOptions,
    features: usize,
) -> Result<Raw<T>, Error> {
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(options.delimiter)
        .from_reader(reader)
        .into_records();
    let header = match records.next() {
        None => {
            return Err(Error::NoRows {
                source: source.to_owned(),
                header: false,
            })
        }
        Some(record) => record.map_err(|e| csv_error(source, e))?,
    };
    let header: Vec<String> = header.iter().map(str::to_owned).collect();
    let label = label_column(source, options, &header, features)?;
    let mut raw = Raw {
        feature_names: header
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != label)
            .map(|(_, n)| n.clone())
            .collect(),
        features: Vec::new(),
        labels: Vec::new(),
    };
    for record in records {
        let record = record.map_err(|e| csv_error(source, e))?;
        let line = record.position().map_or(0, csv::Position::line);
        parse_row(source, &header, label, line, &record, &mut raw)?;
    }
    if raw.labels.is_empty() {
        return Err(Error::NoRows {
            source: source.to_owned(),
            header: true,
        });
    }
    Ok(raw)
}

/// The label column's position, once the header is known to have `features` other columns.
fn label_column(
    source: &str,
    options: &CsvOptions,
    header: &[String],
    features: usize,
) -> Result<usize, Error> {
    let label = header
        .iter()
        .position(|name| *name == options.label)
        .ok_or_else(|| Error::NoLabelColumn {
            source: source.to_owned(),
            label: options.label.clone(),
            header: header.to_vec(),
        })?;
    if header.len() - 1 != features {
        return Err(Error::FeatureColumns {
            source: source.to_owned(),
            label: options.label.clone(),
            expected: features,
            found: header.len() - 1,
        });
    }
    Ok(label)
}

fn parse_row<T: Scalar>(
    source: &str,
    header: &[String],
    label: usize,
    line: u64,
    record: &csv::StringRecord,
    raw: &mut Raw<T>,
) -> Result<(), Error> {
    if record.len() != header.len() {
        return Err(Error::FieldCount {
            source: source.to_owned(),
            line,
            expected: header.len(),
            found: record.len(),
        });
    }
    for (j, field) in record.iter().enumerate() {
        if j == label {
            continue;
        }
        match field.parse::<f64>() {
            Ok(v) if v.is_finite() => raw.features.push(T::from_f64(v)),
            _ => {
                return Err(Error::NotANumber {
                    source: source.to_owned(),
                    line,
                    column: j + 1,
                    name: header[j].clone(),
                    value: field.to_owned(),
                })
            }
        }
    }
    let value = &record[label];
    if value.is_empty() {
        return Err(Error::CsvSyntax {
            source: source.to_owned(),
            line: Some(line),
            message: format!("the label `{}` is empty", header[label]),
        });
    }
    raw.labels.push((line, value.to_owned()));
    Ok(())
}

/// Each row's class index, and the class names in index order (see [`CsvOptions`]).
fn class_indices(
    source: &str,
    options: &CsvOptions,
    labels: &[(u64, String)],
    classes: usize,
) -> Result<(Vec<usize>, Vec<String>), Error> {
    if let Some(names) = &options.classes {
        if names.len() != classes {
            return Err(Error::InvalidArgument {
                what: format!("class names for a dataset of C = {classes} classes"),
                expected: "one name per class",
                found: format!("{} names", names.len()),
            });
        }
        return by_name(source, labels, names).map(|indices| (indices, names.clone()));
    }
    if labels.iter().all(|(_, v)| v.parse::<i64>().is_ok()) {
        return by_number(source, labels, classes)
            .map(|indices| (indices, (0..classes).map(|c| c.to_string()).collect()));
    }
    let mut names: Vec<String> = labels.iter().map(|(_, v)| v.clone()).collect();
    names.sort();
    names.dedup();
    if names.len() != classes {
        return Err(Error::ClassCount {
            source: source.to_owned(),
            label: options.label.clone(),
            expected: classes,
            found: names,
        });
    }
    by_name(source, labels, &names).map(|indices| (indices, names))
}

fn by_name(source: &str, labels: &[(u64, String)], names: &[String]) -> Result<Vec<usize>, Error> {
    labels
        .iter()
        .map(|(line, value)| {
            names
                .iter()
                .position(|n| n == value)
                .ok_or_else(|| Error::UnknownClass {
                    source: source.to_owned(),
                    line: *line,
                    value: value.clone(),
                    classes: names.to_vec(),
                })
        })
        .collect()
}

fn by_number(source: &str, labels: &[(u64, String)], classes: usize) -> Result<Vec<usize>, Error> {
    labels
        .iter()
        .map(|(line, value)| {
            value
                .parse::<usize>()
                .ok()
                .filter(|&c| c < classes)
                .ok_or_else(|| Error::LabelOutOfRange {
                    source: source.to_owned(),
                    line: *line,
                    value: value.clone(),
                    classes,
                })
        })
        .collect()
}
