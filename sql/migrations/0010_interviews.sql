-- Issue 12: the interview simulator's tables (API.md "Interviews"). The bank's content (the
-- industries, roles and questions) is seeded by 0011_interview_bank.sql; this file is the
-- shape every part of the simulator shares: the REST handlers, the worker step that turns a
-- transcribed voice answer into feedback, and `rostrum live`'s /ws/interviews/{id}.

-- The settings lists. A slug is what the API speaks (`industry=software`, `role=
-- backend-engineer`): lower case, digits and dashes. A role's slug is unique across industries
-- so that `role=` alone names one. `keywords` feed POST /questions/generate's templates.
CREATE TABLE industries (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    slug       text        NOT NULL,
    name       text        NOT NULL,
    keywords   text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT industries_pkey PRIMARY KEY (id),
    CONSTRAINT industries_slug_key UNIQUE (slug),
    CONSTRAINT industries_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    CONSTRAINT industries_name_check CHECK (length(name) BETWEEN 1 AND 200)
);

CREATE TABLE roles (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    industry_id uuid        NOT NULL,
    slug        text        NOT NULL,
    name        text        NOT NULL,
    keywords    text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_pkey PRIMARY KEY (id),
    CONSTRAINT roles_slug_key UNIQUE (slug),
    -- (id, industry_id) is a key so that a question's or an interview's role belongs to its
    -- industry by a composite foreign key, not by a check in the code.
    CONSTRAINT roles_id_industry_key UNIQUE (id, industry_id),
    -- An industry with roles is not deleted behind their back: DELETE answers 409.
    CONSTRAINT roles_industry_fkey FOREIGN KEY (industry_id) REFERENCES industries (id),
    CONSTRAINT roles_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    CONSTRAINT roles_name_check CHECK (length(name) BETWEEN 1 AND 200)
);
CREATE INDEX roles_industry_idx ON roles (industry_id);

-- The bank. A NULL industry applies to every industry, a NULL role to every role of its
-- industry (or of all). key_points: 2-5 objects {"text": "what a good answer covers",
-- "terms": ["stems or synonyms", "multi word phrases"]} matched stemmed over the answer;
-- follow_ups: the question's own follow-up questions, asked when an answer calls for one.
CREATE TABLE questions (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    industry_id uuid,
    role_id     uuid,
    difficulty  text        NOT NULL,
    competency  text        NOT NULL,
    text        text        NOT NULL,
    key_points  jsonb       NOT NULL DEFAULT '[]',
    follow_ups  text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT questions_pkey PRIMARY KEY (id),
    CONSTRAINT questions_industry_fkey FOREIGN KEY (industry_id) REFERENCES industries (id),
    CONSTRAINT questions_role_fkey FOREIGN KEY (role_id, industry_id) REFERENCES roles (id, industry_id),
    CONSTRAINT questions_role_needs_industry CHECK (role_id IS NULL OR industry_id IS NOT NULL),
    CONSTRAINT questions_difficulty_check CHECK (difficulty IN ('easy', 'medium', 'hard')),
    CONSTRAINT questions_competency_check CHECK (competency IN (
        'communication', 'problem_solving', 'teamwork', 'leadership', 'technical', 'motivation',
        'adaptability', 'customer_focus', 'ethics')),
    CONSTRAINT questions_text_check CHECK (length(text) BETWEEN 10 AND 1000),
    CONSTRAINT questions_key_points_check CHECK (jsonb_typeof(key_points) = 'array'),
    -- The same wording twice in the bank is one question.
    CONSTRAINT questions_text_key UNIQUE (text)
);
CREATE INDEX questions_filter_idx ON questions (industry_id, difficulty, competency);
CREATE INDEX questions_role_idx ON questions (role_id) WHERE role_id IS NOT NULL;

-- The defaults an interview takes when its request leaves them out (GET/PUT /me/preferences).
CREATE TABLE interview_preferences (
    user_id     uuid        NOT NULL,
    industry_id uuid,
    role_id     uuid,
    difficulty  text        NOT NULL DEFAULT 'medium',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT interview_preferences_pkey PRIMARY KEY (user_id),
    CONSTRAINT interview_preferences_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- An admin deleting an industry or a role a preference names clears the preference.
    CONSTRAINT interview_preferences_industry_fkey FOREIGN KEY (industry_id) REFERENCES industries (id) ON DELETE SET NULL,
    CONSTRAINT interview_preferences_role_fkey FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE SET NULL,
    CONSTRAINT interview_preferences_difficulty_check CHECK (difficulty IN ('easy', 'medium', 'hard'))
);

-- One interview of a user. The scores are written by /finish (0-100, NULL before) and are
-- what /dashboard/progress aggregates; scorecard is the whole document /scorecard answers.
CREATE TABLE interviews (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id        uuid        NOT NULL,
    industry_id    uuid        NOT NULL,
    role_id        uuid,
    difficulty     text        NOT NULL,
    mode           text        NOT NULL DEFAULT 'voice',
    status         text        NOT NULL DEFAULT 'in_progress',
    question_count integer     NOT NULL DEFAULT 5,
    answer_time_s  integer,
    communication  smallint,
    fluency        smallint,
    confidence     smallint,
    relevance      smallint,
    structure      smallint,
    overall        smallint,
    scorecard      jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    CONSTRAINT interviews_pkey PRIMARY KEY (id),
    CONSTRAINT interviews_id_user_key UNIQUE (id, user_id),
    CONSTRAINT interviews_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- An industry or role with interviews is not deleted (409): the interview keeps its names.
    CONSTRAINT interviews_industry_fkey FOREIGN KEY (industry_id) REFERENCES industries (id),
    CONSTRAINT interviews_role_fkey FOREIGN KEY (role_id, industry_id) REFERENCES roles (id, industry_id),
    CONSTRAINT interviews_difficulty_check CHECK (difficulty IN ('easy', 'medium', 'hard')),
    CONSTRAINT interviews_mode_check CHECK (mode IN ('voice', 'text')),
    CONSTRAINT interviews_status_check CHECK (status IN ('in_progress', 'finished')),
    CONSTRAINT interviews_question_count_check CHECK (question_count BETWEEN 1 AND 20),
    CONSTRAINT interviews_answer_time_check CHECK (answer_time_s IS NULL OR answer_time_s BETWEEN 30 AND 600),
    CONSTRAINT interviews_finished_check CHECK ((status = 'finished') = (finished_at IS NOT NULL)),
    CONSTRAINT interviews_scores_check CHECK (
        coalesce(communication, 0) BETWEEN 0 AND 100 AND coalesce(fluency, 0) BETWEEN 0 AND 100 AND
        coalesce(confidence, 0) BETWEEN 0 AND 100 AND coalesce(relevance, 0) BETWEEN 0 AND 100 AND
        coalesce(structure, 0) BETWEEN 0 AND 100 AND coalesce(overall, 0) BETWEEN 0 AND 100)
);
CREATE INDEX interviews_user_created_idx ON interviews (user_id, created_at DESC, id DESC);
CREATE INDEX interviews_user_finished_idx ON interviews (user_id, finished_at)
    WHERE status = 'finished';

-- The turns of an interview in the order they were asked: a bank question (question_id set)
-- or a follow-up of an earlier turn (follow_up_of set; its question_id may be NULL when it was
-- made from a template). `question` is the snapshot the user saw: {id, text, competency,
-- difficulty, key_points, follow_ups, industry, role}; an admin editing the bank later does
-- not change a past interview. The id a client answers with (`question_id` of POST
-- /interviews/{id}/answers) is question.id: the bank question's id, or, for a follow-up, the
-- turn's own id.
--
-- The answer lives on its turn (one answer per turn): answer_status NULL until answered, then
-- 'processing' (a voice answer whose session is being transcribed), 'done' or 'failed'.
CREATE TABLE interview_turns (
    id             uuid             NOT NULL DEFAULT gen_random_uuid(),
    interview_id   uuid             NOT NULL,
    user_id        uuid             NOT NULL,
    ordinal        integer          NOT NULL,
    question_id    uuid,
    follow_up_of   uuid,
    question       jsonb            NOT NULL,
    answer_status  text,
    session_id     uuid,
    answer_text    text,
    duration_s     double precision,
    over_time      boolean          NOT NULL DEFAULT false,
    feedback       jsonb,
    -- {relevance, structure, delivery, grammar, overall}: 0-100 each, what the scorecard sums.
    scores         jsonb,
    asked_at       timestamptz      NOT NULL DEFAULT now(),
    answered_at    timestamptz,
    CONSTRAINT interview_turns_pkey PRIMARY KEY (id),
    CONSTRAINT interview_turns_ordinal_key UNIQUE (interview_id, ordinal),
    CONSTRAINT interview_turns_interview_fkey FOREIGN KEY (interview_id, user_id)
        REFERENCES interviews (id, user_id) ON DELETE CASCADE,
    CONSTRAINT interview_turns_question_fkey FOREIGN KEY (question_id)
        REFERENCES questions (id) ON DELETE SET NULL,
    CONSTRAINT interview_turns_follow_up_fkey FOREIGN KEY (follow_up_of)
        REFERENCES interview_turns (id) ON DELETE CASCADE,
    -- The session of a voice answer (the user's own: the code creates it for the caller);
    -- deleting the session keeps the turn's text and feedback.
    CONSTRAINT interview_turns_session_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE SET NULL,
    CONSTRAINT interview_turns_session_key UNIQUE (session_id),
    CONSTRAINT interview_turns_answer_status_check CHECK (
        answer_status IS NULL OR answer_status IN ('processing', 'done', 'failed')),
    CONSTRAINT interview_turns_answer_text_check CHECK (answer_text IS NULL OR length(answer_text) <= 20000)
);
CREATE INDEX interview_turns_question_idx ON interview_turns (user_id, question_id)
    WHERE question_id IS NOT NULL;
