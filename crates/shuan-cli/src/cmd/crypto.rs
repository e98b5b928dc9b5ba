//! `shuan crypto …`: national cryptography (国密) — raw SM3/SM4/SM2 operations that
//! interoperate byte for byte with OpenSSL, and envelope encryption of files with the
//! keyring's data keys.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use clap::{Subcommand, ValueEnum};
use shuan_crypto::envelope::{self, EnvelopeError};
use shuan_crypto::modes::{CbcDecryptor, CbcEncryptor, Sm4Ctr};
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};
use shuan_crypto::zeroize::Zeroizing;

use crate::audit_trail::{path_object, AuditTrail};
use crate::context::Context;

#[derive(Subcommand)]
pub enum CryptoCommand {
    /// Print the digest (摘要) of a file or stdin in lowercase hex, like `openssl dgst -sm3 -r`.
    Digest {
        /// Digest algorithm.
        #[arg(long, value_enum, default_value = "sm3")]
        alg: DigestAlg,
        /// File to hash; `-` or nothing for stdin.
        file: Option<PathBuf>,
    },
    /// Raw SM4 encryption/decryption, byte-identical to `openssl enc -sm4-ctr|-sm4-cbc -K … -iv …`.
    Enc {
        /// Cipher and mode (CBC uses PKCS#7 padding, as OpenSSL does).
        #[arg(long, value_enum)]
        cipher: EncCipher,
        /// Key, 32 hex digits (16 bytes).
        #[arg(short = 'K', value_name = "HEX")]
        key: String,
        /// IV / initial counter block, 32 hex digits.
        #[arg(long, value_name = "HEX")]
        iv: String,
        /// Decrypt instead of encrypt.
        #[arg(short = 'd')]
        decrypt: bool,
        /// Input file (default stdin).
        #[arg(long = "in", value_name = "FILE")]
        input: Option<PathBuf>,
        /// Output file (default stdout).
        #[arg(long = "out", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Generate an SM2 key pair: PKCS#8 private key (mode 0600) and SPKI public key, PEM.
    Keygen {
        /// Private key output (PEM).
        #[arg(long, value_name = "KEY.pem")]
        out: PathBuf,
        /// Public key output (PEM).
        #[arg(long, value_name = "PUB.pem")]
        pub_out: Option<PathBuf>,
    },
    /// Sign a file with SM2 (签名; user ID 1234567812345678, SM3), DER signature.
    Sign {
        /// SM2 private key (PKCS#8 PEM).
        #[arg(long, value_name = "KEY.pem")]
        key: PathBuf,
        /// File to sign.
        file: PathBuf,
        /// Signature output (DER).
        #[arg(long, value_name = "SIG.der")]
        out: PathBuf,
    },
    /// Verify an SM2 signature (验签). Exit 0 if valid, 1 if not.
    Verify {
        /// SM2 public key (SPKI PEM) or private key.
        #[arg(long, value_name = "PUB.pem")]
        key: PathBuf,
        /// Signed file.
        file: PathBuf,
        /// Signature (DER).
        #[arg(long, value_name = "SIG.der")]
        sig: PathBuf,
    },
    /// Encrypt a file in the shuan envelope format (信封加密) under a keyring data key.
    Encrypt {
        /// Data key id (default: the keyring's default key).
        #[arg(long)]
        key_id: Option<String>,
        /// Plaintext file.
        input: PathBuf,
        /// Encrypted output file.
        output: PathBuf,
    },
    /// Decrypt a shuan envelope file; OUT appears only if every chunk authenticates.
    Decrypt {
        /// Require the file to be encrypted under this key id.
        #[arg(long)]
        key_id: Option<String>,
        /// Encrypted file.
        input: PathBuf,
        /// Plaintext output file.
        output: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DigestAlg {
    /// SM3 (GB/T 32905-2016).
    Sm3,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum EncCipher {
    /// SM4 in counter mode (128-bit big-endian counter).
    #[value(name = "sm4-ctr")]
    Sm4Ctr,
    /// SM4 in CBC mode with PKCS#7 padding.
    #[value(name = "sm4-cbc")]
    Sm4Cbc,
}

pub fn run(ctx: &Context, cmd: CryptoCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CryptoCommand::Digest {
            alg: DigestAlg::Sm3,
            file,
        } => {
            let mut input = open_input(file.as_deref())?;
            let mut h = shuan_crypto::sm3::Sm3::new();
            std::io::copy(&mut input, &mut h).context("reading input")?;
            println!("{}", hex(&h.finalize()));
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Enc {
            cipher,
            key,
            iv,
            decrypt,
            input,
            output,
        } => {
            let key = parse_hex16(&key, "-K key")?;
            let iv = parse_hex16(&iv, "--iv")?;
            let mut r = open_input(input.as_deref())?;
            let mut w = open_output(output.as_deref())?;
            raw_enc(cipher, &key, &iv, decrypt, &mut r, &mut w)?;
            w.flush().context("writing output")?;
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Keygen { out, pub_out } => {
            let key = SigningKey::try_generate()?;
            write_new_private(&out, key.to_pkcs8_pem().as_bytes())?;
            if let Some(p) = pub_out {
                std::fs::write(&p, key.verifying_key().to_public_key_pem())
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Sign { key, file, out } => {
            let pem = Zeroizing::new(
                std::fs::read_to_string(&key)
                    .with_context(|| format!("reading {}", key.display()))?,
            );
            let sk =
                SigningKey::from_pkcs8_pem(&pem).with_context(|| format!("{}", key.display()))?;
            let e = hash_for_sm2(&sk.verifying_key(), &file)?;
            std::fs::write(&out, sk.sign_digest(&e).to_der())
                .with_context(|| format!("writing {}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Verify { key, file, sig } => {
            let vk = load_public(&key)?;
            let der = std::fs::read(&sig).with_context(|| format!("reading {}", sig.display()))?;
            let e = hash_for_sm2(&vk, &file)?;
            let ok = Signature::from_der(&der).and_then(|s| vk.verify_digest(&e, &s));
            match ok {
                Ok(()) => {
                    println!("Verified OK");
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    println!("Verification failure: {err}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        CryptoCommand::Encrypt {
            key_id,
            input,
            output,
        } => {
            let trail = AuditTrail::open(ctx)?;
            let kr = crate::cmd::keys::open_keyring(ctx)?;
            let id = key_id.unwrap_or_else(|| kr.default_key_id().to_string());
            let (version, key) = kr.active_key(&id)?;
            let res = envelope::encrypt_file(&id, version, &key, &input, &output)
                .with_context(|| format!("encrypting {} to {}", input.display(), output.display()));
            let n = trail.record_result(
                "encrypt",
                &path_object(&input),
                crate::details! {
                    "output" => path_object(&output),
                    "key_id" => id,
                    "key_version" => version,
                    "cipher" => "SM4-GCM",
                },
                res,
            )?;
            trail.close()?;
            eprintln!(
                "encrypted {n} bytes under key '{id}' version {version} (SM4-GCM) -> {}",
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Decrypt {
            key_id,
            input,
            output,
        } => {
            let trail = AuditTrail::open(ctx)?;
            let kr = crate::cmd::keys::open_keyring(ctx)?;
            let mut used = None;
            let res = envelope::decrypt_file(&input, &output, |h| {
                used = Some((h.key_id.clone(), h.key_version));
                if let Some(want) = &key_id {
                    if want != &h.key_id {
                        return Err(EnvelopeError::WrongKey {
                            key_id: h.key_id.clone(),
                            key_version: h.key_version,
                        });
                    }
                }
                kr.key(&h.key_id, h.key_version)
                    .map_err(|e| EnvelopeError::KeyUnavailable(e.to_string()))
            })
            .with_context(|| format!("decrypting {}", input.display()));
            let (used_id, used_version) = used.unzip();
            let n = trail.record_result(
                "decrypt",
                &path_object(&input),
                crate::details! {
                    "output" => path_object(&output),
                    "key_id" => used_id,
                    "key_version" => used_version,
                },
                res,
            )?;
            trail.close()?;
            eprintln!("decrypted {n} bytes -> {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn raw_enc(
    cipher: EncCipher,
    key: &[u8; 16],
    iv: &[u8; 16],
    decrypt: bool,
    r: &mut dyn Read,
    w: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut buf = Zeroizing::new(vec![0u8; 1 << 16]);
    let mut out = Zeroizing::new(Vec::with_capacity((1 << 16) + 32));
    match (cipher, decrypt) {
        (EncCipher::Sm4Ctr, _) => {
            let mut c = Sm4Ctr::new(key, iv);
            loop {
                let n = read_some(r, &mut buf)?;
                if n == 0 {
                    break;
                }
                c.apply_keystream(&mut buf[..n]);
                w.write_all(&buf[..n]).context("writing output")?;
            }
        }
        (EncCipher::Sm4Cbc, false) => {
            let mut c = CbcEncryptor::new(key, iv);
            loop {
                let n = read_some(r, &mut buf)?;
                if n == 0 {
                    break;
                }
                c.update(&buf[..n], &mut out);
                w.write_all(&out).context("writing output")?;
                out.clear();
            }
            c.finish(&mut out);
            w.write_all(&out).context("writing output")?;
        }
        (EncCipher::Sm4Cbc, true) => {
            let mut c = CbcDecryptor::new(key, iv);
            loop {
                let n = read_some(r, &mut buf)?;
                if n == 0 {
                    break;
                }
                c.update(&buf[..n], &mut out);
                w.write_all(&out).context("writing output")?;
                out.clear();
            }
            c.finish(&mut out).context("bad decrypt")?;
            w.write_all(&out).context("writing output")?;
        }
    }
    Ok(())
}

fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> anyhow::Result<usize> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("reading input"),
        }
    }
}

/// `e = SM3(Z ‖ file)`, streamed.
fn hash_for_sm2(vk: &VerifyingKey, file: &Path) -> anyhow::Result<[u8; 32]> {
    let mut h = vk.message_hasher();
    let mut f = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    std::io::copy(&mut f, &mut h).with_context(|| format!("reading {}", file.display()))?;
    Ok(h.finalize())
}

fn load_public(path: &Path) -> anyhow::Result<VerifyingKey> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    if pem.contains("PRIVATE KEY") {
        return Ok(SigningKey::from_pkcs8_pem(&pem)
            .with_context(|| format!("{}", path.display()))?
            .verifying_key());
    }
    VerifyingKey::from_public_key_pem(&pem).with_context(|| format!("{}", path.display()))
}

fn open_input(path: Option<&Path>) -> anyhow::Result<Box<dyn Read>> {
    match path {
        None => Ok(Box::new(std::io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(std::io::stdin().lock())),
        Some(p) => Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            File::open(p).with_context(|| format!("opening {}", p.display()))?,
        ))),
    }
}

fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    match path {
        None => Ok(Box::new(BufWriter::new(std::io::stdout().lock()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufWriter::new(std::io::stdout().lock()))),
        Some(p) => Ok(Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))),
    }
}

/// Create a new file with mode 0600 (refusing to overwrite an existing key).
fn write_new_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).with_context(|| {
        format!(
            "creating {} (it must not exist already; keys are never overwritten)",
            path.display()
        )
    })?;
    f.write_all(data)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn parse_hex16(s: &str, what: &str) -> anyhow::Result<Zeroizing<[u8; 16]>> {
    let s = s.trim();
    if s.len() != 32 || !s.is_ascii() {
        bail!(
            "{what} must be exactly 32 hex digits (16 bytes), got {} characters",
            s.len()
        );
    }
    let mut out = Zeroizing::new([0u8; 16]);
    for i in 0..16 {
        out[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
            .map_err(|_| anyhow!("{what} is not hexadecimal"))?;
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
