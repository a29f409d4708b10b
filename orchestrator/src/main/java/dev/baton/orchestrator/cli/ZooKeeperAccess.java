package dev.baton.orchestrator.cli;

import java.security.NoSuchAlgorithmException;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * Explains why ZooKeeper refused an operation (NoAuth) by comparing the configured {@code zookeeper.digest} with
 * the digest ACL of the refused node: not set, a user the ACL does not name, or a wrong password. ZooKeeper itself
 * accepts any digest at connection time and only refuses the first write, with a bare NoAuth.
 */
final class ZooKeeperAccess {
    private ZooKeeperAccess() {}

    /** The NoAuth refusal somewhere in {@code e}'s causes, or null. */
    static KeeperException.NoAuthException noAuthIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof KeeperException.NoAuthException noAuth) {
                return noAuth;
            }
        }
        return null;
    }

    /** One line naming the problem; never the password. {@code client} must still be open. */
    static String explain(KeeperException.NoAuthException e, CuratorFramework client, String digest) {
        String path = e.getPath() == null ? "the namespace" : e.getPath();
        String refused = "ZooKeeper refused access to " + path + " (NoAuth)";
        List<String> digestIds = digestIdsGoverning(client, e.getPath());
        if (digestIds == null || digestIds.isEmpty()) {
            return refused + (digest == null ? ": zookeeper.digest is not set" : ": check zookeeper.digest")
                    + " and the namespace's ACLs";
        }
        List<String> users = digestIds.stream()
                .map(id -> id.substring(0, Math.max(0, id.indexOf(':'))))
                .distinct()
                .toList();
        if (digest == null) {
            return "zookeeper.digest: not set, but only digest user " + String.join(", ", users) + " may do this: "
                    + refused;
        }
        String user = digest.substring(0, digest.indexOf(':'));
        if (!users.contains(user)) {
            return "zookeeper.digest: user '" + user + "' is not in the ACL (digest users: " + String.join(", ", users)
                    + "): " + refused;
        }
        if (!digestIds.contains(digestId(digest))) {
            return "zookeeper.digest: wrong password for user '" + user + "': " + refused;
        }
        return refused + ": the ACL names user '" + user + "' with this password but not with the rights needed";
    }

    /**
     * The digest ids ({@code user:hash}) in the ACL of {@code path} or, for a node not created yet, of its nearest
     * existing parent (whose ACL decides a create); null when the ACL cannot be read.
     */
    private static List<String> digestIdsGoverning(CuratorFramework client, String path) {
        if (path == null) {
            return null;
        }
        CuratorFramework root = client.usingNamespace(null);
        for (String p = path; !p.isEmpty(); p = p.substring(0, p.lastIndexOf('/'))) {
            try {
                return root.getACL().forPath(p).stream()
                        .filter(acl -> acl.getId().getScheme().equals("digest"))
                        .map(acl -> acl.getId().getId())
                        .toList();
            } catch (KeeperException.NoNodeException e) {
                continue;
            } catch (Exception e) {
                return null;
            }
        }
        return null;
    }

    private static String digestId(String digest) {
        try {
            return DigestAuthenticationProvider.generateDigest(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available to check zookeeper.digest", e);
        }
    }
}
