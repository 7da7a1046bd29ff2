-- The scheduled notice `pass.ending`: its daily run looks for passes with visits left whose
-- last usable day is a given day, as `memberships_ending` does for memberships.
CREATE INDEX member_passes_ending ON member_passes (expires_on) WHERE visits_left > 0;
