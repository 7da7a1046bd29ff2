-- A redemption in one statement and a transaction of its own (docs/points.md, "One member's
-- redemptions"). The server decides the spend from a read of the account made without its
-- lock; this function then claims the request's idempotency key, locks the account and
-- checks that the decision still holds: the account exists, the points are there, no lot is
-- past its expiry at the redemption's instant, and (`p_balance_decides`: a deduction that
-- names no number takes as many as the balance allows) the balance is the one the decision
-- was made from. If it holds, it runs the redemption's statement with the balance it found
-- under the lock and answers the entry, the points the lots gave, whether the key's answer
-- was stored and the new balance. If the key was answered before, or the decision does not
-- hold, it answers nulls and leaves nothing behind (the server then claims, locks and
-- decides again in a transaction of its own). The account's lock is held until the commit
-- that follows at once: no reply to the server is waited for under it.
--
-- Parameters $1-$21 are those of the server's statement (`db::points::redeem_recorded`,
-- with its event folded in); the statement below is that statement word for word, checked
-- by the test `points::a_redemption_decided_without_the_lock_is_taken_only_while_its_decision_holds`.
-- A statement of its own inside the function takes its snapshot after the lock was granted,
-- so it sees the lots as the previous redemption left them. The function is called outside
-- any transaction, so it sets the tenant's search path itself (`p_path`, for this
-- transaction only).
CREATE FUNCTION redeem_locked(
    uuid, bigint, bigint, text, text, text, jsonb, text, timestamptz, bigint, text, jsonb,
    text, jsonb, text, text, jsonb, text, text, text, jsonb,
    p_seen_balance bigint, p_balance_decides boolean, p_hash bytea, p_path text,
    OUT o_entry bigint, OUT o_taken bigint, OUT o_answered bigint, OUT o_balance bigint
) LANGUAGE plpgsql AS $fn$
DECLARE
    v_member ALIAS FOR $1;
    v_points ALIAS FOR $2;
    v_balance ALIAS FOR $3;
    v_at ALIAS FOR $9;
    v_redeemed ALIAS FOR $10;
    v_answer ALIAS FOR $17;
    v_event ALIAS FOR $21;
    v_scope ALIAS FOR $15;
    v_key ALIAS FOR $16;
    v_claimed boolean;
    v_held bigint;
    v_total bigint;
BEGIN
    PERFORM set_config('search_path', p_path, true);
    INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
    VALUES (v_scope, v_key, p_hash, NULL, v_at)
    ON CONFLICT (scope, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at
        WHERE idempotency_keys.response IS NULL
    RETURNING true INTO v_claimed;
    IF v_claimed IS NULL THEN
        RETURN;
    END IF;
    SELECT a.balance, a.redeemed_total INTO v_held, v_total
    FROM point_accounts a WHERE a.member_id = v_member FOR UPDATE;
    IF NOT FOUND
        OR (p_balance_decides AND v_held <> p_seen_balance)
        OR v_points > GREATEST(v_held, 0)
        OR EXISTS (SELECT 1 FROM point_lots WHERE member_id = v_member AND remaining > 0
                   AND expires_at <= v_at) THEN
        DELETE FROM idempotency_keys WHERE scope = v_scope AND key = v_key;
        RETURN;
    END IF;
    v_balance := v_held - v_points;
    v_redeemed := v_total + v_points;
    v_answer := jsonb_set(v_answer, '{balance}', to_jsonb(v_balance));
    v_event := jsonb_set(v_event, '{balance}', to_jsonb(v_balance));
    WITH e AS (
        INSERT INTO point_entries (member_id, kind, points, balance, source,
        source_id, rule_version, reason, detail, actor, at, reason_code, reason_params)
        VALUES ($1, 'redeem', -$2, $3, $4, $5, NULL, $6, $7, $8, $9, $11, $12)
        RETURNING id
    ), open AS (
        SELECT id, remaining, sum(remaining) OVER (
            ORDER BY coalesce(entry_id = NULL::bigint, false) DESC, expires_at ASC NULLS LAST, id
        ) AS running
        FROM point_lots WHERE member_id = $1 AND remaining > 0
    ), hit AS (
        SELECT id, remaining, running FROM open WHERE running - remaining < $2
    ), done AS (
        UPDATE point_lots l SET remaining = GREATEST(hit.running - $2, 0)
        FROM hit WHERE l.id = hit.id
        RETURNING l.id AS lot_id, hit.remaining - l.remaining AS taken
    ), acct AS (
        UPDATE point_accounts SET balance = $3, redeemed_total = $10, updated_at = $9
        WHERE member_id = $1
    ), aud AS (
        INSERT INTO audit_log (at, actor, action, target, detail)
        VALUES ($9, $8, $13, $1::text, $14)
    ), k AS (
        UPDATE idempotency_keys
        SET response = jsonb_set($17::jsonb, '{entry_id}', to_jsonb((SELECT id FROM e)))
        WHERE scope = $15 AND key = $16 RETURNING 1
    ), ob AS (
        INSERT INTO outbox (event, member_id, entity, occasion, data, created_at)
        SELECT $18, $1, $19, coalesce($20, e.id::text),
               jsonb_set($21::jsonb, '{entry_id}', to_jsonb(e.id)), $9
        FROM e
    ) SELECT (SELECT id FROM e), (SELECT coalesce(sum(taken), 0)::bigint FROM done),
        (SELECT count(*) FROM k)
    INTO o_entry, o_taken, o_answered;
    o_balance := v_balance;
END
$fn$;
