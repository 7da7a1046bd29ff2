-- Trigram indexes for member name search (substring, works for Chinese). Installed once in
-- `public`; tenant schemas name its operator classes qualified (public.gin_trgm_ops).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
