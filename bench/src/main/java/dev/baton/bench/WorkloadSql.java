package dev.baton.bench;

/** The few statements the writer needs, per database family. */
enum WorkloadSql {
    POSTGRESQL(
            "CREATE TABLE IF NOT EXISTS baton_writes (id bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())",
            "INSERT INTO baton_writes (id) VALUES (?) RETURNING inet_server_port()",
            "SELECT id FROM baton_writes"),
    MARIADB(
            "CREATE TABLE IF NOT EXISTS baton_writes (id bigint PRIMARY KEY, written_at timestamp(6) NOT NULL DEFAULT current_timestamp(6))",
            "INSERT INTO baton_writes (id) VALUES (?)",
            "SELECT id FROM baton_writes");

    final String createTable;
    final String insert;
    final String selectIds;

    WorkloadSql(String createTable, String insert, String selectIds) {
        this.createTable = createTable;
        this.insert = insert;
        this.selectIds = selectIds;
    }

    /** True when the insert itself returns the server's port (PostgreSQL); otherwise ask with {@code SELECT @@port}. */
    boolean insertReturnsPort() {
        return this == POSTGRESQL;
    }

    static WorkloadSql of(String dialect) {
        return dialect.equals("postgresql") ? POSTGRESQL : MARIADB;
    }
}
