//! The existing capabilities through the API: the asset inventory (数据资产清单) and the
//! important-data catalogue (重要数据目录, `/api/v1/important-data`) from the node's inventory, and the keyring's
//! keys (list, rotate) for the security administrator.

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_crypto::keyring::Keyring;
use shuan_policy::Action;
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::identity::check_id;
use crate::state::Platform;
use crate::PASSPHRASE_ENV;

/// Inventory rows or catalogue entries, as `shuan assets … --format json` prints them.
#[derive(Serialize, ToSchema)]
pub struct Rows {
    /// The rows.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
}

async fn inventory_rows(p: &Platform, catalogue: bool) -> Result<Vec<Value>, ApiError> {
    let dir = p.data_dir.clone();
    tokio::task::spawn_blocking(move || -> Result<Vec<Value>, String> {
        if !dir.join(shuan_store::INVENTORY_FILE).exists() {
            return Ok(vec![]);
        }
        let store = shuan_store::Store::open(&dir).map_err(|e| e.to_string())?;
        let rows: Vec<Value> = if catalogue {
            store
                .catalogue()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|r| json!(r))
                .collect()
        } else {
            store
                .list()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|r| json!(r))
                .collect()
        };
        Ok(rows)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// The asset inventory: every table as its source's latest saved scan saw it.
#[utoipa::path(get, path = "/api/v1/inventory", tag = "data",
    responses((status = 200, body = Rows), (status = "default", body = ErrorBody)))]
pub async fn inventory(State(p): State<Arc<Platform>>, c: Caller) -> ApiResult<axum::Json<Rows>> {
    p.authorize(
        &c,
        Action::InventoryRead,
        &resource("inventory", "", None, None),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(Rows {
        items: inventory_rows(&p, false).await?,
    }))
}

/// Query of `GET /api/v1/inventory/table`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TableQuery {
    /// Table name (a file's name without its extension).
    pub table: String,
    /// Only this source (its display name, as the inventory lists it).
    pub source: Option<String>,
}

/// One table of the inventory with its columns: detected type, level, confidence and the
/// reason for each (as `shuan assets show` prints them), from the latest scan of each
/// source holding a table of that name.
#[utoipa::path(get, path = "/api/v1/inventory/table", tag = "data", params(TableQuery),
    responses((status = 200, body = Rows), (status = "default", body = ErrorBody)))]
pub async fn inventory_table(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<TableQuery>,
) -> ApiResult<axum::Json<Rows>> {
    if q.table.is_empty() || q.table.len() > 1024 || q.table.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "table 须为 1–1024 字节，不含控制字符 (table: 1–1024 bytes without control characters)",
        ));
    }
    if let Some(s) = &q.source {
        if s.len() > 4096 || s.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                "source 不超过 4096 字节，不含控制字符 (source: at most 4096 bytes without control characters)",
            ));
        }
    }
    p.authorize(
        &c,
        Action::InventoryRead,
        &resource("inventory", &q.table, None, None),
        Map::new(),
    )
    .await?;
    let dir = p.data_dir.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, String> {
        if !dir.join(shuan_store::INVENTORY_FILE).exists() {
            return Ok(vec![]);
        }
        let store = shuan_store::Store::open(&dir).map_err(|e| e.to_string())?;
        Ok(store
            .show(&q.table, q.source.as_deref())
            .map_err(|e| e.to_string())?
            .iter()
            .map(|t| json!(t))
            .collect())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(axum::Json(Rows { items }))
}

/// The important-data catalogue (重要数据目录, R-03) from the node's inventory. (The
/// resource catalogue of data sharing is `GET /api/v1/catalogue`.)
#[utoipa::path(get, path = "/api/v1/important-data", tag = "data",
    responses((status = 200, body = Rows), (status = "default", body = ErrorBody)))]
pub async fn important_data(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Rows>> {
    p.authorize(
        &c,
        Action::ImportantDataRead,
        &resource("important_data", "", None, None),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(Rows {
        items: inventory_rows(&p, true).await?,
    }))
}

/// One key version, without key material.
#[derive(Serialize, ToSchema)]
pub struct KeyView {
    /// Key id.
    pub id: String,
    /// Version.
    pub version: u32,
    /// `active`, `retired` or `destroyed`.
    pub state: String,
    /// Created (RFC 3339).
    pub created: String,
    /// Destroyed (RFC 3339).
    pub destroyed_at: Option<String>,
    /// The keyring's default key.
    pub is_default: bool,
}

pub(crate) fn open_keyring(p: &Platform) -> Result<Keyring, ApiError> {
    Keyring::open(&p.data_dir, || {
        std::env::var(PASSPHRASE_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .map(Zeroizing::new)
    })
    .map_err(ApiError::internal)
}

fn views(keyring: &Keyring) -> Vec<KeyView> {
    keyring
        .list()
        .into_iter()
        .map(|k| KeyView {
            id: k.id,
            version: k.version,
            state: serde_json::to_value(k.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            created: k.created,
            destroyed_at: k.destroyed_at,
            is_default: k.is_default,
        })
        .collect()
}

/// The keyring's keys (密钥管理), without key material.
#[utoipa::path(get, path = "/api/v1/keys", tag = "data",
    responses((status = 200, body = Vec<KeyView>), (status = "default", body = ErrorBody)))]
pub async fn list_keys(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<KeyView>>> {
    p.authorize(
        &c,
        Action::KeyRead,
        &resource("key", "", None, None),
        Map::new(),
    )
    .await?;
    let p2 = Arc::clone(&p);
    let keys = tokio::task::spawn_blocking(move || open_keyring(&p2).map(|k| views(&k)))
        .await
        .map_err(ApiError::internal)??;
    Ok(axum::Json(keys))
}

/// Rotates a data key: new data uses a new version, old versions still decrypt.
#[utoipa::path(post, path = "/api/v1/keys/{id}/rotate", tag = "data",
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, body = Vec<KeyView>), (status = "default", body = ErrorBody)))]
pub async fn rotate_key(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<Vec<KeyView>>> {
    check_id("id", &id)?;
    let p2 = Arc::clone(&p);
    let id2 = id.clone();
    let exists = tokio::task::spawn_blocking(move || {
        open_keyring(&p2).map(|k| k.list().iter().any(|i| i.id == id2))
    })
    .await
    .map_err(ApiError::internal)??;
    if !exists {
        return Err(ApiError::not_found("key", &id));
    }
    p.authorize(
        &c,
        Action::KeyRotate,
        &resource("key", &id, None, None),
        Map::new(),
    )
    .await?;
    let p2 = Arc::clone(&p);
    let id2 = id.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Vec<KeyView>, ApiError> {
        let mut keyring = open_keyring(&p2)?;
        keyring.rotate(&id2).map_err(ApiError::internal)?;
        if id2 == crate::state::SECRETS_KEY_ID {
            // New TOTP seeds are sealed under the new version from now on.
            p2.secrets.reload(&keyring).map_err(ApiError::internal)?;
        }
        Ok(views(&keyring))
    })
    .await
    .map_err(ApiError::internal)?;
    match result {
        Ok(v) => Ok(axum::Json(v)),
        Err(e) => {
            p.record_failure(&c, Action::KeyRotate, &format!("key:{id}"), &e)
                .await;
            Err(e)
        }
    }
}
