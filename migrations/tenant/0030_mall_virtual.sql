-- Virtual mall items: the reward is coupons of a template, given to the member as the order is
-- placed (the order is completed at once). A virtual item names its template; other items
-- name none. The order keeps the codes it gave, so a cancel can void them.
-- Columns first, then each constraint alone: Citus adds no column together with a
-- constraint.
ALTER TABLE mall_items ADD COLUMN coupon_template_id uuid;
ALTER TABLE mall_items ADD CONSTRAINT mall_items_coupon_template
    FOREIGN KEY (coupon_template_id) REFERENCES coupon_templates (id);
ALTER TABLE mall_items DROP CONSTRAINT mall_items_delivery_check;
ALTER TABLE mall_items ADD CONSTRAINT mall_items_delivery_check
    CHECK (delivery IN ('pickup', 'shipping', 'virtual'));
ALTER TABLE mall_items ADD CONSTRAINT mall_items_virtual_template
    CHECK ((delivery = 'virtual') = (coupon_template_id IS NOT NULL));

ALTER TABLE mall_orders ADD COLUMN coupon_codes text[] NOT NULL DEFAULT '{}';
ALTER TABLE mall_orders DROP CONSTRAINT mall_orders_delivery_check;
ALTER TABLE mall_orders ADD CONSTRAINT mall_orders_delivery_check
    CHECK (delivery IN ('pickup', 'shipping', 'virtual'));
