//! XLSX workbooks through calamine's cell reader: a sheet is streamed cell by cell rather
//! than loaded as a whole range (the shared-strings table is still held in memory, as the
//! format requires). The first non-empty row of a sheet is its header.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{open_workbook, DataRef, Reader, Xlsx};

use crate::{distinct_names, ColumnMeta, RowPosition, RowReader, SourceError, SourceOptions};

/// Widest sheet read (Excel's own limit is 16,384 columns).
const MAX_COLUMNS: u32 = 16_384;

fn xlsx_error(path: &Path, e: impl std::fmt::Display) -> SourceError {
    SourceError::Xlsx {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// An open workbook.
pub(crate) struct Workbook {
    inner: Xlsx<BufReader<File>>,
}

impl Workbook {
    pub(crate) fn open(path: &Path) -> Result<Workbook, SourceError> {
        std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
        let inner: Xlsx<_> = open_workbook(path).map_err(|e| xlsx_error(path, e))?;
        Ok(Workbook { inner })
    }

    pub(crate) fn sheet_names(&self) -> Vec<String> {
        self.inner.sheet_names()
    }

    pub(crate) fn sheet_reader(
        &mut self,
        path: &Path,
        sheet: &str,
        size: u64,
        options: SourceOptions,
    ) -> Result<SheetReader<'_>, SourceError> {
        let mut cell_reader = self
            .inner
            .worksheet_cells_reader(sheet)
            .map_err(|e| xlsx_error(path, e))?;
        // calamine does not export the cell reader's type, so it is held in a closure.
        let cells: CellFn<'_> = Box::new(move || {
            cell_reader
                .next_cell()
                .map(|cell| {
                    cell.map(|cell| {
                        let (r, c) = cell.get_position();
                        (r, c, cell_text(cell.get_value()))
                    })
                })
                .map_err(|e| e.to_string())
        });
        let mut reader = SheetReader {
            path: path.display().to_string(),
            cells,
            pending: None,
            columns: Vec::new(),
            row: 0,
            line: 0,
            size,
            options,
            done: false,
        };
        while let Some(header) = reader.read_row() {
            let (line, cells) = header?;
            if cells.iter().all(Option::is_none) {
                continue;
            }
            reader.line = line;
            let names = cells.into_iter().map(|c| c.unwrap_or_default()).collect();
            reader.columns = distinct_names(names)
                .into_iter()
                .map(|name| ColumnMeta {
                    name,
                    declared_type: None,
                })
                .collect();
            break;
        }
        Ok(reader)
    }
}

fn float_text(value: f64) -> String {
    if value.is_finite() && value.trunc() == value && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

fn cell_text(value: &DataRef<'_>) -> Option<String> {
    match value {
        DataRef::Empty | DataRef::Error(_) => None,
        DataRef::Int(i) => Some(i.to_string()),
        DataRef::Float(f) => Some(float_text(*f)),
        DataRef::String(s) => Some(s.clone()),
        DataRef::SharedString(s) => Some((*s).to_string()),
        DataRef::Bool(b) => Some(b.to_string()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(s.clone()),
        DataRef::DateTime(dt) => {
            if dt.is_datetime() {
                let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
                if (h, mi, s) == (0, 0, 0) {
                    Some(format!("{y:04}-{mo:02}-{d:02}"))
                } else {
                    Some(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
                }
            } else {
                Some(float_text(dt.as_f64()))
            }
        }
    }
}

/// Yields the next cell: (row index, column index, text).
type CellFn<'a> = Box<dyn FnMut() -> Result<Option<(u32, u32, Option<String>)>, String> + 'a>;

/// A sheet row: 1-based row number and its values.
type SheetRow = (u64, Vec<Option<String>>);

/// Streams the rows of one sheet.
pub(crate) struct SheetReader<'a> {
    path: String,
    cells: CellFn<'a>,
    /// A cell read ahead that belongs to the next row: (row index, column, text).
    pending: Option<(u32, u32, Option<String>)>,
    columns: Vec<ColumnMeta>,
    row: u64,
    line: u64,
    size: u64,
    options: SourceOptions,
    done: bool,
}

impl SheetReader<'_> {
    /// The next row with at least one cell: its 1-based sheet row number and values
    /// (as wide as the header; as wide as its last cell for the header itself).
    fn read_row(&mut self) -> Option<Result<SheetRow, SourceError>> {
        if self.done {
            return None;
        }
        let width = self.columns.len();
        let mut current: Option<u32> = None;
        let mut values: Vec<Option<String>> = vec![None; width];
        loop {
            let cell = match self.pending.take() {
                Some(cell) => Some(cell),
                None => match (self.cells)() {
                    Ok(cell) => cell,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(SourceError::Xlsx {
                            path: self.path.clone(),
                            message: format!("after sheet row {}: {e}", self.line),
                        }));
                    }
                },
            };
            let Some((r, c, text)) = cell else {
                self.done = true;
                self.options.report(self.size);
                return current.map(|r| Ok((u64::from(r) + 1, values)));
            };
            match current {
                None => current = Some(r),
                Some(cur) if r != cur => {
                    self.pending = Some((r, c, text));
                    return Some(Ok((u64::from(cur) + 1, values)));
                }
                Some(_) => {}
            }
            if text.is_none() {
                continue;
            }
            let c = c as usize;
            if width == 0 {
                // Header: grows to its last non-empty cell.
                if c < MAX_COLUMNS as usize {
                    if values.len() <= c {
                        values.resize(c + 1, None);
                    }
                    values[c] = text;
                }
            } else if c < width {
                values[c] = text;
            }
        }
    }
}

impl RowReader for SheetReader<'_> {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        if self.columns.is_empty() {
            return None;
        }
        loop {
            match self.read_row()? {
                // Formatted but empty rows are not data.
                Ok((_, values)) if values.iter().all(Option::is_none) => continue,
                Ok((line, values)) => {
                    self.line = line;
                    self.row += 1;
                    return Some(Ok(values));
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }

    fn position(&self) -> RowPosition {
        RowPosition {
            row: self.row,
            line: Some(self.line),
        }
    }
}
