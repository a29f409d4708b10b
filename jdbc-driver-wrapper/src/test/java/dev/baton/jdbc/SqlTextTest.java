package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which statement texts count as reads: a lost reply to one of them cannot hide a commit. */
class SqlTextTest {
    @ParameterizedTest
    @ValueSource(
            strings = {
                "SELECT 1",
                "  select * from t where id = ?",
                "/* baton:idempotent */ SELECT v FROM t",
                "-- report\nSELECT count(*) FROM t",
                "(SELECT 1) UNION (SELECT 2)",
                "WITH x AS (SELECT 1) SELECT * FROM x",
                "SHOW server_version",
                "VALUES (1), (2)",
                "EXPLAIN SELECT 1",
                "SELECT * FROM t FOR SHARE",
                "SELECT 1;"
            })
    void readsAreReads(String sql) {
        assertThat(SqlText.readsOnly(sql)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "INSERT INTO t VALUES (1) RETURNING id",
                "UPDATE t SET v = 1 RETURNING v",
                "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d",
                "SELECT * INTO copy FROM t",
                "SELECT nextval('s')",
                "EXPLAIN ANALYZE DELETE FROM t",
                "{call transfer(?, ?)}",
                "CALL transfer(1, 2)",
                "DELETE FROM t",
                "LOCK TABLE t",
                "SELECT 1; DELETE FROM t",
                "SELECT 1; DROP TABLE t",
                "SELECT 1; TRUNCATE t",
                ""
            })
    void anythingThatMayWriteIsNotARead(String sql) {
        assertThat(SqlText.readsOnly(sql)).isFalse();
    }

    @org.junit.jupiter.api.Test
    void noTextIsNotARead() {
        assertThat(SqlText.readsOnly(null)).isFalse();
    }
}
