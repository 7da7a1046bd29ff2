-- API requests per tenant per minute, counted in the database so that every replica of the
-- server shares one budget (N replicas must not allow N times the plan's rate). One row per
-- tenant and minute (minutes since the Unix epoch, UTC); rows older than the previous minute
-- are deleted by the servers. UNLOGGED: a window lost in a crash or a fail-over only resets
-- a one-minute budget, and the table costs no WAL on the hot path.
CREATE UNLOGGED TABLE platform.rate_windows (
    tenant_id bigint NOT NULL,
    minute bigint NOT NULL,
    requests bigint NOT NULL,
    PRIMARY KEY (tenant_id, minute)
);
