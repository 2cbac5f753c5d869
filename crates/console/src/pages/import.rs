//! CSV import: users (create or update by userName) or cards only. The upload is validated as a
//! whole — a malformed file changes nothing — then applied by a background job whose progress
//! and per-row report the page shows, so even 100,000 rows never hold a request open.

mod parse;
mod upload;

use self::parse::{check_csv, read_rows};
use self::upload::read_upload;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use tenancy::imports::{self, ImportJob, ImportKind, ImportStatus, RowOutcome, RowResult};
use tenancy::tenants::AuthType;
use tenancy::{CrossTenant, Db, ImportJobId, TenantId};

use crate::error::ConsoleError;
use crate::layout::{Layout, time};
use crate::listing::MAX_PAGE;
use crate::page::Page;
use crate::session::Console;

/// The largest file accepted.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Report rows per page.
const ROWS_PER_PAGE: i64 = 100;

/// The import page.
#[derive(Template)]
#[template(path = "import/form.html")]
pub struct ImportPage {
    layout: Layout,
    scim_managed: bool,
    error: Option<String>,
    jobs: Vec<JobLine>,
}

/// A job as listed.
pub struct JobLine {
    id: String,
    kind: String,
    file_name: String,
    status: String,
    created: String,
    summary: String,
}

fn job_line(job: &ImportJob) -> JobLine {
    JobLine {
        id: job.id.to_string(),
        kind: match job.kind {
            ImportKind::Users => "Users".into(),
            ImportKind::Cards => "Cards only".into(),
        },
        file_name: job.file_name.clone(),
        status: status_text(job),
        created: time(job.created_at),
        summary: format!(
            "{} created, {} updated, {} error{}",
            job.created_count,
            job.updated_count,
            job.error_count,
            if job.error_count == 1 { "" } else { "s" }
        ),
    }
}

fn status_text(job: &ImportJob) -> String {
    match job.status {
        ImportStatus::Queued => "Waiting".into(),
        ImportStatus::Running => format!("Running ({}%)", job.percent()),
        ImportStatus::Done => "Finished".into(),
        ImportStatus::Failed => "Failed".into(),
    }
}

/// GET /console/import
pub async fn show_import(console: Console, db: web::Data<Db>) -> Result<Page, ConsoleError> {
    Page::ok(&import_page(&console, &db, None).await?)
}

async fn import_page(
    console: &Console,
    db: &Db,
    error: Option<String>,
) -> Result<ImportPage, ConsoleError> {
    let tenant = console.tenant.id;
    let jobs = db
        .run(tenant, move |conn| imports::recent_jobs(conn, tenant, 20))
        .await?;
    Ok(ImportPage {
        layout: Layout::new(console, "import", "Import"),
        scim_managed: console.tenant.scim_enabled && console.tenant.auth_type() == AuthType::OpenId,
        error,
        jobs: jobs.iter().map(job_line).collect(),
    })
}

/// POST /console/import (multipart: csrf, kind, file). The one form that is not a
/// [`crate::form::CsrfForm`]: its token is a field of the multipart stream, checked here as soon
/// as the stream has been read and before anything is stored.
pub async fn upload_import(
    console: Console,
    payload: Multipart,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let upload = match read_upload(payload).await {
        Ok(upload) => upload,
        Err(message) => return rejected(&console, &db, message).await,
    };
    console.check_csrf(&upload.csrf)?;
    if upload.file.as_ref().is_none_or(|file| file.len == 0) {
        return rejected(
            &console,
            &db,
            "Choose a CSV file to import (the file was empty).".into(),
        )
        .await;
    }
    let kind = match upload.kind.as_str() {
        "users" => ImportKind::Users,
        "cards" => ImportKind::Cards,
        _ => {
            return rejected(
                &console,
                &db,
                "Choose what to import: users, or cards only.".into(),
            )
            .await;
        }
    };
    let Some(file) = upload.file else {
        return rejected(&console, &db, "Choose a CSV file to import.".into()).await;
    };
    // The spooled file is read twice on a blocking thread: checked whole first (nothing is
    // stored from a malformed file), then stored in chunks with the job, in one transaction.
    let path = file.path().to_owned();
    let checked = tokio::task::spawn_blocking(move || check_csv(&path, kind))
        .await
        .map_err(|_| ConsoleError::Internal)?;
    let checked = match checked {
        Ok(checked) => checked,
        Err(message) => return rejected(&console, &db, message).await,
    };
    let tenant = console.tenant.id;
    let file_name = upload.file_name.clone();
    let path = file.path().to_owned();
    let actor = console.actor();
    let job = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| {
                let chunks = read_rows(&path, &checked, imports::INSERT_CHUNK)
                    .map_err(tenancy::Error::Invalid)?
                    .map(|chunk| chunk.map_err(tenancy::Error::Invalid));
                let now = Utc::now();
                let job =
                    imports::create_job(conn, tenant, kind, &file_name, checked.rows, chunks, now)?;
                tenancy::audit::record(
                    conn,
                    tenant,
                    &actor,
                    tenancy::stored::AuditAction::ImportStarted,
                    Some(&file_name),
                    serde_json::json!({ "kind": kind, "rows": checked.rows, "job": job.id }),
                    now,
                )?;
                Ok::<_, tenancy::Error>(job)
            })
        })
        .await?;
    drop(file);
    spawn_job(db.get_ref().clone(), tenant, job.id);
    Ok(Page::see_other(&format!("/console/import/{}", job.id)))
}

async fn rejected(console: &Console, db: &Db, message: String) -> Result<Page, ConsoleError> {
    let page = import_page(
        console,
        db,
        Some(format!("{message} Nothing was imported.")),
    )
    .await?;
    Ok(Page::ok(&page)?.with_status(StatusCode::BAD_REQUEST))
}

/// Applies a job's rows in batches in the background until none are left.
pub fn spawn_job(db: Db, tenant: TenantId, job: ImportJobId) {
    tokio::spawn(async move {
        loop {
            match db
                .run(tenant, move |conn| {
                    imports::apply_batch(conn, tenant, job, Utc::now())
                })
                .await
            {
                Ok(state) if state.pending() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = ?e, %job, "import job failed");
                    let _ = db
                        .run(tenant, move |conn| imports::fail_job(conn, tenant, job, "The import stopped because of a database error; the rows applied so far were kept.", Utc::now()))
                        .await;
                    break;
                }
            }
        }
    });
}

/// Resumes jobs left unfinished by a restart.
pub async fn resume_unfinished(db: Db) {
    match db
        .run_across_tenants(CrossTenant::Startup, imports::unfinished_jobs)
        .await
    {
        Ok(jobs) => {
            for (tenant, job) in jobs {
                spawn_job(db.clone(), tenant, job);
            }
        }
        Err(e) => tracing::error!(error = ?e, "could not resume import jobs"),
    }
}

/// A job page's query.
#[derive(Debug, Default, Deserialize)]
pub struct JobQuery {
    #[serde(default)]
    errors: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

/// A job's progress and report.
#[derive(Template)]
#[template(path = "import/job.html")]
pub struct JobPage {
    layout: Layout,
    job: JobLine,
    pending: bool,
    percent: i32,
    processed: i32,
    total: i32,
    failure: Option<String>,
    errors_only: bool,
    rows: Vec<RowLine>,
    page: i64,
    pages: i64,
}

/// A report row.
pub struct RowLine {
    line: i32,
    key: String,
    outcome: String,
    message: String,
}

fn row_line(row: &RowOutcome) -> RowLine {
    let key = ["username", "email", "cardnumber"]
        .iter()
        .filter_map(|k| {
            row.fields
                .get(*k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        })
        .collect::<Vec<_>>()
        .join(" · ");
    RowLine {
        line: row.line,
        key,
        outcome: row.outcome.map_or("pending", RowResult::as_str).to_owned(),
        message: row.message.clone().unwrap_or_default(),
    }
}

/// GET /console/import/{id}
pub async fn show_import_job(
    console: Console,
    path: web::Path<String>,
    query: web::Query<JobQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let id: ImportJobId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let errors_only = query.errors.is_some();
    let page = query.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let tenant = console.tenant.id;
    let (job, rows) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let job = imports::find_job(conn, tenant, id)?.ok_or(tenancy::Error::NotFound)?;
            let rows = imports::rows(
                conn,
                tenant,
                id,
                errors_only,
                (page - 1) * ROWS_PER_PAGE,
                ROWS_PER_PAGE,
            )?;
            Ok((job, rows))
        })
        .await?;
    let listed = if errors_only {
        i64::from(job.error_count)
    } else {
        i64::from(job.total_rows)
    };
    Page::ok(&JobPage {
        layout: Layout::new(&console, "import", format!("Import of {}", job.file_name)),
        pending: job.pending(),
        percent: job.percent(),
        processed: job.processed_rows,
        total: job.total_rows,
        failure: job.failure.clone(),
        job: job_line(&job),
        errors_only,
        rows: rows.iter().map(row_line).collect(),
        page,
        pages: ((listed + ROWS_PER_PAGE - 1) / ROWS_PER_PAGE).max(1),
    })
}

/// Reading multipart streams without an extra stream-utilities crate.
mod tokio_stream_free {
    use std::future::poll_fn;
    use std::pin::Pin;

    use actix_multipart::{Field, Multipart, MultipartError};
    use actix_web::web::Bytes;
    use futures_core::Stream;

    /// The next field of the form.
    pub async fn next_field(payload: &mut Multipart) -> Result<Option<Field>, MultipartError> {
        poll_fn(|cx| Pin::new(&mut *payload).poll_next(cx))
            .await
            .transpose()
    }

    /// The next chunk of a field's content.
    pub async fn next_chunk(field: &mut Field) -> Option<Result<Bytes, MultipartError>> {
        poll_fn(|cx| Pin::new(&mut *field).poll_next(cx)).await
    }
}
