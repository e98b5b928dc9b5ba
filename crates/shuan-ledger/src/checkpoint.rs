//! Signed statements: the ledger's identity file (`ledger.json`), checkpoints (tree size +
//! root + time, 签名检查点) and the proofs built on them.
//!
//! Every signature is SM2 (with the default user ID) over a short UTF-8 text whose exact
//! form is given by the `*_message` functions and documented in `docs/ledger.md`.

use serde::{Deserialize, Serialize};
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};

use crate::hash::{hash_from_hex, sm3, to_hex, Hash};
use crate::merkle;
use crate::record::{Record, Seq};
use crate::time::Timestamp;

/// The format id in `ledger.json`.
pub const LEDGER_FORMAT: &str = "shuan-ledger/1";
/// The format id of proof documents.
pub const PROOF_FORMAT: &str = "shuan-ledger-proof/1";
/// The shortest retention the ledger accepts, in days (network logs: ≥ 6 months).
pub const MIN_RETENTION_DAYS: u32 = 180;

/// `ledger.json`: who this ledger is, signed by the node key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerMeta {
    /// Always [`LEDGER_FORMAT`].
    pub format: String,
    /// 32 hex digits naming this ledger; bound into the genesis hash and every signature.
    pub ledger_id: String,
    /// When the ledger was created.
    pub created: Timestamp,
    /// Records are kept at least this many days (≥ [`MIN_RETENTION_DAYS`]).
    pub retention_days: u32,
    /// The node's SM2 public key (PEM) that signs checkpoints.
    pub public_key: String,
    /// SM2 signature (DER, hex) of [`LedgerMeta::message`].
    pub signature: String,
}

impl LedgerMeta {
    /// The signed text.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "shuan-ledger meta v1\nledger {}\ncreated {}\nretention_days {}\npublic_key_sm3 {}\n",
            self.ledger_id,
            self.created,
            self.retention_days,
            to_hex(&sm3(self.public_key.trim().as_bytes())),
        )
        .into_bytes()
    }

    /// Creates and signs the identity of a new ledger.
    pub fn create(key: &SigningKey, retention_days: u32) -> Self {
        let vk = key.verifying_key();
        let created = Timestamp::now();
        let mut seed = vk.to_sec1_bytes();
        seed.extend_from_slice(&created.0.to_le_bytes());
        seed.extend_from_slice(&std::process::id().to_le_bytes());
        let mut rnd = [0u8; 16];
        // A unique name, not a secret: fall back to the time-based seed alone.
        let _ = shuan_crypto::rand::fill(&mut rnd);
        seed.extend_from_slice(&rnd);
        let mut m = LedgerMeta {
            format: LEDGER_FORMAT.to_string(),
            ledger_id: to_hex(&sm3(&seed)[..16]),
            created,
            retention_days,
            public_key: vk.to_public_key_pem(),
            signature: String::new(),
        };
        m.signature = to_hex(&key.sign(&m.message()).to_der());
        m
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        self.format == LEDGER_FORMAT && verify_hex_sig(key, &self.message(), &self.signature)
    }

    /// The leaf hash that stands before record 1.
    pub fn genesis_hash(&self) -> Hash {
        genesis_hash(&self.ledger_id)
    }
}

/// SM3("shuan-ledger genesis v1\n" || ledger id): the chain's starting point.
pub fn genesis_hash(ledger_id: &str) -> Hash {
    let mut m = b"shuan-ledger genesis v1\n".to_vec();
    m.extend_from_slice(ledger_id.as_bytes());
    sm3(&m)
}

fn verify_hex_sig(key: &VerifyingKey, msg: &[u8], sig_hex: &str) -> bool {
    let Some(der) = crate::hash::from_hex(sig_hex) else {
        return false;
    };
    let Ok(sig) = Signature::from_der(&der) else {
        return false;
    };
    key.verify(msg, &sig).is_ok()
}

/// A signed tree head: the first `size` records have Merkle root `root`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Number of records covered.
    pub size: u64,
    /// Merkle root (hex) of those records.
    #[serde(with = "hex_hash")]
    pub root: Hash,
    /// When it was signed.
    pub time: Timestamp,
    /// SM2 signature (DER, hex) of [`Checkpoint::message`].
    pub signature: String,
}

impl Checkpoint {
    /// The signed text for a checkpoint of ledger `ledger_id`.
    pub fn message(ledger_id: &str, size: u64, root: &Hash, time: Timestamp) -> Vec<u8> {
        format!(
            "shuan-ledger checkpoint v1\nledger {ledger_id}\nsize {size}\nroot {}\ntime {time}\n",
            to_hex(root)
        )
        .into_bytes()
    }

    /// Signs a new checkpoint.
    pub fn sign(key: &SigningKey, ledger_id: &str, size: u64, root: Hash, time: Timestamp) -> Self {
        let sig = key.sign(&Self::message(ledger_id, size, &root, time));
        Checkpoint {
            size,
            root,
            time,
            signature: to_hex(&sig.to_der()),
        }
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &VerifyingKey, ledger_id: &str) -> bool {
        verify_hex_sig(
            key,
            &Self::message(ledger_id, self.size, &self.root, self.time),
            &self.signature,
        )
    }

    /// One line of `checkpoints.jsonl` (with the newline).
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("serializable");
        s.push('\n');
        s
    }
}

pub(crate) mod hex_hash {
    use super::*;

    pub fn serialize<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(h))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        hash_from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

mod hex_hashes {
    use super::*;

    pub fn serialize<S: serde::Serializer>(h: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(h.iter().map(|x| to_hex(x)))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                hash_from_hex(s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
            })
            .collect()
    }
}

/// A self-contained proof that anyone with the node's public key can check
/// (`shuan audit check-proof`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Proof {
    /// Record `seq` is in the tree of `checkpoint`.
    Inclusion {
        /// Always [`PROOF_FORMAT`].
        format: String,
        /// The ledger.
        ledger_id: String,
        /// The record's sequence number.
        seq: Seq,
        /// The record's exact canonical bytes, as a string.
        record: String,
        /// Leaf hash of the record before it (part of the leaf data).
        #[serde(with = "hex_hash")]
        prev_hash: Hash,
        /// The signed checkpoint.
        checkpoint: Checkpoint,
        /// RFC 9162 audit path.
        #[serde(with = "hex_hashes")]
        path: Vec<Hash>,
    },
    /// The tree of `old` is a prefix of the tree of `new`: the log only grew.
    Consistency {
        /// Always [`PROOF_FORMAT`].
        format: String,
        /// The ledger.
        ledger_id: String,
        /// The earlier checkpoint.
        old: Checkpoint,
        /// The later checkpoint.
        new: Checkpoint,
        /// RFC 9162 consistency path.
        #[serde(with = "hex_hashes")]
        path: Vec<Hash>,
    },
}

/// Why a proof does not hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// Unknown format id.
    #[error("unsupported proof format {0:?}")]
    Format(String),
    /// A checkpoint's signature does not verify with the given public key.
    #[error(
        "the checkpoint of size {0} is not signed by this public key (altered, or another node's)"
    )]
    BadSignature(u64),
    /// The record text is not a canonical record with this sequence number.
    #[error("the record is not the canonical form of record {0}")]
    BadRecord(Seq),
    /// The Merkle path does not lead to the signed root.
    #[error("the Merkle path does not lead to the signed root: the record or path was altered")]
    PathMismatch,
}

impl Proof {
    /// Checks the proof with only the public key; returns a one-line summary.
    pub fn check(&self, key: &VerifyingKey) -> Result<String, ProofError> {
        match self {
            Proof::Inclusion {
                format,
                ledger_id,
                seq,
                record,
                prev_hash,
                checkpoint,
                path,
            } => {
                if format != PROOF_FORMAT {
                    return Err(ProofError::Format(format.clone()));
                }
                if !checkpoint.verify(key, ledger_id) {
                    return Err(ProofError::BadSignature(checkpoint.size));
                }
                match Record::from_canonical(record.as_bytes()) {
                    Some(r) if r.seq == *seq && *seq >= 1 => {}
                    _ => return Err(ProofError::BadRecord(*seq)),
                }
                let leaf = merkle::leaf_hash(prev_hash, record.as_bytes());
                if !merkle::verify_inclusion(
                    seq - 1,
                    checkpoint.size,
                    &leaf,
                    path,
                    &checkpoint.root,
                ) {
                    return Err(ProofError::PathMismatch);
                }
                Ok(format!(
                    "record {seq} is included in ledger {ledger_id} checkpoint of size {} signed at {}",
                    checkpoint.size, checkpoint.time
                ))
            }
            Proof::Consistency {
                format,
                ledger_id,
                old,
                new,
                path,
            } => {
                if format != PROOF_FORMAT {
                    return Err(ProofError::Format(format.clone()));
                }
                for c in [old, new] {
                    if !c.verify(key, ledger_id) {
                        return Err(ProofError::BadSignature(c.size));
                    }
                }
                if !merkle::verify_consistency(old.size, new.size, &old.root, &new.root, path) {
                    return Err(ProofError::PathMismatch);
                }
                Ok(format!(
                    "ledger {ledger_id}: the checkpoint of size {} extends the one of size {} (the log only grew)",
                    new.size, old.size
                ))
            }
        }
    }
}
