-- At most one birthday award per member per year.
CREATE TABLE birthday_awards (
    member_id uuid NOT NULL REFERENCES members (id),
    year      int NOT NULL,
    points    bigint NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (member_id, year)
);
