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
        "output_is_input",
        400,
        "输出不能覆盖输入 (a job's output is one of its inputs)",
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

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
