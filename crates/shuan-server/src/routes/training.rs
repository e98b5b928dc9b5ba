//! Security training (安全培训, R-36) over HTTP.
//!
//! The security administrator records each session with its attendees and their
//! evaluation (考核: a score, passed or not). The yearly rule: an enabled account that has
//! not passed a training within the last 365 days (the platform's clock) is overdue
//! (`GET /api/v1/training/overdue`), which the self-inspection can show.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::{Attendance, TrainingSession};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::routes::identity::{check_past, check_text};
use crate::state::Platform;

/// Days within which each account must have passed a training.
pub const YEARLY_DAYS: i64 = 365;

/// The training endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(record_session, list_sessions))
        .routes(routes!(overdue))
}

/// One attendee in `POST /api/v1/training-sessions`.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct AttendeeBody {
    /// The account.
    pub username: String,
    /// The evaluation's score, 0–100.
    #[serde(default)]
    pub score: Option<i64>,
    /// Whether the evaluation was passed.
    pub passed: bool,
}

/// `POST /api/v1/training-sessions`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// 培训名称, 1–200 characters.
    pub title: String,
    /// What it taught, 1–500 characters.
    pub topic: String,
    /// The organising department (code).
    pub department: String,
    /// When it was held (Unix seconds, not in the future).
    pub held_at: i64,
    /// Who taught it, 1–100 characters.
    pub trainer: String,
    /// Who attended (1–1000, each once).
    pub attendees: Vec<AttendeeBody>,
}

/// A session in answers.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// Id.
    pub id: i64,
    /// 培训名称.
    pub title: String,
    /// Topic.
    pub topic: String,
    /// Department.
    pub department: String,
    /// When it was held.
    pub held_at: i64,
    /// Trainer.
    pub trainer: String,
    /// Attendees with their evaluations.
    pub attendees: Vec<AttendeeBody>,
    /// How many passed.
    pub passed: usize,
    /// Who recorded it.
    pub created_by: String,
}

fn view(t: &TrainingSession) -> SessionView {
    SessionView {
        id: t.id,
        title: t.title.clone(),
        topic: t.topic.clone(),
        department: t.department.clone(),
        held_at: t.held_at,
        trainer: t.trainer.clone(),
        attendees: t
            .attendees
            .iter()
            .map(|a| AttendeeBody {
                username: a.username.clone(),
                score: a.score,
                passed: a.passed,
            })
            .collect(),
        passed: t.attendees.iter().filter(|a| a.passed).count(),
        created_by: t.created_by.clone(),
    }
}

/// Records a session.
#[utoipa::path(post, path = "/api/v1/training-sessions", tag = "governance", request_body = NewSession,
    responses((status = 201, body = SessionView), (status = "default", body = ErrorBody)))]
pub async fn record_session(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewSession>,
) -> ApiResult<(StatusCode, axum::Json<SessionView>)> {
    check_text("title", &req.title, 200)?;
    check_text("topic", &req.topic, 500)?;
    check_text("trainer", &req.trainer, 100)?;
    let now = p.clock.now();
    check_past("held_at", req.held_at, now)?;
    if req.attendees.is_empty() || req.attendees.len() > 1000 {
        return Err(ApiError::invalid(
            "attendees 须有 1 至 1000 人 (1 to 1,000 attendees)",
        ));
    }
    let mut seen = BTreeSet::new();
    for (n, a) in req.attendees.iter().enumerate() {
        check_text(&format!("attendees[{n}].username"), &a.username, 100)?;
        if a.score.is_some_and(|s| !(0..=100).contains(&s)) {
            return Err(ApiError::invalid(format!(
                "attendees[{n}].score 须为 0 至 100 (a score of 0 to 100)"
            )));
        }
        if !seen.insert(a.username.clone()) {
            return Err(ApiError::invalid(format!(
                "attendees[{n}]：{} 重复 (listed twice)",
                a.username
            )));
        }
    }
    let mut t = TrainingSession {
        id: 0,
        title: req.title.clone(),
        topic: req.topic.clone(),
        department: req.department.clone(),
        held_at: req.held_at,
        trainer: req.trainer.clone(),
        attendees: req
            .attendees
            .iter()
            .map(|a| Attendance {
                username: a.username.clone(),
                score: a.score,
                passed: a.passed,
            })
            .collect(),
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("title".into(), json!(req.title));
    details.insert("attendees".into(), json!(req.attendees.len()));
    let r = resource("training_session", "new", Some(&req.department), None);
    let stored = t.clone();
    // An unknown department or account is told only after the policy allowed the request
    // (the store checks them in the transaction that records the session).
    t.id = p
        .act(&c, Action::TrainingManage, &r, details, move |s| {
            s.create_training_session(&stored)
        })
        .await
        .map_err(|e| {
            if e.code == "not_found" {
                ApiError::invalid(format!(
                    "department 或 attendees 中有不存在的部门或账号 ({})",
                    e.message
                ))
            } else {
                e
            }
        })?;
    Ok((StatusCode::CREATED, axum::Json(view(&t))))
}

/// Sessions the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/training-sessions", tag = "governance",
    responses((status = 200, body = Vec<SessionView>), (status = "default", body = ErrorBody)))]
pub async fn list_sessions(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<SessionView>>> {
    p.authorize(
        &c,
        Action::TrainingRead,
        &resource("training_session", "", None, None),
        Map::new(),
    )
    .await?;
    let all = p.db(|s| s.training_sessions()).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|t| {
                p.allows(
                    &c,
                    Action::TrainingRead,
                    &resource(
                        "training_session",
                        &t.id.to_string(),
                        Some(&t.department),
                        None,
                    ),
                    &tree,
                )
            })
            .map(view)
            .collect(),
    ))
}

/// An account overdue for training.
#[derive(Serialize, ToSchema)]
pub struct OverdueView {
    /// The account.
    pub username: String,
    /// Its name.
    pub display_name: String,
    /// Its department.
    pub department: String,
    /// When it last passed a training; none if never.
    pub last_passed_at: Option<i64>,
}

/// Enabled accounts without a passed training in the last 365 days, by department and
/// name.
#[utoipa::path(get, path = "/api/v1/training/overdue", tag = "governance",
    responses((status = 200, body = Vec<OverdueView>), (status = "default", body = ErrorBody)))]
pub async fn overdue(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<OverdueView>>> {
    p.authorize(
        &c,
        Action::TrainingRead,
        &resource("training_session", "", None, None),
        Map::new(),
    )
    .await?;
    let (users, last) = p
        .db(|s| Ok((s.users()?, s.last_passed_training()?)))
        .await?;
    let last: HashMap<String, i64> = last.into_iter().collect();
    let since = p.clock.now() - YEARLY_DAYS * 86_400;
    let tree = p.tree_for(&c).await?;
    let mut out: Vec<OverdueView> = users
        .iter()
        .filter(|u| !u.disabled)
        .filter(|u| last.get(&u.username).is_none_or(|at| *at < since))
        .filter(|u| {
            p.allows(
                &c,
                Action::TrainingRead,
                &resource("training_session", "", Some(&u.department), None),
                &tree,
            )
        })
        .map(|u| OverdueView {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            department: u.department.clone(),
            last_passed_at: last.get(&u.username).copied(),
        })
        .collect();
    out.sort_by(|a, b| (&a.department, &a.username).cmp(&(&b.department, &b.username)));
    Ok(axum::Json(out))
}
