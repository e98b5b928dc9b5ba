//! Every role against every endpoint, from one table: the roles an endpoint allows get
//! anything but 403; every other role gets 403 `forbidden` (and a denied record).

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::TestServer;

const ALL: &[&str] = &[
    "system_admin",
    "security_admin",
    "auditor",
    "chief_data_officer",
    "data_steward",
    "data_user",
    "vendor_operator",
    "supervisor",
];

/// Roles that read jobs within their scope.
const JOB_READERS: &[&str] = &[
    "system_admin",
    "security_admin",
    "auditor",
    "chief_data_officer",
    "data_steward",
    "vendor_operator",
];

struct Row {
    method: Method,
    /// `{r}` is replaced by the role id, so each role acts on its own object.
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [&'static str],
}

fn table() -> Vec<Row> {
    use Method as M;
    let row = |method: Method,
               path: &'static str,
               body: Option<Value>,
               allowed: &'static [&'static str]| Row {
        method,
        path,
        body,
        allowed,
    };
    vec![
        row(M::GET, "/api/v1/departments", None, ALL),
        row(
            M::POST,
            "/api/v1/departments",
            Some(json!({"code": "N-{r}", "name": "新部门", "parent": "ROOT"})),
            &["system_admin"],
        ),
        row(
            M::PATCH,
            "/api/v1/departments/DEPT-{r}",
            Some(json!({"name": "改名"})),
            &["system_admin"],
        ),
        row(
            M::DELETE,
            "/api/v1/departments/DEPT-{r}",
            None,
            &["system_admin"],
        ),
        row(
            M::GET,
            "/api/v1/users",
            None,
            &["system_admin", "security_admin", "auditor"],
        ),
        row(
            M::POST,
            "/api/v1/users",
            Some(json!({"username": "new-{r}", "display_name": "新用户", "department": "ROOT"})),
            &["system_admin"],
        ),
        row(
            M::GET,
            "/api/v1/users/target",
            None,
            &["system_admin", "security_admin", "auditor"],
        ),
        row(M::GET, "/api/v1/users/me", None, ALL),
        row(
            M::PATCH,
            "/api/v1/users/target",
            Some(json!({"display_name": "改名"})),
            &["system_admin"],
        ),
        row(
            M::POST,
            "/api/v1/users/target/unlock",
            None,
            &["system_admin"],
        ),
        row(
            M::POST,
            "/api/v1/users/target/reset",
            None,
            &["system_admin"],
        ),
        row(
            M::GET,
            "/api/v1/users/target/roles",
            None,
            &["security_admin", "auditor"],
        ),
        row(
            M::POST,
            "/api/v1/users/target/roles",
            Some(
                json!({"role": "data_user", "department": "ROOT", "scope": {"kind": "own_department"}}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/sessions",
            None,
            &["system_admin", "security_admin", "auditor"],
        ),
        row(
            M::DELETE,
            "/api/v1/users/target/sessions",
            None,
            &["system_admin"],
        ),
        row(
            M::GET,
            "/api/v1/api-keys",
            None,
            &["system_admin", "auditor"],
        ),
        row(
            M::POST,
            "/api/v1/api-keys",
            Some(
                json!({"name": "k-{r}", "role": "data_user", "department": "ROOT", "scope": {"kind": "all"}, "expires_in_days": 30}),
            ),
            &["system_admin"],
        ),
        row(
            M::GET,
            "/api/v1/policies",
            None,
            &["security_admin", "auditor"],
        ),
        row(
            M::POST,
            "/api/v1/policies/validate",
            Some(json!({"text": "forbid(principal, action, resource) when { false };"})),
            &["security_admin", "auditor"],
        ),
        row(
            M::POST,
            "/api/v1/policies",
            Some(
                json!({"id": "p-{r}", "text": "forbid(principal, action, resource) when { false };"}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/settings",
            None,
            &["system_admin", "security_admin", "auditor"],
        ),
        row(
            M::PUT,
            "/api/v1/settings/password-policy",
            Some(json!({"min_length": 12, "min_classes": 3, "history": 5, "max_age_days": 90})),
            &["security_admin"],
        ),
        row(
            M::PUT,
            "/api/v1/settings/lockout",
            Some(json!({"max_failures": 5, "window_minutes": 10})),
            &["security_admin"],
        ),
        row(M::GET, "/api/v1/audit", None, &["auditor"]),
        row(
            M::GET,
            "/api/v1/reports/account-hygiene",
            None,
            &["security_admin", "auditor", "supervisor"],
        ),
        // The auditor changes nothing, not even by asking for more.
        row(
            M::POST,
            "/api/v1/elevations",
            Some(
                json!({"role": "data_user", "department": "ROOT", "scope": {"kind": "own_department"}, "reason": "临时查询", "duration_minutes": 30}),
            ),
            &[
                "system_admin",
                "security_admin",
                "chief_data_officer",
                "data_steward",
                "data_user",
                "vendor_operator",
                "supervisor",
            ],
        ),
        row(M::GET, "/api/v1/elevations", None, ALL),
        row(
            M::GET,
            "/api/v1/inventory",
            None,
            &["chief_data_officer", "data_steward", "supervisor"],
        ),
        row(
            M::GET,
            "/api/v1/catalogue",
            None,
            &[
                "chief_data_officer",
                "data_steward",
                "data_user",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/important-data",
            None,
            &[
                "chief_data_officer",
                "data_steward",
                "data_user",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/sources",
            None,
            &["chief_data_officer", "data_steward", "supervisor"],
        ),
        row(
            M::GET,
            "/api/v1/share-requests",
            None,
            &[
                "chief_data_officer",
                "data_steward",
                "data_user",
                "supervisor",
                "auditor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/agreements",
            None,
            &[
                "chief_data_officer",
                "data_steward",
                "data_user",
                "supervisor",
                "auditor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/services",
            None,
            &[
                "chief_data_officer",
                "data_steward",
                "data_user",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/alerts",
            None,
            &["security_admin", "auditor", "supervisor"],
        ),
        row(
            M::GET,
            "/api/v1/alert-rules",
            None,
            &["security_admin", "auditor", "supervisor"],
        ),
        // No alert 1 exists: the allowed role gets 404, every other 403.
        row(
            M::POST,
            "/api/v1/alerts/1/acknowledge",
            None,
            &["security_admin"],
        ),
        row(
            M::PUT,
            "/api/v1/alert-rules",
            Some(json!({"toml": "[off_hours]\nmin_calls = 2\n"})),
            &["security_admin"],
        ),
        // No key `nokey`: an allowed role's request gets 404 after the decision.
        row(
            M::POST,
            "/api/v1/destructions",
            Some(
                json!({"target": {"kind": "key_version", "key": "nokey-{r}", "version": 1}, "method": "crypto_shred", "reason": "矩阵"}),
            ),
            &["security_admin", "data_steward"],
        ),
        row(
            M::GET,
            "/api/v1/legal-holds",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "data_steward",
                "supervisor",
            ],
        ),
        row(
            M::POST,
            "/api/v1/legal-holds",
            Some(json!({"scope": {"kind": "key", "key": "hold-{r}"}, "reason": "矩阵"})),
            &["security_admin", "chief_data_officer"],
        ),
        row(
            M::GET,
            "/api/v1/incidents",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "supervisor",
            ],
        ),
        row(
            M::POST,
            "/api/v1/incidents",
            Some(
                json!({"title": "矩阵 {r}", "grade": "general", "department": "ROOT", "description": "测试", "occurred_at": 1_700_000_000, "handler": "secadmin"}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/complaints",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "supervisor",
            ],
        ),
        row(
            M::POST,
            "/api/v1/complaints",
            Some(
                json!({"department": "ROOT", "subject": "矩阵 {r}", "details": "测试", "channel": "letter"}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/vendor-contracts",
            None,
            &["security_admin", "auditor", "supervisor"],
        ),
        row(
            M::POST,
            "/api/v1/vendors",
            Some(
                json!({"name": "矩阵 {r}", "credit_code": "91330100MA2ABCDE1X", "contact": "测试"}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/quality/rule-sets",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "data_steward",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/backup-plans",
            None,
            &["system_admin", "auditor"],
        ),
        row(
            M::GET,
            "/api/v1/restore-drills",
            None,
            &["system_admin", "auditor"],
        ),
        row(
            M::POST,
            "/api/v1/backup-plans",
            Some(
                json!({"name": "矩阵 {r}", "backup_interval_hours": 24, "retention": 1, "drill_interval_hours": 24}),
            ),
            &["system_admin"],
        ),
        row(
            M::GET,
            "/api/v1/training-sessions",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/risk-assessments",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/rectifications",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "supervisor",
            ],
        ),
        // Everyone may list their own items (none here).
        row(M::GET, "/api/v1/rectifications?mine=true", None, ALL),
        row(
            M::POST,
            "/api/v1/risk-assessments",
            Some(
                json!({"kind": "data_security", "title": "矩阵 {r}", "scope": "系统", "department": "ROOT",
                       "assessor": "自评", "assessed_at": 1_700_000_000, "conclusion": "可控"}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/emergency-plans",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "supervisor",
            ],
        ),
        row(
            M::POST,
            "/api/v1/emergency-plans",
            Some(
                json!({"title": "矩阵 {r}", "scope": "泄露", "department": "ROOT", "version": "1",
                       "summary": "流程", "drill_interval_days": 365, "adopted_at": 1_700_000_000}),
            ),
            &["security_admin"],
        ),
        row(
            M::GET,
            "/api/v1/collections",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "data_steward",
                "supervisor",
            ],
        ),
        row(
            M::GET,
            "/api/v1/lineage/derivations",
            None,
            &[
                "security_admin",
                "auditor",
                "chief_data_officer",
                "data_steward",
                "supervisor",
            ],
        ),
        row(
            M::POST,
            "/api/v1/lineage/derivations",
            Some(
                json!({"operation": "汇总", "inputs": ["a/{r}"], "output": "b/{r}", "department": "ROOT"}),
            ),
            &["data_steward"],
        ),
        row(M::GET, "/api/v1/keys", None, &["security_admin", "auditor"]),
        row(
            M::POST,
            "/api/v1/keys/platform-secrets/rotate",
            None,
            &["security_admin"],
        ),
        row(
            M::POST,
            "/api/v1/jobs/scan",
            Some(json!({"source": "matrix-{r}.csv", "department": "ROOT"})),
            &["data_steward"],
        ),
        row(
            M::POST,
            "/api/v1/jobs/mask",
            Some(json!({"source": "m-{r}.csv", "department": "ROOT", "out": "m-{r}.masked.csv"})),
            &["data_steward"],
        ),
        // Job 1: the system administrator's backup (department ROOT).
        row(
            M::POST,
            "/api/v1/jobs/backup",
            Some(json!({})),
            &["system_admin"],
        ),
        row(M::GET, "/api/v1/jobs", None, JOB_READERS),
        row(M::GET, "/api/v1/jobs/1", None, JOB_READERS),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_may_do_exactly_what_its_row_says() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let mut tokens: Vec<(&str, String)> = vec![
        ("system_admin", sys.clone()),
        ("security_admin", sec.clone()),
        ("auditor", aud.clone()),
    ];
    for role in &ALL[3..] {
        let name = format!("u-{}", role.replace('_', "-"));
        let token = t
            .user_with_role(&sys, &sec, &name, "ROOT", role, *role == "vendor_operator")
            .await;
        tokens.push((role, token));
    }
    t.post(
        &sys,
        "/api/v1/users",
        json!({"username": "target", "display_name": "目标", "department": "ROOT"}),
    )
    .await;
    for (role, _) in &tokens {
        let (s, v) = t
            .post(
                &sys,
                "/api/v1/departments",
                json!({"code": format!("DEPT-{role}"), "name": "待删", "parent": "ROOT"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let mut failures = Vec::new();
    for row in table() {
        for (role, token) in &tokens {
            let path = row.path.replace("{r}", role);
            let body = row
                .body
                .as_ref()
                .map(|b| serde_json::from_str(&b.to_string().replace("{r}", role)).unwrap());
            let (s, v) = t.call(Some(token), row.method.clone(), &path, body).await;
            let allowed = row.allowed.contains(role);
            let ok = if allowed {
                s != StatusCode::FORBIDDEN && !s.is_server_error()
            } else {
                s == StatusCode::FORBIDDEN && v["error"]["code"] == "forbidden"
            };
            if !ok {
                failures.push(format!(
                    "{role} {} {path}: expected {}, got {s} {v}",
                    row.method,
                    if allowed { "allowed" } else { "403" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Each denial is in the audit.
    let (_, v) = t.get(&aud, "/api/v1/audit?outcome=denied&limit=1000").await;
    let denied = v.as_array().unwrap().len();
    let expected: usize = table().iter().map(|r| ALL.len() - r.allowed.len()).sum();
    assert!(
        denied >= expected,
        "{denied} denied records, {expected} denials made"
    );
}
