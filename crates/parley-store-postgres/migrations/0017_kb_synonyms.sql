-- The workspace's own synonym groups for the FAQ matcher, in the matcher's text format (one
-- group per line, terms separated by commas); they add to the built-in ones.
ALTER TABLE workspaces ADD COLUMN kb_synonyms TEXT NOT NULL DEFAULT '';
