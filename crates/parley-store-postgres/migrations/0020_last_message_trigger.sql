-- A conversation's last-message preview is written by the message's INSERT itself (this
-- trigger), not by a separate UPDATE: one round trip less per message.
CREATE FUNCTION events_last_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET
        last_message_body = CASE
            WHEN COALESCE(NEW.body, '') = '' AND jsonb_array_length(NEW.attachments::jsonb) > 0
                THEN '[' || (NEW.attachments::jsonb -> 0 ->> 'filename') || ']'
            ELSE left(COALESCE(NEW.body, ''), 200)
        END,
        last_message_sender = NEW.sender_kind,
        last_message_at = NEW.created_at
    WHERE id = NEW.conversation_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_last_message AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.kind = 'message') EXECUTE FUNCTION events_last_message();
