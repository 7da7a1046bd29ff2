-- A mall item's picture by upload (the addresses in `pictures` keep working for older
-- rows). Columns first, then each constraint alone: Citus adds no column together with a
-- constraint.
ALTER TABLE mall_items ADD COLUMN picture_upload_id uuid;
ALTER TABLE mall_items ADD CONSTRAINT mall_items_picture_upload
    FOREIGN KEY (picture_upload_id) REFERENCES uploads (id) ON DELETE SET NULL;
