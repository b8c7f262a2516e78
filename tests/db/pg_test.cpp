// Db's rule for a lost connection (issue 9 item 19): a statement whose reply was lost may have
// run, so only one marked idempotent is sent again; a connection found dead before sending is
// replaced first whatever the statement. The backend is ended with pg_terminate_backend from a
// second connection, as a server restart or an operator would.
#include "db/pg.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/db/test_db.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr db::Statement kBackendPid{"t_backend_pid", "SELECT pg_backend_pid()"};
constexpr db::Statement kTerminate{"t_terminate", "SELECT pg_terminate_backend($1::int)"};
constexpr db::Statement kGone{"t_backend_gone", R"sql(
    SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1::int))sql"};
constexpr db::Statement kSleeping{"t_backend_sleeping", R"sql(
    SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                   WHERE pid = $1::int AND wait_event = 'PgSleep'))sql"};
constexpr db::Statement kResetSeq{"t_reset_seq",
                                  "CREATE SEQUENCE IF NOT EXISTS t_side_effect; "
                                  "ALTER SEQUENCE t_side_effect RESTART"};
constexpr db::Statement kSeqCalls{"t_seq_calls", R"sql(
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM t_side_effect)sql"};
// nextval is not rolled back with its transaction: the count of calls survives the session.
// The same text twice, once marked.
constexpr const char kSideEffectSql[] = "SELECT nextval('t_side_effect'), pg_sleep($1::float8)";
constexpr db::Statement kNotIdempotent{"t_side_effect_plain", kSideEffectSql};
constexpr db::Statement kMarked{"t_side_effect_marked", kSideEffectSql, db::kIdempotent};

class Reconnect : public testdb::DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        db().exec_script(kResetSeq.sql);
    }

    int64_t backend_pid(db::Db& d) { return d.exec(kBackendPid).scalar_i64(); }
    int64_t side_effects() { return db().exec(kSeqCalls).scalar_i64(); }

    void wait_for(const db::Statement& st, int64_t pid) {
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        while (!db().exec(st, {std::to_string(pid)}).scalar_bool()) {
            ASSERT_LT(Clock::now(), deadline) << st.name << " never became true";
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    // Runs `st` on a connection of its own and ends that connection's backend while the
    // statement sleeps (after it has been sent and its nextval has run).
    void kill_mid_statement(db::Db& victim, const db::Statement& st, bool expect_throw) {
        int64_t pid = backend_pid(victim);
        std::thread killer([&] {
            wait_for(kSleeping, pid);
            db().exec(kTerminate, {std::to_string(pid)});
        });
        if (expect_throw) {
            try {
                victim.exec(st, {"0.8"});
                ADD_FAILURE() << "expected the lost statement to throw";
            } catch (const db::DbError& e) {
                EXPECT_TRUE(e.connection_lost) << e.what();
            }
        } else {
            EXPECT_EQ(victim.exec(st, {"0.8"}).rows(), 1);
        }
        killer.join();
    }
};

TEST_F(Reconnect, NonIdempotentStatementLostInFlightIsNotSentAgain) {
    db::Db victim(settings());
    kill_mid_statement(victim, kNotIdempotent, /*expect_throw=*/true);
    EXPECT_EQ(side_effects(), 1) << "the statement ran again on a fresh connection";
    // The Db is usable afterwards: the next statement gets a new connection.
    EXPECT_EQ(victim.exec(kBackendPid).rows(), 1);
}

TEST_F(Reconnect, IdempotentStatementLostInFlightIsRetriedOnce) {
    db::Db victim(settings());
    kill_mid_statement(victim, kMarked, /*expect_throw=*/false);
    EXPECT_EQ(side_effects(), 2);
}

TEST_F(Reconnect, ConnectionFoundDeadBeforeSendingIsReplacedForAnyStatement) {
    db::Db victim(settings());
    int64_t pid = backend_pid(victim);
    db().exec(kTerminate, {std::to_string(pid)});
    wait_for(kGone, pid);
    // Nothing was sent on the dead connection: the restart stays invisible, and the statement
    // runs exactly once.
    EXPECT_EQ(victim.exec(kNotIdempotent, {"0"}).rows(), 1);
    EXPECT_EQ(side_effects(), 1);
    EXPECT_NE(backend_pid(victim), pid);
}

TEST_F(Reconnect, InsideATransactionNothingIsReplacedOrRetried) {
    db::Db victim(settings());
    db::Tx tx(victim);
    int64_t pid = backend_pid(victim);
    db().exec(kTerminate, {std::to_string(pid)});
    wait_for(kGone, pid);
    EXPECT_THROW(victim.exec(kMarked, {"0"}), db::DbError);
    EXPECT_EQ(side_effects(), 0);
}

}  // namespace
