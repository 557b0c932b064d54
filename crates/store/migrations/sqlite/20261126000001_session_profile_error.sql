-- Why the session's browser profile was not saved when the session ended (api: the
-- `profileError` of the session's browser under /browsers); NULL when it was, or when the
-- session has no profile.

ALTER TABLE sessions ADD COLUMN profile_error TEXT;
