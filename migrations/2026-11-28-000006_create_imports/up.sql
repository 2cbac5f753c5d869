-- CSV imports run as jobs so that a large file never holds a request open: the upload is
-- validated and stored, a worker applies it in batches, and the console shows progress.
CREATE TABLE import_jobs (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('users', 'cards')),
    status         text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    file_name      text        NOT NULL,
    total_rows     integer     NOT NULL,
    processed_rows integer     NOT NULL DEFAULT 0,
    created_count  integer     NOT NULL DEFAULT 0,
    updated_count  integer     NOT NULL DEFAULT 0,
    error_count    integer     NOT NULL DEFAULT 0,
    failure        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX import_jobs_tenant_created_idx ON import_jobs (tenant_id, created_at DESC);

-- The rows of a job's file, kept until the job has applied them, with each row's outcome.
CREATE TABLE import_rows (
    tenant_id uuid    NOT NULL,
    job_id    uuid    NOT NULL,
    line      integer NOT NULL,
    fields    jsonb   NOT NULL,
    outcome   text    CHECK (outcome IN ('created', 'updated', 'error')),
    message   text,
    PRIMARY KEY (tenant_id, job_id, line),
    FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, id) ON DELETE CASCADE
);
