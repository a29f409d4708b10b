package dev.baton.orchestrator.config;

import java.nio.file.Path;

/**
 * The orchestrator's HTTP API (JSON, health checks for load balancers, Prometheus metrics, status page).
 *
 * @param address the address to bind, 127.0.0.1 unless configured
 * @param port the TCP port; 0 picks a free one (tests, the sandbox)
 * @param token the bearer token that every request changing something must carry, or null: then every such request
 *     is refused; never printed
 * @param keystore a PKCS#12 or JKS keystore holding the server's key and certificate: the API then speaks HTTPS only;
 *     null for plain HTTP
 * @param keystorePassword the keystore's password; never printed
 */
public record HttpConfig(String address, int port, String token, Path keystore, String keystorePassword) {
    public static final String DEFAULT_ADDRESS = "127.0.0.1";

    public boolean tls() {
        return keystore != null;
    }

    @Override
    public String toString() {
        return "HttpConfig[address=" + address + ", port=" + port + ", token=" + (token == null ? "none" : "****")
                + ", keystore=" + keystore + "]";
    }
}
