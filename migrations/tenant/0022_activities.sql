-- Activities (活动): what the business runs, who signed up, who came, what they thought.
--
-- Seats are ONE counter, `activities.taken`, shared by sign-ups, approvals, waitlist
-- offers and staff moves: it is taken by one conditional statement
-- (`UPDATE activities SET taken = taken + 1 WHERE id = $1 AND taken < capacity`) and the
-- CHECK below keeps it within the capacity whatever runs at once.
CREATE TABLE activities (
    id               uuid PRIMARY KEY,
    title            text NOT NULL,
    description      text NOT NULL DEFAULT '',
    cover_url        text,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    place            text NOT NULL DEFAULT '',
    organisers       uuid[] NOT NULL DEFAULT '{}',
    capacity         int NOT NULL CHECK (capacity > 0),
    taken            int NOT NULL DEFAULT 0,
    -- Tier codes that may join; empty: everyone.
    tiers            text[] NOT NULL DEFAULT '{}',
    price_points     bigint NOT NULL DEFAULT 0 CHECK (price_points >= 0),
    attend_points    bigint NOT NULL DEFAULT 0 CHECK (attend_points >= 0),
    signup_opens_at  timestamptz,
    signup_closes_at timestamptz,
    cancel_until     timestamptz,
    approval         text NOT NULL CHECK (approval IN ('automatic', 'staff')),
    offer_minutes    int NOT NULL CHECK (offer_minutes > 0),
    budget           bigint CHECK (budget >= 0),
    status           text NOT NULL
                     CHECK (status IN ('draft', 'published', 'closed', 'finished', 'cancelled')),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT activities_seats CHECK (taken >= 0 AND taken <= capacity),
    CONSTRAINT activities_ends_after_start CHECK (ends_at > starts_at)
);
CREATE INDEX activities_starts ON activities (starts_at);

CREATE TABLE activity_registrations (
    id               uuid PRIMARY KEY,
    -- Short, for the check-in code.
    number           int GENERATED ALWAYS AS IDENTITY UNIQUE,
    activity_id      uuid NOT NULL REFERENCES activities (id),
    member_id        uuid NOT NULL REFERENCES members (id),
    status           text NOT NULL CHECK (status IN ('pending', 'confirmed', 'waitlisted',
                     'offered', 'cancelled', 'rejected', 'lapsed')),
    -- The line: smaller first (taken from a sequence when the person joins it).
    waitlist_seq     bigint,
    offer_expires_at timestamptz,
    points_paid      bigint NOT NULL DEFAULT 0,
    paid_entry_id    bigint,
    refunded_at      timestamptz,
    reason           text,
    checked_in_at    timestamptz,
    checked_in_by    text,
    attend_points    bigint,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE SEQUENCE activity_waitlist_seq;
-- One live registration per member and activity.
CREATE UNIQUE INDEX activity_registrations_one_live ON activity_registrations (activity_id, member_id)
    WHERE status IN ('pending', 'confirmed', 'waitlisted', 'offered');
CREATE INDEX activity_registrations_line ON activity_registrations (activity_id, waitlist_seq)
    WHERE status = 'waitlisted';
CREATE INDEX activity_registrations_offers ON activity_registrations (offer_expires_at)
    WHERE status = 'offered';
CREATE INDEX activity_registrations_member ON activity_registrations (member_id);

CREATE TABLE activity_ratings (
    registration_id uuid PRIMARY KEY REFERENCES activity_registrations (id),
    activity_id     uuid NOT NULL REFERENCES activities (id),
    member_id       uuid NOT NULL REFERENCES members (id),
    stars           smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment         text NOT NULL DEFAULT '',
    hidden_at       timestamptz,
    hidden_by       text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX activity_ratings_activity ON activity_ratings (activity_id);
