-- Issue 11, voice-to-tasks: a task made from a voice memo (POST /tasks/from-audio) takes its
-- title from the memo's first prompt when the upload gave none. The placeholder title it
-- starts with is marked here, so that the worker replaces only that: a title the user gave,
-- at upload or by an edit before the transcription finished, is never overwritten.
ALTER TABLE tasks ADD COLUMN title_from_memo boolean NOT NULL DEFAULT false;

-- Any change of the title makes it the user's (an edit through PUT/PATCH/batch, whichever
-- route: a trigger, so that none can forget it). The worker's own update sets the flag false
-- with the title it writes, which this leaves as it is.
CREATE FUNCTION tasks_title_given() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.title IS DISTINCT FROM OLD.title THEN
        NEW.title_from_memo := false;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tasks_title_given BEFORE UPDATE OF title ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_title_given();
