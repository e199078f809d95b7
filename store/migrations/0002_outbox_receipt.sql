-- Version 2: what a vendor answered for a delivered outbox item (an issue's
-- key and URL, a message's timestamp), kept with the decision (issue 14).
ALTER TABLE outbox ADD COLUMN receipt TEXT;
