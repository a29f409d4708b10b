package dev.baton.orchestrator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.baton.orchestrator.admin.ClusterStatus;
import dev.baton.orchestrator.admin.SwitchoverRequest;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.HttpConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.metrics.OrchestratorMetrics;
import dev.baton.registry.OperationReport;
import dev.baton.registry.RegistryJson;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orchestrator's HTTP API (reference: docs/api.md), on the JDK's own HTTP server: JSON status, history and
 * operations, load-balancer health checks, Prometheus metrics and the status page. Requests that change something need
 * the configured bearer token and go through the same ZooKeeper request path as the CLI.
 */
public final class ApiServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    private static final int MAX_BODY = 64 * 1024;
    /** Prometheus' text exposition format, what {@code PrometheusMeterRegistry.scrape()} writes. */
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** How long a switchover is followed (and how long {@code ?wait=true} may wait) before it is reported as late. */
    private static final Duration OPERATION_TIMEOUT = Duration.ofMinutes(5);

    private static final int KEPT_OPERATIONS = 100;

    /** What the API needs of the orchestrator it serves. */
    public interface Host {
        String id();

        boolean leads(String cluster);

        /** The orchestrator's ZooKeeper client (namespaced). */
        CuratorFramework client();

        OrchestratorMetrics metrics();
    }

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final HttpConfig http;
    private final BatonConfig config;
    private final Host host;
    private final Clock clock;
    private final byte[] tokenDigest;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final ExecutorService requests;
    private final ExecutorService followers;
    /** Operations submitted through this server, newest last: the latest report of each. */
    private final Map<String, OperationReport> operations = new LinkedHashMap<>();

    private HttpServer server;

    public ApiServer(HttpConfig http, BatonConfig config, Host host, Clock clock) {
        this.http = http;
        this.config = config;
        this.host = host;
        this.clock = clock;
        this.tokenDigest = http.token() == null ? null : sha256(http.token().strip());
        this.requests = Executors.newFixedThreadPool(4, daemon("baton-http"));
        this.followers = Executors.newCachedThreadPool(daemon("baton-http-operation"));
    }

    /** Binds and starts serving; fails with a message naming the key when the address or keystore is unusable. */
    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("the HTTP API was already started");
        }
        InetSocketAddress address = new InetSocketAddress(http.address(), http.port());
        try {
            if (http.tls()) {
                HttpsServer https = HttpsServer.create(address, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(sslContext()));
                server = https;
            } else {
                server = HttpServer.create(address, 64);
            }
        } catch (IOException e) {
            throw new IllegalStateException(
                    "http.port: cannot listen on " + http.address() + ":" + http.port() + ": " + e.getMessage(), e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(requests);
        server.start();
        log.info(
                "HTTP API on {}://{}:{} (mutations {})",
                http.tls() ? "https" : "http",
                http.address(),
                port(),
                tokenDigest == null ? "refused: no http.token" : "need the bearer token");
    }

    /** The port it listens on (the chosen one when configured as 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:8008}. */
    public String url() {
        String h = http.address().contains(":") ? "[" + http.address() + "]" : http.address();
        return (http.tls() ? "https" : "http") + "://" + h + ":" + port();
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            return;
        }
        server.stop(0);
        requests.shutdownNow();
        followers.shutdownNow();
        try {
            requests.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private SSLContext sslContext() {
        char[] password = http.keystorePassword().toCharArray();
        try {
            KeyStore keyStore = KeyStore.getInstance(http.keystore().toFile(), password);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keyStore, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "http.tls.keystore: cannot use " + http.keystore() + ": " + e.getMessage()
                            + " (a PKCS#12 or JKS keystore with the server's key; check http.tls.password)",
                    e);
        }
    }

    // ---- routing

    /** A request failed in a way the client can fix: answered with {@code status} and {"error": message}. */
    private static final class ApiException extends RuntimeException {
        final int status;

        ApiException(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                route(ex);
            } catch (ApiException e) {
                send(ex, e.status, error(e.getMessage()));
            } catch (IllegalArgumentException e) {
                send(ex, 400, error(e.getMessage()));
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                log.warn(
                        "HTTP {} {} failed",
                        ex.getRequestMethod(),
                        ex.getRequestURI().getRawPath(),
                        e);
                send(ex, 500, error("internal error: " + e));
            }
        } catch (IOException e) {
            log.debug("HTTP client went away", e);
        }
    }

    private void route(HttpExchange ex) throws Exception {
        String path = ex.getRequestURI().getPath();
        List<String> parts =
                Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
        Map<String, String> query = query(ex);
        if (parts.isEmpty() || (parts.size() == 1 && parts.get(0).equals("status"))) {
            get(ex);
            page(ex);
            return;
        }
        switch (parts.get(0)) {
            case "health" -> {
                get(ex);
                exact(parts, 1);
                ObjectNode body = json();
                body.put("status", "up");
                body.put("orchestrator", host.id());
                body.put("zookeeper", connected() ? "connected" : "disconnected");
                send(ex, 200, body);
            }
            case "ready" -> {
                get(ex);
                exact(parts, 1);
                ObjectNode body = json();
                boolean ready = connected();
                body.put("ready", ready);
                body.put("orchestrator", host.id());
                if (!ready) {
                    body.put("reason", "not connected to ZooKeeper: cannot lead or stand by");
                }
                send(ex, ready ? 200 : 503, body);
            }
            case "metrics" -> {
                get(ex);
                exact(parts, 1);
                sendText(ex, 200, PROMETHEUS_TEXT, host.metrics().scrape(host.client()));
            }
            case "clusters" -> clusters(ex, parts, query);
            default -> throw new ApiException(404, "no such resource: " + path + " (see docs/api.md)");
        }
    }

    private void clusters(HttpExchange ex, List<String> parts, Map<String, String> query) throws Exception {
        if (parts.size() == 1) {
            get(ex);
            ArrayNode all = RegistryJson.mapper().createArrayNode();
            for (ClusterConfig c : config.clusters()) {
                all.add(statusJson(c));
            }
            send(ex, 200, all);
            return;
        }
        ClusterConfig cluster = config.cluster(parts.get(1))
                .orElseThrow(() -> new ApiException(
                        404,
                        "no cluster '" + parts.get(1) + "' (clusters: "
                                + config.clusters().stream()
                                        .map(ClusterConfig::name)
                                        .toList() + ")"));
        if (parts.size() == 2) {
            get(ex);
            send(ex, 200, statusJson(cluster));
            return;
        }
        ClusterRegistry registry = new ClusterRegistry(host.client(), cluster.name());
        String what = parts.get(2);
        switch (what) {
            case "history" -> {
                get(ex);
                exact(parts, 3);
                send(ex, 200, RegistryJson.mapper().valueToTree(registry.readHistory()));
            }
            case "primary", "replica" -> {
                get(ex);
                exact(parts, 3);
                allowOnly(query, what.equals("primary") ? Set.of("node") : Set.of("node", "lag"));
                String node = query.get("node");
                if (node == null || node.isEmpty()) {
                    throw new IllegalArgumentException("node: required, the member to check (?node="
                            + cluster.nodes().get(0).id() + ")");
                }
                if (cluster.node(node).isEmpty()) {
                    throw new ApiException(
                            404,
                            "node: '" + node + "' is not a member of cluster " + cluster.name() + " (members: "
                                    + cluster.nodes().stream().map(n -> n.id()).toList() + ")");
                }
                LoadBalancerCheck.Lag lag = query.containsKey("lag")
                        ? LoadBalancerCheck.Lag.parse(query.get("lag"), cluster.dialect())
                        : null;
                ClusterStatus status = readStatus(cluster);
                LoadBalancerCheck.Answer answer = what.equals("primary")
                        ? LoadBalancerCheck.primary(status, node, clock.instant())
                        : LoadBalancerCheck.replica(status, node, lag, clock.instant());
                ObjectNode body = json();
                body.put("cluster", cluster.name());
                body.put("node", answer.node());
                body.put("role", answer.role());
                body.put("ok", answer.ok());
                body.put("reason", answer.reason());
                send(ex, answer.status(), body);
            }
            case "switchover" -> {
                post(ex);
                exact(parts, 3);
                authorize(ex);
                allowOnly(query, Set.of("wait"));
                switchover(ex, cluster, registry, body(ex, Set.of("to", "dryRun")), flag(query, "wait"));
            }
            case "pause", "resume" -> {
                post(ex);
                exact(parts, 3);
                authorize(ex);
                allowOnly(query, Set.of());
                ObjectNode body = what.equals("pause") ? body(ex, Set.of("reason")) : body(ex, Set.of());
                boolean changed;
                if (what.equals("pause")) {
                    String reason = body.path("reason").asText("paused through the HTTP API");
                    changed = registry.pause(reason + " (" + clock.instant() + ")");
                } else {
                    changed = registry.resume();
                }
                ObjectNode answer = json();
                answer.put("cluster", cluster.name());
                answer.put("paused", what.equals("pause"));
                answer.put("changed", changed);
                send(ex, 200, answer);
            }
            case "operations" -> {
                get(ex);
                exact(parts, 4);
                OperationReport report;
                synchronized (operations) {
                    report = operations.get(parts.get(3));
                }
                if (report == null) {
                    throw new ApiException(
                            404,
                            "no operation '" + parts.get(3) + "' submitted through this orchestrator's API (finished"
                                    + " ones are in /clusters/" + cluster.name() + "/history)");
                }
                send(ex, 200, RegistryJson.mapper().valueToTree(report));
            }
            default -> throw new ApiException(
                    404,
                    "no such resource: " + ex.getRequestURI().getPath()
                            + " (cluster resources: history, primary, replica, switchover, pause, resume,"
                            + " operations/{id})");
        }
    }

    private void switchover(
            HttpExchange ex, ClusterConfig cluster, ClusterRegistry registry, ObjectNode body, boolean wait)
            throws Exception {
        JsonNode toNode = body.get("to");
        String to = null;
        if (toNode != null && !toNode.isNull()) {
            if (!toNode.isTextual()) {
                throw new IllegalArgumentException("to: must be a string, a member of cluster " + cluster.name());
            }
            to = toNode.asText();
            if (cluster.node(to).isEmpty()) {
                throw new IllegalArgumentException(
                        "to: '" + to + "' is not a node of cluster " + cluster.name() + " (nodes: "
                                + cluster.nodes().stream().map(n -> n.id()).toList() + ")");
            }
        }
        JsonNode dry = body.get("dryRun");
        if (dry != null && !dry.isBoolean()) {
            throw new IllegalArgumentException("dryRun: must be true or false");
        }
        SwitchoverRequest request = SwitchoverRequest.submit(registry, to, dry != null && dry.asBoolean());
        remember(request.submitted());
        CompletableFuture<OperationReport> done = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        OperationReport last = request.follow(
                                OPERATION_TIMEOUT,
                                steps -> remember(request.submitted().with(OperationReport.RUNNING, null, steps)));
                        remember(last);
                        return last;
                    } catch (Exception e) {
                        if (e instanceof InterruptedException) {
                            Thread.currentThread().interrupt();
                        }
                        OperationReport failed = request.submitted().with("failed", e.getMessage(), List.of());
                        remember(failed);
                        return failed;
                    }
                },
                followers);
        String location = "/clusters/" + cluster.name() + "/operations/" + request.id();
        ex.getResponseHeaders().set("Location", location);
        if (!wait) {
            ObjectNode answer = json();
            answer.put("id", request.id());
            answer.put("cluster", cluster.name());
            answer.put("state", OperationReport.PENDING);
            answer.put("location", location);
            send(ex, 202, answer);
            return;
        }
        OperationReport last;
        try {
            last = done.get(OPERATION_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new ApiException(504, "the switchover did not finish in time; follow it at " + location);
        }
        boolean ok = last.state().equals("succeeded") || last.state().equals("planned");
        send(ex, ok ? 200 : 409, RegistryJson.mapper().valueToTree(last));
    }

    private void remember(OperationReport report) {
        synchronized (operations) {
            operations.put(report.id(), report);
            while (operations.size() > KEPT_OPERATIONS) {
                operations.remove(operations.keySet().iterator().next());
            }
        }
    }

    private ObjectNode statusJson(ClusterConfig cluster) throws Exception {
        ObjectNode node = readStatus(cluster).toJson(clock.instant());
        node.put("servedBy", host.id());
        node.put("servedByLeader", host.leads(cluster.name()));
        return node;
    }

    private ClusterStatus readStatus(ClusterConfig cluster) throws Exception {
        if (!connected()) {
            throw new ApiException(503, "not connected to ZooKeeper: the cluster's state cannot be read");
        }
        return ClusterStatus.read(host.client(), cluster, config.zookeeper().digest() != null);
    }

    private boolean connected() {
        return host.client().getZookeeperClient().isConnected();
    }

    // ---- request checks

    private static void get(HttpExchange ex) {
        String m = ex.getRequestMethod();
        if (!m.equals("GET") && !m.equals("HEAD")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD");
            throw new ApiException(
                    405, m + " is not allowed on " + ex.getRequestURI().getPath() + " (GET only)");
        }
    }

    private static void post(HttpExchange ex) {
        if (!ex.getRequestMethod().equals("POST")) {
            ex.getResponseHeaders().set("Allow", "POST");
            throw new ApiException(
                    405,
                    ex.getRequestMethod() + " is not allowed on "
                            + ex.getRequestURI().getPath() + " (POST only: it changes something)");
        }
    }

    private static void exact(List<String> parts, int size) {
        if (parts.size() != size) {
            throw new ApiException(404, "no such resource: /" + String.join("/", parts) + " (see docs/api.md)");
        }
    }

    /** Refuses a request that changes something unless it carries the configured bearer token. */
    private void authorize(HttpExchange ex) {
        if (tokenDigest == null) {
            throw new ApiException(
                    403, "requests that change something are refused: no http.token is configured (docs/api.md)");
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"baton\"");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "missing bearer token: send 'Authorization: Bearer <http.token>'");
        }
        // compared as digests, in constant time: neither the length nor a prefix of the token leaks
        if (!MessageDigest.isEqual(sha256(header.substring(7).strip()), tokenDigest)) {
            throw new ApiException(401, "wrong bearer token");
        }
        ex.getResponseHeaders().remove("WWW-Authenticate");
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> params = new LinkedHashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (params.put(key, value) != null) {
                throw new IllegalArgumentException(key + ": given more than once");
            }
        }
        return params;
    }

    private static void allowOnly(Map<String, String> query, Set<String> allowed) {
        for (String key : query.keySet()) {
            if (!allowed.contains(key)) {
                throw new IllegalArgumentException(key + ": unknown query parameter"
                        + (allowed.isEmpty() ? " (none are accepted here)" : " (accepted: " + allowed + ")"));
            }
        }
    }

    private static boolean flag(Map<String, String> query, String key) {
        String value = query.get(key);
        if (value == null) {
            return false;
        }
        return switch (value) {
            case "", "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new IllegalArgumentException(key + ": '" + value + "' is not true or false");
        };
    }

    /** The request's JSON object (empty when there is no body); fields outside {@code allowed} are refused. */
    private static ObjectNode body(HttpExchange ex, Set<String> allowed) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new ApiException(413, "request body larger than " + MAX_BODY + " bytes");
        }
        String text = new String(bytes, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            return json();
        }
        JsonNode node;
        try {
            node = RegistryJson.mapper().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("request body is not JSON: "
                    + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("request body must be a JSON object");
        }
        for (var it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!allowed.contains(field)) {
                throw new IllegalArgumentException(field + ": unknown field"
                        + (allowed.isEmpty() ? " (this request takes no body)" : " (accepted: " + allowed + ")"));
            }
        }
        return (ObjectNode) node;
    }

    // ---- responses

    private static ObjectNode json() {
        return RegistryJson.mapper().createObjectNode();
    }

    private static ObjectNode error(String message) {
        return json().put("error", message);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        String text;
        try {
            text = RegistryJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(body) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
        sendText(ex, status, "application/json; charset=utf-8", text);
    }

    private static void sendText(HttpExchange ex, int status, String contentType, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void page(HttpExchange ex) throws IOException {
        String html;
        try (InputStream in = ApiServer.class.getResourceAsStream("status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html is missing from the jar");
            }
            html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ex.getResponseHeaders()
                .set(
                        "Content-Security-Policy",
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src"
                                + " 'self'; img-src 'self' data:");
        sendText(ex, 200, "text/html; charset=utf-8", html);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
