-- Tags on the visitor (VIP, 老客户 …), set by agents; auto-reply rules can be limited to them.
-- A JSON array of strings.
ALTER TABLE visitors ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
-- An auto-reply rule may be limited to visitors with one of these tags (empty: everyone).
ALTER TABLE auto_replies ADD COLUMN visitor_tags TEXT NOT NULL DEFAULT '[]';
