//! Throughput of shuan's SM2/SM3/SM4 in memory, printed as `name value unit` lines for
//! bench/crypto-vs-openssl.sh. Usage: `speed [SECONDS_PER_TEST]` (default 1).
//!
//! Rates are per second of CPU time of this thread (Linux `/proc/thread-self/schedstat`),
//! like `openssl speed` without `-elapsed`, so that a busy machine does not skew the
//! comparison; set SHUAN_SPEED_WALL=1 to use wall-clock time instead.

use std::time::{Duration, Instant};

use shuan_crypto::modes::{Sm4Ctr, Sm4Gcm};
use shuan_crypto::sm2::SigningKey;

/// CPU time consumed by this thread, in seconds, if the OS tells us.
fn cpu_seconds() -> Option<f64> {
    if std::env::var_os("SHUAN_SPEED_WALL").is_some() {
        return None;
    }
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

fn per_second(min: Duration, mut op: impl FnMut()) -> f64 {
    op();
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    let mut n = 0u64;
    loop {
        op();
        n += 1;
        let spent = match (cpu0, cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => start.elapsed().as_secs_f64(),
        };
        if spent >= min.as_secs_f64() {
            return n as f64 / spent;
        }
    }
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let min = Duration::from_secs_f64(secs);
    let mut buf = vec![0x5au8; 1 << 20];
    let mb = buf.len() as f64 / 1e6;

    let mut ctr = Sm4Ctr::new(&[1u8; 16], &[2u8; 16]);
    let r = per_second(min, || ctr.apply_keystream(&mut buf));
    println!("sm4-ctr {:.1} MB/s", r * mb);

    let gcm = Sm4Gcm::new(&[1u8; 16]);
    let r = per_second(min, || {
        std::hint::black_box(gcm.encrypt(&[3u8; 12], b"", &mut buf));
    });
    println!("sm4-gcm {:.1} MB/s", r * mb);

    let r = per_second(min, || {
        std::hint::black_box(shuan_crypto::sm3::sm3(&buf));
    });
    println!("sm3 {:.1} MB/s", r * mb);
    let r = per_second(min, || {
        use sm3::Digest as _;
        std::hint::black_box(sm3::Sm3::digest(&buf));
    });
    println!("sm3-rustcrypto-crate {:.1} MB/s", r * mb);

    // Many short messages: 55 bytes (the most that fits one block) and 18 bytes (an ID
    // number under HMAC), one by one and side by side in vector lanes.
    const BATCH: usize = 4096;
    let short: Vec<[u8; 55]> = (0..BATCH).map(|i| [i as u8; 55]).collect();
    let mut out = vec![[0u8; 32]; BATCH];
    let r = per_second(min, || {
        for (m, o) in short.iter().zip(out.iter_mut()) {
            *o = shuan_crypto::sm3::sm3(m);
        }
        std::hint::black_box(&out);
    });
    println!("sm3-55B-one-by-one {:.0} msgs/s", r * BATCH as f64);
    let parts: Vec<[&[u8]; 2]> = short.iter().map(|m| [&m[..], &[][..]]).collect();
    let r = per_second(min, || {
        shuan_crypto::sm3::digest_many(&parts, &mut out);
        std::hint::black_box(&out);
    });
    println!("sm3-55B-many {:.0} msgs/s", r * BATCH as f64);
    let ids: Vec<[u8; 18]> = (0..BATCH).map(|i| [b'0' + (i % 10) as u8; 18]).collect();
    let id_refs: Vec<&[u8]> = ids.iter().map(|m| &m[..]).collect();
    let mac = shuan_crypto::hmac::HmacSm3::new(&[7u8; 32]);
    let r = per_second(min, || {
        for (m, o) in id_refs.iter().zip(out.iter_mut()) {
            *o = mac.mac(m);
        }
        std::hint::black_box(&out);
    });
    println!("hmac-18B-one-by-one {:.0} msgs/s", r * BATCH as f64);
    let r = per_second(min, || {
        mac.mac_many(&id_refs, &mut out);
        std::hint::black_box(&out);
    });
    println!("hmac-18B-many {:.0} msgs/s", r * BATCH as f64);

    let key = SigningKey::generate();
    let vk = key.verifying_key();
    let msg = [7u8; 32];
    let r = per_second(min, || {
        std::hint::black_box(key.sign(&msg));
    });
    println!("sm2-sign {:.0} ops/s", r);
    let sig = key.sign(&msg);
    let r = per_second(min, || {
        vk.verify(&msg, &sig).expect("valid signature");
    });
    println!("sm2-verify {:.0} ops/s", r);
}
