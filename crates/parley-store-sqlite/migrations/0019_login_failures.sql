-- Failed sign-ins, so that every node of a cluster applies the same limits. `key` is a digest
-- of "email:<address>" or "ip:<address>", never the address itself. Rows older than the
-- window are deleted as new failures arrive.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE INDEX login_failures_by_age ON login_failures (at);
