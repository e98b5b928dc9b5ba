//! The web console against a real server, as a browser would use it (cookies, forms,
//! Origin): security headers, CSRF and Origin refusals, the first sign-in (one-time
//! password → new password → TOTP enrolment from the page's seed → TOTP sign-in), menus
//! by role, a denied page in the policy's words and its audit record, and a new account's
//! one-time password that really signs in. The browser itself is exercised by
//! scripts/console_test.py.

mod support;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::json;
use support::{now, secret_from_base32, TestServer, PASSWORD};

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `name="…" value="…"` input, or of an element's text by id.
fn input_value(html: &str, name: &str) -> Option<String> {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key)? + key.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

fn element_text(html: &str, id: &str) -> Option<String> {
    let key = format!("id=\"{id}\">");
    let start = html.find(&key)? + key.len();
    let end = html[start..].find('<')? + start;
    Some(html[start..end].to_string())
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn get(c: &Client, base: &str, path: &str) -> Page {
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    page(r).await
}

async fn post(
    c: &Client,
    base: &str,
    path: &str,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> Page {
    let mut req = c.post(format!("{base}{path}")).form(form);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    page(req.send().await.unwrap()).await
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status();
    let headers = r.headers().clone();
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Page {
        status,
        location,
        headers,
        body: r.text().await.unwrap(),
    }
}

/// Signs `username` in through the console's forms the first time: one-time password,
/// new password, TOTP enrolment with the seed the page shows. Answers the seed.
async fn first_sign_in(
    t: &TestServer,
    c: &Client,
    username: &str,
    otp: &str,
) -> shuan_auth::TotpSecret {
    let base = &t.base;
    let login = get(c, base, "/login").await;
    let csrf = input_value(&login.body, "_csrf").unwrap();
    let r = post(
        c,
        base,
        "/login",
        Some(base),
        &[
            ("_csrf", &csrf),
            ("username", username),
            ("password", otp),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/account/password"));
    // A restricted session reaches no other page.
    let r = get(c, base, "/system/users").await;
    assert_eq!(r.location.as_deref(), Some("/account/password"));
    let form = get(c, base, "/account/password").await;
    let csrf = input_value(&form.body, "_csrf").unwrap();
    // Mismatched confirmation and a weak password are shown beside their fields.
    let r = post(
        c,
        base,
        "/account/password",
        Some(base),
        &[
            ("_csrf", &csrf),
            ("current_password", otp),
            ("new_password", PASSWORD),
            ("confirm_password", "x"),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"confirm-error\""), "{}", r.body);
    let r = post(
        c,
        base,
        "/account/password",
        Some(base),
        &[
            ("_csrf", &csrf),
            ("current_password", otp),
            ("new_password", "short"),
            ("confirm_password", "short"),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"new-error\""), "{}", r.body);
    let r = post(
        c,
        base,
        "/account/password",
        Some(base),
        &[
            ("_csrf", &csrf),
            ("current_password", otp),
            ("new_password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/account/totp"), "{}", r.body);
    let intro = get(c, base, "/account/totp").await;
    assert!(!intro.body.contains("<svg"), "GET must not make a seed");
    let r = post(c, base, "/account/totp", Some(base), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<svg"), "QR code drawn by the server");
    assert!(r.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    let seed = element_text(&r.body, "totp-secret")
        .unwrap()
        .replace(' ', "");
    let secret = secret_from_base32(&seed);
    let wrong = post(
        c,
        base,
        "/account/totp/confirm",
        Some(base),
        &[("_csrf", &csrf), ("code", "000000")],
    )
    .await;
    assert!(wrong.body.contains("id=\"code-error\""), "{}", wrong.body);
    let code = secret.code_at(now() - 30).unwrap();
    let r = post(
        c,
        base,
        "/account/totp/confirm",
        Some(base),
        &[("_csrf", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location.as_deref().unwrap().starts_with("/?ok="));
    secret
}

#[tokio::test]
async fn console_sign_in_csrf_menus_and_denials() {
    let t = TestServer::start().await;
    let base = t.base.clone();
    let c = browser();

    // Security headers on every console page; the API is unchanged.
    let login = get(&c, &base, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert!(login.body.contains("<label for=\"username\">"));
    assert!(!login.body.contains("<script>") && !login.body.contains("style="));
    let (s, _) = t
        .call(None, reqwest::Method::GET, "/api/v1/nothing", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = get(&c, &base, "/no-such-page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("页面不存在"));

    // Not signed in: to the sign-in page, remembering where.
    let r = get(&c, &base, "/system/users").await;
    assert_eq!(r.location.as_deref(), Some("/login?next=%2Fsystem%2Fusers"));

    // A POST without the token, or from another origin, or with none, is refused with a
    // page saying why, and signs nobody in.
    let csrf = input_value(&login.body, "_csrf").unwrap();
    let otp = t.otp("sysadmin");
    let r = post(
        &c,
        &base,
        "/login",
        Some(&base),
        &[("username", "sysadmin"), ("password", &otp)],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("表单校验码"), "{}", r.body);
    let r = post(
        &c,
        &base,
        "/login",
        Some(&base),
        &[
            ("_csrf", "0123"),
            ("username", "sysadmin"),
            ("password", &otp),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &c,
        &base,
        "/login",
        Some("http://evil.example"),
        &[
            ("_csrf", &csrf),
            ("username", "sysadmin"),
            ("password", &otp),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("请求来源校验失败"), "{}", r.body);
    let r = post(
        &c,
        &base,
        "/login",
        None,
        &[
            ("_csrf", &csrf),
            ("username", "sysadmin"),
            ("password", &otp),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A wrong password is shown beside the password field.
    let r = post(
        &c,
        &base,
        "/login",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("username", "sysadmin"),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"password-error\""), "{}", r.body);

    let seed = first_sign_in(&t, &c, "sysadmin", &otp).await;

    // The system administrator's menu: their pages, none of the auditor's or the
    // security administrator's.
    let home = get(&c, &base, "/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    for link in ["/system/departments", "/system/users", "/system/sessions"] {
        assert!(
            home.body.contains(&format!("href=\"{link}\"")),
            "{link} missing"
        );
    }
    for link in [
        "/audit/log",
        "/security/grants",
        "/approvals",
        "/security/policies",
    ] {
        assert!(
            !home.body.contains(&format!("href=\"{link}\"")),
            "{link} shown"
        );
    }
    // A page of another role: refused in the policy's words, and recorded.
    let denied = get(&c, &base, "/audit/log").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.body.contains("没有权限"), "{}", denied.body);
    assert!(denied.body.contains("id=\"denial-reason\""));

    // A department, then an account in it: its one-time password is shown once and
    // really signs in.
    let csrf = input_value(&home.body, "_csrf").unwrap();
    let r = post(
        &c,
        &base,
        "/system/departments",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("code", "bad code"),
            ("name", "财政局"),
            ("parent", "ROOT"),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"f-code-error\""), "{}", r.body);
    let r = post(
        &c,
        &base,
        "/system/departments",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("code", "CZJ"),
            ("name", "财政局"),
            ("parent", "ROOT"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let tree = get(&c, &base, "/system/departments").await;
    assert!(tree.body.contains("tree-d1\">财政局"), "{}", tree.body);
    let r = post(
        &c,
        &base,
        "/system/users",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("username", "zhangwei"),
            ("display_name", "张伟"),
            ("department", "CZJ"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let one_time = element_text(&r.body, "one-time-password").unwrap();
    let (s, v) = t.login("zhangwei", &one_time, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["must_change_password"], json!(true));
    let users = get(&c, &base, "/system/users").await;
    assert!(
        !users.body.contains(&one_time),
        "a one-time password is shown once"
    );
    let csv = get(&c, &base, "/system/users.csv").await;
    assert!(
        csv.body.contains("\"zhangwei\",\"张伟\",\"财政局\""),
        "{}",
        csv.body
    );

    // Sign-out ends the session: the old cookie goes back to the sign-in page.
    let r = post(&c, &base, "/logout", Some(&base), &[("_csrf", &csrf)]).await;
    assert_eq!(r.location.as_deref(), Some("/login?bye=1"));
    let r = get(&c, &base, "/").await;
    assert!(r.location.as_deref().unwrap().starts_with("/login"));

    // Signing in again needs the TOTP code; without it the field says so.
    let c2 = browser();
    let login = get(&c2, &base, "/login").await;
    let csrf = input_value(&login.body, "_csrf").unwrap();
    let r = post(
        &c2,
        &base,
        "/login",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("username", "sysadmin"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"totp-error\""), "{}", r.body);
    let code = seed.code_at(now()).unwrap();
    let r = post(
        &c2,
        &base,
        "/login",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("username", "sysadmin"),
            ("password", PASSWORD),
            ("totp", &code),
            ("next", "/system/sessions"),
        ],
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/system/sessions"),
        "{}",
        r.body
    );
    let sessions = get(&c2, &base, "/system/sessions").await;
    assert!(sessions.body.contains("当前会话"));

    // The auditor finds the denied page view and the console's changes in the ledger.
    let auditor = t.admin("auditor").await;
    let (s, v) = t
        .get(
            &auditor,
            "/api/v1/audit?actor=sysadmin&action=audit.read&outcome=denied",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let (_, v) = t
        .get(
            &auditor,
            "/api/v1/audit?actor=sysadmin&action=user.create&outcome=allowed",
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

#[tokio::test]
async fn security_admin_grant_refusal_is_shown_beside_the_role() {
    let t = TestServer::start().await;
    let base = t.base.clone();
    let sys = t.admin("sysadmin").await;
    let c = browser();
    first_sign_in(&t, &c, "secadmin", &t.otp("secadmin")).await;
    let page = get(&c, &base, "/security/grants?user=sysadmin").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = input_value(&page.body, "_csrf").unwrap();
    // sysadmin already holds 系统管理员: 安全审计员 would break 三员分立.
    let r = post(
        &c,
        &base,
        "/security/grants/sysadmin",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("role", "auditor"),
            ("department", "ROOT"),
            ("scope", "all"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let at = r
        .body
        .find("id=\"f-role-error\"")
        .expect("error beside the role");
    assert!(r.body[at..].contains("三员分立"), "{}", r.body);
    // A chosen scope without departments is refused beside the scope.
    let r = post(
        &c,
        &base,
        "/security/grants/sysadmin",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("role", "data_user"),
            ("department", "ROOT"),
            ("scope", "chosen"),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"f-scope-error\""), "{}", r.body);
    // A good grant is made.
    let r = post(
        &c,
        &base,
        "/security/grants/sysadmin",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("role", "data_user"),
            ("department", "ROOT"),
            ("scope", "chosen"),
            ("departments", "ROOT"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, v) = t.get(&sys, "/api/v1/users/sysadmin").await;
    assert!(
        v["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["role"] == "data_user"),
        "{v}"
    );
    // Settings: a bad value is shown beside its field; a good one is saved.
    let page = get(&c, &base, "/security/settings").await;
    assert!(
        page.body.contains("<label for=\"f-min_length\">"),
        "{}",
        page.body
    );
    let r = post(
        &c,
        &base,
        "/security/settings/lockout",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("max_failures", "x"),
            ("window_minutes", "10"),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"f-max_failures-error\""), "{}", r.body);
    let r = post(
        &c,
        &base,
        "/security/settings/lockout",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("max_failures", "6"),
            ("window_minutes", "15"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, v) = t.get(&sys, "/api/v1/settings").await;
    assert_eq!(v["lockout"]["max_failures"], json!(6));
    // The policy preview validates without adding.
    let r = post(
        &c,
        &base,
        "/security/policies/validate",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("id", "p1"),
            (
                "text",
                "permit (principal, action, resource) when { nonsense };",
            ),
        ],
    )
    .await;
    assert!(r.body.contains("校验未通过"), "{}", r.body);
}

/// A browser already signed in with `token` (a session from the API's sign-in).
fn signed_in(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", format!("shuan_session={token}").parse().unwrap());
    Client::builder()
        .default_headers(headers)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Reloads a job's page until the job ends (bounded), answering the last page.
async fn job_page_until_done(c: &Client, base: &str, path: &str) -> Page {
    for _ in 0..300 {
        let p = get(c, base, path).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        if !p.body.contains("data-refresh-secs") {
            return p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path}: the job did not end in 30 s");
}

#[tokio::test]
async fn console_api_keys_keyring_jobs_and_ledger() {
    let t = TestServer::start().await;
    let base = t.base.clone();
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;

    // API 密钥: an administrator's role is refused beside the role; a key is shown once,
    // works with its role's rights, and stops working when revoked.
    let c = signed_in(&sys);
    let page = get(&c, &base, "/system/api-keys?new=1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<label for=\"f-role\">"));
    assert!(
        !page.body.contains("value=\"system_admin\""),
        "an administrator's role is not offered"
    );
    let csrf = input_value(&page.body, "_csrf").unwrap();
    let key_form = |role: &'static str, days: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("name", "预算系统对接".to_string()),
            ("role", role.to_string()),
            ("department", "ROOT".to_string()),
            ("scope", "all".to_string()),
            ("expires_in_days", days.to_string()),
        ]
    };
    let form = key_form("security_admin", "90");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post(&c, &base, "/system/api-keys", Some(&base), &pairs).await;
    assert!(r.body.contains("id=\"f-role-error\""), "{}", r.body);
    let form = key_form("data_user", "999");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post(&c, &base, "/system/api-keys", Some(&base), &pairs).await;
    assert!(
        r.body.contains("id=\"f-expires_in_days-error\""),
        "{}",
        r.body
    );
    let form = key_form("data_user", "30");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post(&c, &base, "/system/api-keys", Some(&base), &pairs).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = element_text(&r.body, "api-key-secret").unwrap();
    assert!(secret.starts_with("shuan_ak_"), "{secret}");
    let (s, _) = t.get(&secret, "/api/v1/catalogue").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.get(&secret, "/api/v1/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let list = get(&c, &base, "/system/api-keys").await;
    assert!(list.body.contains("预算系统对接") && !list.body.contains(&secret));
    let id = secret
        .strip_prefix("shuan_ak_")
        .and_then(|s| s.split('_').next())
        .unwrap()
        .to_string();
    let r = post(
        &c,
        &base,
        &format!("/system/api-keys/{id}/revoke"),
        Some(&base),
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (s, _) = t.get(&secret, "/api/v1/catalogue").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A backup started from the jobs page and watched to its end.
    let r = post(
        &c,
        &base,
        "/data/jobs/backup",
        Some(&base),
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.location.unwrap();
    assert!(job.starts_with("/data/jobs/"), "{job}");
    let done = job_page_until_done(&c, &base, &job).await;
    assert!(
        done.body.contains("id=\"job-status\">已完成"),
        "{}",
        done.body
    );
    // The system administrator starts no scans: the form is a denial in the policy's words.
    let r = get(&c, &base, "/data/jobs/new/scan").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("id=\"denial-reason\""));

    // A data steward: jobs and inventory in the menu, none of the administrators' pages; a
    // scan with a bad source is refused beside the field, a good one runs to the end and
    // its table is in the inventory.
    let steward = t
        .user_with_role(&sys, &sec, "zhaoliu", "ROOT", "data_steward", false)
        .await;
    let c = signed_in(&steward);
    let home = get(&c, &base, "/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    for link in ["/data/jobs", "/data/inventory"] {
        assert!(home.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
    for link in [
        "/system/users",
        "/system/api-keys",
        "/security/keys",
        "/audit/ledger",
    ] {
        assert!(!home.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let form = get(&c, &base, "/data/jobs/new/scan").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = input_value(&form.body, "_csrf").unwrap();
    let r = post(
        &c,
        &base,
        "/data/jobs/scan",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("source", "../platform.db"),
            ("department", "ROOT"),
            ("profile", "gbt43697"),
            ("sample", ""),
            ("encoding", ""),
        ],
    )
    .await;
    assert!(r.body.contains("id=\"f-source-error\""), "{}", r.body);
    let files = t.data_dir().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/mask/people.csv"
        ),
        files.join("people.csv"),
    )
    .unwrap();
    let r = post(
        &c,
        &base,
        "/data/jobs/scan",
        Some(&base),
        &[
            ("_csrf", &csrf),
            ("source", "people.csv"),
            ("department", "ROOT"),
            ("profile", "gbt43697"),
            ("sample", "500"),
            ("encoding", ""),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = job_page_until_done(&c, &base, &r.location.unwrap()).await;
    assert!(
        done.body.contains("id=\"job-status\">已完成"),
        "{}",
        done.body
    );
    let inventory = get(&c, &base, "/data/inventory").await;
    assert!(inventory.body.contains("people"), "{}", inventory.body);
    // The table's columns, each with its detected type, confidence and reason.
    let table = get(&c, &base, "/data/inventory/table?table=people").await;
    assert_eq!(table.status, StatusCode::OK, "{}", table.body);
    assert!(table.body.contains("<code>id_no</code>"), "{}", table.body);
    assert!(table.body.contains("cn_resident_id"), "{}", table.body);
    let jobs = get(&c, &base, "/data/jobs?kind=scan").await;
    assert!(
        jobs.body.contains("<td>扫描入库</td>") && !jobs.body.contains("<td>备份</td>"),
        "{}",
        jobs.body
    );

    // 密钥管理: the keyring without key material, a rotation.
    let c = signed_in(&sec);
    let keys = get(&c, &base, "/security/keys").await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    assert!(keys.body.contains("在用"));
    let csrf = input_value(&keys.body, "_csrf").unwrap();
    let at = keys.body.find("/rotate\"").expect("a rotatable key");
    let start = keys.body[..at].rfind("/security/keys/").unwrap() + "/security/keys/".len();
    let key_id = keys.body[start..at].to_string();
    let r = post(
        &c,
        &base,
        &format!("/security/keys/{key_id}/rotate"),
        Some(&base),
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let keys = get(&c, &base, "/security/keys").await;
    assert!(keys.body.contains("已停用（仅解密）"), "{}", keys.body);

    // 账本校验: the auditor sees the chain intact; nobody else may ask.
    let c = signed_in(&aud);
    let ledger = get(&c, &base, "/audit/ledger").await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.body);
    assert!(
        ledger.body.contains("<strong>完整</strong>"),
        "{}",
        ledger.body
    );
    let (s, v) = t.get(&aud, "/api/v1/audit/ledger").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], json!("ok"), "{v}");
    assert!(v["records"].as_u64().unwrap() > 10, "{v}");
    let (s, _) = t.get(&sys, "/api/v1/audit/ledger").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The log pages at the size asked; the steward's scan is in it.
    let log = get(
        &c,
        &base,
        "/audit/log?size=1000&actor=zhaoliu&action=scan.run",
    )
    .await;
    assert!(log.body.contains("每页 1000 条"), "{}", log.body);
    assert!(log.body.contains("zhaoliu"), "{}", log.body);
}
