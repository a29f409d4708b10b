package dev.baton.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.baton.registry.RegistryJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real headless Chromium (Debian's package) driven over the Chrome DevTools Protocol with the JDK's own WebSocket
 * client: navigate, evaluate JavaScript in the page, take screenshots. Closing it ends the browser and every process
 * it started, and removes its profile directory.
 */
final class HeadlessChromium implements AutoCloseable {
    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    /** The browser binary, or null when none is installed. */
    static Path binary() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        return null;
    }

    HeadlessChromium(Path binary) throws Exception {
        profile = Files.createTempDirectory("baton-chromium-");
        process = new ProcessBuilder(
                        binary.toString(),
                        "--headless",
                        "--no-sandbox", // runs as root in CI
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--window-size=1200,1400",
                        "--user-data-dir=" + profile,
                        "--remote-debugging-port=0",
                        "about:blank")
                .redirectErrorStream(true)
                .redirectOutput(profile.resolve("chromium.log").toFile())
                .start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(portFile) || Files.readAllLines(portFile).size() < 2) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("chromium did not open its DevTools port: "
                            + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(50);
            }
            int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
            HttpClient http = HttpClient.newHttpClient();
            JsonNode targets = RegistryJson.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            String page = null;
            for (JsonNode t : targets) {
                if (t.path("type").asText().equals("page")) {
                    page = t.path("webSocketDebuggerUrl").asText();
                }
            }
            if (page == null) {
                throw new IllegalStateException("chromium has no page target: " + targets);
            }
            socket = http.newWebSocketBuilder()
                    .buildAsync(URI.create(page), new Listener())
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            stopProcess();
            throw e;
        }
    }

    /** Loads {@code url} and waits until the document has loaded. */
    void navigate(String url) throws Exception {
        call("Page.enable", RegistryJson.mapper().createObjectNode());
        call("Page.navigate", RegistryJson.mapper().createObjectNode().put("url", url));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!"complete".equals(evaluate("document.readyState"))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("page " + url + " did not load within 30 s");
            }
            Thread.sleep(50);
        }
    }

    /** The value of a JavaScript expression evaluated in the page, as a string (null for null/undefined). */
    String evaluate(String expression) throws Exception {
        ObjectNode params = RegistryJson.mapper().createObjectNode();
        params.put("expression", expression);
        params.put("returnByValue", true);
        JsonNode result = call("Runtime.evaluate", params);
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("JavaScript failed: " + result.path("exceptionDetails"));
        }
        JsonNode value = result.path("result").path("value");
        return value.isMissingNode() || value.isNull() ? null : value.asText();
    }

    /** Writes a PNG screenshot of the page to {@code file}. */
    void screenshot(Path file) throws Exception {
        JsonNode result = call(
                "Page.captureScreenshot",
                RegistryJson.mapper().createObjectNode().put("format", "png").put("captureBeyondViewport", true));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(result.path("data").asText()));
    }

    private JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode message = RegistryJson.mapper().createObjectNode();
        message.put("id", id);
        message.put("method", method);
        message.set("params", params);
        socket.sendText(RegistryJson.mapper().writeValueAsString(message), true).get(10, TimeUnit.SECONDS);
        JsonNode response = answer.get(30, TimeUnit.SECONDS);
        if (response.has("error")) {
            throw new IllegalStateException(method + " failed: " + response.path("error"));
        }
        return response.path("result");
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder frame = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            frame.append(data);
            if (last) {
                try {
                    JsonNode message = RegistryJson.mapper().readTree(frame.toString());
                    if (message.has("id")) {
                        CompletableFuture<JsonNode> f =
                                pending.remove(message.path("id").asInt());
                        if (f != null) {
                            f.complete(message);
                        }
                    }
                } catch (IOException e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                frame.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            socket.abort();
        } finally {
            stopProcess();
        }
    }

    private void stopProcess() throws IOException {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        children.forEach(ProcessHandle::destroyForcibly);
        try (var paths = Files.walk(profile)) {
            for (Path p : paths.sorted(Collections.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
