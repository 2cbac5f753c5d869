//! CSV imports as jobs: a validated file is stored as rows, then applied in batches (each batch
//! one transaction, each row its own savepoint) with a per-row outcome, so a large file never
//! holds a request open and a bad row never undoes the good ones.
//!
//! Users imports create or update users by userName. Cards-only imports add badge cards to
//! existing users found by userName or email; they are the import to use once SCIM manages the
//! tenant's users.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::directory::cards;
use crate::directory::users::{self, UserFields};
use crate::error::{Error, Result};
use crate::ids::{ImportJobId, TenantId};
use crate::schema::{import_jobs, import_rows, users as users_table};
use crate::stored::{CardSource, UserSource};

/// Rows applied per transaction.
pub const BATCH_ROWS: i64 = 500;
/// The most rows one file may have.
pub const MAX_ROWS: usize = 200_000;

/// One data row of a file: its line number and its values by column key.
pub type ImportRow = (i32, Map<String, Value>);

pub use crate::stored::{ImportKind, ImportStatus, RowResult};

impl ImportKind {
    /// The columns a file must have (any case; `_` and spaces ignored). For cards, one of the
    /// two user keys is enough.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::Users => &["username"],
            ImportKind::Cards => &["cardnumber"],
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = import_jobs, check_for_backend(diesel::pg::Pg))]
pub struct ImportJob {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The job.
    pub id: ImportJobId,
    /// What it imports.
    pub kind: ImportKind,
    /// Where it is.
    pub status: ImportStatus,
    /// The uploaded file's name.
    pub file_name: String,
    /// Data rows in the file.
    pub total_rows: i32,
    /// Rows applied so far.
    pub processed_rows: i32,
    /// Rows that created something.
    pub created_count: i32,
    /// Rows that updated a user.
    pub updated_count: i32,
    /// Rows that failed.
    pub error_count: i32,
    /// Why the whole job failed, if it did.
    pub failure: Option<String>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
    /// When the last row was applied.
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportJob {
    /// Whether the worker still has rows to apply.
    pub fn pending(&self) -> bool {
        matches!(self.status, ImportStatus::Queued | ImportStatus::Running)
    }

    /// Progress in whole percent.
    pub fn percent(&self) -> i32 {
        if self.total_rows == 0 {
            100
        } else {
            self.processed_rows.saturating_mul(100) / self.total_rows
        }
    }
}

/// One row's outcome.
#[derive(Debug, Clone, Queryable)]
pub struct RowOutcome {
    /// Line number in the file (the header is line 1).
    pub line: i32,
    /// The row's values by column.
    pub fields: Value,
    /// What applying it did (`None`: not applied yet).
    pub outcome: Option<RowResult>,
    /// Why it failed.
    pub message: Option<String>,
}

/// Normalises a header: lower case without `_`, `-` and spaces (`User Name` -> `username`).
pub fn column_key(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Rows per INSERT when a job's rows are stored.
pub const INSERT_CHUNK: usize = 2_000;

/// Stores a validated file as a queued job of `total` rows, which `chunks` yields a chunk at a
/// time (`(line, column key -> value)`), so that a large file is never held in memory whole.
/// All in the caller's transaction: a chunk that fails stores nothing.
pub fn create_job(
    conn: &mut PgConnection,
    tenant: TenantId,
    kind: ImportKind,
    file_name: &str,
    total: usize,
    chunks: impl IntoIterator<Item = Result<Vec<ImportRow>>>,
    now: DateTime<Utc>,
) -> Result<ImportJob> {
    let total =
        i32::try_from(total).map_err(|_| Error::Invalid("The file has too many rows.".into()))?;
    crate::transaction(conn, |conn| {
        let job = diesel::insert_into(import_jobs::table)
            .values((
                import_jobs::tenant_id.eq(tenant),
                import_jobs::id.eq(ImportJobId::new_random()),
                import_jobs::kind.eq(kind),
                import_jobs::file_name.eq(file_name),
                import_jobs::total_rows.eq(total),
                import_jobs::created_at.eq(now),
            ))
            .returning(ImportJob::as_returning())
            .get_result(conn)?;
        for chunk in chunks {
            let values: Vec<_> = chunk?
                .into_iter()
                .map(|(line, fields)| {
                    (
                        import_rows::tenant_id.eq(tenant),
                        import_rows::job_id.eq(job.id),
                        import_rows::line.eq(line),
                        import_rows::fields.eq(Value::Object(fields)),
                    )
                })
                .collect();
            if !values.is_empty() {
                diesel::insert_into(import_rows::table)
                    .values(&values)
                    .execute(conn)?;
            }
        }
        Ok(job)
    })
}

/// The job with this id in this tenant.
pub fn find_job(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ImportJobId,
) -> Result<Option<ImportJob>> {
    Ok(import_jobs::table
        .find((tenant, id))
        .select(ImportJob::as_select())
        .first(conn)
        .optional()?)
}

/// The tenant's latest jobs.
pub fn recent_jobs(
    conn: &mut PgConnection,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<ImportJob>> {
    Ok(import_jobs::table
        .filter(import_jobs::tenant_id.eq(tenant))
        .order(import_jobs::created_at.desc())
        .limit(limit)
        .select(ImportJob::as_select())
        .load(conn)?)
}

/// Jobs of every tenant left unfinished (for example by a restart), oldest first.
pub fn unfinished_jobs(conn: &mut PgConnection) -> Result<Vec<(TenantId, ImportJobId)>> {
    Ok(import_jobs::table
        .filter(import_jobs::status.eq_any([ImportStatus::Queued, ImportStatus::Running]))
        .order(import_jobs::created_at.asc())
        .select((import_jobs::tenant_id, import_jobs::id))
        .load(conn)?)
}

/// Row outcomes of a job in file order; only errors when `errors_only`.
pub fn rows(
    conn: &mut PgConnection,
    tenant: TenantId,
    job: ImportJobId,
    errors_only: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<RowOutcome>> {
    let mut query = import_rows::table
        .filter(import_rows::tenant_id.eq(tenant))
        .filter(import_rows::job_id.eq(job))
        .into_boxed();
    if errors_only {
        query = query.filter(import_rows::outcome.eq(RowResult::Error));
    }
    Ok(query
        .order(import_rows::line.asc())
        .offset(offset)
        .limit(limit)
        .select((
            import_rows::line,
            import_rows::fields,
            import_rows::outcome,
            import_rows::message,
        ))
        .load(conn)?)
}

/// Applies the next batch of a job's rows in one transaction. Returns the job afterwards.
pub fn apply_batch(
    conn: &mut PgConnection,
    tenant: TenantId,
    job_id: ImportJobId,
    now: DateTime<Utc>,
) -> Result<ImportJob> {
    crate::transaction(conn, |conn| {
        let job: ImportJob = import_jobs::table
            .find((tenant, job_id))
            .select(ImportJob::as_select())
            .for_update()
            .first(conn)?;
        if !job.pending() {
            return Ok(job);
        }
        let kind = job.kind;
        let batch: Vec<(i32, Value)> = import_rows::table
            .filter(import_rows::tenant_id.eq(tenant))
            .filter(import_rows::job_id.eq(job_id))
            .filter(import_rows::outcome.is_null())
            .order(import_rows::line.asc())
            .limit(BATCH_ROWS)
            .select((import_rows::line, import_rows::fields))
            .load(conn)?;
        let (mut created, mut updated, mut errors) = (0, 0, 0);
        for (line, fields) in &batch {
            // Each row in its own savepoint: a failed row rolls back alone.
            let result = conn.transaction(|conn| apply_row(conn, tenant, kind, fields, now));
            let (outcome, message) = match result {
                Ok(Applied::Created) => {
                    created += 1;
                    (RowResult::Created, None)
                }
                Ok(Applied::Updated) => {
                    updated += 1;
                    (RowResult::Updated, None)
                }
                Err(e) => {
                    errors += 1;
                    (RowResult::Error, Some(row_error(e)))
                }
            };
            diesel::update(import_rows::table.find((tenant, job_id, line)))
                .set((
                    import_rows::outcome.eq(outcome),
                    import_rows::message.eq(message),
                ))
                .execute(conn)?;
        }
        let processed = job.processed_rows + i32::try_from(batch.len()).unwrap_or(0);
        let done = batch.is_empty() || processed >= job.total_rows;
        Ok(diesel::update(import_jobs::table.find((tenant, job_id)))
            .set((
                import_jobs::status.eq(if done {
                    ImportStatus::Done
                } else {
                    ImportStatus::Running
                }),
                import_jobs::processed_rows.eq(processed),
                import_jobs::created_count.eq(job.created_count + created),
                import_jobs::updated_count.eq(job.updated_count + updated),
                import_jobs::error_count.eq(job.error_count + errors),
                import_jobs::finished_at.eq(done.then_some(now)),
            ))
            .returning(ImportJob::as_returning())
            .get_result(conn)?)
    })
}

/// Marks a job failed as a whole (the worker could not go on).
pub fn fail_job(
    conn: &mut PgConnection,
    tenant: TenantId,
    job: ImportJobId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::update(import_jobs::table.find((tenant, job)))
        .set((
            import_jobs::status.eq(ImportStatus::Failed),
            import_jobs::failure.eq(reason),
            import_jobs::finished_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

enum Applied {
    Created,
    Updated,
}

fn row_error(error: Error) -> String {
    match error {
        Error::Invalid(message) => message,
        Error::Conflict { constraint } if constraint == "cards_tenant_number_key" => {
            "This card number is already in use in this organisation.".into()
        }
        Error::Conflict { .. } => "This row conflicts with an existing record.".into(),
        other => {
            tracing::error!(error = ?other, "import row failed");
            "The row could not be applied (internal error).".into()
        }
    }
}

fn text(fields: &Value, key: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn apply_row(
    conn: &mut PgConnection,
    tenant: TenantId,
    kind: ImportKind,
    fields: &Value,
    now: DateTime<Utc>,
) -> Result<Applied> {
    match kind {
        ImportKind::Cards => {
            let number = text(fields, "cardnumber")
                .ok_or_else(|| Error::Invalid("The card number is empty.".into()))?;
            let key = text(fields, "username")
                .or_else(|| text(fields, "email"))
                .ok_or_else(|| {
                    Error::Invalid("The row names no user: give a userName or an email.".into())
                })?;
            let user = find_user_by_name_or_email(conn, tenant, &key)?.ok_or_else(|| {
                Error::Invalid(format!("No user with userName or email \"{key}\"."))
            })?;
            cards::add(conn, tenant, user.id, &number, CardSource::Import, now)?;
            Ok(Applied::Created)
        }
        ImportKind::Users => {
            let user_name = text(fields, "username")
                .ok_or_else(|| Error::Invalid("The userName is empty.".into()))?;
            let active = match text(fields, "active").map(|a| a.to_ascii_lowercase()) {
                None => None,
                Some(a) if matches!(a.as_str(), "true" | "yes" | "1" | "y") => Some(true),
                Some(a) if matches!(a.as_str(), "false" | "no" | "0" | "n") => Some(false),
                Some(a) => {
                    return Err(Error::Invalid(format!(
                        "\"active\" must be true or false, got \"{a}\"."
                    )));
                }
            };
            let existing = users::find_by_user_name(conn, tenant, &user_name)?;
            let mut doc = match &existing {
                Some(row) => row.attributes.as_object().cloned().unwrap_or_default(),
                None => Map::new(),
            };
            if existing.is_none() {
                doc.insert(
                    "schemas".into(),
                    json!(["urn:ietf:params:scim:schemas:core:2.0:User"]),
                );
                doc.insert("userName".into(), Value::String(user_name.clone()));
            }
            let mut name = doc
                .get("name")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (column, key) in [("givenname", "givenName"), ("familyname", "familyName")] {
                if let Some(value) = text(fields, column) {
                    name.insert(key.into(), Value::String(value));
                }
            }
            if !name.is_empty() {
                doc.insert("name".into(), Value::Object(name));
            }
            if let Some(display) = text(fields, "displayname") {
                doc.insert("displayName".into(), Value::String(display));
            }
            if let Some(email) = text(fields, "email") {
                if !email.contains('@') {
                    return Err(Error::Invalid(format!(
                        "\"{email}\" is not an email address."
                    )));
                }
                doc.insert(
                    "emails".into(),
                    json!([{ "value": email, "type": "work", "primary": true }]),
                );
            }
            if let Some(active) = active {
                doc.insert("active".into(), Value::Bool(active));
            }
            let fields = UserFields::from_document(Value::Object(doc))?;
            match existing {
                Some(row) => {
                    users::update(conn, tenant, &row, &fields, now)?;
                    Ok(Applied::Updated)
                }
                None => {
                    users::insert(conn, tenant, &fields, UserSource::Import, now)?;
                    Ok(Applied::Created)
                }
            }
        }
    }
}

/// The user whose userName, else whose email, equals `key` (case-insensitive).
pub fn find_user_by_name_or_email(
    conn: &mut PgConnection,
    tenant: TenantId,
    key: &str,
) -> Result<Option<users::UserRow>> {
    if let Some(user) = users::find_by_user_name(conn, tenant, key)? {
        return Ok(Some(user));
    }
    diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);
    Ok(users_table::table
        .filter(users_table::tenant_id.eq(tenant))
        .filter(users_table::email_key.eq(lower(Some(key))))
        .order(users_table::created_at.asc())
        .select(users::UserRow::as_select())
        .first(conn)
        .optional()?)
}
