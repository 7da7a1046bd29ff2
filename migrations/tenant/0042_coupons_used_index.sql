-- A template's used coupons are counted when staff see the template: read from an index of
-- the used ones only, not from every coupon the template issued.
CREATE INDEX coupons_template_used ON coupons (template_id) WHERE status = 'used';
