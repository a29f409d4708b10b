package dev.baton.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.baton.registry.RegistryJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A small client of the orchestrator's HTTP API for the end-to-end tests. */
final class ApiClient {
    private static final Pattern SAMPLE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})?\\s+(\\S+)(\\s+\\d+)?");

    private final String url;
    private final String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(String url, String token) {
        this.url = url;
        this.token = token;
    }

    record Response(int status, String body) {
        JsonNode json() throws IOException {
            return RegistryJson.mapper().readTree(body);
        }
    }

    Response get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url + path)).GET(), null);
    }

    Response post(String path, String body, String bearer) throws Exception {
        return send(
                HttpRequest.newBuilder(URI.create(url + path))
                        .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body)),
                bearer);
    }

    Response post(String path, String body) throws Exception {
        return post(path, body, token);
    }

    private Response send(HttpRequest.Builder request, String bearer) throws Exception {
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        HttpResponse<String> r =
                http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    /**
     * Parses Prometheus' text exposition format: every sample as {@code name{labels}} (labels as written, sorted by
     * the writer) to its value. Comment lines must be HELP or TYPE lines; anything else that does not parse fails.
     */
    static Map<String, Double> parseMetrics(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                if (!line.startsWith("# HELP ") && !line.startsWith("# TYPE ")) {
                    throw new IllegalArgumentException("not a HELP or TYPE line: " + line);
                }
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a sample line: " + line);
            }
            String value = m.group(3);
            double v =
                    switch (value) {
                        case "NaN" -> Double.NaN;
                        case "+Inf" -> Double.POSITIVE_INFINITY;
                        case "-Inf" -> Double.NEGATIVE_INFINITY;
                        default -> Double.parseDouble(value);
                    };
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), v);
        }
        return samples;
    }
}
