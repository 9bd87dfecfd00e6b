-- The last-message preview is written by the UPDATE that saves the conversation's state after a
-- message (`save_conversation_state`), which runs for every message anyway: the trigger of 0020
-- made that a second UPDATE, so a second new version, of the same row in every transaction.
DROP TRIGGER events_last_message ON events;
DROP FUNCTION events_last_message();
