package dev.baton.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The JSON codec of every record Baton keeps in ZooKeeper. Unknown fields are ignored for forward compatibility. */
public final class RegistryJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private RegistryJson() {}

    public static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public static String writePretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Decodes {@code json}; a payload that is not a valid {@code type} is refused with a message quoting at most its
     * first {@value #QUOTED} characters (a 1 MB garbage record must not end up in every log line).
     */
    public static <T> T read(byte[] json, Class<T> type) {
        try {
            T value = MAPPER.readValue(json, type);
            if (value == null) {
                throw new IOException("empty");
            }
            return value;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a valid " + type.getSimpleName() + ": " + quote(json));
        }
    }

    private static final int QUOTED = 60;

    /** The start of a payload, for a message: one line, at most {@value #QUOTED} characters, and its size. */
    public static String quote(byte[] data) {
        if (data == null || data.length == 0) {
            return "(empty)";
        }
        String text = new String(data, 0, Math.min(data.length, QUOTED * 4), StandardCharsets.UTF_8)
                .lines()
                .findFirst()
                .orElse("");
        String shown = text.length() > QUOTED ? text.substring(0, QUOTED) + "..." : text;
        return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'"
                + (data.length > QUOTED ? " (" + data.length + " bytes)" : "");
    }

    /** The shared mapper, for callers that need a tree view (for example a JSON CLI output). */
    public static ObjectMapper mapper() {
        return MAPPER.copy();
    }
}
