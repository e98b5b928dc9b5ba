//! 数据资产清单: the inventory as the API gives it (each table as its source's latest
//! scan saw it), filtered, sorted and paged on the server.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::system::Params;
use super::view::count;
use super::{error_page_in, render, Frame, Signed};
use crate::routes::data as api;
use crate::state::Platform;

const HREF: &str = "/data/inventory";
/// Rows per page unless the query asks otherwise (at most [`MAX_PAGE`]).
const PAGE_ROWS: usize = 100;
const MAX_PAGE: usize = 10_000;

/// One table of the inventory.
pub struct InventoryRow {
    source: String,
    table: String,
    /// The table's page (its columns).
    href: String,
    level: String,
    level_rank: u64,
    rows: u64,
    rows_text: String,
    columns: u64,
    sensitive: u64,
    catalogue: bool,
    scanned: String,
}

fn inventory_row(v: &Value) -> InventoryRow {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    InventoryRow {
        href: format!(
            "{HREF}/table?{}",
            serde_urlencoded::to_string([("table", s("table")), ("source", s("source"))])
                .unwrap_or_default()
        ),
        source: s("source"),
        table: s("table"),
        level: s("level"),
        level_rank: n("level_rank"),
        rows: n("rows"),
        rows_text: count(n("rows")),
        columns: n("columns"),
        sensitive: n("sensitive_columns"),
        catalogue: v["catalogue"] == Value::Bool(true),
        scanned: shuan_ledger::Timestamp::parse(&s("scanned_at"))
            .map(|t| super::view::date_time(t.micros().div_euclid(1_000_000)))
            .unwrap_or_else(|_| s("scanned_at")),
    }
}

/// The sortable columns: query value and label.
const SORTS: &[(&str, &str)] = &[
    ("level", "分级（高到低）"),
    ("rows", "行数（多到少）"),
    ("sensitive", "敏感列（多到少）"),
    ("name", "数据源与表名"),
];

#[derive(Template)]
#[template(path = "inventory.html")]
struct InventoryPage {
    frame: Frame,
    rows: Vec<InventoryRow>,
    total: usize,
    total_columns: String,
    q_name: String,
    q_catalogue: bool,
    sort: String,
    sorts: &'static [(&'static str, &'static str)],
    page: usize,
    pages: usize,
    prev_href: String,
    next_href: String,
}

/// Filters, sorts and pages the inventory as the query asks.
fn select(
    mut rows: Vec<InventoryRow>,
    q: &HashMap<String, String>,
) -> (Vec<InventoryRow>, usize, usize, usize) {
    let name = q.get("name").map(String::as_str).unwrap_or_default();
    let catalogue_only = q.get("catalogue").is_some_and(|v| v == "1");
    rows.retain(|r| {
        (name.is_empty() || r.table.contains(name) || r.source.contains(name))
            && (!catalogue_only || r.catalogue)
    });
    match q.get("sort").map(String::as_str).unwrap_or("level") {
        "rows" => rows.sort_by_key(|r| std::cmp::Reverse(r.rows)),
        "sensitive" => rows.sort_by_key(|r| std::cmp::Reverse(r.sensitive)),
        "name" => rows.sort_by(|a, b| (&a.source, &a.table).cmp(&(&b.source, &b.table))),
        _ => rows.sort_by(|a, b| {
            b.level_rank
                .cmp(&a.level_rank)
                .then_with(|| b.sensitive.cmp(&a.sensitive))
        }),
    }
    let size = q
        .get("size")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| (1..=MAX_PAGE).contains(s))
        .unwrap_or(PAGE_ROWS);
    let total = rows.len();
    let pages = total.div_ceil(size).max(1);
    let page = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=pages).contains(p))
        .unwrap_or(1);
    let shown = rows
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    (shown, total, page, pages)
}

fn href(q: &HashMap<String, String>, page: usize) -> String {
    let mut pairs: Vec<(&str, &str)> = q
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "name" | "catalogue" | "sort" | "size"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort();
    let page = page.to_string();
    pairs.push(("page", &page));
    format!(
        "{HREF}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// `GET /data/inventory`.
pub async fn inventory(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let items = match api::inventory(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(rows) => rows.0.items,
        Err(e) => return error_page_in(&p, &s, HREF, "数据资产清单", e),
    };
    let all: Vec<InventoryRow> = items.iter().map(inventory_row).collect();
    let total_columns: u64 = all.iter().map(|r| r.columns).sum();
    let (rows, total, page, pages) = select(all, &q);
    let body = InventoryPage {
        frame: Frame::new(&p, &s, HREF, "数据资产清单"),
        rows,
        total,
        total_columns: count(total_columns),
        q_name: q.get("name").cloned().unwrap_or_default(),
        q_catalogue: q.get("catalogue").is_some_and(|v| v == "1"),
        sort: q.get("sort").cloned().unwrap_or_else(|| "level".into()),
        sorts: SORTS,
        page,
        pages,
        prev_href: href(&q, page.saturating_sub(1).max(1)),
        next_href: href(&q, page + 1),
    };
    render(StatusCode::OK, &body)
}

// ---- one table: its columns and why each got its type and level ----

/// A column as the table's page shows it.
pub struct ColumnRow {
    name: String,
    declared: String,
    detected: String,
    level: String,
    level_rank: u64,
    confidence: String,
    matched: String,
    reason: String,
}

/// One source's copy of the table.
pub struct TableView {
    source: String,
    profile: String,
    scanned: String,
    level: String,
    level_rank: u64,
    catalogue: bool,
    reason: String,
    rows: String,
    columns: Vec<ColumnRow>,
}

fn table_view(v: &Value) -> TableView {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    TableView {
        source: s(v, "source"),
        profile: s(v, "profile"),
        scanned: shuan_ledger::Timestamp::parse(&s(v, "scanned_at"))
            .map(|t| super::view::date_time(t.micros().div_euclid(1_000_000)))
            .unwrap_or_else(|_| s(v, "scanned_at")),
        level: s(v, "level"),
        level_rank: v["level_rank"].as_u64().unwrap_or(0),
        catalogue: v["catalogue"] == Value::Bool(true),
        reason: s(v, "reason"),
        rows: count(
            v["row_count"]
                .as_u64()
                .unwrap_or_else(|| v["rows_scanned"].as_u64().unwrap_or(0)),
        ),
        columns: v["columns"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let seen = c["values_seen"].as_u64().unwrap_or(0);
                let matched = c["values_matched"].as_u64().unwrap_or(0);
                ColumnRow {
                    name: s(c, "name"),
                    declared: s(c, "declared_type"),
                    detected: match (c["label"].as_str(), c["type"].as_str()) {
                        (Some(l), Some(t)) => format!("{l}（{t}）"),
                        (None, Some(t)) => t.to_string(),
                        _ => String::new(),
                    },
                    level: s(c, "level"),
                    level_rank: c["level_rank"].as_u64().unwrap_or(0),
                    confidence: c["confidence"]
                        .as_f64()
                        .filter(|_| c["type"].is_string())
                        .map(|f| format!("{:.0}%", f * 100.0))
                        .unwrap_or_default(),
                    matched: if seen > 0 {
                        format!("{matched} / {seen}")
                    } else {
                        String::new()
                    },
                    reason: s(c, "reason"),
                }
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "inventory_table.html")]
struct TablePage {
    frame: Frame,
    table: String,
    copies: Vec<TableView>,
}

/// `GET /data/inventory/table?table=…&source=…`: a table's columns with their detected
/// type, level, confidence and reason (the API's `GET /api/v1/inventory/table`).
pub async fn table(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let name = q.get("table").cloned().unwrap_or_default();
    let query = api::TableQuery {
        table: name.clone(),
        source: q.get("source").filter(|v| !v.is_empty()).cloned(),
    };
    let items = match api::inventory_table(
        State(Arc::clone(&p)),
        s.caller.clone(),
        crate::error::ApiQuery(query),
    )
    .await
    {
        Ok(rows) => rows.0.items,
        Err(e) => return error_page_in(&p, &s, HREF, "数据资产清单", e),
    };
    let page = TablePage {
        frame: Frame::new(&p, &s, HREF, &format!("表 {name}")),
        table: name,
        copies: items.iter().map(table_view).collect(),
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(n: u64) -> Vec<InventoryRow> {
        (0..n)
            .map(|i| {
                inventory_row(&json!({
                    "source": "s", "table": format!("t{i:03}"), "level": "一般",
                    "level_rank": i % 4, "rows": i * 10, "columns": 3,
                    "sensitive_columns": i % 3, "catalogue": i % 2 == 0,
                    "scanned_at": "2026-12-03T00:00:00Z"
                }))
            })
            .collect()
    }

    #[test]
    fn select_filters_sorts_and_pages() {
        let q: HashMap<String, String> = [
            ("sort".into(), "rows".into()),
            ("size".into(), "10".into()),
            ("page".into(), "2".into()),
        ]
        .into();
        let (shown, total, page, pages) = select(rows(25), &q);
        assert_eq!((total, page, pages, shown.len()), (25, 2, 3, 10));
        assert_eq!(shown[0].rows, 140);
        let q: HashMap<String, String> = [("catalogue".into(), "1".into())].into();
        let (shown, total, _, _) = select(rows(25), &q);
        assert_eq!(total, 13);
        assert!(shown.iter().all(|r| r.catalogue));
        // A page past the end or a silly size falls back, never panics.
        let q: HashMap<String, String> =
            [("page".into(), "999".into()), ("size".into(), "0".into())].into();
        let (_, _, page, _) = select(rows(5), &q);
        assert_eq!(page, 1);
        assert_eq!(inventory_row(&Value::Null).table, "");
    }
}
