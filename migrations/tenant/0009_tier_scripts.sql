-- Tier scripts (a ladder's optional Rhai script that decides the tier). A script that fails
-- for a member leaves their tier as it is; the latest failure per member is kept here for
-- staff (the tiers page), cleared when another ladder version is put in force.
CREATE TABLE tier_script_errors (
    member_id      uuid PRIMARY KEY REFERENCES members (id),
    ladder_version int NOT NULL,
    -- event (a purchase, check-in, ...), evaluation (the scheduled one) or run (after a publish)
    during         text NOT NULL,
    kind           text NOT NULL,
    message        text NOT NULL,
    line           int,
    col            int,
    lim            text,
    failures       bigint NOT NULL DEFAULT 1,
    at             timestamptz NOT NULL
);
CREATE INDEX tier_script_errors_at ON tier_script_errors (at DESC);

-- Members the re-evaluation could not place because the script failed for them.
ALTER TABLE tier_runs ADD COLUMN errors bigint NOT NULL DEFAULT 0;

-- Tier history exports filter by date.
CREATE INDEX tier_history_at ON tier_history (at, id);
