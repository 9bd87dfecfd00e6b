-- The least a durable chat message costs PostgreSQL: one statement that bumps a conversation's
-- sequence and inserts the message, committed on its own. A floor to hold the store's rate
-- (`parley-bench append --backends postgres`) against on the same machine; see
-- docs/benchmarks.md (item 5 of "What limits these numbers") for the results. Set-up, on a
-- scratch database:
--   CREATE TABLE conv (id int PRIMARY KEY, last_seq bigint NOT NULL, updated_at bigint NOT NULL, body text);
--   INSERT INTO conv SELECT g, 0, 0, '' FROM generate_series(1, 200) g;
--   CREATE TABLE ev (conv int NOT NULL, seq bigint NOT NULL, body text, client_id text, PRIMARY KEY (conv, seq));
--   CREATE UNIQUE INDEX ON ev (client_id);
-- Run: pgbench -n -M prepared -c 16 -j 2 -T 15 -f bench/pgbench-message.sql <database>
\set c random(1, 200)
WITH u AS (
  UPDATE conv SET last_seq = last_seq + 1, updated_at = extract(epoch FROM now())::bigint,
    body = repeat('x', 100)
  WHERE id = :c RETURNING id, last_seq
)
INSERT INTO ev SELECT id, last_seq, repeat('x', 100), gen_random_uuid()::text FROM u;
