package dev.baton.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;

/** A sandbox server or tool failed; the message names the node, the step and what the logs said. */
public final class SandboxException extends UncheckedIOException {
    public SandboxException(String message) {
        super(new IOException(message));
    }

    public SandboxException(String message, Throwable cause) {
        super(message, cause instanceof IOException io ? io : new IOException(cause));
    }

    @Override
    public String getMessage() {
        String own = super.getMessage();
        return own.startsWith("java.io.IOException: ") ? own.substring("java.io.IOException: ".length()) : own;
    }
}
