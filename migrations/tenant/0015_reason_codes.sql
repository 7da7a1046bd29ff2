-- Reasons the system writes itself for a tier move (a threshold reached, a ladder
-- published), kept as a stable code and its values so that each reader sees them in their
-- own language, after any change of language too. `reason` keeps the English words, and is
-- all there is for reasons a person typed (their code stays NULL).
ALTER TABLE tier_history ADD COLUMN reason_code text, ADD COLUMN reason_params jsonb;
