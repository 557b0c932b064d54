-- What a running task waits for from a human (api: `humanInput`): a JSON object with the
-- kind of request (question, approval, control), its text and when it was made; NULL when
-- the agent needs no one.

ALTER TABLE sessions ADD COLUMN human_input TEXT;
