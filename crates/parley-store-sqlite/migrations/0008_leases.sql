-- Leases: one node at a time runs a cluster-wide job (reply and queue timeouts).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
