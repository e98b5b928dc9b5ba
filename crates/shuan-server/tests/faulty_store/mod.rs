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

    fn audit_summary(
        &self,
        since: i64,
        until: i64,
    ) -> Result<shuan_store::platform::AuditSummary, PlatformStoreError> {
        self.gate("audit_summary")?;
        self.inner.audit_summary(since, until)
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

impl SharingStore for FaultyStore {
    fn create_source(&self, s: &ShareSource) -> Result<i64, PlatformStoreError> {
        self.gate("create_source")?;
        self.inner.create_source(s)
    }

    fn source(&self, id: i64) -> Result<Option<ShareSource>, PlatformStoreError> {
        self.gate("source")?;
        self.inner.source(id)
    }

    fn sources(&self) -> Result<Vec<ShareSource>, PlatformStoreError> {
        self.gate("sources")?;
        self.inner.sources()
    }

    fn add_catalogue_entries(
        &self,
        source_id: i64,
        scanned_at: UnixTime,
        entries: &[CatalogueEntry],
    ) -> Result<(), PlatformStoreError> {
        self.gate("add_catalogue_entries")?;
        self.inner
            .add_catalogue_entries(source_id, scanned_at, entries)
    }

    fn catalogue_entry(&self, code: &str) -> Result<Option<CatalogueEntry>, PlatformStoreError> {
        self.gate("catalogue_entry")?;
        self.inner.catalogue_entry(code)
    }

    fn catalogue_entries(&self) -> Result<Vec<CatalogueEntry>, PlatformStoreError> {
        self.gate("catalogue_entries")?;
        self.inner.catalogue_entries()
    }

    fn update_catalogue_entry(
        &self,
        e: &CatalogueEntry,
    ) -> Result<CatalogueEntry, PlatformStoreError> {
        self.gate("update_catalogue_entry")?;
        self.inner.update_catalogue_entry(e)
    }

    fn create_share_request(&self, r: &ShareRequest) -> Result<i64, PlatformStoreError> {
        self.gate("create_share_request")?;
        self.inner.create_share_request(r)
    }

    fn share_request(&self, id: i64) -> Result<Option<ShareRequest>, PlatformStoreError> {
        self.gate("share_request")?;
        self.inner.share_request(id)
    }

    fn share_requests(
        &self,
        f: &ShareRequestFilter,
    ) -> Result<Vec<ShareRequest>, PlatformStoreError> {
        self.gate("share_requests")?;
        self.inner.share_requests(f)
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_share_request(
        &self,
        id: i64,
        step: &str,
        approve: bool,
        approver: &str,
        comment: Option<&str>,
        now: UnixTime,
        terms: &AgreementTerms,
    ) -> Result<(ShareRequest, Option<Agreement>), PlatformStoreError> {
        self.gate("decide_share_request")?;
        self.inner
            .decide_share_request(id, step, approve, approver, comment, now, terms)
    }

    fn approvals(&self, request_id: i64) -> Result<Vec<Approval>, PlatformStoreError> {
        self.gate("approvals")?;
        self.inner.approvals(request_id)
    }

    fn agreement(&self, id: i64) -> Result<Option<Agreement>, PlatformStoreError> {
        self.gate("agreement")?;
        self.inner.agreement(id)
    }

    fn agreements(
        &self,
        recipient: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Vec<Agreement>, PlatformStoreError> {
        self.gate("agreements")?;
        self.inner.agreements(recipient, resource)
    }

    fn set_agreement_status(
        &self,
        id: i64,
        status: AgreementStatus,
        by: &str,
        reason: Option<&str>,
        now: UnixTime,
    ) -> Result<Agreement, PlatformStoreError> {
        self.gate("set_agreement_status")?;
        self.inner.set_agreement_status(id, status, by, reason, now)
    }

    fn shorten_agreement(
        &self,
        id: i64,
        valid_until: UnixTime,
        by: &str,
        now: UnixTime,
    ) -> Result<Agreement, PlatformStoreError> {
        self.gate("shorten_agreement")?;
        self.inner.shorten_agreement(id, valid_until, by, now)
    }

    fn create_service(&self, s: &DataService) -> Result<(), PlatformStoreError> {
        self.gate("create_service")?;
        self.inner.create_service(s)
    }

    fn service(&self, name: &str) -> Result<Option<DataService>, PlatformStoreError> {
        self.gate("service")?;
        self.inner.service(name)
    }

    fn services(&self) -> Result<Vec<DataService>, PlatformStoreError> {
        self.gate("services")?;
        self.inner.services()
    }

    fn set_service_disabled(&self, name: &str, disabled: bool) -> Result<(), PlatformStoreError> {
        self.gate("set_service_disabled")?;
        self.inner.set_service_disabled(name, disabled)
    }

    fn usage(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
    ) -> Result<Usage, PlatformStoreError> {
        self.gate("usage")?;
        self.inner.usage(agreement_id, minute, day)
    }

    fn record_call(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
        rows: i64,
        per_minute: i64,
        rows_per_day: i64,
    ) -> Result<Quota, PlatformStoreError> {
        self.gate("record_call")?;
        self.inner
            .record_call(agreement_id, minute, day, rows, per_minute, rows_per_day)
    }
}

impl AlertStore for FaultyStore {
    fn insert_alert(&self, a: &StoredAlert) -> Result<Option<i64>, PlatformStoreError> {
        self.gate("insert_alert")?;
        self.inner.insert_alert(a)
    }

    fn alert(&self, id: i64) -> Result<Option<StoredAlert>, PlatformStoreError> {
        self.gate("alert")?;
        self.inner.alert(id)
    }

    fn alerts(&self, f: &AlertFilter) -> Result<Vec<StoredAlert>, PlatformStoreError> {
        self.gate("alerts")?;
        self.inner.alerts(f)
    }

    fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        now: UnixTime,
    ) -> Result<StoredAlert, PlatformStoreError> {
        self.gate("acknowledge_alert")?;
        self.inner.acknowledge_alert(id, by, now)
    }

    fn close_alert(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<StoredAlert, PlatformStoreError> {
        self.gate("close_alert")?;
        self.inner.close_alert(id, by, note, now)
    }

    fn alert_evidence(&self, id: i64) -> Result<Vec<MirroredRecord>, PlatformStoreError> {
        self.gate("alert_evidence")?;
        self.inner.alert_evidence(id)
    }
}

impl GovernanceStore for FaultyStore {
    fn create_destruction(&self, d: &Destruction) -> Result<i64, PlatformStoreError> {
        self.gate("create_destruction")?;
        self.inner.create_destruction(d)
    }

    fn destruction(&self, id: i64) -> Result<Option<Destruction>, PlatformStoreError> {
        self.gate("destruction")?;
        self.inner.destruction(id)
    }

    fn destructions(
        &self,
        status: Option<DestructionStatus>,
    ) -> Result<Vec<Destruction>, PlatformStoreError> {
        self.gate("destructions")?;
        self.inner.destructions(status)
    }

    fn decide_destruction(
        &self,
        id: i64,
        approve: bool,
        by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> Result<Destruction, PlatformStoreError> {
        self.gate("decide_destruction")?;
        self.inner.decide_destruction(id, approve, by, note, now)
    }

    fn begin_destruction(
        &self,
        id: i64,
        by: &str,
        now: UnixTime,
    ) -> Result<Destruction, PlatformStoreError> {
        self.gate("begin_destruction")?;
        self.inner.begin_destruction(id, by, now)
    }

    fn finish_destruction(
        &self,
        id: i64,
        executed: bool,
        outcome: &str,
        certificate: Option<&str>,
        now: UnixTime,
    ) -> Result<Destruction, PlatformStoreError> {
        self.gate("finish_destruction")?;
        self.inner
            .finish_destruction(id, executed, outcome, certificate, now)
    }

    fn place_hold(&self, h: &LegalHold) -> Result<i64, PlatformStoreError> {
        self.gate("place_hold")?;
        self.inner.place_hold(h)
    }

    fn release_hold(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<LegalHold, PlatformStoreError> {
        self.gate("release_hold")?;
        self.inner.release_hold(id, by, note, now)
    }

    fn legal_holds(&self, active_only: bool) -> Result<Vec<LegalHold>, PlatformStoreError> {
        self.gate("legal_holds")?;
        self.inner.legal_holds(active_only)
    }
}

impl IncidentStore for FaultyStore {
    fn create_incident(&self, i: &Incident) -> Result<i64, PlatformStoreError> {
        self.gate("create_incident")?;
        self.inner.create_incident(i)
    }

    fn incident(&self, id: i64) -> Result<Option<Incident>, PlatformStoreError> {
        self.gate("incident")?;
        self.inner.incident(id)
    }

    fn incidents(
        &self,
        status: Option<IncidentStatus>,
    ) -> Result<Vec<Incident>, PlatformStoreError> {
        self.gate("incidents")?;
        self.inner.incidents(status)
    }

    fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>, PlatformStoreError> {
        self.gate("incident_events")?;
        self.inner.incident_events(id)
    }

    fn add_incident_note(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError> {
        self.gate("add_incident_note")?;
        self.inner.add_incident_note(id, by, note, now)
    }

    fn report_incident_to_supervisor(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError> {
        self.gate("report_incident_to_supervisor")?;
        self.inner.report_incident_to_supervisor(id, by, note, now)
    }

    fn end_incident_response(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError> {
        self.gate("end_incident_response")?;
        self.inner.end_incident_response(id, by, note, now)
    }

    fn submit_incident_supplementary(
        &self,
        id: i64,
        by: &str,
        report: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError> {
        self.gate("submit_incident_supplementary")?;
        self.inner
            .submit_incident_supplementary(id, by, report, now)
    }

    fn close_incident(
        &self,
        id: i64,
        by: &str,
        lessons: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError> {
        self.gate("close_incident")?;
        self.inner.close_incident(id, by, lessons, now)
    }

    fn overdue_incidents(&self, now: UnixTime) -> Result<Vec<Incident>, PlatformStoreError> {
        self.gate("overdue_incidents")?;
        self.inner.overdue_incidents(now)
    }
}

impl ComplaintStore for FaultyStore {
    fn create_complaint(&self, c: &Complaint) -> Result<i64, PlatformStoreError> {
        self.gate("create_complaint")?;
        self.inner.create_complaint(c)
    }

    fn complaint(&self, id: i64) -> Result<Option<Complaint>, PlatformStoreError> {
        self.gate("complaint")?;
        self.inner.complaint(id)
    }

    fn complaints(&self) -> Result<Vec<Complaint>, PlatformStoreError> {
        self.gate("complaints")?;
        self.inner.complaints()
    }

    fn assign_complaint(
        &self,
        id: i64,
        handler: &str,
        by: &str,
        now: UnixTime,
    ) -> Result<Complaint, PlatformStoreError> {
        self.gate("assign_complaint")?;
        self.inner.assign_complaint(id, handler, by, now)
    }

    fn handle_complaint(
        &self,
        id: i64,
        by: &str,
        result: &str,
        now: UnixTime,
    ) -> Result<Complaint, PlatformStoreError> {
        self.gate("handle_complaint")?;
        self.inner.handle_complaint(id, by, result, now)
    }
}

impl VendorStore for FaultyStore {
    fn create_vendor(&self, v: &Vendor) -> Result<i64, PlatformStoreError> {
        self.gate("create_vendor")?;
        self.inner.create_vendor(v)
    }

    fn vendors(&self) -> Result<Vec<Vendor>, PlatformStoreError> {
        self.gate("vendors")?;
        self.inner.vendors()
    }

    fn create_vendor_contract(&self, c: &VendorContract) -> Result<i64, PlatformStoreError> {
        self.gate("create_vendor_contract")?;
        self.inner.create_vendor_contract(c)
    }

    fn vendor_contract(&self, id: i64) -> Result<Option<VendorContract>, PlatformStoreError> {
        self.gate("vendor_contract")?;
        self.inner.vendor_contract(id)
    }

    fn vendor_contracts(&self) -> Result<Vec<VendorContract>, PlatformStoreError> {
        self.gate("vendor_contracts")?;
        self.inner.vendor_contracts()
    }

    fn due_vendor_contracts(
        &self,
        now: UnixTime,
    ) -> Result<Vec<VendorContract>, PlatformStoreError> {
        self.gate("due_vendor_contracts")?;
        self.inner.due_vendor_contracts(now)
    }

    fn end_vendor_contract(
        &self,
        id: i64,
        now: UnixTime,
    ) -> Result<VendorContract, PlatformStoreError> {
        self.gate("end_vendor_contract")?;
        self.inner.end_vendor_contract(id, now)
    }
}

impl QualityStore for FaultyStore {
    fn create_quality_rule_set(&self, r: &QualityRuleSet) -> Result<i64, PlatformStoreError> {
        self.gate("create_quality_rule_set")?;
        self.inner.create_quality_rule_set(r)
    }

    fn quality_rule_set(&self, id: i64) -> Result<Option<QualityRuleSet>, PlatformStoreError> {
        self.gate("quality_rule_set")?;
        self.inner.quality_rule_set(id)
    }

    fn quality_rule_sets(&self) -> Result<Vec<QualityRuleSet>, PlatformStoreError> {
        self.gate("quality_rule_sets")?;
        self.inner.quality_rule_sets()
    }

    fn due_quality_rule_sets(
        &self,
        now: UnixTime,
    ) -> Result<Vec<QualityRuleSet>, PlatformStoreError> {
        self.gate("due_quality_rule_sets")?;
        self.inner.due_quality_rule_sets(now)
    }

    fn claim_quality_run(
        &self,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> Result<bool, PlatformStoreError> {
        self.gate("claim_quality_run")?;
        self.inner.claim_quality_run(id, due, next)
    }

    fn record_quality_run(&self, r: &QualityRun) -> Result<i64, PlatformStoreError> {
        self.gate("record_quality_run")?;
        self.inner.record_quality_run(r)
    }

    fn quality_run(&self, id: i64) -> Result<Option<QualityRun>, PlatformStoreError> {
        self.gate("quality_run")?;
        self.inner.quality_run(id)
    }

    fn quality_runs(
        &self,
        rule_set_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<QualityRun>, PlatformStoreError> {
        self.gate("quality_runs")?;
        self.inner.quality_runs(rule_set_id, limit)
    }
}

impl BackupPlanStore for FaultyStore {
    fn create_backup_plan(&self, p: &BackupPlan) -> Result<i64, PlatformStoreError> {
        self.gate("create_backup_plan")?;
        self.inner.create_backup_plan(p)
    }

    fn backup_plan(&self, id: i64) -> Result<Option<BackupPlan>, PlatformStoreError> {
        self.gate("backup_plan")?;
        self.inner.backup_plan(id)
    }

    fn backup_plans(&self) -> Result<Vec<BackupPlan>, PlatformStoreError> {
        self.gate("backup_plans")?;
        self.inner.backup_plans()
    }

    fn claim_plan_backup(
        &self,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> Result<bool, PlatformStoreError> {
        self.gate("claim_plan_backup")?;
        self.inner.claim_plan_backup(id, due, next)
    }

    fn claim_plan_drill(
        &self,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> Result<bool, PlatformStoreError> {
        self.gate("claim_plan_drill")?;
        self.inner.claim_plan_drill(id, due, next)
    }

    fn record_plan_backup(&self, b: &PlanBackup) -> Result<i64, PlatformStoreError> {
        self.gate("record_plan_backup")?;
        self.inner.record_plan_backup(b)
    }

    fn plan_backups(&self, plan_id: i64) -> Result<Vec<PlanBackup>, PlatformStoreError> {
        self.gate("plan_backups")?;
        self.inner.plan_backups(plan_id)
    }

    fn mark_plan_backup_pruned(&self, id: i64, at: UnixTime) -> Result<(), PlatformStoreError> {
        self.gate("mark_plan_backup_pruned")?;
        self.inner.mark_plan_backup_pruned(id, at)
    }

    fn record_restore_drill(&self, d: &RestoreDrill) -> Result<i64, PlatformStoreError> {
        self.gate("record_restore_drill")?;
        self.inner.record_restore_drill(d)
    }

    fn restore_drills(
        &self,
        plan_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<RestoreDrill>, PlatformStoreError> {
        self.gate("restore_drills")?;
        self.inner.restore_drills(plan_id, limit)
    }
}

impl TrainingStore for FaultyStore {
    fn create_training_session(&self, t: &TrainingSession) -> Result<i64, PlatformStoreError> {
        self.gate("create_training_session")?;
        self.inner.create_training_session(t)
    }

    fn training_sessions(&self) -> Result<Vec<TrainingSession>, PlatformStoreError> {
        self.gate("training_sessions")?;
        self.inner.training_sessions()
    }

    fn last_passed_training(&self) -> Result<Vec<(String, UnixTime)>, PlatformStoreError> {
        self.gate("last_passed_training")?;
        self.inner.last_passed_training()
    }
}

/// Forwards each listed method through the gate (the governance records added later).
macro_rules! gated {
    ($trait:ident { $( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )* }) => {
        impl $trait for FaultyStore {
            $(
                fn $name(&self $(, $arg: $ty)*) -> Result<$ret, PlatformStoreError> {
                    self.gate(stringify!($name))?;
                    self.inner.$name($($arg),*)
                }
            )*
        }
    };
}

gated!(RiskStore {
    fn create_risk_assessment(a: &RiskAssessment) -> i64;
    fn risk_assessments() -> Vec<RiskAssessment>;
    fn rectifications() -> Vec<Rectification>;
    fn rectification(id: i64) -> Option<Rectification>;
    fn close_rectification(id: i64, by: &str, at: UnixTime, evidence: &str) -> Rectification;
});

gated!(EmergencyStore {
    fn create_emergency_plan(p: &EmergencyPlan) -> i64;
    fn emergency_plans() -> Vec<EmergencyPlan>;
    fn create_emergency_drill(d: &EmergencyDrill) -> i64;
    fn emergency_drills() -> Vec<EmergencyDrill>;
});

gated!(CollectionStore {
    fn create_collection(c: &Collection) -> i64;
    fn collections() -> Vec<Collection>;
    fn review_collection(r: &CollectionReview) -> i64;
    fn collection_reviews() -> Vec<CollectionReview>;
});

gated!(LineageStore {
    fn record_derivation(d: &Derivation) -> i64;
    fn derivations_producing(dataset: &str) -> Vec<Derivation>;
    fn derivations_reading(dataset: &str) -> Vec<Derivation>;
    fn recent_derivations(limit: usize) -> Vec<Derivation>;
    fn count_registered_derivations(department: &str) -> i64;
});

gated!(TemporaryStore {
    fn record_temporary(t: &Temporary) -> i64;
    fn temporaries() -> Vec<Temporary>;
    fn link_temporary_destruction(id: i64, destruction_id: i64) -> bool;
});
