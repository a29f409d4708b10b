package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdempotentHintTest {
    @ParameterizedTest
    @ValueSource(
            strings = {
                "/* baton:idempotent */ INSERT INTO t VALUES (1)",
                "/*baton:idempotent*/INSERT INTO t VALUES (1)",
                "  \n/*  BATON:Idempotent\t*/ DELETE FROM t WHERE id = 1",
            })
    void aLeadingHintMarksTheStatement(String sql) {
        assertThat(FailoverStatement.hinted(sql)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "INSERT INTO t VALUES (1)",
                "INSERT /* baton:idempotent */ INTO t VALUES (1)",
                "/* other */ /* baton:idempotent */ INSERT INTO t VALUES (1)",
                "/* baton:idempotent, maybe */ INSERT INTO t VALUES (1)",
                "/* baton:idempotentish */ INSERT INTO t VALUES (1)",
                "/* baton:idempotent",
                "-- baton:idempotent\nINSERT INTO t VALUES (1)",
                "",
            })
    void anythingElseDoesNot(String sql) {
        assertThat(FailoverStatement.hinted(sql)).isFalse();
    }
}
