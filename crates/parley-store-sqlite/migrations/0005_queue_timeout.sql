-- When a waiting visitor was offered to leave a message instead (queue timeout), so it happens once.
ALTER TABLE conversations ADD COLUMN leave_message_offered_at INTEGER;
