//! Security training (安全培训, R-36): sessions, who attended, and each attendee's
//! evaluation (考核), so that who has not passed a training within the year can be listed.
//! A session and its attendance are written in one transaction. [`TrainingStore`] is a
//! supertrait of [`super::PlatformStore`]; both backends run the one implementation in
//! this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec};
use super::{PlatformStoreError, UnixTime};

/// One attendee's evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    /// The account.
    pub username: String,
    /// The score, 0–100, when the evaluation was scored.
    pub score: Option<i64>,
    /// Whether the evaluation was passed (考核合格).
    pub passed: bool,
}

/// One session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingSession {
    /// Id (assigned by the store).
    pub id: i64,
    /// 培训名称.
    pub title: String,
    /// What it taught (数据安全法规、密码应用、应急处置 …).
    pub topic: String,
    /// The organising department.
    pub department: String,
    /// When it was held.
    pub held_at: UnixTime,
    /// Who taught it.
    pub trainer: String,
    /// Who attended, with their evaluations, by user name.
    pub attendees: Vec<Attendance>,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// The training records; a supertrait of [`super::PlatformStore`].
pub trait TrainingStore {
    /// Records a session with its attendance (its `id` is not read); answers its id
    /// (`NotFound` for an unknown department or account).
    fn create_training_session(&self, t: &TrainingSession) -> Result<i64, PlatformStoreError>;
    /// Sessions, newest first, with their attendance.
    fn training_sessions(&self) -> Result<Vec<TrainingSession>, PlatformStoreError>;
    /// Per account that ever passed one: when it last passed a training.
    fn last_passed_training(&self) -> Result<Vec<(String, UnixTime)>, PlatformStoreError>;
}

/// Implements [`TrainingStore`] for a backend (see `delegate_to_ops`).
macro_rules! training_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::TrainingStore, $backend, $exec, training {
            write "record training session" fn create_training_session(t: &$crate::platform::TrainingSession) -> i64;
            read "list training sessions" fn training_sessions() -> Vec<$crate::platform::TrainingSession>;
            read "read last passed trainings" fn last_passed_training() -> Vec<(String, $crate::platform::UnixTime)>;
        });
    };
}
pub(crate) use training_store_for;

/// The one implementation of [`TrainingStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    pub(crate) fn create_training_session<E: Exec>(x: &mut E, t: &TrainingSession) -> R<i64, E> {
        let known = x.rows(
            "SELECT code FROM departments WHERE code = $1",
            &[(&t.department).into()],
        )?;
        if known.is_empty() {
            return Err(PlatformStoreError::NotFound {
                kind: "department",
                id: t.department.clone(),
            }
            .into());
        }
        for a in &t.attendees {
            let known = x.rows(
                "SELECT username FROM users WHERE username = $1",
                &[(&a.username).into()],
            )?;
            if known.is_empty() {
                return Err(PlatformStoreError::NotFound {
                    kind: "user",
                    id: a.username.clone(),
                }
                .into());
            }
        }
        let rows = x.rows(
            "INSERT INTO training_sessions (title, topic, department, held_at, trainer, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                (&t.title).into(),
                (&t.topic).into(),
                (&t.department).into(),
                t.held_at.into(),
                (&t.trainer).into(),
                (&t.created_by).into(),
                t.created_at.into(),
            ],
        )?;
        let id = Cols(
            rows.first()
                .ok_or_else(|| bad("record training session", "no id returned"))?,
        )
        .int(0)?;
        for a in &t.attendees {
            let inserted = x.exec(
                "INSERT INTO training_attendance (session_id, username, score, passed) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    id.into(),
                    (&a.username).into(),
                    a.score.into(),
                    a.passed.into(),
                ],
            );
            match inserted {
                Ok(_) => {}
                Err(e) if E::is_unique_violation(&e) => {
                    return Err(PlatformStoreError::Exists {
                        kind: "attendee",
                        id: a.username.clone(),
                    }
                    .into())
                }
                Err(e) => return Err(e),
            }
        }
        Ok(id)
    }

    pub(crate) fn training_sessions<E: Exec>(x: &mut E) -> R<Vec<TrainingSession>, E> {
        let rows = x.rows(
            "SELECT id, title, topic, department, held_at, trainer, created_by, created_at \
             FROM training_sessions ORDER BY held_at DESC, id DESC",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(TrainingSession {
                id: c.int(0)?,
                title: c.text(1)?,
                topic: c.text(2)?,
                department: c.text(3)?,
                held_at: c.int(4)?,
                trainer: c.text(5)?,
                attendees: Vec::new(),
                created_by: c.text(6)?,
                created_at: c.int(7)?,
            });
        }
        let attendance = x.rows(
            "SELECT session_id, username, score, passed FROM training_attendance \
             ORDER BY session_id, username",
            &[],
        )?;
        let at = super::super::risk::ops::position_by_id(out.iter().map(|s| s.id));
        for r in &attendance {
            let c = Cols(r);
            let session = c.int(0)?;
            if let Some(s) = at.get(&session).map(|&n| &mut out[n]) {
                s.attendees.push(Attendance {
                    username: c.text(1)?,
                    score: c.opt_int(2)?,
                    passed: c.boolean(3)?,
                });
            }
        }
        Ok(out)
    }

    pub(crate) fn last_passed_training<E: Exec>(x: &mut E) -> R<Vec<(String, UnixTime)>, E> {
        let rows = x.rows(
            "SELECT a.username, max(s.held_at) FROM training_attendance a \
             JOIN training_sessions s ON s.id = a.session_id WHERE a.passed = $1 \
             GROUP BY a.username ORDER BY a.username",
            &[true.into()],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c: Cols<'_> = Cols(r);
            out.push((c.text(0)?, c.int(1)?));
        }
        Ok(out)
    }
}
