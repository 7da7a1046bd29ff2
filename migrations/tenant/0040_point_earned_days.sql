-- What the tier metric `points_earned` counts (earnings less their reversals; adjustments and
-- tier gifts never count), kept per member and UTC day by the write path, with the running
-- total through each day: a window's sum is two running totals apart, corrected by the
-- entries of the window's first and last day, so a purchase's tier check no longer reads
-- every entry of the member's history. `first_entry`/`last_entry` bound the day's entries
-- (the ledger's `(member_id, id)` index finds them without scanning other days).
CREATE TABLE point_earned_days (
    member_id   uuid NOT NULL,
    day         date NOT NULL,
    points      bigint NOT NULL,
    total       bigint NOT NULL,
    first_entry bigint NOT NULL,
    last_entry  bigint NOT NULL,
    PRIMARY KEY (member_id, day)
);

INSERT INTO point_earned_days (member_id, day, points, total, first_entry, last_entry)
SELECT member_id, day, sum(points),
       sum(sum(points)) OVER (PARTITION BY member_id ORDER BY day),
       min(id), max(id)
FROM (
    SELECT member_id, (at AT TIME ZONE 'UTC')::date AS day, points, id
    FROM point_entries
    WHERE kind IN ('earn', 'reverse') AND source NOT IN ('adjustment', 'tier_gift')
) e
GROUP BY member_id, day;

-- Every counted entry adds to its day and to the running total of that day and every later
-- one (a later day exists only when an entry is written with an earlier time than one
-- already there). Usually the day's row is there already: one UPDATE does it all; the first
-- entry of a day inserts the row, its running total carried from the day before. A member's
-- entries are written under the lock on their points account, so the running totals never
-- interleave (and the insert still settles a race on the key).
CREATE FUNCTION point_earned_days_add() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    d date := (NEW.at AT TIME ZONE 'UTC')::date;
    found_day boolean;
    before bigint;
BEGIN
    WITH u AS (
        UPDATE point_earned_days
        SET total = total + NEW.points,
            points = CASE WHEN day = d THEN points + NEW.points ELSE points END,
            first_entry = CASE WHEN day = d THEN least(first_entry, NEW.id) ELSE first_entry END,
            last_entry = CASE WHEN day = d THEN greatest(last_entry, NEW.id) ELSE last_entry END
        WHERE member_id = NEW.member_id AND day >= d
        RETURNING day
    )
    SELECT coalesce(bool_or(day = d), false) INTO found_day FROM u;
    IF NOT found_day THEN
        -- Read first, then insert plain values (Citus takes no subquery inside an INSERT).
        SELECT p.total INTO before FROM point_earned_days p
        WHERE p.member_id = NEW.member_id AND p.day < d
        ORDER BY p.day DESC LIMIT 1;
        INSERT INTO point_earned_days AS x (member_id, day, points, total, first_entry, last_entry)
        VALUES (NEW.member_id, d, NEW.points, NEW.points + coalesce(before, 0), NEW.id, NEW.id)
        ON CONFLICT (member_id, day) DO UPDATE
            SET points = x.points + NEW.points, total = x.total + NEW.points,
                first_entry = least(x.first_entry, NEW.id),
                last_entry = greatest(x.last_entry, NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER point_entries_earned_days AFTER INSERT ON point_entries
    FOR EACH ROW
    WHEN (NEW.kind IN ('earn', 'reverse') AND NEW.source NOT IN ('adjustment', 'tier_gift'))
    EXECUTE FUNCTION point_earned_days_add();
