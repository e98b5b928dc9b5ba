//! The dashboard (首页): per role, what needs attention — each figure read through the
//! API handler the page behind it uses (so each is authorised and recorded), shown only
//! when the policy lets the caller use that page. The auditor's chart is server-drawn SVG.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use shuan_policy::Action;

use super::system::Params;
use super::view::{beijing_day, count, date};
use super::{may, may_use, notice, render, Frame, Signed};
use crate::error::ApiQuery;
use crate::routes::audit::{self, AuditQuery};
use crate::routes::elevations::{self, ElevationQuery};
use crate::routes::identity::{self, UserQuery};
use crate::routes::jobs::{self, JobQuery};
use crate::state::{now, Platform};

/// One figure on the dashboard.
pub struct Card {
    label: &'static str,
    value: String,
    href: &'static str,
    link: &'static str,
    tone: &'static str,
}

/// One day's bars in the chart.
pub struct Bar {
    x: u32,
    allowed_y: u32,
    allowed_h: u32,
    denied_y: u32,
    denied_h: u32,
    label: String,
    title: String,
}

/// Height of the chart's plot area in SVG units.
const PLOT_H: u32 = 140;
const DAYS: i64 = 7;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    frame: Frame,
    cards: Vec<Card>,
    bars: Vec<Bar>,
    chart_note: String,
    today: String,
}

/// Bars for the last seven Beijing days: records allowed and denied per day, scaled to
/// the busiest day.
fn bars(records: &[(i64, bool)], today: i64) -> Vec<Bar> {
    let mut per_day: Vec<(u64, u64)> = vec![(0, 0); DAYS as usize];
    for (unix, denied) in records {
        let age = today - beijing_day(*unix);
        if (0..DAYS).contains(&age) {
            let slot = &mut per_day[(DAYS - 1 - age) as usize];
            if *denied {
                slot.1 += 1;
            } else {
                slot.0 += 1;
            }
        }
    }
    let max = per_day.iter().map(|(a, d)| a + d).max().unwrap_or(0).max(1);
    per_day
        .iter()
        .enumerate()
        .map(|(i, (a, d))| {
            // The day's whole bar first, so the busiest day fills the plot exactly.
            let total_h = ((a + d) * PLOT_H as u64 / max) as u32;
            let denied_h = (*d * PLOT_H as u64 / max) as u32;
            let allowed_h = total_h - denied_h;
            let day = (today - (DAYS - 1 - i as i64)) * 86_400;
            let (_, m, dd) = shuan_calendar::civil_from_days(day.div_euclid(86_400));
            Bar {
                x: 40 + i as u32 * 80,
                allowed_y: 10 + PLOT_H - allowed_h - denied_h,
                allowed_h,
                denied_y: 10 + PLOT_H - denied_h,
                denied_h,
                label: format!("{m}月{dd}日"),
                title: format!("{m}月{dd}日：允许 {a} 条，拒绝 {d} 条"),
            }
        })
        .collect()
}

/// `GET /`.
pub async fn page(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let c = &s.caller;
    let mut cards = Vec::new();
    let mut chart = Vec::new();
    let mut chart_note = String::new();
    if may_use(&p, c, "/approvals") {
        if let Ok(list) = elevations::list(
            State(Arc::clone(&p)),
            c.clone(),
            ApiQuery(ElevationQuery {
                status: Some("pending".into()),
            }),
        )
        .await
        {
            let n = list.0.iter().filter(|e| e.username != c.name()).count();
            cards.push(Card {
                label: "待审批的超出权限申请",
                value: count(n as u64),
                href: "/approvals",
                link: "去审批",
                tone: if n > 0 { "warn" } else { "" },
            });
        }
    }
    if may_use(&p, c, "/system/users") {
        if let Ok(users) = identity::list_users(
            State(Arc::clone(&p)),
            c.clone(),
            ApiQuery(UserQuery { department: None }),
        )
        .await
        {
            let users = users.0;
            let waiting = users
                .iter()
                .filter(|u| u.must_change_password && !u.disabled)
                .count();
            cards.push(Card {
                label: "账号总数",
                value: count(users.len() as u64),
                href: "/system/users",
                link: "用户管理",
                tone: "",
            });
            if may(&p, c, Action::UserCreate, "user") {
                cards.push(Card {
                    label: "尚未启用（待修改初始密码）",
                    value: count(waiting as u64),
                    href: "/system/users",
                    link: "查看",
                    tone: if waiting > 0 { "warn" } else { "" },
                });
            }
        }
    }
    if may_use(&p, c, "/system/sessions") {
        if let Ok(list) = identity::list_sessions(State(Arc::clone(&p)), c.clone()).await {
            cards.push(Card {
                label: "在线会话",
                value: count(list.0.len() as u64),
                href: "/system/sessions",
                link: "在线用户",
                tone: "",
            });
        }
    }
    if may_use(&p, c, "/security/policies") && may(&p, c, Action::PolicyCreate, "policy") {
        if let Ok(list) =
            crate::routes::admin::list_policies(State(Arc::clone(&p)), c.clone()).await
        {
            let custom = list.0.iter().filter(|x| !x.builtin).count();
            cards.push(Card {
                label: "自定义访问策略",
                value: count(custom as u64),
                href: "/security/policies",
                link: "访问策略",
                tone: "",
            });
        }
    }
    if may_use(&p, c, "/system/api-keys") {
        if let Ok(keys) =
            crate::routes::admin::list_api_keys(State(Arc::clone(&p)), c.clone()).await
        {
            let t = now();
            let soon = keys
                .0
                .iter()
                .filter(|k| {
                    k.revoked_at.is_none() && k.expires_at > t && k.expires_at - t < 30 * 86_400
                })
                .count();
            cards.push(Card {
                label: "30 天内到期的 API 密钥",
                value: count(soon as u64),
                href: "/system/api-keys",
                link: "API 密钥",
                tone: if soon > 0 { "warn" } else { "" },
            });
        }
    }
    if may_use(&p, c, "/data/jobs") {
        if let Ok(list) = jobs::list_jobs(
            State(Arc::clone(&p)),
            c.clone(),
            ApiQuery(JobQuery {
                kind: None,
                status: None,
                limit: Some(1000),
            }),
        )
        .await
        {
            let week_ago = now() - DAYS * 86_400;
            let running = list
                .0
                .iter()
                .filter(|j| j.status == "running" || j.status == "queued")
                .count();
            let failed = list
                .0
                .iter()
                .filter(|j| j.status == "failed" && j.updated_at >= week_ago)
                .count();
            cards.push(Card {
                label: "进行中的后台任务",
                value: count(running as u64),
                href: "/data/jobs?status=running",
                link: "后台任务",
                tone: "",
            });
            cards.push(Card {
                label: "近 7 天失败的任务",
                value: count(failed as u64),
                href: "/data/jobs?status=failed",
                link: "查看",
                tone: if failed > 0 { "danger" } else { "" },
            });
        }
    }
    let today = beijing_day(now());
    if may_use(&p, c, "/audit/log") {
        let since = {
            let start = (today - (DAYS - 1)) * 86_400 - 8 * 3600;
            let (y, m, d) = shuan_calendar::civil_from_days(start.div_euclid(86_400));
            let t = start.rem_euclid(86_400);
            format!("{y:04}-{m:02}-{d:02}T{:02}:00:00Z", t / 3600)
        };
        let query = AuditQuery {
            actor: None,
            action: None,
            outcome: None,
            since: Some(since),
            until: None,
            request_id: None,
            node: None,
            limit: Some(1000),
            offset: None,
        };
        if let Ok(rows) = audit::search(State(Arc::clone(&p)), c.clone(), ApiQuery(query)).await {
            let records: Vec<(i64, bool)> = rows
                .0
                .iter()
                .filter_map(|e| {
                    let t = shuan_ledger::Timestamp::parse(e.record["time"].as_str()?).ok()?;
                    Some((
                        t.micros().div_euclid(1_000_000),
                        e.record["outcome"] == "denied",
                    ))
                })
                .collect();
            let denied = records.iter().filter(|(_, d)| *d).count();
            let failed_logins = rows
                .0
                .iter()
                .filter(|e| {
                    e.record["action"] == "session.login" && e.record["outcome"] == "denied"
                })
                .count();
            cards.push(Card {
                label: "近 7 天被拒绝的操作",
                value: count(denied as u64),
                href: "/audit/log?outcome=denied",
                link: "审计日志",
                tone: if denied > 0 { "danger" } else { "" },
            });
            cards.push(Card {
                label: "近 7 天登录失败",
                value: count(failed_logins as u64),
                href: "/audit/logins?outcome=denied",
                link: "登录日志",
                tone: if failed_logins > 0 { "warn" } else { "" },
            });
            chart_note = if rows.0.len() == 1000 {
                "近 7 天审计记录（最早的 1000 条）".into()
            } else {
                format!("近 7 天审计记录（共 {} 条）", count(rows.0.len() as u64))
            };
            chart = bars(&records, today);
        }
    }
    let page = DashboardPage {
        frame: Frame::new(&p, &s, "/", "首页").with_notice(notice(&q)),
        cards,
        bars: chart,
        chart_note,
        today: date(now()),
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_count_per_beijing_day_and_scale_to_the_busiest() {
        let today = 20_000;
        let noon = |day: i64| day * 86_400 + 4 * 3600; // 12:00 in Beijing
        let records = vec![
            (noon(today), false),
            (noon(today), true),
            (noon(today), false),
            (noon(today - 6), true),
            (noon(today - 7), true), // too old
        ];
        let b = bars(&records, today);
        assert_eq!(b.len(), 7);
        let last = &b[6];
        assert_eq!(last.allowed_h + last.denied_h, PLOT_H);
        assert_eq!(last.denied_h, PLOT_H / 3);
        assert_eq!(b[0].denied_h, PLOT_H / 3);
        assert_eq!(b[0].allowed_h, 0);
        assert!(b[1..6].iter().all(|x| x.allowed_h + x.denied_h == 0));
        assert!(bars(&[], today).iter().all(|x| x.allowed_h == 0));
    }
}
