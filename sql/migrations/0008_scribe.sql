-- The clinical scribe: patients, a session's patient, consent and audio retention, and the
-- clinical note drafted from a scribe session with its append-only version history.

CREATE TABLE patients (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,   -- the clinician whose patient it is
    name       text        NOT NULL,
    age        integer,
    gender     text,
    phone      text,
    notes      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT patients_pkey PRIMARY KEY (id),
    -- The target of sessions' (patient_id, user_id) key: a session names its owner's patient.
    CONSTRAINT patients_id_user_key UNIQUE (id, user_id),
    CONSTRAINT patients_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT patients_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT patients_age_check CHECK (age BETWEEN 0 AND 150)
);
-- The list: a user's patients, newest first, keyset-paged.
CREATE INDEX patients_user_created_idx ON patients (user_id, created_at DESC, id DESC);

-- A session's patient must be its owner's own: the key is (patient_id, user_id), so another
-- user's patient cannot be named even by a query that forgot to check. Deleting a patient
-- unlinks its sessions (only patient_id is cleared: PostgreSQL 15's SET NULL column list).
-- Before today the column referenced nothing, so any value in it pointed nowhere and is cleared
-- rather than kept dangling (as 0005 did for project_id).
UPDATE sessions SET patient_id = NULL WHERE patient_id IS NOT NULL;
ALTER TABLE sessions ADD CONSTRAINT sessions_patient_fk FOREIGN KEY (patient_id, user_id)
    REFERENCES patients (id, user_id) ON DELETE SET NULL (patient_id);
-- A patient's sessions, newest first (and the FK's lookups on delete).
CREATE INDEX sessions_patient_idx ON sessions (patient_id, created_at DESC, id DESC)
    WHERE patient_id IS NOT NULL;

-- Consent: the recorded person agreed to the recording (an upload's or a stream's consent=true).
-- Audio retention (scribe.retention_days): the worker's sweep deletes a scribe session's audio
-- file once it is older than that and stamps audio_deleted_at; the row, transcript and note stay.
ALTER TABLE sessions ADD COLUMN consent boolean NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN audio_deleted_at timestamptz;
CREATE INDEX sessions_scribe_audio_idx ON sessions (created_at)
    WHERE kind = 'scribe' AND audio_deleted_at IS NULL;

-- The current note of a scribe session: one row, changed in place; every change is copied into
-- clinical_note_versions by trigger, so no code path can change a note without leaving history.
CREATE TABLE clinical_notes (
    session_id  uuid        NOT NULL,
    user_id     uuid        NOT NULL,   -- the session's owner (every query filters on it)
    version     integer     NOT NULL DEFAULT 1,  -- +1 at each reopen
    status      text        NOT NULL DEFAULT 'draft',
    summary     text        NOT NULL DEFAULT '',
    subjective  text        NOT NULL DEFAULT '',
    objective   text        NOT NULL DEFAULT '',
    assessment  text        NOT NULL DEFAULT '',
    plan        text        NOT NULL DEFAULT '',
    action      text        NOT NULL,   -- what the last change was: drafted|edited|approved|reopened
    actor_id    uuid,                   -- who made it; NULL: the worker's draft
    updated_at  timestamptz NOT NULL DEFAULT now(),
    approved_at timestamptz,
    CONSTRAINT clinical_notes_pkey PRIMARY KEY (session_id),
    CONSTRAINT clinical_notes_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id)
        ON DELETE CASCADE,
    CONSTRAINT clinical_notes_status_check CHECK (status IN ('draft', 'approved')),
    CONSTRAINT clinical_notes_action_check
        CHECK (action IN ('drafted', 'edited', 'approved', 'reopened')),
    CONSTRAINT clinical_notes_approved_check CHECK ((status = 'approved') = (approved_at IS NOT NULL))
);

-- An approved note is frozen: the only change it takes is a reopen (a new draft version).
CREATE FUNCTION clinical_notes_freeze() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'approved' AND NOT (NEW.status = 'draft' AND NEW.version = OLD.version + 1) THEN
        RAISE EXCEPTION 'an approved note changes only by a reopen' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER clinical_notes_freeze BEFORE UPDATE ON clinical_notes
    FOR EACH ROW EXECUTE FUNCTION clinical_notes_freeze();

-- Every state a note was in, with who and when: append-only (the app role inserts through the
-- trigger and reads; a deleted session's history goes with it by the cascade, which runs as the
-- table's owner).
CREATE TABLE clinical_note_versions (
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    session_id uuid        NOT NULL,
    version    integer     NOT NULL,
    at         timestamptz NOT NULL,
    actor_id   uuid,
    action     text        NOT NULL,
    status     text        NOT NULL,
    summary    text        NOT NULL,
    subjective text        NOT NULL,
    objective  text        NOT NULL,
    assessment text        NOT NULL,
    plan       text        NOT NULL,
    CONSTRAINT clinical_note_versions_pkey PRIMARY KEY (seq),
    CONSTRAINT clinical_note_versions_session_fk FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE
);
CREATE INDEX clinical_note_versions_session_idx ON clinical_note_versions (session_id, seq);

-- SECURITY DEFINER: the history is written only by this trigger (the app role may not insert
-- into it, so it cannot forge a version's actor or time).
CREATE FUNCTION clinical_notes_record_version() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO clinical_note_versions (session_id, version, at, actor_id, action, status,
                                        summary, subjective, objective, assessment, plan)
    VALUES (NEW.session_id, NEW.version, NEW.updated_at, NEW.actor_id, NEW.action, NEW.status,
            NEW.summary, NEW.subjective, NEW.objective, NEW.assessment, NEW.plan);
    RETURN NULL;
END $$;
CREATE TRIGGER clinical_notes_record_version AFTER INSERT OR UPDATE ON clinical_notes
    FOR EACH ROW EXECUTE FUNCTION clinical_notes_record_version();

-- No one rewrites a version through SQL, the owner included (deletes come only by cascade).
CREATE FUNCTION clinical_note_versions_refuse_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the note history is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER clinical_note_versions_append_only BEFORE UPDATE ON clinical_note_versions
    FOR EACH ROW EXECUTE FUNCTION clinical_note_versions_refuse_update();

DO $$
DECLARE
    app text := current_setting('rostrum.app_role');
BEGIN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON clinical_note_versions FROM %I', app);
    -- A note goes with its session (cascade); the app never deletes one itself.
    EXECUTE format('REVOKE DELETE, TRUNCATE ON clinical_notes FROM %I', app);
END $$;
