-- A member import's file is kept in the database, in parts, until the import ends: any
-- replica can run the import, and another takes it over when the one running it dies.
CREATE TABLE member_import_files (
    import_id uuid NOT NULL REFERENCES member_imports (id) ON DELETE CASCADE,
    part      int NOT NULL CHECK (part >= 0),
    data      bytea NOT NULL,
    PRIMARY KEY (import_id, part)
);
-- The column mapping the import was started with, and which run of it may record progress
-- and the outcome: a run taking over from a dead one raises `attempt`, after which the dead
-- one's transaction can no longer commit anything.
ALTER TABLE member_imports ADD COLUMN mapping jsonb NOT NULL DEFAULT '{}';
ALTER TABLE member_imports ADD COLUMN attempt int NOT NULL DEFAULT 1;
-- Why an import failed, as a stable code and its values, for the reader's language (`message`
-- keeps the English words for API callers).
ALTER TABLE member_imports ADD COLUMN message_code text;
ALTER TABLE member_imports ADD COLUMN message_params jsonb NOT NULL DEFAULT '{}';
