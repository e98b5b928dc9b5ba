//! Emergency plans and drills (应急预案、应急演练, R-34).
//!
//! A plan is adopted with the interval at which it must be drilled; a drill of it is
//! recorded with its scenario, participants, evaluation (演练评估), lessons, and findings
//! that become rectification items (see [`super::risk`]) in the same transaction. A plan
//! is drilled on time when its latest drill is within its interval of now.
//! [`EmergencyStore`] is a supertrait of [`super::PlatformStore`]; both backends run the
//! one implementation in this file.

use serde::{Deserialize, Serialize};

use super::risk::{Rectification, ORIGIN_DRILL};
use super::sharing::{bad, Cols, Exec};
use super::{PlatformStoreError, UnixTime};

/// One plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyPlan {
    /// Id (assigned by the store).
    pub id: i64,
    /// 预案名称.
    pub title: String,
    /// The events it covers (数据泄露、勒索病毒、系统瘫痪 …).
    pub scope: String,
    /// The department it belongs to.
    pub department: String,
    /// Its version (修订版本), as the department numbers them.
    pub version: String,
    /// Its summary: organisation, reporting line, response steps.
    pub summary: String,
    /// Days within which it must be drilled again.
    pub drill_interval_days: i64,
    /// When it was adopted.
    pub adopted_at: UnixTime,
    /// Its latest drill's time, if it was ever drilled (read from the drills).
    pub last_drill_at: Option<UnixTime>,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

impl EmergencyPlan {
    /// When the next drill is due: its interval after the latest drill, or after the
    /// adoption when never drilled.
    pub fn drill_due_at(&self) -> UnixTime {
        self.last_drill_at.unwrap_or(self.adopted_at) + self.drill_interval_days * 86_400
    }
}

/// One drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyDrill {
    /// Id (assigned by the store).
    pub id: i64,
    /// The plan drilled.
    pub plan_id: i64,
    /// The plan's department (set by the store).
    pub department: String,
    /// When it was held.
    pub held_at: UnixTime,
    /// The scenario (演练场景).
    pub scenario: String,
    /// `tabletop` (桌面推演) or `live` (实战演练).
    pub form: String,
    /// Who took part (names and posts, as written).
    pub participants: Vec<String>,
    /// The evaluation of how the response went (演练评估).
    pub evaluation: String,
    /// Lessons learnt (经验教训).
    pub lessons: String,
    /// Findings, as rectification items.
    pub findings: Vec<Rectification>,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// The emergency records; a supertrait of [`super::PlatformStore`].
pub trait EmergencyStore {
    /// Adopts a plan; answers its id (`NotFound` for an unknown department).
    fn create_emergency_plan(&self, p: &EmergencyPlan) -> Result<i64, PlatformStoreError>;
    /// Plans, by department and id, each with its latest drill's time.
    fn emergency_plans(&self) -> Result<Vec<EmergencyPlan>, PlatformStoreError>;
    /// Records a drill of a plan with its findings; answers its id (`NotFound` for an
    /// unknown plan or finding owner, nothing written).
    fn create_emergency_drill(&self, d: &EmergencyDrill) -> Result<i64, PlatformStoreError>;
    /// Drills, newest first, with their findings.
    fn emergency_drills(&self) -> Result<Vec<EmergencyDrill>, PlatformStoreError>;
}

/// Implements [`EmergencyStore`] for a backend (see `delegate_to_ops`).
macro_rules! emergency_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::EmergencyStore, $backend, $exec, emergency {
            write "adopt emergency plan" fn create_emergency_plan(p: &$crate::platform::EmergencyPlan) -> i64;
            read "list emergency plans" fn emergency_plans() -> Vec<$crate::platform::EmergencyPlan>;
            write "record emergency drill" fn create_emergency_drill(d: &$crate::platform::EmergencyDrill) -> i64;
            read "list emergency drills" fn emergency_drills() -> Vec<$crate::platform::EmergencyDrill>;
        });
    };
}
pub(crate) use emergency_store_for;

/// The one implementation of [`EmergencyStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::super::risk::ops::{insert_items, items_of, position_by_id, require_department};
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    pub(crate) fn create_emergency_plan<E: Exec>(x: &mut E, p: &EmergencyPlan) -> R<i64, E> {
        require_department(x, &p.department)?;
        let rows = x.rows(
            "INSERT INTO emergency_plans (title, scope, department, version, summary, \
             drill_interval_days, adopted_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                (&p.title).into(),
                (&p.scope).into(),
                (&p.department).into(),
                (&p.version).into(),
                (&p.summary).into(),
                p.drill_interval_days.into(),
                p.adopted_at.into(),
                (&p.created_by).into(),
                p.created_at.into(),
            ],
        )?;
        Ok(Cols(
            rows.first()
                .ok_or_else(|| bad("adopt emergency plan", "no id returned"))?,
        )
        .int(0)?)
    }

    pub(crate) fn emergency_plans<E: Exec>(x: &mut E) -> R<Vec<EmergencyPlan>, E> {
        let rows = x.rows(
            "SELECT p.id, p.title, p.scope, p.department, p.version, p.summary, \
             p.drill_interval_days, p.adopted_at, \
             (SELECT max(d.held_at) FROM emergency_drills d WHERE d.plan_id = p.id), \
             p.created_by, p.created_at FROM emergency_plans p ORDER BY p.department, p.id",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(EmergencyPlan {
                id: c.int(0)?,
                title: c.text(1)?,
                scope: c.text(2)?,
                department: c.text(3)?,
                version: c.text(4)?,
                summary: c.text(5)?,
                drill_interval_days: c.int(6)?,
                adopted_at: c.int(7)?,
                last_drill_at: c.opt_int(8)?,
                created_by: c.text(9)?,
                created_at: c.int(10)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn create_emergency_drill<E: Exec>(x: &mut E, d: &EmergencyDrill) -> R<i64, E> {
        let plan = x.rows(
            "SELECT department FROM emergency_plans WHERE id = $1",
            &[d.plan_id.into()],
        )?;
        let department = match plan.first() {
            Some(r) => Cols(r).text(0)?,
            None => {
                return Err(PlatformStoreError::NotFound {
                    kind: "emergency_plan",
                    id: d.plan_id.to_string(),
                }
                .into())
            }
        };
        let participants = serde_json::to_string(&d.participants)
            .map_err(|e| bad("record emergency drill", e.to_string()))?;
        let rows = x.rows(
            "INSERT INTO emergency_drills (plan_id, held_at, scenario, form, participants, \
             evaluation, lessons, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                d.plan_id.into(),
                d.held_at.into(),
                (&d.scenario).into(),
                (&d.form).into(),
                participants.into(),
                (&d.evaluation).into(),
                (&d.lessons).into(),
                (&d.created_by).into(),
                d.created_at.into(),
            ],
        )?;
        let id = Cols(
            rows.first()
                .ok_or_else(|| bad("record emergency drill", "no id returned"))?,
        )
        .int(0)?;
        insert_items(x, ORIGIN_DRILL, id, &department, &d.findings, d.created_at)?;
        Ok(id)
    }

    pub(crate) fn emergency_drills<E: Exec>(x: &mut E) -> R<Vec<EmergencyDrill>, E> {
        let rows = x.rows(
            "SELECT d.id, d.plan_id, p.department, d.held_at, d.scenario, d.form, \
             d.participants, d.evaluation, d.lessons, d.created_by, d.created_at \
             FROM emergency_drills d JOIN emergency_plans p ON p.id = d.plan_id \
             ORDER BY d.held_at DESC, d.id DESC",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(EmergencyDrill {
                id: c.int(0)?,
                plan_id: c.int(1)?,
                department: c.text(2)?,
                held_at: c.int(3)?,
                scenario: c.text(4)?,
                form: c.text(5)?,
                participants: c.json(6)?,
                evaluation: c.text(7)?,
                lessons: c.text(8)?,
                findings: Vec::new(),
                created_by: c.text(9)?,
                created_at: c.int(10)?,
            });
        }
        let at = position_by_id(out.iter().map(|d| d.id));
        for i in items_of(x, ORIGIN_DRILL)? {
            if let Some(&n) = at.get(&i.origin_id) {
                out[n].findings.push(i);
            }
        }
        Ok(out)
    }
}
