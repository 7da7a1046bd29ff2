-- Spare tenant schemas: schemas made ahead of time with every tenant migration applied,
-- each waiting for a signup (its id is the next account's id, its schema `t_<id>`). A signup
-- takes one instead of running the tenant migrations itself (about 150 DDL statements), so
-- it costs a few statements. `schema_version` is the tenant migration the schema was brought
-- to; a server takes only spares at its own latest version and drops older ones.
CREATE TABLE platform.spare_schemas (
    id             bigint PRIMARY KEY,
    schema_version bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
