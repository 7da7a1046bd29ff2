-- Businesses whose figures the operators' figures job could not take (their schema missing,
-- say), with when and why. A failed business waits as long as a counted one before it is
-- tried again, and takes its turn behind the others: failures cannot take every slot of a
-- pass and keep the rest from being counted. Taking its figures deletes its row.
CREATE TABLE platform.figures_failures (
    tenant_id bigint PRIMARY KEY REFERENCES platform.tenants (id) ON DELETE CASCADE,
    failed_at timestamptz NOT NULL,
    error     text NOT NULL
);
