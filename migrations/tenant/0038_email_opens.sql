-- E-mail opens of campaigns: when a member's campaign e-mail first loaded its tracking
-- image (`GET /portal/{tenant}/opened/{token}`). Set once, by one conditional UPDATE
-- (`WHERE opened_at IS NULL`), so repeated loads count once. Mail apps that block images
-- never set it and those that fetch them in advance set it unread: an estimate.
ALTER TABLE campaign_sends ADD COLUMN opened_at timestamptz;
