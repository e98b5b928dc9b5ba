//! Differential tests: shuan's SM3, HMAC-SM3, SM4 (CTR, CBC, GCM, ECB) and SM2 against
//! independent implementations on random inputs — OpenSSL's command line, Python's
//! `cryptography` (OpenSSL-backed SM4-GCM), Python's `hmac`, and the pure-Python `gmssl`
//! SM2. These tools are installed by scripts/install-test-deps.sh; when one is missing
//! the test fails under CI (`CI` set) and is skipped with a note otherwise.
//!
//! `SHUAN_DIFF_ROUNDS` raises the number of random cases for a longer soak.

use std::path::Path;
use std::process::{Command, Stdio};

use shuan_crypto::modes::{cbc_decrypt, cbc_encrypt, Sm4Ctr, Sm4Gcm};
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};

fn rounds(default: usize) -> usize {
    std::env::var("SHUAN_DIFF_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Small deterministic RNG (seeded per test, printed on failure via the case index).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 32) as u8).collect()
    }
    fn arr16(&mut self) -> [u8; 16] {
        self.bytes(16).try_into().unwrap()
    }
}

fn seed() -> u64 {
    std::env::var("SHUAN_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

fn hex(b: &[u8]) -> String {
    shuan_crypto::hex::encode(b)
}

fn unhex(s: &str) -> Vec<u8> {
    shuan_crypto::hex::decode(s.trim()).unwrap()
}

/// Whether `tool --version`-like probe works; under CI a missing tool is a failure.
fn available(program: &str, probe: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("{program} {probe:?} is not available; run scripts/install-test-deps.sh");
        }
        eprintln!("note: {program} {probe:?} unavailable, skipping this differential test");
    }
    ok
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.to_str().unwrap().to_string()
}

/// Lengths that hit SM3 padding edges, SM4 batch edges and some larger random sizes.
fn lengths(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut v = vec![
        0,
        1,
        15,
        16,
        17,
        55,
        56,
        63,
        64,
        65,
        255,
        256,
        257,
        1023,
        1024,
        1025,
        4096 + 7,
    ];
    for _ in 0..n {
        v.push(rng.below(300_000));
    }
    v
}

#[test]
fn sm3_and_hmac_match_openssl_and_python() {
    if !available("openssl", &["version"])
        || !available(
            "python3",
            &["-c", "import hmac, hashlib; hashlib.new('sm3')"],
        )
    {
        return;
    }
    let s = seed();
    let mut rng = Rng(s);
    let dir = tempfile::tempdir().unwrap();
    for (case, len) in lengths(&mut rng, rounds(10)).into_iter().enumerate() {
        let data = rng.bytes(len);
        let f = write(dir.path(), "m", &data);
        let out = String::from_utf8(openssl(&["dgst", "-sm3", "-r", &f])).unwrap();
        let theirs = out.split_whitespace().next().unwrap();
        assert_eq!(
            hex(&shuan_crypto::sm3::sm3(&data)),
            theirs,
            "seed {s} case {case} len {len}"
        );
    }
    for case in 0..rounds(10) {
        let key = {
            let n = rng.below(100);
            rng.bytes(n)
        };
        let msg = {
            let n = rng.below(5000);
            rng.bytes(n)
        };
        let f = write(dir.path(), "m", &msg);
        let theirs = python(
            "import hmac,sys; print(hmac.new(bytes.fromhex(sys.argv[1]), open(sys.argv[2],'rb').read(), 'sm3').hexdigest())",
            &[&hex(&key), &f],
        );
        assert_eq!(
            hex(&shuan_crypto::hmac::hmac_sm3(&key, &msg)),
            theirs.trim(),
            "seed {s} hmac case {case}"
        );
    }
}

#[test]
fn sm4_ctr_and_cbc_match_openssl_enc() {
    if !available("openssl", &["version"]) {
        return;
    }
    let s = seed();
    let mut rng = Rng(s);
    let dir = tempfile::tempdir().unwrap();
    for (case, len) in lengths(&mut rng, rounds(8)).into_iter().enumerate() {
        let key = rng.arr16();
        let mut iv = rng.arr16();
        if case % 3 == 1 {
            // Counters about to carry across 32 and 64 bits, and to wrap at 2^128.
            iv[8..].copy_from_slice(&[0xff; 8]);
            iv[7] = if case % 2 == 0 { 0xff } else { 0x00 };
            if case % 6 == 1 {
                iv = [0xff; 16];
            }
            iv[15] = 0xf0;
        }
        let data = rng.bytes(len);
        let f = write(dir.path(), "p", &data);
        let (k, i) = (hex(&key), hex(&iv));
        let ctx = format!("seed {s} case {case} len {len} key {k} iv {i}");

        let theirs = openssl(&["enc", "-sm4-ctr", "-K", &k, "-iv", &i, "-in", &f]);
        let mut ours = data.clone();
        Sm4Ctr::new(&key, &iv).apply_keystream(&mut ours);
        assert!(ours == theirs, "CTR differs: {ctx}");

        let theirs = openssl(&["enc", "-sm4-cbc", "-K", &k, "-iv", &i, "-in", &f]);
        let ours = cbc_encrypt(&key, &iv, &data);
        assert!(ours == theirs, "CBC encrypt differs: {ctx}");
        let c = write(dir.path(), "c", &theirs);
        let back = openssl(&["enc", "-d", "-sm4-cbc", "-K", &k, "-iv", &i, "-in", &c]);
        assert!(back == data);
        assert!(
            *cbc_decrypt(&key, &iv, &theirs).unwrap() == data,
            "CBC decrypt differs: {ctx}"
        );

        let whole = len / 16 * 16;
        let fw = write(dir.path(), "w", &data[..whole]);
        let theirs = openssl(&["enc", "-sm4-ecb", "-nopad", "-K", &k, "-in", &fw]);
        let mut ours = data[..whole].to_vec();
        shuan_crypto::sm4::Sm4::new(&key).encrypt_blocks(&mut ours);
        assert!(ours == theirs, "ECB differs: {ctx}");
    }
}

#[test]
fn sm4_gcm_matches_python_cryptography() {
    let probe = "from cryptography.hazmat.primitives.ciphers.aead import AESGCM; from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes; Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(12))).encryptor()";
    if !available("python3", &["-c", probe]) {
        return;
    }
    let script = r#"
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key, nonce, aad = (bytes.fromhex(a) for a in sys.argv[1:4])
pt = open(sys.argv[4], 'rb').read()
e = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
e.authenticate_additional_data(aad)
ct = e.update(pt) + e.finalize()
print(ct.hex() + "," + e.tag.hex())
"#;
    let s = seed();
    let mut rng = Rng(s);
    let dir = tempfile::tempdir().unwrap();
    for case in 0..rounds(12) {
        let key = rng.arr16();
        let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
        let aad = {
            let n = rng.below(70);
            rng.bytes(n)
        };
        let len = if case < 4 {
            [0, 1, 16, 1000][case]
        } else {
            rng.below(200_000)
        };
        let pt = rng.bytes(len);
        let f = write(dir.path(), "p", &pt);
        let out = python(script, &[&hex(&key), &hex(&nonce), &hex(&aad), &f]);
        let (ct, tag) = out.trim().split_once(',').expect("ct,tag");
        let mut buf = pt.clone();
        let our_tag = Sm4Gcm::new(&key).encrypt(&nonce, &aad, &mut buf);
        assert!(
            hex(&buf) == ct,
            "GCM ciphertext differs: seed {s} case {case}"
        );
        assert_eq!(hex(&our_tag), tag, "GCM tag differs: seed {s} case {case}");
    }
}

#[test]
fn sm2_signatures_interoperate_with_openssl() {
    if !available("openssl", &["version"]) {
        return;
    }
    let s = seed();
    let mut rng = Rng(s);
    let dir = tempfile::tempdir().unwrap();
    for case in 0..rounds(4) {
        let msg = {
            let n = rng.below(10_000);
            rng.bytes(n)
        };
        let m = write(dir.path(), "m", &msg);
        // shuan key and signature -> OpenSSL verifies.
        let key = SigningKey::generate();
        let kf = write(dir.path(), "k.pem", key.to_pkcs8_pem().as_bytes());
        let pf = write(
            dir.path(),
            "p.pem",
            key.verifying_key().to_public_key_pem().as_bytes(),
        );
        let sf = write(dir.path(), "s.der", &key.sign(&msg).to_der());
        let out = openssl(&[
            "dgst",
            "-sm3",
            "-verify",
            &pf,
            "-sigopt",
            "distid:1234567812345678",
            "-signature",
            &sf,
            &m,
        ]);
        assert!(
            String::from_utf8_lossy(&out).contains("Verified OK"),
            "seed {s} case {case}"
        );
        // OpenSSL reads our private key and derives the same public key.
        let pub_from_openssl =
            String::from_utf8(openssl(&["pkey", "-in", &kf, "-pubout"])).unwrap();
        assert_eq!(
            VerifyingKey::from_public_key_pem(&pub_from_openssl).unwrap(),
            key.verifying_key()
        );

        // OpenSSL key and signature -> shuan verifies.
        let okf = dir.path().join("ok.pem");
        openssl(&[
            "genpkey",
            "-algorithm",
            "SM2",
            "-out",
            okf.to_str().unwrap(),
        ]);
        let osk = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&okf).unwrap()).unwrap();
        let opub =
            String::from_utf8(openssl(&["pkey", "-in", okf.to_str().unwrap(), "-pubout"])).unwrap();
        let ovk = VerifyingKey::from_public_key_pem(&opub).unwrap();
        assert_eq!(osk.verifying_key(), ovk);
        let osig = dir.path().join("os.der");
        openssl(&[
            "dgst",
            "-sm3",
            "-sign",
            okf.to_str().unwrap(),
            "-sigopt",
            "distid:1234567812345678",
            "-out",
            osig.to_str().unwrap(),
            &m,
        ]);
        let sig = Signature::from_der(&std::fs::read(&osig).unwrap()).unwrap();
        ovk.verify(&msg, &sig)
            .unwrap_or_else(|e| panic!("seed {s} case {case}: {e}"));
        let mut other = msg.clone();
        other.push(1);
        assert!(ovk.verify(&other, &sig).is_err());
    }
}

const GMSSL: &str = r#"
import sys, json
from gmssl import sm2
req = json.loads(sys.argv[1])
c = sm2.CryptSM2(private_key=req.get('d', ''), public_key=req['pub'], mode=1)
msg = bytes.fromhex(req['msg'])
out = {}
if req['op'] == 'sign':
    out['sig'] = c.sign_with_sm3(msg)
elif req['op'] == 'verify':
    out['ok'] = bool(c.verify_with_sm3(req['sig'], msg))
elif req['op'] == 'encrypt':
    out['ct'] = c.encrypt(msg).hex()
elif req['op'] == 'decrypt':
    out['pt'] = c.decrypt(bytes.fromhex(req['ct'])).hex()
print(json.dumps(out))
"#;

fn gmssl(req: &str) -> serde_json::Value {
    serde_json::from_str(&python(GMSSL, &[req])).unwrap()
}

#[test]
fn sm2_sign_and_encrypt_interoperate_with_python_gmssl() {
    if !available("python3", &["-c", "from gmssl import sm2"]) {
        return;
    }
    let s = seed();
    let mut rng = Rng(s);
    for case in 0..rounds(4) {
        let key = SigningKey::generate();
        let d = hex(&key.to_bytes()[..]);
        let pub_xy = hex(&key.verifying_key().to_sec1_bytes()[1..]);
        let msg = {
            let n = 1 + rng.below(300);
            rng.bytes(n)
        };
        let ctx = format!("seed {s} case {case}");
        let req = |op: &str, extra: &str| {
            format!(
                r#"{{"op":"{op}","d":"{d}","pub":"{pub_xy}","msg":"{}"{extra}}}"#,
                hex(&msg)
            )
        };

        // shuan signs, gmssl verifies (gmssl wants r||s hex).
        let sig = key.sign(&msg);
        let v = gmssl(&req(
            "verify",
            &format!(r#","sig":"{}""#, hex(&sig.to_bytes())),
        ));
        assert_eq!(v["ok"], true, "gmssl rejects shuan's signature: {ctx}");
        // gmssl signs, shuan verifies.
        let v = gmssl(&req("sign", ""));
        let gsig = Signature::from_bytes(&unhex(v["sig"].as_str().unwrap())).unwrap();
        key.verifying_key()
            .verify(&msg, &gsig)
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        // gmssl encrypts (C1 without the 04 prefix, then C3, C2), shuan decrypts.
        let v = gmssl(&req("encrypt", ""));
        let mut ct = vec![0x04];
        ct.extend(unhex(v["ct"].as_str().unwrap()));
        assert_eq!(&key.decrypt(&ct).unwrap()[..], &msg[..], "{ctx}");
        // shuan encrypts, gmssl decrypts.
        let ours = key.verifying_key().encrypt(&msg).unwrap();
        let v = gmssl(&req("decrypt", &format!(r#","ct":"{}""#, hex(&ours[1..]))));
        assert_eq!(v["pt"].as_str().unwrap(), hex(&msg), "{ctx}");
    }
}
