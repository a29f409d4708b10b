package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class DriverFlavorTest {
    @Test
    void mapsDialectsToDrivers() {
        assertThat(DriverFlavor.forDialect("postgresql").jdbcUrl("db1", 5433, "shop"))
                .isEqualTo("jdbc:postgresql://db1:5433/shop");
        assertThat(DriverFlavor.forDialect("mariadb").jdbcUrl("db2", 3307, "shop"))
                .isEqualTo("jdbc:mysql://db2:3307/shop");
        assertThat(DriverFlavor.forDialect("mysql")).isSameAs(DriverFlavor.MYSQL);
        assertThat(DriverFlavor.POSTGRESQL.jdbcUrl("::1", 5432, "x")).isEqualTo("jdbc:postgresql://[::1]:5432/x");
        assertThatThrownBy(() -> DriverFlavor.forDialect("oracle")).hasMessageContaining("'oracle' is not supported");
    }

    @Test
    void recognisesReadOnlyErrorsPerDialect() {
        assertThat(DriverFlavor.POSTGRESQL.isReadOnly(new SQLException("read-only transaction", "25006")))
                .isTrue();
        assertThat(DriverFlavor.MYSQL.isReadOnly(new SQLException("--read-only", "HY000", 1290)))
                .isTrue();
        assertThat(DriverFlavor.MYSQL.isReadOnly(new SQLException("read-only mode", "HY000", 1836)))
                .isTrue();
        assertThat(DriverFlavor.MYSQL.isReadOnly(new SQLException("duplicate", "23000", 1062)))
                .isFalse();
        SQLException chained = new SQLException("batch failed", "HY000");
        chained.setNextException(new SQLException("read-only transaction", "25006"));
        assertThat(DriverFlavor.POSTGRESQL.isReadOnly(chained)).isTrue();
    }

    @Test
    void recognisesBrokenConnections() {
        assertThat(DriverFlavor.POSTGRESQL.isConnectionBroken(new SQLException("closed", "08003")))
                .isTrue();
        assertThat(DriverFlavor.POSTGRESQL.isConnectionBroken(new SQLException("admin shutdown", "57P01")))
                .isTrue();
        assertThat(DriverFlavor.MYSQL.isConnectionBroken(new SQLException("gone away", "HY000", 2006)))
                .isTrue();
        assertThat(DriverFlavor.POSTGRESQL.isConnectionBroken(new SQLException("syntax", "42601")))
                .isFalse();
    }

    @Test
    void tellsRefusalsToConnectFromFailuresWorthWaitingFor() {
        DriverFlavor pg = DriverFlavor.POSTGRESQL;
        assertThat(pg.isRefusal(new SQLException("password authentication failed", "28P01")))
                .isTrue();
        assertThat(pg.isRefusal(new SQLException("no pg_hba.conf entry", "28000")))
                .isTrue();
        assertThat(pg.isRefusal(new SQLException("database \"x\" does not exist", "3D000")))
                .isTrue();
        assertThat(pg.isRefusal(new SQLException("Invalid sslmode value", "08001")))
                .isTrue();
        assertThat(pg.isRefusal(new SQLException("Connection refused", "08001", new java.net.ConnectException())))
                .isFalse();
        assertThat(pg.isRefusal(new SQLException("the database system is starting up", "57P03")))
                .isFalse();
        assertThat(pg.isRefusal(new SQLException("too many clients", "53300"))).isFalse();

        DriverFlavor my = DriverFlavor.MYSQL;
        assertThat(my.isRefusal(new SQLException("Access denied for user", "28000", 1045)))
                .isTrue();
        assertThat(my.isRefusal(new SQLException("Unknown database", "42000", 1049)))
                .isTrue();
        assertThat(my.isRefusal(new SQLException("sslMode: 'BOGUS' is not acceptable", "S1009")))
                .isTrue();
        assertThat(my.isRefusal(new SQLException("Too many connections", "08004", 1040)))
                .isFalse();
        assertThat(my.isRefusal(new SQLException("Communications link failure", "08S01")))
                .isFalse();
        assertThat(my.isRefusal(new SQLException("no cause", "08001"))).isFalse();
    }
}
