-- Coupons issued to a segment of members (any member search) by a background job: one row
-- per run with its progress; the job walks the segment a batch per transaction from the
-- run's keyset, so a restarted job carries on where the last committed batch ended.
CREATE TABLE coupon_segment_issues (
    id          uuid PRIMARY KEY,
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    search      jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'stopped')),
    -- Why a run stopped before the segment's end: sold_out, coupons_per_month, archived, expired.
    stop_reason text,
    matched     bigint NOT NULL CHECK (matched >= 0),
    done        bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
    issued      bigint NOT NULL DEFAULT 0 CHECK (issued >= 0),
    -- Members who hold as many of the template as they may.
    skipped     bigint NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    cursor_at   timestamptz,
    cursor_id   uuid,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX coupon_segment_issues_template ON coupon_segment_issues (template_id, created_at DESC);
