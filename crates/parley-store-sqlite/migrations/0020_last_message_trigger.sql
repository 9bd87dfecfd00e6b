-- A conversation's last-message preview is written by the message's INSERT itself (this
-- trigger), not by a separate UPDATE: one statement less per message on the single writer,
-- where every statement is a round trip to the database thread.
CREATE TRIGGER events_last_message AFTER INSERT ON events
WHEN NEW.kind = 'message'
BEGIN
    UPDATE conversations SET
        last_message_body = CASE
            WHEN COALESCE(NEW.body, '') = '' AND json_array_length(NEW.attachments) > 0
                THEN '[' || json_extract(NEW.attachments, '$[0].filename') || ']'
            ELSE substr(COALESCE(NEW.body, ''), 1, 200)
        END,
        last_message_sender = NEW.sender_kind,
        last_message_at = NEW.created_at
    WHERE id = NEW.conversation_id;
END;
