-- A tier's birthday coupon: at most one per member, template and year (the business's
-- local year), however often the birthday job runs and on however many runners. The row
-- is written in the transaction that gives the coupon.
CREATE TABLE birthday_coupons (
    member_id   uuid NOT NULL REFERENCES members (id),
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    year        int NOT NULL,
    tier        text NOT NULL,
    code        text NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (member_id, template_id, year)
);
