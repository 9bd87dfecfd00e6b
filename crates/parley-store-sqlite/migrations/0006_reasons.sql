-- Routing explanations as structured clauses (JSON list), rendered by each client in its
-- reader's language; `note` keeps colleagues' notes.
ALTER TABLE events ADD COLUMN reason TEXT;
-- Smoothed first-response time of an agent after an assignment, for the routing score.
ALTER TABLE users ADD COLUMN response_ms INTEGER;
