-- Saved segments: a named member search staff keep and reuse (the member list opens it, a
-- campaign takes it as its audience). The filter is the member search's request as given.

CREATE TABLE segments (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    filter          jsonb NOT NULL,
    idempotency_key text,
    request_hash    text NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      text NOT NULL,
    updated_at      timestamptz NOT NULL,
    updated_by      text NOT NULL
);
-- One name per business, whatever its case.
CREATE UNIQUE INDEX segments_name_key ON segments (lower(name));
CREATE UNIQUE INDEX segments_idempotency_key_key ON segments (idempotency_key);

-- A campaign sent to a saved segment names it; its `filter` is the segment's filter as it
-- was when the campaign was created (editing the segment later does not change it).
ALTER TABLE campaigns ADD COLUMN segment_id uuid;
