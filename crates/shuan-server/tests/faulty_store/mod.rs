//! A platform store that answers like the real one (SQLite underneath) except for the
//! methods a test tells it to fail: those answer `Unavailable`, as a store that went away
//! would. For the few store calls no request can make the real store refuse (setting a
//! setting, clearing failed sign-ins, creating a session).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Mutex;

use shuan_access::Grant;
use shuan_store::platform::*;

pub struct FaultyStore {
    inner: Box<dyn PlatformStore>,
    failing: Mutex<BTreeSet<&'static str>>,
}

impl FaultyStore {
    pub fn new(inner: Box<dyn PlatformStore>) -> FaultyStore {
        FaultyStore {
            inner,
            failing: Mutex::new(BTreeSet::new()),
        }
    }

    /// From now on, `method` fails.
    pub fn fail(&self, method: &'static str) {
        self.failing.lock().unwrap().insert(method);
    }

    /// From now on, nothing fails.
    pub fn heal(&self) {
        self.failing.lock().unwrap().clear();
    }

    fn gate(&self, method: &'static str) -> Result<(), PlatformStoreError> {
        if self.failing.lock().unwrap().contains(method) {
            return Err(PlatformStoreError::Unavailable(format!(
                "fault injected into {method}"
            )));
        }
        Ok(())
    }
}

impl PlatformStore for FaultyStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn ping(&self) -> Result<(), PlatformStoreError> {
        self.gate("ping")?;
        self.inner.ping()
    }

    fn create_department(&self, d: &Department) -> Result<(), PlatformStoreError> {
        self.gate("create_department")?;
        self.inner.create_department(d)
    }

    fn department(&self, code: &str) -> Result<Option<Department>, PlatformStoreError> {
        self.gate("department")?;
        self.inner.department(code)
    }

    fn departments(&self) -> Result<Vec<Department>, PlatformStoreError> {
        self.gate("departments")?;
        self.inner.departments()
    }

    fn update_department(
        &self,
        code: &str,
        name: Option<&str>,
        parent: Option<Option<&str>>,
    ) -> Result<Department, PlatformStoreError> {
        self.gate("update_department")?;
        self.inner.update_department(code, name, parent)
    }

    fn delete_department(&self, code: &str) -> Result<(), PlatformStoreError> {
        self.gate("delete_department")?;
        self.inner.delete_department(code)
    }

    fn create_user(&self, u: &User) -> Result<(), PlatformStoreError> {
        self.gate("create_user")?;
        self.inner.create_user(u)
    }

    fn user(&self, username: &str) -> Result<Option<User>, PlatformStoreError> {
        self.gate("user")?;
        self.inner.user(username)
    }

    fn users(&self) -> Result<Vec<User>, PlatformStoreError> {
        self.gate("users")?;
        self.inner.users()
    }

    fn update_user(&self, username: &str, update: &UserUpdate) -> Result<User, PlatformStoreError> {
        self.gate("update_user")?;
        self.inner.update_user(username, update)
    }

    fn set_password(
        &self,
        username: &str,
        hash: &str,
        must_change: bool,
        now: UnixTime,
        keep_history: usize,
    ) -> Result<(), PlatformStoreError> {
        self.gate("set_password")?;
        self.inner
            .set_password(username, hash, must_change, now, keep_history)
    }

    fn password_history(&self, username: &str) -> Result<Vec<String>, PlatformStoreError> {
        self.gate("password_history")?;
        self.inner.password_history(username)
    }

    fn set_totp(&self, username: &str, secret_enc: &[u8]) -> Result<(), PlatformStoreError> {
        self.gate("set_totp")?;
        self.inner.set_totp(username, secret_enc)
    }

    fn confirm_totp(&self, username: &str, step: u64) -> Result<bool, PlatformStoreError> {
        self.gate("confirm_totp")?;
        self.inner.confirm_totp(username, step)
    }

    fn advance_totp_step(&self, username: &str, step: u64) -> Result<bool, PlatformStoreError> {
        self.gate("advance_totp_step")?;
        self.inner.advance_totp_step(username, step)
    }

    fn clear_totp(&self, username: &str) -> Result<(), PlatformStoreError> {
        self.gate("clear_totp")?;
        self.inner.clear_totp(username)
    }

    fn touch_login(&self, username: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.gate("touch_login")?;
        self.inner.touch_login(username, now)
    }

    fn add_grant(
        &self,
        username: &str,
        grant: &Grant,
        granted_by: &str,
        now: UnixTime,
    ) -> Result<StoredGrant, PlatformStoreError> {
        self.gate("add_grant")?;
        self.inner.add_grant(username, grant, granted_by, now)
    }

    fn remove_grant(&self, username: &str, id: i64) -> Result<(), PlatformStoreError> {
        self.gate("remove_grant")?;
        self.inner.remove_grant(username, id)
    }

    fn grants(&self, username: &str) -> Result<Vec<StoredGrant>, PlatformStoreError> {
        self.gate("grants")?;
        self.inner.grants(username)
    }

    fn all_grants(&self) -> Result<Vec<StoredGrant>, PlatformStoreError> {
        self.gate("all_grants")?;
        self.inner.all_grants()
    }

    fn create_session(&self, s: &Session) -> Result<(), PlatformStoreError> {
        self.gate("create_session")?;
        self.inner.create_session(s)
    }

    fn session_by_token(
        &self,
        token_hash: &str,
        now: UnixTime,
        idle_secs: i64,
        touch_after_secs: i64,
    ) -> Result<Option<Session>, PlatformStoreError> {
        self.gate("session_by_token")?;
        self.inner
            .session_by_token(token_hash, now, idle_secs, touch_after_secs)
    }

    fn unrestrict_session(&self, token_hash: &str) -> Result<(), PlatformStoreError> {
        self.gate("unrestrict_session")?;
        self.inner.unrestrict_session(token_hash)
    }

    fn sessions(
        &self,
        username: Option<&str>,
        now: UnixTime,
        idle_secs: i64,
    ) -> Result<Vec<Session>, PlatformStoreError> {
        self.gate("sessions")?;
        self.inner.sessions(username, now, idle_secs)
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool, PlatformStoreError> {
        self.gate("delete_session")?;
        self.inner.delete_session(token_hash)
    }

    fn delete_session_by_id(&self, id: &str) -> Result<bool, PlatformStoreError> {
        self.gate("delete_session_by_id")?;
        self.inner.delete_session_by_id(id)
    }

    fn delete_sessions_of(&self, username: &str) -> Result<u64, PlatformStoreError> {
        self.gate("delete_sessions_of")?;
        self.inner.delete_sessions_of(username)
    }

    fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError> {
        self.gate("record_login_failure")?;
        self.inner.record_login_failure(username, address, now)
    }

    fn failures_for_user(
        &self,
        username: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError> {
        self.gate("failures_for_user")?;
        self.inner.failures_for_user(username, since)
    }

    fn failures_for_address(
        &self,
        address: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError> {
        self.gate("failures_for_address")?;
        self.inner.failures_for_address(address, since)
    }

    fn clear_failures_for_user(&self, username: &str) -> Result<(), PlatformStoreError> {
        self.gate("clear_failures_for_user")?;
        self.inner.clear_failures_for_user(username)
    }

    fn purge_expired(
        &self,
        now: UnixTime,
        idle_secs: i64,
        failures_before: UnixTime,
    ) -> Result<Purged, PlatformStoreError> {
        self.gate("purge_expired")?;
        self.inner.purge_expired(now, idle_secs, failures_before)
    }

    fn create_api_key(&self, k: &ApiKey) -> Result<(), PlatformStoreError> {
        self.gate("create_api_key")?;
        self.inner.create_api_key(k)
    }

    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, PlatformStoreError> {
        self.gate("api_key_by_hash")?;
        self.inner.api_key_by_hash(key_hash)
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>, PlatformStoreError> {
        self.gate("api_keys")?;
        self.inner.api_keys()
    }

    fn revoke_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.gate("revoke_api_key")?;
        self.inner.revoke_api_key(id, now)
    }

    fn touch_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.gate("touch_api_key")?;
        self.inner.touch_api_key(id, now)
    }

    fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, PlatformStoreError> {
        self.gate("setting")?;
        self.inner.setting(key)
    }

    fn set_setting(
        &self,
        key: &str,
        value: &serde_json::Value,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError> {
        self.gate("set_setting")?;
        self.inner.set_setting(key, value, now)
    }

    fn add_policy(&self, p: &StoredPolicy) -> Result<(), PlatformStoreError> {
        self.gate("add_policy")?;
        self.inner.add_policy(p)
    }

    fn remove_policy(&self, id: &str) -> Result<(), PlatformStoreError> {
        self.gate("remove_policy")?;
        self.inner.remove_policy(id)
    }

    fn policies(&self) -> Result<Vec<StoredPolicy>, PlatformStoreError> {
        self.gate("policies")?;
        self.inner.policies()
    }

    fn policy_generation(&self) -> Result<i64, PlatformStoreError> {
        self.gate("policy_generation")?;
        self.inner.policy_generation()
    }

    fn request_elevation(&self, e: &Elevation) -> Result<i64, PlatformStoreError> {
        self.gate("request_elevation")?;
        self.inner.request_elevation(e)
    }

    fn elevation(&self, id: i64) -> Result<Option<Elevation>, PlatformStoreError> {
        self.gate("elevation")?;
        self.inner.elevation(id)
    }

    fn elevations(
        &self,
        username: Option<&str>,
        status: Option<ElevationStatus>,
    ) -> Result<Vec<Elevation>, PlatformStoreError> {
        self.gate("elevations")?;
        self.inner.elevations(username, status)
    }

    fn decide_elevation(
        &self,
        id: i64,
        approve: bool,
        decided_by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> Result<Elevation, PlatformStoreError> {
        self.gate("decide_elevation")?;
        self.inner
            .decide_elevation(id, approve, decided_by, note, now)
    }

    fn active_elevations(
        &self,
        username: &str,
        now: UnixTime,
    ) -> Result<Vec<Elevation>, PlatformStoreError> {
        self.gate("active_elevations")?;
        self.inner.active_elevations(username, now)
    }

    fn create_job(&self, j: &Job) -> Result<i64, PlatformStoreError> {
        self.gate("create_job")?;
        self.inner.create_job(j)
    }

    fn update_job(&self, j: &Job) -> Result<(), PlatformStoreError> {
        self.gate("update_job")?;
        self.inner.update_job(j)
    }

    fn job(&self, id: i64) -> Result<Option<Job>, PlatformStoreError> {
        self.gate("job")?;
        self.inner.job(id)
    }

    fn jobs(&self, owner: Option<&str>, limit: usize) -> Result<Vec<Job>, PlatformStoreError> {
        self.gate("jobs")?;
        self.inner.jobs(owner, limit)
    }

    fn mirror_records(&self, records: &[MirroredRecord]) -> Result<(), PlatformStoreError> {
        self.gate("mirror_records")?;
        self.inner.mirror_records(records)
    }

    fn mirrored_upto(&self, node: &str) -> Result<u64, PlatformStoreError> {
        self.gate("mirrored_upto")?;
        self.inner.mirrored_upto(node)
    }

    fn audit_search(&self, f: &AuditFilter) -> Result<Vec<MirroredRecord>, PlatformStoreError> {
        self.gate("audit_search")?;
        self.inner.audit_search(f)
    }

    fn mirror_checkpoint(&self, c: &MirroredCheckpoint) -> Result<(), PlatformStoreError> {
        self.gate("mirror_checkpoint")?;
        self.inner.mirror_checkpoint(c)
    }

    fn checkpoints(
        &self,
        node: Option<&str>,
    ) -> Result<Vec<MirroredCheckpoint>, PlatformStoreError> {
        self.gate("checkpoints")?;
        self.inner.checkpoints(node)
    }
}
