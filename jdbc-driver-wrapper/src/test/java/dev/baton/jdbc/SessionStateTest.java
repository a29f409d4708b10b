package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SessionStateTest {
    @Test
    void recognizesSqlThatLeavesStateInTheServerSession() {
        assertThat(SessionState.untracked("SET search_path = app")).contains("session setting");
        assertThat(SessionState.untracked("  /* hint */ set @tenant := 4")).contains("session setting");
        assertThat(SessionState.untracked("-- c\nSET SESSION sql_mode = ''")).contains("session setting");
        assertThat(SessionState.untracked("RESET ALL")).contains("RESET");
        assertThat(SessionState.untracked("use shop")).contains("USE");
        assertThat(SessionState.untracked("CREATE TEMP TABLE t (id int)")).contains("temporary table");
        assertThat(SessionState.untracked("create temporary table t (id int)")).contains("temporary table");
        assertThat(SessionState.untracked("CREATE GLOBAL TEMPORARY TABLE t (id int)"))
                .contains("temporary table");
        assertThat(SessionState.untracked("PREPARE p AS SELECT 1")).contains("PREPARE");
        assertThat(SessionState.untracked("DECLARE c CURSOR with  hold FOR SELECT 1"))
                .contains("cursor");
        assertThat(SessionState.untracked("LISTEN jobs")).contains("LISTEN");
        assertThat(SessionState.untracked("LOCK TABLES t WRITE")).contains("LOCK TABLES");
        assertThat(SessionState.untracked("SELECT set_config('a.b', '1', false)"))
                .contains("set_config");
        assertThat(SessionState.untracked("select pg_advisory_lock(42)")).contains("pg_advisory_lock");
        assertThat(SessionState.untracked("SELECT GET_LOCK('x', 1)")).contains("get_lock");
    }

    @Test
    void leavesOrdinaryAndTransactionScopedSqlAlone() {
        assertThat(SessionState.untracked("INSERT INTO t VALUES (1)")).isNull();
        assertThat(SessionState.untracked("SELECT * FROM settings WHERE k = 'SET x'"))
                .isNull();
        assertThat(SessionState.untracked("SET LOCAL statement_timeout = 100")).isNull();
        assertThat(SessionState.untracked("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"))
                .isNull();
        assertThat(SessionState.untracked("CREATE TABLE temp_data (id int)")).isNull();
        assertThat(SessionState.untracked("DECLARE c CURSOR FOR SELECT 1")).isNull();
        assertThat(SessionState.untracked("UPDATE t SET x = 1")).isNull();
        assertThat(SessionState.untracked("SELECT pg_advisory_xact_lock(1)")).isNull();
        assertThat(SessionState.untracked(null)).isNull();
    }
}
