-- Short name searches, newest first. Every 1- and 2-character piece of a member's name is
-- kept with the member's creation time in a table of its own, indexed by (piece, created_at,
-- member_id): a search for one piece walks that index from the newest match, joins each to
-- its member, and stops at the page size instead of reading and sorting every match (a
-- GIN index over the pieces gives no order). Kept in step with `members` by statement
-- triggers, so bulk inserts (imports, COPY) add their pieces in one statement.

CREATE TABLE member_name_grams (
    gram       text NOT NULL,
    created_at timestamptz NOT NULL,
    member_id  uuid NOT NULL
);

INSERT INTO member_name_grams (gram, created_at, member_id)
SELECT g, m.created_at, m.id FROM members m, unnest(member_name_grams(m.name)) AS g;

ALTER TABLE member_name_grams ADD PRIMARY KEY (member_id, gram);
CREATE INDEX member_name_grams_newest ON member_name_grams (gram, created_at, member_id);

-- The GIN index over the pieces on the member row is superseded by the table above.
ALTER TABLE members DROP COLUMN name_grams;

-- The functions keep the schema they were created in, so they work whatever the caller's
-- search_path (COPY into a schema-qualified table, for one).
CREATE FUNCTION member_name_grams_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO member_name_grams (gram, created_at, member_id)
    SELECT g, n.created_at, n.id FROM new_rows n, unnest(member_name_grams(n.name)) AS g;
    RETURN NULL;
END $$;

CREATE FUNCTION member_name_grams_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM member_name_grams g
    USING old_rows o JOIN new_rows n ON n.id = o.id
    WHERE g.member_id = o.id
      AND (o.name IS DISTINCT FROM n.name OR o.created_at IS DISTINCT FROM n.created_at);
    INSERT INTO member_name_grams (gram, created_at, member_id)
    SELECT g, n.created_at, n.id
    FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(member_name_grams(n.name)) AS g
    WHERE o.name IS DISTINCT FROM n.name OR o.created_at IS DISTINCT FROM n.created_at;
    RETURN NULL;
END $$;

CREATE FUNCTION member_name_grams_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM member_name_grams g USING old_rows o WHERE g.member_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER members_name_grams_insert AFTER INSERT ON members
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION member_name_grams_inserted();
CREATE TRIGGER members_name_grams_update AFTER UPDATE ON members
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION member_name_grams_updated();
CREATE TRIGGER members_name_grams_delete AFTER DELETE ON members
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION member_name_grams_deleted();
