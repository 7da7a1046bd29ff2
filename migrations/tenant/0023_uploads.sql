-- Uploaded files (pictures), kept in an S3-compatible store under `t/<tenant id>/...`.
--
-- An upload is `pending` from the moment its presigned address is handed out until the
-- server has seen the object (HEAD: the declared size and type) and counted it: then it
-- is `stored`. Storage in use is ONE counter, `upload_usage.bytes`, added to at `complete`
-- by one conditional statement
-- (`UPDATE upload_usage SET bytes = bytes + $1 WHERE bytes + $1 <= $cap`), so parallel
-- completes never go past the plan's `storage_mb`.
CREATE TABLE uploads (
    id           uuid PRIMARY KEY,
    purpose      text NOT NULL
                 CHECK (purpose IN ('activity_cover', 'activity_photo', 'mall_item', 'member_avatar')),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size         bigint NOT NULL CHECK (size > 0),
    file_name    text NOT NULL,
    object_key   text NOT NULL UNIQUE,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'stored')),
    -- `staff:<id>`, `key:<id>` or `member:<id>`.
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    stored_at    timestamptz
);
CREATE INDEX uploads_pending ON uploads (expires_at) WHERE state = 'pending';

CREATE TABLE upload_usage (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    bytes    bigint NOT NULL DEFAULT 0 CONSTRAINT upload_usage_not_negative CHECK (bytes >= 0)
);
INSERT INTO upload_usage DEFAULT VALUES;

-- A cover picture by upload (the address in `cover_url` keeps working for older rows).
ALTER TABLE activities ADD COLUMN cover_upload_id uuid REFERENCES uploads (id) ON DELETE SET NULL;

-- The photo wall: staff's photos and those of members who checked in.
CREATE TABLE activity_photos (
    id          uuid PRIMARY KEY,
    activity_id uuid NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    upload_id   uuid NOT NULL UNIQUE REFERENCES uploads (id) ON DELETE CASCADE,
    -- The member who added it (none: staff did).
    member_id   uuid REFERENCES members (id),
    added_by    text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX activity_photos_activity ON activity_photos (activity_id, created_at);
