-- Teamwork: conversation tags and the follow-up marker (待跟进).
ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN follow_up BIGINT NOT NULL DEFAULT 0;
