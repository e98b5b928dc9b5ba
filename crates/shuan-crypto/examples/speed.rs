//! Throughput of shuan's SM2/SM3/SM4 in memory, printed as `name value unit` lines for
//! bench/crypto-vs-openssl.sh. Usage: `speed [SECONDS_PER_TEST]` (default 1).

use std::time::{Duration, Instant};

use shuan_crypto::modes::{Sm4Ctr, Sm4Gcm};
use shuan_crypto::sm2::SigningKey;

fn per_second(min: Duration, mut op: impl FnMut()) -> f64 {
    op();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < min {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
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
