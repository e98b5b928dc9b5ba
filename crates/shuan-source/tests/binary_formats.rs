//! XLSX and Parquet fixtures are generated here (rust_xlsxwriter, the parquet writer), then
//! read back through the public API.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use shuan_source::{open, SourceError, SourceOptions, TableSample};

fn column<'a>(sample: &'a TableSample, name: &str) -> &'a [String] {
    &sample
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", sample.columns))
        .values
}

fn write_workbook(path: &Path) {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("户籍").unwrap();
        for (c, name) in ["姓名", "身份证号", "手机号", "登记日期"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *name).unwrap();
        }
        let people = [
            ("张三", "110105194912310021", 13800138000.0),
            ("李四", "11010519491231002X", 13912345678.0),
        ];
        for (r, (name, id, phone)) in people.iter().enumerate() {
            let r = r as u32 + 1;
            sheet.write_string(r, 0, *name).unwrap();
            sheet.write_string(r, 1, *id).unwrap();
            sheet.write_number(r, 2, *phone).unwrap();
            // 45000 is 2023-03-15 in Excel's 1900 date system.
            sheet
                .write_number_with_format(r, 3, 45000.0 + r as f64, &date)
                .unwrap();
        }
        // A sparse row (gap in the middle) and a blank row before it.
        sheet.write_string(4, 0, "王五").unwrap();
        sheet.write_number(4, 2, 13700000000.0).unwrap();
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("车辆").unwrap();
        // Header starts on row 3 (a title row is common in exports... here left empty).
        sheet.write_string(2, 1, "号牌号码").unwrap();
        sheet.write_string(3, 1, "京A12345").unwrap();
        sheet.write_string(4, 1, "豫S·D12345").unwrap();
    }
    workbook.save(path).unwrap();
}

#[test]
fn xlsx_sheets_are_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("人口.xlsx");
    write_workbook(&path);
    let mut source = open(path.to_str().unwrap(), &SourceOptions::default()).unwrap();
    let tables = source.tables().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["人口/户籍", "人口/车辆"]);

    let people = source.sample_table(&tables[0], 100).unwrap();
    assert_eq!(people.row_count, Some(3));
    assert_eq!(column(&people, "姓名"), ["张三", "李四", "王五"]);
    assert_eq!(
        column(&people, "身份证号"),
        ["110105194912310021", "11010519491231002X"]
    );
    // Numbers that are whole print without a fraction: phone numbers stay intact.
    assert_eq!(
        column(&people, "手机号"),
        ["13800138000", "13912345678", "13700000000"]
    );
    assert_eq!(column(&people, "登记日期"), ["2023-03-16", "2023-03-17"]);

    let cars = source.sample_table(&tables[1], 100).unwrap();
    assert_eq!(cars.columns.len(), 2);
    assert_eq!(cars.columns[1].name, "号牌号码");
    assert_eq!(column(&cars, "号牌号码"), ["京A12345", "豫S·D12345"]);
    assert_eq!(cars.row_count, Some(2));
}

#[test]
fn single_sheet_workbook_is_named_after_the_file() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("企业登记.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "统一社会信用代码").unwrap();
    sheet.write_string(1, 0, "91350100M000100Y43").unwrap();
    workbook.save(&path).unwrap();
    let mut source = open(path.to_str().unwrap(), &SourceOptions::default()).unwrap();
    let tables = source.tables().unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].name, "企业登记");
    let sample = source.sample_table(&tables[0], 10).unwrap();
    assert_eq!(column(&sample, "统一社会信用代码"), ["91350100M000100Y43"]);
}

#[test]
fn corrupt_xlsx_is_an_xlsx_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.xlsx");
    std::fs::write(&path, b"PK\x03\x04 this is not really a zip archive").unwrap();
    let mut source = open(path.to_str().unwrap(), &SourceOptions::default()).unwrap();
    let err = source.tables().unwrap_err();
    assert!(matches!(err, SourceError::Xlsx { .. }), "{err}");
    assert!(err.to_string().contains("broken.xlsx"));
}

fn write_parquet(path: &Path, compression: Compression, rows: usize) {
    let schema = parse_message_type(
        "message people {
            REQUIRED BYTE_ARRAY name (UTF8);
            OPTIONAL BYTE_ARRAY id_number (UTF8);
            OPTIONAL INT64 phone;
            OPTIONAL DOUBLE amount;
        }",
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(1000))
        .build();
    let file = File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).unwrap();
    for start in (0..rows).step_by(1000) {
        let end = (start + 1000).min(rows);
        let range = start..end;
        let mut group = writer.next_row_group().unwrap();
        let mut index = 0;
        while let Some(mut col) = group.next_column().unwrap() {
            match index {
                0 => {
                    let names: Vec<ByteArray> = range
                        .clone()
                        .map(|i| ByteArray::from(format!("居民{i}").as_str()))
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&names, None, None)
                        .unwrap();
                }
                1 => {
                    // Every other row has no ID number (NULL).
                    let defs: Vec<i16> = range.clone().map(|i| (i % 2 == 0) as i16).collect();
                    let ids: Vec<ByteArray> = range
                        .clone()
                        .filter(|i| i % 2 == 0)
                        .map(|_| ByteArray::from("110105194912310021"))
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&ids, Some(&defs), None)
                        .unwrap();
                }
                2 => {
                    let defs = vec![1i16; range.len()];
                    let phones: Vec<i64> = range.clone().map(|i| 13800000000 + i as i64).collect();
                    col.typed::<Int64Type>()
                        .write_batch(&phones, Some(&defs), None)
                        .unwrap();
                }
                _ => {
                    let defs = vec![1i16; range.len()];
                    let amounts: Vec<f64> = range.clone().map(|i| i as f64 + 0.5).collect();
                    col.typed::<DoubleType>()
                        .write_batch(&amounts, Some(&defs), None)
                        .unwrap();
                }
            }
            col.close().unwrap();
            index += 1;
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn parquet_with_each_codec() {
    let dir = tempfile::tempdir().unwrap();
    for (label, compression) in [
        ("snappy", Compression::SNAPPY),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("none", Compression::UNCOMPRESSED),
    ] {
        let path = dir.path().join(format!("people_{label}.parquet"));
        write_parquet(&path, compression, 2500);
        let mut source = open(path.to_str().unwrap(), &SourceOptions::default()).unwrap();
        let tables = source.tables().unwrap();
        assert_eq!(tables[0].name, format!("people_{label}"));
        let sample = source.sample_table(&tables[0], 10).unwrap();
        // From the metadata, without reading every row.
        assert_eq!(sample.row_count, Some(2500), "{label}");
        assert!(
            sample.rows_scanned < 2500,
            "{label}: {}",
            sample.rows_scanned
        );
        assert_eq!(column(&sample, "name")[3], "居民3");
        assert_eq!(column(&sample, "id_number").len(), 10);
        assert_eq!(column(&sample, "phone")[0], "13800000000");
        assert_eq!(column(&sample, "amount")[1], "1.5");
        assert_eq!(
            sample.columns[2].declared_type.as_deref(),
            Some("INT64"),
            "{:?}",
            sample.columns
        );

        let mut reader = source.open_table(&tables[0]).unwrap();
        let mut rows = 0;
        let mut nulls = 0;
        while let Some(row) = reader.next_row() {
            let row = row.unwrap();
            assert_eq!(row.len(), 4);
            nulls += row[1].is_none() as usize;
            rows += 1;
        }
        assert_eq!((rows, nulls), (2500, 1250), "{label}");
    }
}

#[test]
fn corrupt_parquet_is_a_parquet_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.parquet");
    write_parquet(&path, Compression::SNAPPY, 10);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let mut source = open(path.to_str().unwrap(), &SourceOptions::default()).unwrap();
    let table = source.tables().unwrap().remove(0);
    let err = source.sample_table(&table, 10).unwrap_err();
    assert!(matches!(err, SourceError::Parquet { .. }), "{err}");
}
