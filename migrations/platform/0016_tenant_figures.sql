-- Each business's figures for the operators' dashboard, counted from its own tables by a
-- background job (a few businesses per pass, the stalest first) so that the dashboard reads
-- one small table instead of every business's schema.
--
-- purchases_by_day: {"YYYY-MM-DD": purchases} for the UTC days from 30 days before
-- refreshed_at to its day, days without purchases left out.
-- A business without a row has not been counted yet (the dashboard says how many).
CREATE TABLE platform.tenant_figures (
    tenant_id        bigint PRIMARY KEY REFERENCES platform.tenants (id) ON DELETE CASCADE,
    members          bigint NOT NULL CHECK (members >= 0),
    purchases_by_day jsonb NOT NULL DEFAULT '{}',
    refreshed_at     timestamptz NOT NULL
);
-- The job picks the stalest first.
CREATE INDEX tenant_figures_refreshed ON platform.tenant_figures (refreshed_at);
