-- One table of idempotency keys for every write from outside (redemptions, adjustments,
-- purchases, refunds, events, check-ins, top-ups and their refunds, pass uses and
-- reversals, pass and membership sales, renewals, freezes and cancels).
--
-- A request claims (scope, key) first, in its own transaction, with `response` still NULL:
-- a duplicate racing it waits on the uncommitted row, then reads the committed answer in a
-- new statement. `response` is filled before the first request commits; a request that is
-- refused rolls back and leaves no row (NULL is only seen for a claim whose request
-- committed without an answer, and the next request takes such a claim over).
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- The answers stored so far keep answering retries.
INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
SELECT scope, key, request_hash, response, created_at FROM point_requests
ON CONFLICT DO NOTHING;
INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
SELECT scope, key, request_hash, response, created_at FROM prepaid_requests
ON CONFLICT DO NOTHING;

DROP TABLE point_requests;
DROP TABLE prepaid_requests;
