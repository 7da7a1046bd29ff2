-- The tier ladder: a draft, every published version, the version in force; each member's
-- standing, every move with its reason, and the re-evaluations a publish starts.

CREATE TABLE tier_ladders (
    version      int PRIMARY KEY,
    ladder       jsonb NOT NULL,
    note         text NOT NULL DEFAULT '',
    published_by text NOT NULL,
    published_at timestamptz NOT NULL
);

-- At most one row each.
CREATE TABLE tier_ladder_active (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    version      int NOT NULL REFERENCES tier_ladders (version),
    activated_by text NOT NULL,
    activated_at timestamptz NOT NULL
);
CREATE TABLE tier_ladder_draft (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    ladder     jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A member without a row stands on the ladder's first tier.
CREATE TABLE member_tiers (
    member_id    uuid PRIMARY KEY REFERENCES members (id),
    tier         text NOT NULL,
    since        timestamptz NOT NULL,
    below_since  timestamptz,
    pin_tier     text,
    pinned_until timestamptz,
    pin_reason   text,
    pinned_by    text,
    evaluated_on date
);
CREATE INDEX member_tiers_tier ON member_tiers (tier);

CREATE TABLE tier_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id      uuid NOT NULL REFERENCES members (id),
    from_tier      text NOT NULL,
    to_tier        text NOT NULL,
    -- promotion, demotion, pin, unpin, pin_lapsed, ladder
    kind           text NOT NULL,
    metric         bigint,
    threshold      bigint,
    ladder_version int,
    reason         text NOT NULL DEFAULT '',
    actor          text NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX tier_history_member ON tier_history (member_id, id DESC);

CREATE TABLE tier_runs (
    id          uuid PRIMARY KEY,
    version     int NOT NULL,
    total       bigint NOT NULL,
    done        bigint NOT NULL DEFAULT 0,
    moved       bigint NOT NULL DEFAULT 0,
    -- the last member id done: a resumed run starts after it
    cursor      uuid,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'superseded')),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
