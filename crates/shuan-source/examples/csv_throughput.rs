//! CSV reading throughput, for bench/source-csv.sh.
//!
//! `csv_throughput generate PATH MB [gbk]` writes a synthetic government-style CSV of about
//! MB megabytes (UTF-8, or GBK with `gbk`); `csv_throughput read PATH [PER_COLUMN]` reads it
//! through `shuan_source::open` + `sample_table` (every row, exact count) and prints
//! rows, MB and MB/s on one line.

use std::io::{BufWriter, Write};
use std::time::Instant;

use shuan_source::{open, SourceOptions};

const SURNAMES: [&str; 8] = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强"];
const PLACES: [&str; 4] = [
    "河南省信阳市浉河区民权路",
    "北京市朝阳区建国路",
    "广东省深圳市南山区科技园",
    "四川省成都市武侯区人民南路",
];

fn generate(path: &str, megabytes: u64, gbk: bool) -> std::io::Result<()> {
    let target = megabytes * 1024 * 1024;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut written = 0u64;
    let mut line = String::new();
    let write = |text: &str, out: &mut BufWriter<std::fs::File>| -> std::io::Result<u64> {
        if gbk {
            let (bytes, _, _) = encoding_rs::GBK.encode(text);
            out.write_all(&bytes)?;
            Ok(bytes.len() as u64)
        } else {
            out.write_all(text.as_bytes())?;
            Ok(text.len() as u64)
        }
    };
    written += write("序号,姓名,身份证号,手机号,住址,缴费金额,备注\n", &mut out)?;
    // A small linear congruential generator: reproducible data without a dependency.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut i = 0u64;
    while written < target {
        i += 1;
        let r = next();
        line.clear();
        use std::fmt::Write as _;
        let note = if r % 7 == 0 {
            "\"含逗号, 和\"\"引号\"\"\""
        } else {
            ""
        };
        let _ = writeln!(
            line,
            "{i},{}{},110105{:04}{:02}{:02}{:04},1{}{:09},{}{}号,{}.{:02},{}",
            SURNAMES[(r % 8) as usize],
            GIVEN[((r >> 3) % 8) as usize],
            1950 + r % 60,
            1 + (r >> 5) % 12,
            1 + (r >> 9) % 28,
            r % 10_000,
            3 + (r >> 13) % 7,
            (r >> 7) % 1_000_000_000,
            PLACES[((r >> 17) % 4) as usize],
            (r >> 19) % 999,
            (r >> 23) % 5000,
            (r >> 11) % 100,
            note
        );
        written += write(&line, &mut out)?;
    }
    out.flush()
}

fn read(path: &str, per_column: usize) -> Result<(), Box<dyn std::error::Error>> {
    let size = std::fs::metadata(path)?.len();
    let start = Instant::now();
    let mut source = open(path, &SourceOptions::default())?;
    let tables = source.tables()?;
    let sample = source.sample_table(&tables[0], per_column)?;
    let seconds = start.elapsed().as_secs_f64();
    let mb = size as f64 / 1e6;
    println!(
        "shuan-source rows={} skipped={} MB={mb:.1} seconds={seconds:.3} MB/s={:.1}",
        sample.row_count.unwrap_or(0),
        sample.skipped_rows,
        mb / seconds
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") if args.len() >= 4 => {
            generate(
                &args[2],
                args[3].parse()?,
                args.get(4).is_some_and(|a| a == "gbk"),
            )?;
            Ok(())
        }
        Some("read") if args.len() >= 3 => {
            read(&args[2], args.get(3).map_or(Ok(1000), |a| a.parse())?)
        }
        _ => {
            eprintln!("usage: csv_throughput generate PATH MB [gbk] | read PATH [PER_COLUMN]");
            std::process::exit(2);
        }
    }
}
