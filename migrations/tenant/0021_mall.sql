-- The points mall (积分商城): catalogue items with stock bought for points (or points and
-- cash), orders with the lots their points came from, each order's changes, and the
-- per-member counters that hold the per-member limits. See docs/mall.md.

-- One row of mall settings: how long a pending order waits before it is cancelled on its
-- own (NULL: it waits for staff).
CREATE TABLE mall_settings (
    id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
    pending_limit_hours int CHECK (pending_limit_hours > 0),
    updated_at          timestamptz NOT NULL,
    updated_by          text NOT NULL
);
INSERT INTO mall_settings (pending_limit_hours, updated_at, updated_by)
VALUES (NULL, now(), 'system');

-- Items are archived, never deleted (orders keep their name and price anyway). `stock` is
-- taken by one conditional statement and can never go below zero.
CREATE TABLE mall_items (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    pictures        text[] NOT NULL DEFAULT '{}',
    points          bigint NOT NULL CHECK (points > 0),
    cash            bigint NOT NULL DEFAULT 0 CHECK (cash >= 0),
    stock           bigint NOT NULL CHECK (stock >= 0),
    per_member      int CHECK (per_member > 0),
    per_order       int CHECK (per_order > 0),
    tiers           text[] NOT NULL DEFAULT '{}',
    available_from  timestamptz,
    available_until timestamptz,
    delivery        text NOT NULL CHECK (delivery IN ('pickup', 'shipping')),
    archived        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    updated_by      text NOT NULL
);
CREATE INDEX mall_items_offered ON mall_items (archived, created_at);

-- Units of an item a member holds in orders not cancelled: raised by one conditional
-- upsert that refuses to pass the item's per-member limit, lowered by a cancel.
CREATE TABLE mall_member_counts (
    item_id   uuid NOT NULL REFERENCES mall_items (id),
    member_id uuid NOT NULL REFERENCES members (id),
    ordered   bigint NOT NULL CHECK (ordered >= 0),
    PRIMARY KEY (item_id, member_id)
);

CREATE TABLE mall_orders (
    id           uuid PRIMARY KEY,
    member_id    uuid NOT NULL REFERENCES members (id),
    item_id      uuid NOT NULL REFERENCES mall_items (id),
    item_name    text NOT NULL,
    quantity     int NOT NULL CHECK (quantity > 0),
    points       bigint NOT NULL CHECK (points > 0),
    cash         bigint NOT NULL CHECK (cash >= 0),
    delivery     text NOT NULL CHECK (delivery IN ('pickup', 'shipping')),
    address      jsonb,
    pickup_code  text UNIQUE,
    tracking     text,
    state        text NOT NULL CHECK (state IN ('pending', 'approved', 'shipped',
                                                'ready_for_pickup', 'completed', 'cancelled')),
    entry_id     bigint NOT NULL,
    refund_entry bigint,
    placed_by    text NOT NULL,
    placed_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX mall_orders_queue ON mall_orders (state, placed_at DESC, id);
CREATE INDEX mall_orders_member ON mall_orders (member_id, placed_at DESC, id);
CREATE INDEX mall_orders_placed ON mall_orders (placed_at DESC, id);

-- Which lots an order's points came from, and how many from each: a cancel puts them back
-- into the same lots (with their own expiry).
CREATE TABLE mall_order_lots (
    order_id uuid NOT NULL REFERENCES mall_orders (id),
    lot_id   bigint NOT NULL,
    points   bigint NOT NULL CHECK (points > 0),
    PRIMARY KEY (order_id, lot_id)
);

-- Every change of an order's state: who, when and why.
CREATE TABLE mall_order_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   uuid NOT NULL REFERENCES mall_orders (id),
    from_state text,
    to_state   text NOT NULL,
    actor      text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL
);
CREATE INDEX mall_order_events_order ON mall_order_events (order_id, id);
