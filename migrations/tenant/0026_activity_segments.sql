-- Who may join an activity, besides tiers: a segment, kept as the member search's filter
-- (the same conditions `POST /members/search` takes, as JSON). No segment: the tiers decide.
ALTER TABLE activities ADD COLUMN segment jsonb;
