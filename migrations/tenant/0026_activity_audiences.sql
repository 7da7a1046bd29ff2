-- Who may join an activity, besides tiers.
--
-- A segment, kept as the member search's filter (the same conditions `POST /members/search`
-- takes, as JSON). No segment: the tiers decide.
ALTER TABLE activities ADD COLUMN segment jsonb;

-- Guests: people who are not members, added by staff by name and phone. A guest holds one
-- of the activity's seats (the same counter, `activities.taken`, taken by the same
-- conditional statement), so members and guests never overrun the capacity together. The
-- phone is kept sealed (encrypted, found by its keyed hash) with a masked form to show.
CREATE TABLE activity_guests (
    id            uuid PRIMARY KEY,
    activity_id   uuid NOT NULL REFERENCES activities (id),
    name          text NOT NULL,
    phone_enc     bytea NOT NULL,
    phone_key     smallint NOT NULL,
    phone_index   bytea NOT NULL,
    phone_masked  text NOT NULL,
    status        text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    checked_in_at timestamptz,
    checked_in_by text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- One seat per phone and activity.
CREATE UNIQUE INDEX activity_guests_one_live ON activity_guests (activity_id, phone_index)
    WHERE status = 'confirmed';
CREATE INDEX activity_guests_activity ON activity_guests (activity_id, created_at);
