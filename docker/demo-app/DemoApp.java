import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * docker-compose's demo application: writes a row every 100 ms through Baton's {@code jdbc:baton:} driver and
 * prints how many writes succeeded and failed each second. Started with Java's single-file launcher against the
 * Baton jar (which holds the driver and pgjdbc): {@code java -cp baton.jar DemoApp.java}.
 */
public final class DemoApp {
    public static void main(String[] args) throws Exception {
        String url = System.getenv("BATON_URL");
        String user = System.getenv("APP_USER");
        String password = System.getenv("APP_PASSWORD");
        long ok = 0;
        long failed = 0;
        long lastReport = System.currentTimeMillis();
        while (true) {
            try (Connection c = DriverManager.getConnection(url, user, password)) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE IF NOT EXISTS demo_writes (id bigserial PRIMARY KEY, at timestamptz"
                            + " NOT NULL DEFAULT now())");
                }
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO demo_writes DEFAULT VALUES")) {
                    insert.executeUpdate();
                }
                ok++;
            } catch (SQLException e) {
                failed++;
                System.out.println("write failed: " + e.getSQLState() + " " + e.getMessage());
            }
            if (System.currentTimeMillis() - lastReport >= 1000) {
                System.out.println("writes: " + ok + " ok, " + failed + " failed");
                lastReport = System.currentTimeMillis();
            }
            Thread.sleep(100);
        }
    }
}
