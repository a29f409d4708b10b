package dev.baton.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/** PostgreSQL refuses to run as root: when this JVM is root, its processes run as {@code postgres} via setpriv. */
final class OsUser {
    static final String POSTGRES = "postgres";

    private OsUser() {}

    static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** {@code command} as the postgres user when root (setpriv execs, so the pid is the command's own). */
    static List<String> asPostgres(List<String> command) {
        if (!isRoot()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(
                List.of("setpriv", "--reuid=" + POSTGRES, "--regid=" + POSTGRES, "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** When root, makes {@code path} owned by postgres so the server can use it. */
    static void giveToPostgres(Path path) {
        if (!isRoot()) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(POSTGRES);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(POSTGRES);
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            view.setOwner(user);
            view.setGroup(group);
        } catch (IOException e) {
            throw new SandboxException(
                    "running as root but cannot chown " + path + " to user " + POSTGRES + " (does that user exist?): "
                            + e.getMessage(),
                    e);
        }
    }
}
