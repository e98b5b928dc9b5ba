//! One error type for every handler and one map from it to a response:
//! `{"error": {"code", "message"}}` with the HTTP status of the code. The codes are
//! stable; [`CODES`] is the table `docs/server.md` prints.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shuan_store::platform::PlatformStoreError;
use utoipa::ToSchema;

/// Every error code the API answers, its status and what it means (the docs' table).
pub const CODES: &[(&str, u16, &str)] = &[
    (
        "bad_request",
        400,
        "请求格式错误：JSON 无法解析、字段类型不对或缺少字段 (malformed request)",
    ),
    (
        "unknown_field",
        400,
        "请求含未知字段 (a field the endpoint does not take)",
    ),
    (
        "invalid_input",
        400,
        "字段值不合规：名称、代码、期限等 (a value out of its rules)",
    ),
    (
        "weak_password",
        400,
        "密码不符合密码策略 (the password policy refused it)",
    ),
    (
        "invalid_policy",
        400,
        "策略无法解析或不符合模式 (Cedar policy invalid against the schema)",
    ),
    (
        "invalid_rules",
        400,
        "告警规则集无效，消息指明出错的键 (the misuse rule set's TOML refused; the message names the key)",
    ),
    (
        "note_required",
        400,
        "关闭告警须填写处置说明 (closing an alert needs a note)",
    ),
    (
        "invalid_scope",
        400,
        "数据范围无效 (a chosen scope without departments, or an unknown department)",
    ),
    (
        "path_not_allowed",
        400,
        "路径不在任务目录内 (a job's path outside the data directory's files/ and SHUAN_JOB_DIRS)",
    ),
    (
        "source_host_not_allowed",
        400,
        "数据库主机不在允许范围内 (a source URL naming a host outside `shuan serve --source-hosts`; loopback by default)",
    ),
    (
        "output_is_input",
        400,
        "输出不能覆盖输入 (a job's output is one of its inputs)",
    ),
    (
        "unknown_field_name",
        400,
        "资源没有该字段 (a share request names a field the resource does not have)",
    ),
    (
        "invalid_row_filter",
        400,
        "行过滤条件无效 (a row filter naming unknown columns or with a bad value)",
    ),
    (
        "invalid_service",
        400,
        "数据服务定义无效 (fields, parameters, pattern or max_rows out of their rules)",
    ),
    (
        "selective_predicate_required",
        400,
        "含个人信息的服务须有必填的精确匹配参数 (a service on personal data must require an exact match)",
    ),
    (
        "never_open",
        400,
        "重要数据不得无条件开放 (important data is never opened unconditionally)",
    ),
    (
        "reason_required",
        400,
        "拒绝须说明理由 (a refusal needs its reason)",
    ),
    (
        "source_unreachable",
        400,
        "数据源无法连接或读取 (the source URL cannot be connected to or read)",
    ),
    (
        "undeclared_parameter",
        400,
        "调用含服务未声明的参数 (a call parameter the service does not declare)",
    ),
    (
        "duplicate_parameter",
        400,
        "参数重复 (a call parameter given twice)",
    ),
    (
        "missing_parameter",
        400,
        "缺少必填参数 (a required call parameter is missing)",
    ),
    (
        "invalid_parameter",
        400,
        "参数值不合规：类型、范围、长度或格式 (a call parameter's value out of its declaration)",
    ),
    (
        "too_many_parameters",
        400,
        "参数过多 (too many query parameters)",
    ),
    (
        "limit_exceeds_max_rows",
        400,
        "limit 超过服务单次最大行数 (limit is over the service's max_rows)",
    ),
    (
        "unauthenticated",
        401,
        "未登录或会话已过期 (no valid session, token or API key)",
    ),
    (
        "invalid_credentials",
        401,
        "用户名或密码错误 (wrong user name or password)",
    ),
    (
        "totp_required",
        401,
        "需要动态口令 (this account signs in with a TOTP code)",
    ),
    (
        "invalid_totp",
        401,
        "动态口令错误或已使用 (wrong or replayed TOTP code)",
    ),
    (
        "forbidden",
        403,
        "没有权限 (the policy denied the action; the message says why)",
    ),
    (
        "password_change_required",
        403,
        "须先修改一次性密码 (a one-time password only allows changing it)",
    ),
    (
        "totp_enrolment_required",
        403,
        "须先绑定动态口令 (this role needs TOTP before anything else)",
    ),
    (
        "cdo_approval_required",
        403,
        "放宽共享/开放属性须由首席数据官审批 (a steward only makes attributes stricter)",
    ),
    (
        "share_refused",
        403,
        "不予共享的资源不受理申请 (the resource is 不予共享; the message gives its basis)",
    ),
    (
        "no_agreement",
        403,
        "调用方部门没有该资源的共享协议 (no agreement of the caller's department covers the service)",
    ),
    (
        "agreement_not_yours",
        403,
        "共享协议属于其他部门，不得转用 (the agreement belongs to another department)",
    ),
    (
        "agreement_not_yet_valid",
        403,
        "共享协议尚未生效 (before valid_from)",
    ),
    (
        "agreement_expired",
        403,
        "共享协议已到期 (at or after valid_until, to the second)",
    ),
    (
        "agreement_suspended",
        403,
        "共享协议已暂停 (the provider suspended the agreement)",
    ),
    (
        "agreement_revoked",
        403,
        "共享协议已撤销 (the agreement was revoked)",
    ),
    (
        "purpose_mismatch",
        403,
        "声明的用途与协议不符 (x-shuan-purpose differs from the agreement's 用途)",
    ),
    (
        "fields_not_granted",
        403,
        "服务字段不在协议范围内 (none of the service's fields is granted by the agreement)",
    ),
    (
        "not_found",
        404,
        "对象不存在 (no such department, user, key, policy …)",
    ),
    ("exists", 409, "名称已被使用 (the name or code is taken)"),
    (
        "conflict",
        409,
        "与现有记录冲突 (e.g. a department with members, an elevation already decided)",
    ),
    (
        "already_destroyed",
        409,
        "销毁对象已销毁或已不存在 (the key version, table or rows were destroyed already)",
    ),
    (
        "nothing_to_destroy",
        409,
        "没有符合条件的记录可销毁 (no row matches the destruction's filter now)",
    ),
    (
        "legal_hold",
        409,
        "处于法律保全中，不能销毁 (an active legal hold covers the target; the message names it)",
    ),
    (
        "destruction_failed",
        422,
        "销毁失败或核验未通过，未出具销毁证明；消息说明已销毁和未销毁的内容 (the destruction failed or its check did not pass; no certificate; the message says what was and was not destroyed)",
    ),
    (
        "separation_of_duties",
        409,
        "违反三员分立 (the grant would break separation of duties)",
    ),
    (
        "duplicate_grant",
        409,
        "账号已有该授权 (the account already has this grant)",
    ),
    (
        "duplicate_policy",
        409,
        "策略编号已存在 (a policy with this id exists)",
    ),
    (
        "output_exists",
        409,
        "输出已存在 (a job's output exists; give force: true to replace it)",
    ),
    (
        "payload_too_large",
        413,
        "请求体过大 (the body exceeds the limit)",
    ),
    (
        "unsupported_media_type",
        415,
        "须为 application/json (send JSON)",
    ),
    (
        "quality_run_failed",
        422,
        "数据源读取失败，数据质量检查未完成 (the source could not be read to the end; the failed run is kept)",
    ),
    (
        "row_cap_exceeded",
        422,
        "结果超过服务单次最大行数，未返回任何行 (more rows than max_rows: the call fails, never truncated; narrow the parameters)",
    ),
    (
        "account_locked",
        423,
        "账号已锁定 (too many failed sign-ins; wait or ask the system administrator)",
    ),
    (
        "too_many_requests",
        429,
        "请求过多 (this address is locked out or over its rate)",
    ),
    (
        "rate_limited",
        429,
        "超过协议的每分钟调用次数 (the agreement's calls per minute are used up)",
    ),
    (
        "volume_exceeded",
        429,
        "超过协议的每日数据量 (the agreement's rows per day would be passed)",
    ),
    (
        "internal",
        500,
        "内部错误 (a bug; the request id is in the log and the audit)",
    ),
    (
        "audit_unavailable",
        503,
        "审计日志不可写，操作未执行 (the ledger cannot be written; nothing was done)",
    ),
    (
        "store_unavailable",
        503,
        "平台数据库不可用 (the platform store cannot be reached)",
    ),
    (
        "source_unavailable",
        503,
        "数据源暂不可用或查询超时 (the source cannot be reached now, or the query ran past its time limit)",
    ),
    (
        "timeout",
        503,
        "处理超时 (the request took longer than the limit)",
    ),
];

/// An API error: status, stable code, and a message for people (Chinese first).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code from [`CODES`].
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
}

/// The error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code (see the table in docs/server.md).
    pub code: String,
    /// Message for people, Chinese first.
    pub message: String,
}

impl ApiError {
    /// An error with the status its code has in [`CODES`].
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        let status = CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .and_then(|(_, s, _)| StatusCode::from_u16(*s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 invalid_input.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new("invalid_input", message)
    }

    /// 404 for a kind and id.
    pub fn not_found(kind: &str, id: &str) -> ApiError {
        ApiError::new("not_found", format!("{kind} {id} 不存在 (not found)"))
    }

    /// 401.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            "unauthenticated",
            "未登录或会话已过期，请重新登录 (no valid session: sign in with POST /api/v1/session)",
        )
    }

    /// 503 audit_unavailable: the request was refused because it could not be recorded.
    pub fn audit_unavailable() -> ApiError {
        ApiError::new(
            "audit_unavailable",
            "审计日志无法写入，为保证每个操作都有记录，本次操作未执行 (the audit ledger cannot be \
             written, so nothing was done; the system administrator must check the data \
             directory's audit/ folder)",
        )
    }

    /// 500, logging the cause (never sent to the client).
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            "internal",
            "内部错误，已记录 (internal error; it was logged with the request id)",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<PlatformStoreError> for ApiError {
    fn from(e: PlatformStoreError) -> ApiError {
        match e {
            PlatformStoreError::NotFound { kind, id } => ApiError::not_found(kind, &id),
            PlatformStoreError::Exists { kind, id } => {
                ApiError::new("exists", format!("{kind} {id} 已存在 (already exists)"))
            }
            PlatformStoreError::Conflict(m) => ApiError::new("conflict", m),
            PlatformStoreError::Grant(g) => ApiError::new(g.code(), g.to_string()),
            PlatformStoreError::Unavailable(m) => {
                tracing::error!(cause = %m, "platform store unavailable");
                ApiError::new(
                    "store_unavailable",
                    "平台数据库暂不可用，请稍后重试 (the platform store cannot be reached)",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> ApiError {
        use axum::extract::rejection::JsonRejection as J;
        match &r {
            J::MissingJsonContentType(_) => ApiError::new(
                "unsupported_media_type",
                "请求须为 JSON，Content-Type: application/json (send a JSON body)",
            ),
            J::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                "payload_too_large",
                "请求体过大 (the body exceeds the limit)",
            ),
            _ => {
                let text = r.body_text();
                if text.contains("unknown field") {
                    ApiError::new("unknown_field", format!("请求含未知字段 ({text})"))
                } else {
                    ApiError::new("bad_request", format!("请求格式错误 ({text})"))
                }
            }
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> ApiError {
        let text = r.body_text();
        if text.contains("unknown field") {
            ApiError::new("unknown_field", format!("查询参数含未知字段 ({text})"))
        } else {
            ApiError::new("bad_request", format!("查询参数错误 ({text})"))
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::new("bad_request", format!("路径参数错误 ({})", r.body_text()))
    }
}

/// `Json` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `Path` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A JSON body that may be left out (no body, or an empty one: the type's default); a
/// body that is there must be JSON of the type, answered in the API's error format.
pub struct OptionalJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let has_type = req.headers().contains_key(axum::http::header::CONTENT_TYPE);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        "payload_too_large",
                        "请求体过大 (the body exceeds the limit)",
                    )
                } else {
                    ApiError::new("bad_request", format!("请求体无法读取 ({})", r.body_text()))
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !has_type {
            return Err(ApiError::new(
                "unsupported_media_type",
                "请求须为 JSON，Content-Type: application/json (send a JSON body)",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| {
                let text = e.to_string();
                if text.contains("unknown field") {
                    ApiError::new("unknown_field", format!("请求含未知字段 ({text})"))
                } else {
                    ApiError::new("bad_request", format!("请求格式错误 ({text})"))
                }
            })
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
