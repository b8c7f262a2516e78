-- Issue 13: practice progress, goals, the learning resources library and recommendations.
--
-- The report columns of analyses are GENERATED from the stored metrics: the database fills
-- them on every insert and re-analysis (db::store_analysis writes metrics as before), they can
-- never disagree with the JSON a client reads, and adding them back-fills every existing row
-- (ADD COLUMN ... STORED rewrites the table once).

-- A number at `path` in a metrics document, or NULL when absent or not a number (an older or
-- partial document must not fail the insert that stores it).
CREATE FUNCTION analysis_number(m jsonb, VARIADIC path text[]) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(m #> path) = 'number' THEN (m #>> path)::double precision END $$;

ALTER TABLE analyses
    ADD COLUMN articulation_wpm      double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'articulation_wpm')) STORED,
    ADD COLUMN pauses_per_min        double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'pauses', 'per_min')) STORED,
    ADD COLUMN pitch_range_semitones double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'pitch', 'range_semitones')) STORED,
    ADD COLUMN pace_band             text
        GENERATED ALWAYS AS (metrics ->> 'pace_band') STORED,
    ADD COLUMN score_pace            double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'scores', 'pace')) STORED,
    ADD COLUMN score_fluency         double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'scores', 'fluency')) STORED,
    ADD COLUMN score_clarity         double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'scores', 'clarity')) STORED,
    ADD COLUMN score_confidence      double precision
        GENERATED ALWAYS AS (analysis_number(metrics, 'scores', 'confidence')) STORED;

-- The three columns 0002 made plain: filled from the metrics where an older writer left them
-- empty (store_analysis has always written them).
UPDATE analyses SET wpm = coalesce(wpm, analysis_number(metrics, 'wpm')),
                    fillers_per_min = coalesce(fillers_per_min,
                                               analysis_number(metrics, 'fillers', 'per_min')),
                    overall = coalesce(overall, round(analysis_number(metrics, 'scores', 'overall'))::integer)
 WHERE wpm IS NULL OR fillers_per_min IS NULL OR overall IS NULL;

-- /progress and /recommendations read a user's done sessions by date: this index answers
-- both with an index range scan (sessions_user_created_idx also holds the failed ones).
CREATE INDEX sessions_user_done_created_idx ON sessions (user_id, created_at)
    INCLUDE (id, kind, duration_s) WHERE status = 'done';

-- The report columns beside the key: the reports' join reads this narrow index (index-only)
-- instead of the analyses' rows, which carry the whole metrics document.
CREATE INDEX analyses_report_idx ON analyses (session_id)
    INCLUDE (wpm, articulation_wpm, fillers_per_min, pauses_per_min, pitch_range_semitones,
             overall, pace_band, score_pace, score_fluency, score_clarity, score_confidence);

-- A user's goals: a metric, a target and which side of it is good. PUT /me/goals replaces
-- them all; position keeps the order the user gave.
CREATE TABLE goals (
    user_id    uuid             NOT NULL,
    position   integer          NOT NULL,
    metric     text             NOT NULL,
    target     double precision NOT NULL,
    direction  text             NOT NULL,
    created_at timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT goals_pkey PRIMARY KEY (user_id, position),
    CONSTRAINT goals_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT goals_one_per_side UNIQUE (user_id, metric, direction),
    CONSTRAINT goals_position_check CHECK (position BETWEEN 0 AND 9),
    CONSTRAINT goals_direction_check CHECK (direction IN ('at_most', 'at_least')),
    CONSTRAINT goals_metric_check CHECK (metric IN (
        'wpm', 'articulation_wpm', 'fillers_per_min', 'pauses_per_min', 'pitch_range_semitones',
        'overall', 'pace', 'fluency', 'clarity', 'confidence', 'sessions', 'minutes')),
    CONSTRAINT goals_target_check CHECK (target >= 0 AND target <= 10000)
);

-- The learning resources library: shared by everyone, written by admins.
CREATE TABLE learning_resources (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    title      text        NOT NULL,
    url        text        NOT NULL,
    kind       text        NOT NULL,
    tags       text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT learning_resources_pkey PRIMARY KEY (id),
    CONSTRAINT learning_resources_url_key UNIQUE (url),
    CONSTRAINT learning_resources_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT learning_resources_url_check CHECK (char_length(url) <= 2000 AND url ~ '^https?://[^\s/]+'),
    CONSTRAINT learning_resources_kind_check CHECK (kind IN ('article', 'video', 'exercise', 'course')),
    CONSTRAINT learning_resources_tags_check CHECK (cardinality(tags) <= 12)
);
CREATE INDEX learning_resources_created_idx ON learning_resources (created_at DESC, id DESC);
CREATE INDEX learning_resources_tags_idx ON learning_resources USING gin (tags);

-- The seed: well-known public pages, each tagged with the metrics (analysis field names) or
-- interview competencies it helps. Idempotent: a URL already present is left as the admins
-- edited it.
INSERT INTO learning_resources (title, url, kind, tags) VALUES
('How to speak so that people want to listen (Julian Treasure, TED)',
 'https://www.ted.com/talks/julian_treasure_how_to_speak_so_that_people_want_to_listen',
 'video', '{pitch_range_semitones,pace,wpm,clarity,confidence,communication}'),
('TED''s secret to great public speaking (Chris Anderson, TED)',
 'https://www.ted.com/talks/chris_anderson_ted_s_secret_to_great_public_speaking',
 'video', '{overall,structure,communication}'),
('The secret structure of great talks (Nancy Duarte, TED)',
 'https://www.ted.com/talks/nancy_duarte_the_secret_structure_of_great_talks',
 'video', '{structure,communication,overall}'),
('Your body language may shape who you are (Amy Cuddy, TED)',
 'https://www.ted.com/talks/amy_cuddy_your_body_language_may_shape_who_you_are',
 'video', '{confidence}'),
('How I beat stage fright (Joe Kowan, TED)',
 'https://www.ted.com/talks/joe_kowan_how_i_beat_stage_fright',
 'video', '{confidence,fillers_per_min}'),
('How to make stress your friend (Kelly McGonigal, TED)',
 'https://www.ted.com/talks/kelly_mcgonigal_how_to_make_stress_your_friend',
 'video', '{confidence}'),
('Think Fast, Talk Smart: Communication Techniques (Matt Abrahams, Stanford GSB)',
 'https://www.youtube.com/watch?v=HAnw168huqA',
 'video', '{confidence,fillers_per_min,structure,communication}'),
('How to Give a Killer Presentation (Chris Anderson, Harvard Business Review)',
 'https://hbr.org/2013/06/how-to-give-a-killer-presentation',
 'article', '{overall,structure,pace,communication}'),
('10 Tips for Improving Your Public Speaking Skills (Harvard Professional & Executive Development)',
 'https://professional.dce.harvard.edu/blog/10-tips-for-improving-your-public-speaking-skills/',
 'article', '{overall,confidence,pauses_per_min,fillers_per_min}'),
('Ah-Counter: the meeting role that counts filler words (Toastmasters International)',
 'https://www.toastmasters.org/membership/club-meeting-roles/ah-counter',
 'exercise', '{fillers_per_min,fluency}'),
('Timer: keeping a talk to its time (Toastmasters International)',
 'https://www.toastmasters.org/membership/club-meeting-roles/timer',
 'exercise', '{pace,wpm,pauses_per_min}'),
('Grammarian: word choice and language (Toastmasters International)',
 'https://www.toastmasters.org/membership/club-meeting-roles/grammarian',
 'exercise', '{clarity,communication}'),
('Speech disfluency: fillers, repetitions and repairs (Wikipedia)',
 'https://en.wikipedia.org/wiki/Speech_disfluency',
 'article', '{fillers_per_min,fluency,pauses_per_min}'),
('Filler (linguistics): why we say um and uh (Wikipedia)',
 'https://en.wikipedia.org/wiki/Filler_(linguistics)',
 'article', '{fillers_per_min,fluency}'),
('Taking Care of Your Voice (NIDCD, U.S. National Institutes of Health)',
 'https://www.nidcd.nih.gov/health/taking-care-your-voice',
 'article', '{pitch_range_semitones,clarity}'),
('Laryngitis: losing your voice, and when to see a GP (NHS)',
 'https://www.nhs.uk/conditions/laryngitis/',
 'article', '{pitch_range_semitones,clarity}'),
('Stammering: causes, help and therapy (NHS)',
 'https://www.nhs.uk/conditions/stammering/',
 'article', '{fluency,pauses_per_min}'),
('Fear of public speaking: How can I overcome it? (Mayo Clinic)',
 'https://www.mayoclinic.org/diseases-conditions/specific-phobias/expert-answers/fear-of-public-speaking/faq-20058416',
 'article', '{confidence,fillers_per_min}'),
('Pronunciation: Tim''s pronunciation workshop and more (BBC Learning English)',
 'https://www.bbc.co.uk/learningenglish/english/features/pronunciation',
 'course', '{clarity,articulation_wpm}'),
('Introduction to Public Speaking (University of Washington, Coursera)',
 'https://www.coursera.org/learn/public-speaking',
 'course', '{overall,structure,pace,confidence,communication}'),
('The STAR method for behavioral interviews (MIT Career Advising & Professional Development)',
 'https://capd.mit.edu/resources/the-star-method-for-behavioral-interviews/',
 'article', '{structure,relevance,communication}'),
('Behavioral Interviewing & the STAR Approach (Northwestern University Career Advancement)',
 'https://www.northwestern.edu/careers/jobs-internships/interviewing/the-star-approach.html',
 'article', '{structure,relevance}'),
('How to use the STAR interview response technique (Indeed Career Guide)',
 'https://www.indeed.com/career-advice/interviewing/how-to-use-the-star-interview-response-technique',
 'article', '{structure,relevance,communication}'),
('Situation, task, action, result (Wikipedia)',
 'https://en.wikipedia.org/wiki/Situation,_task,_action,_result',
 'article', '{structure}')
ON CONFLICT (url) DO NOTHING;
