-- The last-message preview is written by the UPDATE that saves the conversation's state after a
-- message (`SAVE_CONVERSATION_STATE` in sql.rs), which runs for every message anyway: the
-- trigger of 0020 made that a second UPDATE of the same row. Statements are no longer round
-- trips (the group commit runs them in-process), so the trigger saved nothing.
DROP TRIGGER events_last_message;
