-- Member imports: one row per uploaded file, with progress and the report of bad rows.
CREATE TABLE member_imports (
    id            uuid PRIMARY KEY,
    format        text NOT NULL,
    mode          text NOT NULL,
    status        text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    rows_read     bigint NOT NULL DEFAULT 0,
    rows_valid    bigint NOT NULL DEFAULT 0,
    rows_imported bigint NOT NULL DEFAULT 0,
    error_count   bigint NOT NULL DEFAULT 0,
    errors        jsonb NOT NULL DEFAULT '[]',
    message       text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    finished_at   timestamptz
);
