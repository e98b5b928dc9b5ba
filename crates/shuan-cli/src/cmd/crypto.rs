//! `shuan crypto …`: national cryptography (国密) — raw SM3/SM4/SM2 operations that
//! interoperate byte for byte with OpenSSL, and envelope encryption of files with the
//! keyring's data keys.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use clap::{Subcommand, ValueEnum};
use shuan_crypto::envelope::{self, EnvelopeError};
use shuan_crypto::modes::{CbcDecryptor, CbcEncryptor, Sm4Ctr};
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};
use shuan_crypto::zeroize::Zeroizing;

use shuan_output::AtomicFile;

use crate::audit_trail::{path_object, AuditTrail};
use crate::context::Context;
use crate::output;

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
        /// Key, 32 hex digits (16 bytes), as OpenSSL's `-K`. A key on the command line is
        /// visible to every user through `ps`: prefer --key-file or $SHUAN_SM4_KEY.
        #[arg(
            short = 'K',
            value_name = "HEX",
            env = "SHUAN_SM4_KEY",
            hide_env_values = true,
            required_unless_present = "key_file",
            conflicts_with = "key_file"
        )]
        key: Option<String>,
        /// File holding the key as 32 hex digits (one line; mode 0600 recommended).
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// IV / initial counter block, 32 hex digits.
        #[arg(long, value_name = "HEX")]
        iv: String,
        /// Decrypt instead of encrypt.
        #[arg(short = 'd')]
        decrypt: bool,
        /// Input file (default stdin).
        #[arg(long = "in", value_name = "FILE")]
        input: Option<PathBuf>,
        /// Output file (default stdout); never the input, never replaced without --force.
        #[arg(long = "out", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long, requires = "output")]
        force: bool,
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
        /// Replace the signature file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Verify an SM2 signature (验签). Exit 0 if valid, 3 if not, 1 if it could not be checked.
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
        #[arg(long = "out", value_name = "FILE")]
        output: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Decrypt a shuan envelope file; OUT appears only if every chunk authenticates.
    Decrypt {
        /// Require the file to be encrypted under this key id.
        #[arg(long)]
        key_id: Option<String>,
        /// Encrypted file.
        input: PathBuf,
        /// Plaintext output file (mode 0600).
        #[arg(long = "out", value_name = "FILE")]
        output: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
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
            key_file,
            iv,
            decrypt,
            input,
            output,
            force,
        } => {
            let key = match (key, key_file) {
                (Some(k), _) => parse_hex16(&Zeroizing::new(k), "-K key")?,
                (None, Some(f)) => {
                    let text = Zeroizing::new(
                        std::fs::read_to_string(&f)
                            .with_context(|| format!("reading the key file {}", f.display()))?,
                    );
                    parse_hex16(&text, &format!("the key in {}", f.display()))?
                }
                (None, None) => bail!("give the key with --key-file FILE or $SHUAN_SM4_KEY"),
            };
            let iv = parse_hex16(&iv, "--iv")?;
            let rules = output::rules(ctx, input.iter().cloned(), force);
            let mut r = open_input(input.as_deref())?;
            let mut w = output::Output::open_private(output.as_deref(), &rules)?;
            raw_enc(cipher, &key, &iv, decrypt, &mut r, &mut w)?;
            w.finish()?;
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Keygen { out, pub_out } => {
            // Keys are never replaced: no --force here.
            let rules = output::rules(ctx, Vec::<PathBuf>::new(), false);
            if pub_out.as_deref() == Some(out.as_path()) {
                bail!("--out and --pub-out name the same file {}", out.display());
            }
            // Both checked before either is written.
            rules.check(&out)?;
            if let Some(p) = &pub_out {
                rules.check(p)?;
            }
            let key = SigningKey::try_generate()?;
            let pem = key.to_pkcs8_pem();
            shuan_output::write_file_private(&out, &rules, pem.as_bytes())?;
            if let Some(p) = pub_out {
                shuan_output::write_file(
                    &p,
                    &rules,
                    key.verifying_key().to_public_key_pem().as_bytes(),
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        CryptoCommand::Sign {
            key,
            file,
            out,
            force,
        } => {
            let rules = output::rules(ctx, [key.clone(), file.clone()], force);
            rules.check(&out)?;
            let pem = Zeroizing::new(
                std::fs::read_to_string(&key)
                    .with_context(|| format!("reading {}", key.display()))?,
            );
            let sk =
                SigningKey::from_pkcs8_pem(&pem).with_context(|| format!("{}", key.display()))?;
            let e = hash_for_sm2(&sk.verifying_key(), &file)?;
            shuan_output::write_file(&out, &rules, &sk.sign_digest(&e).to_der())?;
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
                    Ok(ExitCode::from(crate::exit::INVALID))
                }
            }
        }
        CryptoCommand::Encrypt {
            key_id,
            input,
            output,
            force,
        } => {
            let rules = output::rules(ctx, [input.clone()], force);
            rules.check(&output)?;
            let trail = AuditTrail::open(ctx)?;
            let object = path_object(&input);
            trail.begin("encrypt", &object);
            let mut details = crate::details! {
                "output" => path_object(&output),
                "cipher" => "SM4-GCM",
            };
            // Every failure from here on — a wrong passphrase, an unknown key id, a read
            // error — is recorded, not only the successful encryption.
            let res = (|| {
                let kr = crate::cmd::keys::open_keyring(ctx)?;
                let id = key_id.unwrap_or_else(|| kr.default_key_id().to_string());
                details.insert("key_id".into(), id.clone().into());
                let (version, key) = kr.active_key(&id)?;
                details.insert("key_version".into(), version.into());
                let mut r = open_input(Some(&input))?;
                let mut w = AtomicFile::create(&output, &rules)?;
                let n = envelope::encrypt(&id, version, &key, &mut r, &mut w)
                    .with_context(|| format!("encrypting {}", input.display()))?;
                w.commit()?;
                anyhow::Ok((n, id, version))
            })();
            let (n, id, version) = trail.record_result("encrypt", &object, details, res)?;
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
            force,
        } => {
            let rules = output::rules(ctx, [input.clone()], force);
            rules.check(&output)?;
            let trail = AuditTrail::open(ctx)?;
            let object = path_object(&input);
            trail.begin("decrypt", &object);
            let mut details = crate::details! { "output" => path_object(&output) };
            let res = (|| {
                let kr = crate::cmd::keys::open_keyring(ctx)?;
                let mut r = open_input(Some(&input))?;
                let header = envelope::Header::read_from(&mut r)
                    .with_context(|| format!("{} is not a shuan envelope", input.display()))?;
                details.insert("key_id".into(), header.key_id.clone().into());
                details.insert("key_version".into(), header.key_version.into());
                if let Some(want) = &key_id {
                    if want != &header.key_id {
                        return Err(EnvelopeError::WrongKey {
                            key_id: header.key_id.clone(),
                            key_version: header.key_version,
                        })
                        .with_context(|| format!("--key-id {want}"));
                    }
                }
                let key = kr.key(&header.key_id, header.key_version)?;
                // Plaintext: owner-only, and under its real name only once every chunk
                // has authenticated.
                let mut w = AtomicFile::create_private(&output, &rules)?;
                let n = envelope::decrypt(&header, &key, &mut r, &mut w)
                    .with_context(|| format!("decrypting {}", input.display()))?;
                w.commit()?;
                anyhow::Ok(n)
            })();
            let n = trail.record_result("decrypt", &object, details, res)?;
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
