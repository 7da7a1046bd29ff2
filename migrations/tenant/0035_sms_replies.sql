-- Members' replies to text messages, as the SMS gateway reports them (POST /sms/replies), by
-- the provider's message id: a callback sent twice is applied once. The number is kept as
-- its keyed hash (the PII index), never in clear; `action` is what the reply did
-- (`opted_out`, or `ignored` when it asked for nothing or matched no member).
CREATE TABLE sms_replies (
    provider_id  text PRIMARY KEY,
    body_hash    bytea NOT NULL,
    phone_index  bytea,
    member_id    uuid,
    action       text NOT NULL,
    received_at  timestamptz NOT NULL
);
