//! The principal's Cedar entity, kept between requests. Building it (a set of departments
//! per role, evaluated by Cedar) is most of what a decision costs, and the server asks
//! about the same account many times in a row. A hit needs the same user name,
//! department, vendor flag, grants (in order) and the same attributes asked for; the
//! hash only picks the bucket, every field is compared.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use cedar_policy::Entity;

use crate::{EffectiveGrant, Principal};

/// Entries kept before the cache is emptied and starts over.
const CAPACITY: usize = 1024;

/// What the principal's entity is built from.
#[derive(Clone, Copy)]
pub(crate) struct UserKey<'a> {
    pub principal: &'a Principal,
    pub with_elevated: bool,
    /// Which `scope_<role>` attributes are built (bit i: `Role::ALL[i]`).
    pub scopes: u8,
}

impl UserKey<'_> {
    fn grants(&self) -> impl Iterator<Item = &EffectiveGrant> + '_ {
        let with_elevated = self.with_elevated;
        self.principal
            .grants
            .iter()
            .filter(move |g| with_elevated || !g.elevated)
    }

    fn hash(&self) -> u64 {
        let mut h = FxHasher(0);
        self.principal.username.hash(&mut h);
        self.principal.department.hash(&mut h);
        self.principal.vendor.hash(&mut h);
        self.with_elevated.hash(&mut h);
        self.scopes.hash(&mut h);
        for g in self.grants() {
            g.role.hash(&mut h);
            g.department.hash(&mut h);
            g.departments.hash(&mut h);
            g.subtrees.hash(&mut h);
            g.all.hash(&mut h);
            g.self_only.hash(&mut h);
            g.elevated.hash(&mut h);
        }
        h.finish()
    }

    fn owned(&self) -> OwnedKey {
        OwnedKey {
            username: self.principal.username.clone(),
            department: self.principal.department.clone(),
            vendor: self.principal.vendor,
            with_elevated: self.with_elevated,
            scopes: self.scopes,
            grants: self.grants().cloned().collect(),
        }
    }
}

struct OwnedKey {
    username: String,
    department: String,
    vendor: bool,
    with_elevated: bool,
    scopes: u8,
    grants: Vec<EffectiveGrant>,
}

impl OwnedKey {
    fn matches(&self, key: &UserKey<'_>) -> bool {
        self.username == key.principal.username
            && self.department == key.principal.department
            && self.vendor == key.principal.vendor
            && self.with_elevated == key.with_elevated
            && self.scopes == key.scopes
            && self.grants.iter().eq(key.grants())
    }
}

/// A fast non-cryptographic hash (FxHash's mixing). It only picks a bucket: keys are
/// compared in full, so a collision, even a provoked one, costs a comparison, never a
/// wrong entity.
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Entries by hash of their key, with how many there are.
#[derive(Default)]
struct Entries {
    count: usize,
    buckets: HashMap<u64, Vec<(OwnedKey, Entity)>>,
}

#[derive(Default)]
pub(crate) struct UserCache {
    entries: Mutex<Entries>,
}

impl UserCache {
    /// The cached entity for `key`, or the one `build` makes (kept for next time).
    pub(crate) fn get_or_build(
        &self,
        key: UserKey<'_>,
        build: impl FnOnce() -> Result<Entity, String>,
    ) -> Result<Entity, String> {
        let hash = key.hash();
        {
            let entries = self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(bucket) = entries.buckets.get(&hash) {
                if let Some((_, entity)) = bucket.iter().find(|(k, _)| k.matches(&key)) {
                    return Ok(entity.clone());
                }
            }
        }
        let entity = build()?;
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.count >= CAPACITY {
            entries.buckets.clear();
            entries.count = 0;
        }
        let bucket = entries.buckets.entry(hash).or_default();
        if !bucket.iter().any(|(k, _)| k.matches(&key)) {
            bucket.push((key.owned(), entity.clone()));
            entries.count += 1;
        }
        Ok(entity)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .count
    }
}
