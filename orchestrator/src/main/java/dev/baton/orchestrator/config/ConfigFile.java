package dev.baton.orchestrator.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads the configuration file as UTF-8 text of at most {@link #MAX_BYTES}. The read is bounded whatever the file
 * claims to be, so that a device ({@code /dev/zero}), a pipe or a huge file is refused instead of filling the
 * heap. Every refusal names the file and the reason.
 */
final class ConfigFile {
    /** A configuration is a few kilobytes; this is far above any real one and far below trouble. */
    static final int MAX_BYTES = 1024 * 1024;

    static final String TOO_LARGE = "larger than 1 MiB (" + MAX_BYTES + " bytes), the limit for a configuration file";

    private ConfigFile() {}

    static String read(Path file) {
        if (Files.isDirectory(file)) {
            throw new ConfigException("cannot read config file " + file + ": it is a directory");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + reason(e), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw new ConfigException("config file " + file + ": " + TOO_LARGE);
        }
        return decode(bytes, file);
    }

    /** What went wrong, in the words of the operating system and without repeating the path. */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String decode(byte[] bytes, Path file) {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new ConfigException("config file " + file + ": not UTF-8 text (" + where(bytes, in.position()) + ")");
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** The bad byte and its line and column (in characters: everything before it decoded). */
    private static String where(byte[] bytes, int offset) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        String before = new String(bytes, lineStart, offset - lineStart, StandardCharsets.UTF_8);
        int column = before.codePointCount(0, before.length()) + 1;
        return String.format("byte 0x%02X at line %d, column %d", bytes[offset] & 0xff, line, column);
    }
}
