-- An activity's price: free, points (`price_points`), stored value (`price_fen`, minor
-- units) or one visit of a pass product (`pass_product_id`). Exactly the column of its kind
-- is set; the others stay at zero (or empty).
-- Columns first, then each constraint alone: Citus adds no column together with a
-- constraint.
ALTER TABLE activities
    ADD COLUMN price_kind text NOT NULL DEFAULT 'free',
    ADD COLUMN price_fen bigint NOT NULL DEFAULT 0,
    ADD COLUMN pass_product_id uuid;
ALTER TABLE activities ADD CONSTRAINT activities_price_kind
    CHECK (price_kind IN ('free', 'points', 'stored_value', 'pass'));
ALTER TABLE activities ADD CONSTRAINT activities_price_fen CHECK (price_fen >= 0);
ALTER TABLE activities ADD CONSTRAINT activities_pass_product
    FOREIGN KEY (pass_product_id) REFERENCES pass_products (id);
UPDATE activities SET price_kind = 'points' WHERE price_points > 0;
ALTER TABLE activities ADD CONSTRAINT activities_price CHECK (
    CASE price_kind
        WHEN 'free' THEN price_points = 0 AND price_fen = 0 AND pass_product_id IS NULL
        WHEN 'points' THEN price_points > 0 AND price_fen = 0 AND pass_product_id IS NULL
        WHEN 'stored_value' THEN price_fen > 0 AND price_points = 0 AND pass_product_id IS NULL
        ELSE pass_product_id IS NOT NULL AND price_points = 0 AND price_fen = 0
    END
);

-- What a sign-up was charged, so that a refund gives back exactly that, the way it came:
-- stored value by sub-ledger (`principal_paid` + `bonus_paid` = `fen_paid`), or the pass
-- visit used (`pass_use_id` of `pass_id`). `refunded_at` marks any refund, once.
ALTER TABLE activity_registrations
    ADD COLUMN fen_paid bigint NOT NULL DEFAULT 0,
    ADD COLUMN principal_paid bigint NOT NULL DEFAULT 0,
    ADD COLUMN bonus_paid bigint NOT NULL DEFAULT 0,
    ADD COLUMN pass_id uuid,
    ADD COLUMN pass_use_id bigint;
ALTER TABLE activity_registrations ADD CONSTRAINT activity_registrations_paid
    CHECK (fen_paid >= 0 AND principal_paid >= 0 AND bonus_paid >= 0);
ALTER TABLE activity_registrations ADD CONSTRAINT activity_registrations_pass
    FOREIGN KEY (pass_id) REFERENCES member_passes (id);
ALTER TABLE activity_registrations ADD CONSTRAINT activity_registrations_pass_use_fk
    FOREIGN KEY (pass_use_id) REFERENCES pass_uses (id);
ALTER TABLE activity_registrations ADD CONSTRAINT activity_registrations_fen_split
    CHECK (fen_paid = principal_paid + bonus_paid);
ALTER TABLE activity_registrations ADD CONSTRAINT activity_registrations_pass_use
    CHECK ((pass_id IS NULL) = (pass_use_id IS NULL));

-- The sign-up a stored-value entry charged or refunded. One spend and one refund per
-- sub-ledger and sign-up, whatever is retried.
ALTER TABLE stored_value_entries ADD COLUMN registration_id uuid;
ALTER TABLE stored_value_entries ADD CONSTRAINT stored_value_entries_registration_fk
    FOREIGN KEY (registration_id) REFERENCES activity_registrations (id);
CREATE UNIQUE INDEX stored_value_entries_registration
    ON stored_value_entries (registration_id, ledger, kind) WHERE registration_id IS NOT NULL;
