-- Promotions (优惠活动): offers for a period of local days, to everyone or to some tiers,
-- giving more points on purchases, a coupon to each member who buys during the period and
-- reduced mall prices; with each member they reached and what it gave them. See
-- docs/promotions.md.

-- `status` is what staff set; scheduled, running and ended follow from the period.
-- `starts_at`/`ends_at` are the local days' bounds in the business's time zone, kept
-- beside the days as set ([starts_at, ends_at)).
CREATE TABLE promotions (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    description        text NOT NULL DEFAULT '',
    starts_on          date NOT NULL,
    ends_on            date NOT NULL CHECK (ends_on >= starts_on),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL CHECK (ends_at > starts_at),
    tiers              text[] NOT NULL DEFAULT '{}',
    -- Hundredths: 150 is ×1.5 of what the purchase rule gave.
    multiplier_pct     int CHECK (multiplier_pct BETWEEN 101 AND 1000),
    bonus_points       bigint CHECK (bonus_points > 0),
    coupon_template_id uuid REFERENCES coupon_templates (id),
    status             text NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'published', 'stopped')),
    published_at       timestamptz,
    stopped_at         timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    updated_by         text NOT NULL
);
CREATE INDEX promotions_live ON promotions (status, ends_at);
CREATE INDEX promotions_listed ON promotions (created_at DESC, id);

-- Reduced points prices of mall items while a promotion runs.
CREATE TABLE promotion_items (
    promotion_id uuid NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    item_id      uuid NOT NULL REFERENCES mall_items (id),
    points       bigint NOT NULL CHECK (points > 0),
    PRIMARY KEY (promotion_id, item_id)
);
CREATE INDEX promotion_items_item ON promotion_items (item_id);

-- Each member a promotion reached (bought during it, in its audience): their purchases,
-- what they spent, the points it added, and the coupon it gave them (once per member).
CREATE TABLE promotion_members (
    promotion_id uuid NOT NULL REFERENCES promotions (id),
    member_id    uuid NOT NULL REFERENCES members (id),
    purchases    int NOT NULL CHECK (purchases > 0),
    sales        bigint NOT NULL CHECK (sales >= 0),
    points       bigint NOT NULL CHECK (points >= 0),
    coupon_id    uuid REFERENCES coupons (id),
    first_at     timestamptz NOT NULL,
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (promotion_id, member_id)
);

-- Coupons given by a promotion (and, later, by tiers, rules, segment issues and the mall).
ALTER TABLE coupons DROP CONSTRAINT coupons_channel_check;
ALTER TABLE coupons ADD CONSTRAINT coupons_channel_check
    CHECK (channel IN ('staff', 'claim', 'batch', 'shared', 'promotion', 'tier', 'rule',
                       'segment', 'mall'));

-- A coupon held for a cart for some minutes: a purchase carrying the reservation uses it,
-- others cannot meanwhile. It lapses by time alone (no job): the statements compare
-- `reserved_until` with the clock.
ALTER TABLE coupons ADD COLUMN reservation_id uuid, ADD COLUMN reserved_until timestamptz;
CREATE UNIQUE INDEX coupons_reservation ON coupons (reservation_id) WHERE reservation_id IS NOT NULL;
