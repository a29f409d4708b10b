package dev.baton.orchestrator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final String VALID =
            """
            zookeeper: { connect: "127.0.0.1:2181", namespace: baton }
            clusters:
              - name: orders
                dialect: postgresql
                user: baton
                password: ${BATON_PASSWORD}
                nodes:
                  - { id: pg1, host: 127.0.0.1, port: 5432 }
                  - { id: pg2, host: 127.0.0.1, port: 5433, priority: 2 }
                  - { id: pg3, host: 127.0.0.1, port: 5434, noFailover: true }
            """;

    private final ConfigLoader loader = new ConfigLoader(Map.of("BATON_PASSWORD", "s3cret-value")::get);

    @TempDir
    Path dir;

    private static String withClusterKey(String line) {
        return VALID.replace("user: baton", "user: baton\n    " + line);
    }

    @Test
    void readsTheDocumentedShapeWithDefaults() {
        BatonConfig config = loader.parse(VALID, "test.yml");
        ClusterConfig orders = config.cluster("orders").orElseThrow();
        assertThat(orders.password()).isEqualTo("s3cret-value");
        assertThat(orders.pollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(orders.failureThreshold()).isEqualTo(3);
        assertThat(orders.nodes()).extracting(NodeConfig::id).containsExactly("pg1", "pg2", "pg3");
        assertThat(orders.node("pg3").orElseThrow().noFailover()).isTrue();
        assertThat(orders.toString()).doesNotContain("s3cret-value").contains("password=****");
    }

    @Test
    void refusesUnknownKeysNamingTheirPath() {
        String typo = VALID.replace("user: baton", "user: baton\n    pollIntervall: 200ms");
        assertThatThrownBy(() -> loader.parse(typo, "test.yml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("clusters[0].pollIntervall: unknown key (see docs/configuration.md)");
    }

    @Test
    void refusesADuplicateOrMissingNodeId() {
        String dup = VALID.replace("id: pg2", "id: pg1");
        assertThatThrownBy(() -> loader.parse(dup, "test.yml"))
                .hasMessage("clusters[0].nodes[1].id: 'pg1' is used by another node of cluster orders");
        String missing = VALID.replace("id: pg2, ", "");
        assertThatThrownBy(() -> loader.parse(missing, "test.yml")).hasMessage("clusters[0].nodes[1].id: is required");
    }

    @Test
    void refusesAPortOutOfRange() {
        assertThatThrownBy(() -> loader.parse(VALID.replace("5434", "70000"), "test.yml"))
                .hasMessage("clusters[0].nodes[2].port: 70000 is not a TCP port (1-65535)");
    }

    @Test
    void refusesAnUnknownDialectAndABadDuration() {
        assertThatThrownBy(() -> loader.parse(VALID.replace("dialect: postgresql", "dialect: oracle"), "t"))
                .hasMessage("clusters[0].dialect: 'oracle' is not one of postgresql, mariadb, mysql");
        String bad = VALID.replace("user: baton", "user: baton\n    pollInterval: soon");
        assertThatThrownBy(() -> loader.parse(bad, "t"))
                .hasMessageContaining("clusters[0].pollInterval: 'soon' is not a duration");
    }

    @Test
    void aMissingEnvironmentVariableIsNamedButNoSecretIsPrinted() {
        ConfigLoader noEnv = new ConfigLoader(name -> null);
        assertThatThrownBy(() -> noEnv.parse(VALID, "t"))
                .hasMessage("clusters[0].password: environment variable BATON_PASSWORD is not set");
    }

    @Test
    void aMissingFileIsNamed() {
        assertThatThrownBy(() -> ConfigLoader.load(Path.of("/nonexistent/baton.yml")))
                .hasMessage("config file /nonexistent/baton.yml does not exist");
    }

    @Test
    void requiresZooKeeperConnect() {
        assertThatThrownBy(() -> loader.parse(VALID.replace("connect: \"127.0.0.1:2181\", ", ""), "t"))
                .hasMessage("zookeeper.connect: is required");
    }

    @Test
    void refusesADurationTooLargeForAnyClockNamingTheKeyAndTheBound() {
        assertThatThrownBy(() -> loader.parse(withClusterKey("catchUpTimeout: 999999999999999999m"), "t"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("clusters[0].catchUpTimeout: 999999999999999999m is out of range (100ms-10m)");
        assertThatThrownBy(() -> loader.parse(withClusterKey("catchUpTimeout: 99999999999999999999"), "t"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("clusters[0].catchUpTimeout: 99999999999999999999 is out of range (100ms-10m)");
        assertThatThrownBy(() -> loader.parse(withClusterKey("pollInterval: 99999999999999999999s"), "t"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("clusters[0].pollInterval: 99999999999999999999s is out of range (50ms-1m)");
    }

    @Test
    void refusesAWholeNumberTooLargeForItsTypeAsOutOfRange() {
        assertThatThrownBy(() -> loader.parse(withClusterKey("failureThreshold: 99999999999999999999"), "t"))
                .hasMessage("clusters[0].failureThreshold: 99999999999999999999 is out of range (1-100)");
    }

    @Test
    void refusesAFileLargerThanTheLimitEvenWhenItHasNoSize() {
        assertThatThrownBy(() -> ConfigLoader.load(Path.of("/dev/zero")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file /dev/zero: larger than 1 MiB (1048576 bytes), the limit for a configuration"
                        + " file");
    }

    @Test
    void refusesAHugeQuotedValueByTheSizeLimitBeforeParsingIt() throws IOException {
        Path big = dir.resolve("big.yml");
        Files.writeString(big, VALID.replace("${BATON_PASSWORD}", "\"" + "x".repeat(10 << 20) + "\""));
        assertThatThrownBy(() -> loader.read(big))
                .hasMessage("config file " + big + ": larger than 1 MiB (1048576 bytes), the limit for a configuration"
                        + " file");
        assertThatThrownBy(() -> loader.parse(Files.readString(big), "big.yml"))
                .hasMessage("big.yml: larger than 1 MiB (1048576 bytes), the limit for a configuration file");
    }

    @Test
    void refusesYamlNestedDeeperThanAConfigurationNeeds() {
        String deep = "zookeeper: " + "[".repeat(200) + "]".repeat(200) + "\n";
        assertThatThrownBy(() -> loader.parse(deep, "t"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("t line 1, column 28: nested deeper than 16 levels, the limit for a configuration file");
    }

    @Test
    void refusesAYamlAliasNamingWhereItIs() {
        String alias = VALID.replace("host: 127.0.0.1, port: 5432", "host: &h 127.0.0.1, port: 5432")
                .replace("host: 127.0.0.1, port: 5433", "host: *h, port: 5433");
        assertThatThrownBy(() -> loader.parse(alias, "test.yml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yml line 9, column 26: YAML alias *h is not supported (anchors and aliases are"
                        + " refused): write the value out");
        String merge = VALID.replace("clusters:", "defaults: &d { user: baton }\nclusters:")
                .replace("user: baton\n    password", "<<: *d\n    password");
        assertThatThrownBy(() -> loader.parse(merge, "test.yml"))
                .hasMessageStartingWith("test.yml line 6, column 9: YAML alias *d is not supported");
    }

    @Test
    void aYamlSyntaxErrorNamesTheLine() {
        assertThatThrownBy(() -> loader.parse(VALID.replace("user: baton", "user: baton: x"), "test.yml"))
                .hasMessage("test.yml line 5, column 16: not valid YAML: mapping values are not allowed here");
    }

    @Test
    void aDirectoryGivenAsTheFileIsNamedAsSuch() {
        assertThatThrownBy(() -> ConfigLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cannot read config file " + dir + ": it is a directory");
    }

    @Test
    void anUnreadableFileGivesTheReason() throws IOException {
        // Root reads any file whatever its mode; a write-only sysfs attribute refuses root too.
        Path locked = dir.resolve("locked.yml");
        Files.writeString(locked, VALID);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        Path unreadable = Stream.of(locked, Path.of("/sys/bus/pci/rescan"))
                .filter(ConfigLoaderTest::refusesToOpen)
                .findFirst()
                .orElse(null);
        assumeTrue(unreadable != null, "no file here that this user cannot read");
        assertThatThrownBy(() -> ConfigLoader.load(unreadable))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cannot read config file " + unreadable + ": permission denied");
    }

    private static boolean refusesToOpen(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return false;
        } catch (AccessDeniedException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aFileThatIsNotUtf8NamesTheByteAndWhereItIs() throws IOException {
        Path latin1 = dir.resolve("latin1.yml");
        Files.write(latin1, VALID.replace("user: baton", "user: b\u00e4ton").getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> ConfigLoader.load(latin1))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file " + latin1 + ": not UTF-8 text (byte 0xE4 at line 5, column 12)");
    }
}
