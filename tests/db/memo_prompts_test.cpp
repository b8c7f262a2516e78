// Voice-to-tasks, the worker's step (worker/memo_prompts.cpp) on a real database: a memo's task
// gets its prompts and, while its title is the upload's placeholder, the first one as title;
// one activity entry by the system with {field: [old, new]}; task.updated to the task's
// audience only; nothing for a session that is not a memo, a silent memo, or a rollback.
#include <gtest/gtest.h>

#include "core/temp_file.h"
#include "db/pg.h"
#include "db/sessions.h"
#include "db/users.h"
#include "speech/transcript.h"
#include "tests/db/test_db.h"
#include "worker/memo_prompts.h"

namespace {

class MemoPrompts : public testdb::DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        owner_ = db::insert_user(db(), "owner-" + core::new_uuid() + "@x.io", "O", "h", "").id;
    }

    std::string user(const std::string& name) {
        return db::insert_user(db(), name + "-" + core::new_uuid() + "@x.io", name, "h", "").id;
    }

    std::string session(const std::string& kind = "memo") {
        db::NewSession s;
        s.id = core::new_uuid();
        s.user_id = owner_;
        s.kind = kind;
        s.audio_path = s.id + ".wav";
        s.audio_format = "wav";
        s.audio_mime = "audio/wav";
        s.audio_bytes = 44;
        s.language = "en-us";
        return db::insert_session(db(), s).id;
    }

    // A task as POST /tasks/from-audio leaves it: prompts [], the placeholder title.
    std::string task(const std::string& session_id, const std::string& project = "",
                     bool placeholder = true) {
        const std::string project_sql = project.empty() ? "NULL" : "'" + project + "'";
        // Last in its column, as insert_task places it (a board's positions stay unique).
        return value(
            "INSERT INTO tasks (project_id, created_by, title, position, "
            "source_session_id, title_from_memo) SELECT " +
            project_sql + "::uuid, '" + owner_ + "', 'Voice memo', count(*), '" + session_id +
            "', " + (placeholder ? "true" : "false") + " FROM tasks WHERE board_id = coalesce(" +
            project_sql + "::uuid, '" + owner_ + "') AND status = 'todo' RETURNING id");
    }

    std::string value(const std::string& sql) {
        db::Result r = db().exec_script(sql);
        return r.rows() == 1 ? r.single_column()[0].value_or("") : "";
    }

    void fill(const std::string& session_id, const speech::Transcript& t) {
        db::Tx tx(db());
        worker::fill_memo_prompts(db(), session_id, t);
        tx.commit();
    }

    // "call the bank | then order paper": words 0.3 s long, "|" a 1 s pause.
    static speech::Transcript spoken(const std::string& text) {
        speech::Transcript t;
        double at = 0;
        size_t b = 0;
        while (b < text.size()) {
            size_t e = text.find(' ', b);
            if (e == std::string::npos) e = text.size();
            const std::string w = text.substr(b, e - b);
            if (w == "|") {
                at += 1;
            } else if (!w.empty()) {
                t.words.push_back({w, at, at + 0.3, 0.9, w == "um"});
                at += 0.3;
            }
            b = e + 1;
        }
        return t;
    }

    std::string events(const std::string& task_id) {
        return value(
            "SELECT coalesce(string_agg(user_id::text || ' ' || event || ' ' || "
            "data::text, ';' ORDER BY user_id), '') FROM events WHERE data->>'task_id' = '" +
            task_id + "'");
    }

    std::string owner_;
};

TEST_F(MemoPrompts, PersonalTaskGetsPromptsTitleOneEntryAndItsCreatorsEvent) {
    const std::string s = session();
    const std::string t = task(s);
    fill(s, spoken("um first call the bank | then order more paper"));
    EXPECT_EQ(value("SELECT prompts::text FROM tasks WHERE id = '" + t + "'"),
              R"({"Call the bank","Order more paper"})");
    EXPECT_EQ(value("SELECT title || ' ' || title_from_memo FROM tasks WHERE id = '" + t + "'"),
              "Call the bank false");
    EXPECT_EQ(value("SELECT coalesce(actor_id::text, 'system') || ' ' || action || ' ' || "
                    "changes::text FROM activity WHERE entity_id = '" +
                    t + "'"),
              R"(system updated {"title": ["Voice memo", "Call the bank"], "prompts": [[], )"
              R"(["Call the bank", "Order more paper"]]})");
    EXPECT_EQ(events(t), owner_ + R"( task.updated {"task_id": ")" + t +
                             R"(", "actor_id": null, "project_id": null})");
}

TEST_F(MemoPrompts, ProjectTaskToldToOwnerAndMembersNotOthers) {
    const std::string member = user("member"), stranger = user("stranger");
    (void)stranger;
    const std::string p =
        value("INSERT INTO projects (owner_id, name) VALUES ('" + owner_ + "', 'P') RETURNING id");
    value("INSERT INTO project_members (project_id, user_id) VALUES ('" + p + "', '" + member +
          "') RETURNING user_id");
    const std::string s = session();
    const std::string t = task(s, p);
    fill(s, spoken("call the bank"));
    EXPECT_EQ(value("SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM events WHERE "
                    "event = 'task.updated' AND data->>'task_id' = '" +
                    t + "'"),
              owner_ < member ? owner_ + "," + member : member + "," + owner_);
    EXPECT_EQ(value("SELECT project_id FROM activity WHERE entity_id = '" + t + "'"), p);
}

TEST_F(MemoPrompts, AGivenOrEditedTitleStands) {
    const std::string s1 = session(), s2 = session();
    const std::string given = task(s1, "", false);  // the upload named it
    const std::string edited = task(s2);
    value("UPDATE tasks SET title = 'Mine' WHERE id = '" + edited + "' RETURNING id");
    EXPECT_EQ(value("SELECT title_from_memo FROM tasks WHERE id = '" + edited + "'"), "f");
    fill(s1, spoken("call the bank"));
    fill(s2, spoken("call the bank"));
    for (const std::string& t : {given, edited}) {
        EXPECT_EQ(value("SELECT prompts::text FROM tasks WHERE id = '" + t + "'"),
                  R"({"Call the bank"})");
        EXPECT_EQ(value("SELECT changes::text FROM activity WHERE entity_id = '" + t + "'"),
                  R"({"prompts": [[], ["Call the bank"]]})");
    }
    EXPECT_EQ(value("SELECT title FROM tasks WHERE id = '" + given + "'"), "Voice memo");
    EXPECT_EQ(value("SELECT title FROM tasks WHERE id = '" + edited + "'"), "Mine");
}

TEST_F(MemoPrompts, NothingForANonMemoASilentMemoOrARollback) {
    const std::string practice = session("practice");
    const std::string t1 = task(practice);
    fill(practice, spoken("call the bank"));
    const std::string silent = session();
    const std::string t2 = task(silent);
    fill(silent, spoken("um | um"));
    const std::string rolled = session();
    const std::string t3 = task(rolled);
    {
        db::Tx tx(db());
        worker::fill_memo_prompts(db(), rolled, spoken("call the bank"));
    }                                          // not committed
    fill(session(), spoken("call the bank"));  // a memo no task comes from (its task deleted)
    for (const std::string& t : {t1, t2, t3}) {
        EXPECT_EQ(value("SELECT prompts::text || ' ' || title FROM tasks WHERE id = '" + t + "'"),
                  "{} Voice memo");
        EXPECT_EQ(value("SELECT count(*) FROM activity WHERE entity_id = '" + t + "'"), "0");
        EXPECT_EQ(events(t), "");
    }
}

}  // namespace
