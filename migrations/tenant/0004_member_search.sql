-- Faster member search: short name substrings (one or two characters, common for Chinese
-- names, which trigrams cannot index), and ranges over custom field values.

-- Every 1- and 2-character piece of a name, lower-cased.
CREATE FUNCTION member_name_grams(n text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
        SELECT lower(substr(n, i, 1)) AS g FROM generate_series(1, char_length(n)) AS i
        UNION
        SELECT lower(substr(n, i, 2)) FROM generate_series(1, char_length(n) - 1) AS i
    ) pieces
$$;

ALTER TABLE members ADD COLUMN name_grams text[]
    GENERATED ALWAYS AS (member_name_grams(name)) STORED;
CREATE INDEX members_name_grams ON members USING gin (name_grams);

-- A custom value as a number when it is one (for range indexes per numeric field, created
-- when a field schema is published).
CREATE FUNCTION member_cf_num(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN v::numeric END
$$;
