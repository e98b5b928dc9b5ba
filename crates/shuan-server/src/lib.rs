//! The platform server of shuan (`shuan serve`): the HTTP API under `/api/v1`, accounts
//! and sessions, the one policy point every request goes through, and the audit record
//! every request leaves in the node's ledger before it is answered.
//!
//! Owns: routing, request parsing and limits, authentication (passwords, TOTP, sessions,
//! API keys, lockout), asking `shuan-policy` and recording its answer in `shuan-ledger`
//! (fail-closed: no record, no action — 503), the error map (`error::CODES`), the OpenAPI
//! document generated from the handlers, `/healthz` and `/metrics`, TLS, and `shuan
//! init`'s use case. Must not: keep records itself (`shuan-store` does, behind one trait
//! for SQLite and PostgreSQL), decide access in Rust code (the Cedar policies do), log or
//! return a secret after it was shown once, or answer a request it could not record.
//!
//! Several stateless nodes can share one PostgreSQL store; each keeps its own ledger and
//! node key in its own data directory and copies its records and checkpoints into the
//! store (`mirror`), so the auditor's search covers every node.

pub mod act;
pub mod auth;
pub mod console;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod init;
pub mod metrics;
pub mod mirror;
pub mod routes;
pub mod state;
pub mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::{Platform, RequestMeta, SecretBox, ServerSettings};

pub use state::ServerSettings as Settings;

/// The environment variable holding the keyring passphrase (as for `shuan keys`).
pub const PASSPHRASE_ENV: &str = "SHUAN_KEK_PASSPHRASE";

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Plain HTTP on a non-loopback address without `--insecure-plain-http`.
    #[error("refusing plain HTTP on {0}: give --tls-cert and --tls-key, listen on 127.0.0.1/::1, or force it with --insecure-plain-http behind a TLS-terminating proxy")]
    PlainHttpNotLoopback(SocketAddr),
    /// The platform is not initialised.
    #[error("the platform is not initialised (no accounts in the store): run `shuan init` first")]
    NotInitialised,
    /// The store failed.
    #[error("platform store: {0}")]
    Store(#[from] shuan_store::platform::PlatformStoreError),
    /// The keyring failed.
    #[error("keyring: {0}")]
    Keyring(String),
    /// The ledger failed.
    #[error("audit ledger: {0}")]
    Ledger(String),
    /// TLS files could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Other start-up failures.
    #[error("{0}")]
    Other(String),
}

/// TLS certificate and key files (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// How to run a node.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The node's data directory (ledger, node key, keyring; SQLite store by default).
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data directory; `postgres://…` for several nodes.
    pub store_url: Option<String>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS files; without them only loopback is served (unless forced).
    pub tls: Option<TlsFiles>,
    /// Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    pub insecure_plain_http: bool,
    /// Behaviour.
    pub settings: ServerSettings,
}

/// The OpenAPI document's frame; paths are added from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "shuan 数安 platform API", description = "政务数据安全平台 API. Errors are `{\"error\": {\"code\", \"message\"}}`; see docs/server.md for the code table."),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API router and its OpenAPI document.
pub fn api(platform: Arc<Platform>) -> (Router, utoipa::openapi::OpenApi) {
    use routes::{admin, audit, data, elevations, identity, session};
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::change_password))
        .routes(routes!(session::totp_enrol))
        .routes(routes!(session::totp_confirm))
        .routes(routes!(
            identity::list_departments,
            identity::create_department
        ))
        .routes(routes!(
            identity::update_department,
            identity::delete_department
        ))
        .routes(routes!(identity::list_users, identity::create_user))
        .routes(routes!(identity::get_user, identity::update_user))
        .routes(routes!(identity::unlock_user))
        .routes(routes!(identity::reset_user))
        .routes(routes!(identity::list_grants, identity::create_grant))
        .routes(routes!(identity::delete_grant))
        .routes(routes!(identity::list_sessions))
        .routes(routes!(identity::revoke_session))
        .routes(routes!(identity::revoke_user_sessions))
        .routes(routes!(admin::list_api_keys, admin::create_api_key))
        .routes(routes!(admin::revoke_api_key))
        .routes(routes!(admin::list_policies, admin::create_policy))
        .routes(routes!(admin::validate_policy))
        .routes(routes!(admin::delete_policy))
        .routes(routes!(admin::get_settings))
        .routes(routes!(admin::put_password_policy))
        .routes(routes!(admin::put_lockout))
        .routes(routes!(audit::search))
        .routes(routes!(audit::hygiene))
        .routes(routes!(audit::ledger_status))
        .routes(routes!(elevations::request, elevations::list))
        .routes(routes!(elevations::approve))
        .routes(routes!(elevations::reject))
        .routes(routes!(data::inventory))
        .routes(routes!(data::inventory_table))
        .routes(routes!(data::important_data))
        .routes(routes!(data::list_keys))
        .routes(routes!(data::rotate_key))
        .merge(routes::jobs::router(&platform))
        .merge(routes::sharing::router())
        .merge(routes::gateway::router())
        .merge(routes::alerts::router())
        .merge(routes::destructions::router())
        .merge(routes::incidents::router())
        .merge(routes::complaints::router())
        .merge(routes::vendors::router())
        .merge(routes::quality::router())
        .merge(routes::backups::router())
        .merge(routes::training::router())
        .merge(routes::risk::router())
        .merge(routes::emergency::router())
        .merge(routes::collections::router())
        .merge(routes::lineage::router())
        .merge(routes::temporaries::router())
        .with_state(Arc::clone(&platform))
        .split_for_parts();
    (router, openapi)
}

/// The whole application: API, OpenAPI document, health, metrics, limits, audit metadata.
pub fn app(platform: Arc<Platform>) -> Router {
    let (api_router, openapi) = api(Arc::clone(&platform));
    let openapi_json = Arc::new(openapi.to_json().unwrap_or_else(|_| "{}".into()));
    let body_limit = platform.settings.body_limit;
    let timeout = platform.settings.request_timeout;
    Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = Arc::clone(&openapi_json);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc.as_str().to_owned(),
                    )
                }
            }),
        )
        .merge(
            Router::new()
                .route("/healthz", get(healthz))
                .route("/metrics", get(metrics))
                .with_state(Arc::clone(&platform)),
        )
        .merge(console::router(Arc::clone(&platform)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&platform),
            move |state, req, next| request_frame(state, req, next, timeout),
        ))
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if console::is_console_path(uri.path()) {
        return console::not_found_page().await;
    }
    ApiError::new(
        "not_found",
        "没有这个接口 (no such endpoint; see /api/openapi.json)",
    )
    .into_response()
}

async fn method_not_allowed() -> Response {
    let mut e = ApiError::new(
        "bad_request",
        "该接口不支持此方法 (method not allowed on this endpoint)",
    );
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    e.into_response()
}

/// Every request: its metadata (request id, address) for the audit, a time limit, the
/// request id echoed back, no caching of API answers, and the metrics.
async fn request_frame(
    State(p): State<Arc<Platform>>,
    mut req: Request,
    next: Next,
    timeout: std::time::Duration,
) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let meta = {
        let (mut parts, body) = req.into_parts();
        let meta = <RequestMeta as axum::extract::FromRequestParts<()>>::from_request_parts(
            &mut parts,
            &(),
        )
        .await
        .unwrap_or_default();
        parts.extensions.insert(meta.clone());
        req = Request::from_parts(parts, body);
        meta
    };
    let mut response = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            "timeout",
            "处理超时，请稍后重试 (the request took too long)",
        )
        .into_response(),
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&meta.request_id) {
        headers.insert("x-request-id", v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    p.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    node: String,
    store: &'static str,
    version: &'static str,
}

async fn healthz(State(p): State<Arc<Platform>>) -> Response {
    let backend = p.store.backend();
    match p.db(|s| s.ping()).await {
        Ok(()) => axum::Json(Health {
            status: "ok",
            node: p.node.clone(),
            store: backend,
            version: env!("CARGO_PKG_VERSION"),
        })
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn metrics(State(p): State<Arc<Platform>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        p.metrics.render(),
    )
        .into_response()
}

/// Opens the store, keyring and ledger of a node and assembles the platform.
pub fn open_platform(config: &ServerConfig) -> Result<Arc<Platform>, ServerError> {
    let store: Arc<dyn shuan_store::platform::PlatformStore> = Arc::from(
        shuan_store::platform::open_platform(&config.data_dir, config.store_url.as_deref())?,
    );
    if store.users()?.is_empty() {
        return Err(ServerError::NotInitialised);
    }
    let keyring = shuan_crypto::keyring::Keyring::open(&config.data_dir, || {
        std::env::var(PASSPHRASE_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .map(zeroize::Zeroizing::new)
    })
    .map_err(|e| ServerError::Keyring(format!("{e} (run `shuan init` for this data directory, or set {PASSPHRASE_ENV} if the keyring has a passphrase)")))?;
    let secrets =
        SecretBox::from_keyring(&config.data_dir, &keyring).map_err(ServerError::Keyring)?;
    drop(keyring);
    let mut options = shuan_ledger::Options::default();
    if let Some(b) = config.settings.ledger_segment_max_bytes {
        options.segment_max_bytes = b;
    }
    let ledger = init::open_ledger(&config.data_dir, options).map_err(ServerError::Ledger)?;
    let acked = ledger.len();
    let platform = Platform::new(
        store,
        Arc::new(ledger),
        config.data_dir.clone(),
        secrets,
        config.settings.clone(),
    )
    .map_err(ServerError::Other)?;
    platform
        .acked
        .store(acked, std::sync::atomic::Ordering::Release);
    Ok(Arc::new(platform))
}

/// A server listening: its address, and a handle to stop it.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The platform behind it.
    pub platform: Arc<Platform>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Stops accepting, finishes requests in flight, and returns.
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.shutdown.send(());
        self.task
            .await
            .map_err(|e| ServerError::Other(e.to_string()))?
    }

    /// Waits until the server ends (Ctrl-C handled by the caller's `shutdown`).
    pub async fn wait(self) -> Result<(), ServerError> {
        let _ = &self.shutdown;
        self.task
            .await
            .map_err(|e| ServerError::Other(e.to_string()))?
    }
}

fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The bound address, before the platform opens.
enum Listener {
    Plain(tokio::net::TcpListener),
    Tls(std::net::TcpListener, axum_server::tls_rustls::RustlsConfig),
}

/// Binds and starts serving in the background. The TLS files are read and the address
/// bound before the platform is opened: a start that fails leaves nothing running and
/// holds no ledger or store.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    if config.tls.is_none() && !is_loopback(&config.listen) && !config.insecure_plain_http {
        return Err(ServerError::PlainHttpNotLoopback(config.listen));
    }
    let mut config = config;
    config.settings.secure_cookies = config.tls.is_some();
    let bind_error = |source| ServerError::Bind {
        addr: config.listen,
        source,
    };
    let tls = match &config.tls {
        None => None,
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                    .await
                    .map_err(|e| {
                        ServerError::Tls(format!(
                            "{} / {}: {e}",
                            tls.cert.display(),
                            tls.key.display()
                        ))
                    })?;
            Some(rustls_config)
        }
    };
    let std_listener = std::net::TcpListener::bind(config.listen).map_err(bind_error)?;
    std_listener.set_nonblocking(true).map_err(bind_error)?;
    let addr = std_listener.local_addr().map_err(bind_error)?;
    // Plain HTTP takes the listener into Tokio now, before anything is opened: a failure
    // here too must leave nothing running.
    let listener = match tls {
        None => {
            Listener::Plain(tokio::net::TcpListener::from_std(std_listener).map_err(bind_error)?)
        }
        Some(rustls_config) => Listener::Tls(std_listener, rustls_config),
    };
    let cfg = config.clone();
    let platform = tokio::task::spawn_blocking(move || open_platform(&cfg))
        .await
        .map_err(|e| ServerError::Other(e.to_string()))??;
    let app = app(Arc::clone(&platform));
    tokio::spawn(mirror::background(Arc::clone(&platform)));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let task = match listener {
        Listener::Plain(listener) => tokio::spawn(async move {
            axum::serve(listener, make)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .map_err(|e| ServerError::Other(e.to_string()))
        }),
        Listener::Tls(std_listener, rustls_config) => {
            let handle = axum_server::Handle::new();
            let h2 = handle.clone();
            tokio::spawn(async move {
                let _ = rx.await;
                h2.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            tokio::spawn(async move {
                axum_server::from_tcp_rustls(std_listener, rustls_config)
                    .handle(handle)
                    .serve(make)
                    .await
                    .map_err(|e| ServerError::Other(e.to_string()))
            })
        }
    };
    Ok(RunningServer {
        addr,
        platform,
        shutdown: tx,
        task,
    })
}
