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
///
/// Safe against concurrent first uses (threads or processes): each creator writes a
/// complete key to a temporary file and moves it into place with a rename that refuses to
/// replace; the first wins and every other creator loads the winner's key, so all of them
/// return the same key and no reader ever sees a half-written file.
pub fn load_or_create_node_key(data_dir: &Path) -> Result<SigningKey, CryptoError> {
    let path = node_key_path(data_dir);
    let key = if path.exists() {
        load_node_key(&path)?
    } else {
        let fresh = SigningKey::try_generate()?;
        let pem = fresh.to_pkcs8_pem();
        if crate::fsutil::publish_new_secret_file(&path, pem.as_bytes())? {
            fresh
        } else {
            load_node_key(&path)?
        }
    };
    let pub_path = node_public_key_path(data_dir);
    let public_pem = key.verifying_key().to_public_key_pem();
    let up_to_date = std::fs::read_to_string(&pub_path).is_ok_and(|on_disk| on_disk == public_pem);
    if !up_to_date {
        // Every writer derives the same text from the one private key, so concurrent
        // atomic replacements agree.
        crate::fsutil::write_atomic(&pub_path, public_pem.as_bytes(), 0o644)?;
    }
    Ok(key)
}

fn load_node_key(path: &Path) -> Result<SigningKey, CryptoError> {
    let pem = crate::fsutil::read_secret_file(path)?;
    SigningKey::from_pkcs8_pem(&pem)
}

/// Load the node's public key (from the `.pub.pem` file, else derived from the private key).
pub fn load_node_public_key(data_dir: &Path) -> Result<VerifyingKey, CryptoError> {
    let pub_path = node_public_key_path(data_dir);
    match std::fs::read_to_string(&pub_path) {
        Ok(pem) => VerifyingKey::from_public_key_pem(&pem),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(load_node_key(&node_key_path(data_dir))?.verifying_key())
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

    #[test]
    fn parallel_first_use_agrees_on_one_key() {
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Barrier::new(16);
            let keys: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..16)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            load_or_create_node_key(dir.path())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap()
                            .expect("every first-time creator succeeds")
                    })
                    .collect()
            });
            let first = keys[0].verifying_key();
            assert!(keys.iter().all(|k| k.verifying_key() == first));
            assert_eq!(load_node_public_key(dir.path()).unwrap(), first);
            let keys_dir = dir.path().join("keys");
            let mut names: Vec<_> = std::fs::read_dir(&keys_dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            assert_eq!(
                names,
                ["node-sm2.pem", "node-sm2.pub.pem"],
                "no temporary left"
            );
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
