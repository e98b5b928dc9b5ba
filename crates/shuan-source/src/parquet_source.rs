//! Parquet files through the parquet crate's row API (no Arrow: it would add compile time
//! and nothing a text sample needs). Snappy, gzip, zstd, LZ4 and Brotli pages are read.
//! The row count comes from the file's metadata, so sampling stops once every column has
//! its values.

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::Field;

use crate::{ColumnMeta, RowPosition, RowReader, SourceError, SourceOptions};

const PROGRESS_ROWS: u64 = 10_000;

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> SourceError {
    SourceError::Parquet {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Streams the rows of a Parquet file, one row group at a time.
pub(crate) struct ParquetReader {
    path: String,
    columns: Vec<ColumnMeta>,
    rows: RowIter<'static>,
    total: u64,
    row: u64,
    bytes_per_row: f64,
    unreported: u64,
    options: SourceOptions,
    failed: bool,
}

impl ParquetReader {
    pub(crate) fn open(path: &Path, options: &SourceOptions) -> Result<Self, SourceError> {
        let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let reader = SerializedFileReader::new(file).map_err(|e| parquet_error(path, e))?;
        let meta = reader.metadata().file_metadata();
        let total = meta.num_rows().max(0) as u64;
        let columns: Vec<ColumnMeta> = meta
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .map(|field| {
                let info = field.get_basic_info();
                let declared = if field.is_primitive() {
                    match info.logical_type_ref() {
                        Some(logical) => format!("{logical:?}"),
                        None => format!("{:?}", field.get_physical_type()),
                    }
                } else {
                    "GROUP".to_string()
                };
                ColumnMeta {
                    name: info.name().to_string(),
                    declared_type: Some(declared),
                }
            })
            .collect();
        let names = crate::distinct_names(columns.iter().map(|c| c.name.clone()).collect());
        let columns = columns
            .into_iter()
            .zip(names)
            .map(|(c, name)| ColumnMeta { name, ..c })
            .collect();
        Ok(ParquetReader {
            path: path.display().to_string(),
            columns,
            rows: RowIter::from_file_into(Box::new(reader)),
            total,
            row: 0,
            bytes_per_row: if total > 0 {
                size as f64 / total as f64
            } else {
                0.0
            },
            unreported: 0,
            options: options.clone(),
            failed: false,
        })
    }

    fn flush_progress(&mut self) {
        let bytes = (self.unreported as f64 * self.bytes_per_row) as u64;
        self.options.report(bytes);
        self.unreported = 0;
    }
}

fn float_text(value: f64) -> String {
    if value.is_finite() && value.trunc() == value && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

fn field_text(field: &Field) -> Option<String> {
    match field {
        Field::Null => None,
        Field::Str(s) => Some(s.clone()),
        Field::Bytes(b) => std::str::from_utf8(b.data()).ok().map(str::to_owned),
        Field::Float(f) => Some(float_text(f64::from(*f))),
        Field::Double(f) => Some(float_text(*f)),
        other => Some(other.to_string()),
    }
}

impl RowReader for ParquetReader {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        if self.failed {
            return None;
        }
        match self.rows.next() {
            Some(Ok(row)) => {
                self.row += 1;
                self.unreported += 1;
                if self.unreported >= PROGRESS_ROWS {
                    self.flush_progress();
                }
                let mut values = Vec::with_capacity(self.columns.len());
                for (_, field) in row.get_column_iter() {
                    values.push(field_text(field));
                }
                values.resize(self.columns.len(), None);
                Some(Ok(values))
            }
            Some(Err(e)) => {
                self.failed = true;
                Some(Err(SourceError::Parquet {
                    path: self.path.clone(),
                    message: format!("row {}: {e}", self.row + 1),
                }))
            }
            None => {
                self.flush_progress();
                None
            }
        }
    }

    fn position(&self) -> RowPosition {
        RowPosition {
            row: self.row,
            line: None,
        }
    }

    fn known_row_count(&self) -> Option<u64> {
        Some(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_numbers() {
        assert_eq!(float_text(13800138000.0), "13800138000");
        assert_eq!(float_text(1.5), "1.5");
        assert_eq!(float_text(-0.25), "-0.25");
    }
}
