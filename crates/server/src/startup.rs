//! Building and starting the HTTP server.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use scim_api::service::totals::Totals;
use scim_api::{EventSink, ScimState};
use tenancy::scim_tokens::TokenCache;
use tenancy::{Db, Deployment};

use crate::settings::Settings;
use crate::{access_log, client_info, health};

/// How long a client may take to send a request's line and headers.
pub const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A server that is accepting connections.
pub struct RunningServer {
    /// The address it actually listens on (port 0 is resolved).
    pub addr: SocketAddr,
    /// The deployment facts it runs with (public URL resolved against `addr`).
    pub deployment: Deployment,
    /// Stops the server.
    pub handle: ServerHandle,
    /// Completes when the server has stopped.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The provisioning event writer; completes after the server stopped and it wrote the rest.
    pub event_writer: tokio::task::JoinHandle<()>,
    /// The server's memory of verified SCIM tokens.
    pub tokens: TokenCache,
    /// Decides and sends notifications (its worker is started by `serve`).
    pub notifier: notify::Notifier,
}

/// Binds the configured address and starts serving in the background. Signals are not handled
/// here: the caller decides when to stop (see `commands::serve`).
pub fn spawn(settings: &Settings, db: Db) -> std::io::Result<RunningServer> {
    let keys = std::sync::Arc::new(settings.secret_keys().map_err(std::io::Error::other)?);
    let listener = TcpListener::bind(&settings.bind)?;
    let addr = listener.local_addr()?;
    let deployment = settings.deployment(Some(addr));
    let (events, event_writer) = EventSink::start(db.clone());
    // Counts of refused requests are a diagnosis: the writer stops with the runtime.
    let (rejections, _rejection_writer) = scim_api::RejectionLog::start(db.clone());
    let tokens = TokenCache::listening(&db);
    let mailer = notify::Mailer::from_settings(&settings.mail()).map_err(std::io::Error::other)?;
    let notifier = notify::Notifier::new(
        db.clone(),
        keys.clone(),
        mailer,
        notify::NotifierSettings {
            public_url: deployment.public_url.clone(),
            spike: tenancy::notifications::SpikeThreshold::default(),
            notice_every: std::time::Duration::from_secs(settings.notice_interval_secs),
        },
    );
    let scim_state = ScimState {
        db: db.clone(),
        deployment: deployment.clone(),
        tokens: tokens.clone(),
        events,
        totals: Totals::default(),
        auth_limits: std::sync::Arc::default(),
        rejections,
        batches: scim_api::service::user_batches::Batches::new(&db),
    };
    let db_data = web::Data::new(db);
    let deployment_data = web::Data::new(deployment.clone());
    let scim_data = web::Data::new(scim_state);
    let tokens_data = web::Data::new(tokens.clone());
    let oidc_data = web::Data::new(console::oidc::Oidc::new(keys).map_err(std::io::Error::other)?);
    let sign_in_limits = web::Data::new(console::client::SignInLimits::default());
    let notifier_data = web::Data::new(notifier.clone());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(client_info::resolve_client))
            .wrap(from_fn(access_log::log_request))
            .app_data(db_data.clone())
            .app_data(deployment_data.clone())
            .app_data(scim_data.clone())
            .app_data(tokens_data.clone())
            .app_data(oidc_data.clone())
            .app_data(sign_in_limits.clone())
            .app_data(notifier_data.clone())
            .service(health::healthz)
            .service(health::readyz)
            .service(health::batching)
            .configure(scim_api::configure(&scim_data))
            .configure(console::configure)
    })
    .disable_signals()
    // A client has this long to send its request line and headers (a slow sender is cut
    // off); bodies have their own limits in the SCIM API and the console.
    .client_request_timeout(REQUEST_HEAD_TIMEOUT)
    .client_disconnect_timeout(std::time::Duration::from_secs(2))
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningServer {
        addr,
        deployment,
        handle,
        task,
        event_writer,
        tokens,
        notifier,
    })
}
