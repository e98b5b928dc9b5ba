//! Randomness from the operating system (getrandom), the only source this crate uses.

use crate::CryptoError;

/// Fill `buf` with bytes from the operating system's CSPRNG.
pub fn fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

/// Return `N` random bytes from the operating system's CSPRNG.
pub fn bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    fill(&mut b)?;
    Ok(b)
}
