package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxDirTest {

    @Test
    void reapsServersAndDirOfASandboxWhoseOwnerJvmIsDead(@TempDir Path root) throws Exception {
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor(10, TimeUnit.SECONDS);
        Path stale = Files.createDirectories(root.resolve("baton-pg-1234"));
        Files.writeString(stale.resolve("owner.pid"), dead.pid() + "\n");
        // a stand-in server: sleep copied under the name "postgres", with a postmaster.pid naming it
        Path fakeServer = stale.resolve("postgres");
        Files.copy(Path.of("/bin/sleep"), fakeServer, StandardCopyOption.COPY_ATTRIBUTES);
        Process server = new ProcessBuilder(fakeServer.toString(), "60").start();
        Files.createDirectories(stale.resolve("pg1"));
        Files.writeString(stale.resolve("pg1/postmaster.pid"), server.pid() + "\n/some/dir\n");

        Path live = Files.createDirectories(root.resolve("baton-mariadb-5678"));
        Files.writeString(live.resolve("owner.pid"), ProcessHandle.current().pid() + "\n");

        SandboxDir.reapStale(root);

        assertThat(server.waitFor(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS))
                .isTrue();
        assertThat(stale).doesNotExist();
        assertThat(live).isDirectory();
    }

    @Test
    void leavesUnrelatedProcessesAlone(@TempDir Path root) throws Exception {
        Path stale = Files.createDirectories(root.resolve("baton-mariadb-1"));
        Files.writeString(stale.resolve("owner.pid"), "999999999\n");
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            Files.writeString(stale.resolve("db1.pid"), sleeper.pid() + "\n");
            SandboxDir.reapStale(root);
            assertThat(stale).doesNotExist();
            assertThat(sleeper.isAlive()).isTrue();
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void ownerIsAliveOnlyWhileItsProcessRuns() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor(10, TimeUnit.SECONDS);
        assertThat(SandboxDir.isAlive(ProcessHandle.current().pid())).isTrue();
        assertThat(SandboxDir.isAlive(p.pid())).isFalse();
    }
}
