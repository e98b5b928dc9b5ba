//! The node's SM2 identity key that signs audit checkpoints and backups.
//!
//! Stored as `DATA_DIR/keys/node-sm2.pem` (PKCS#8, mode 0600) with the public half in
//! `DATA_DIR/keys/node-sm2.pub.pem`, so that an inspector can verify signatures with
//! OpenSSL alone.

use std::path::{Path, PathBuf};

use crate::sm2::{SigningKey, VerifyingKey};
use crate::CryptoError;

/// Path of the node's private key inside `data_dir`.
pub fn node_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("node-sm2.pem")
}

/// Path of the node's public key inside `data_dir`.
pub fn node_public_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("node-sm2.pub.pem")
}

/// Load the node key, creating it (and `data_dir/keys/`) on first use.
pub fn load_or_create_node_key(data_dir: &Path) -> Result<SigningKey, CryptoError> {
    let path = node_key_path(data_dir);
    if path.exists() {
        let pem = crate::fsutil::read_secret_file(&path)?;
        let key = SigningKey::from_pkcs8_pem(&pem)?;
        let pub_path = node_public_key_path(data_dir);
        if !pub_path.exists() {
            crate::fsutil::write_atomic(
                &pub_path,
                key.verifying_key().to_public_key_pem().as_bytes(),
                0o644,
            )?;
        }
        return Ok(key);
    }
    let key = SigningKey::try_generate()?;
    let pem = key.to_pkcs8_pem();
    crate::fsutil::create_new_secret_file(&path, pem.as_bytes())?;
    crate::fsutil::write_atomic(
        &node_public_key_path(data_dir),
        key.verifying_key().to_public_key_pem().as_bytes(),
        0o644,
    )?;
    Ok(key)
}

/// Load the node's public key (from the `.pub.pem` file, else derived from the private key).
pub fn load_node_public_key(data_dir: &Path) -> Result<VerifyingKey, CryptoError> {
    let pub_path = node_public_key_path(data_dir);
    match std::fs::read_to_string(&pub_path) {
        Ok(pem) => VerifyingKey::from_public_key_pem(&pem),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let path = node_key_path(data_dir);
            let pem = crate::fsutil::read_secret_file(&path)?;
            Ok(SigningKey::from_pkcs8_pem(&pem)?.verifying_key())
        }
        Err(e) => Err(CryptoError::io("reading node public key", &pub_path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = load_or_create_node_key(dir.path()).unwrap();
        let k2 = load_or_create_node_key(dir.path()).unwrap();
        assert_eq!(k1.verifying_key(), k2.verifying_key());
        assert_eq!(
            load_node_public_key(dir.path()).unwrap(),
            k1.verifying_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(node_key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_world_readable_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create_node_key(dir.path()).unwrap();
        let p = node_key_path(dir.path());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_or_create_node_key(dir.path()),
            Err(CryptoError::InsecurePermissions { .. })
        ));
    }
}
