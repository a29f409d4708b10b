package dev.baton.orchestrator.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Turns configuration text into a tree, within limits a configuration never comes near: {@link
 * ConfigFile#MAX_BYTES} of text and {@link #MAX_DEPTH} levels of nesting.
 *
 * <p>YAML aliases ({@code *name}) are refused. Jackson's YAML parser does not resolve them: it reads {@code host:
 * *h} as the host {@code h}. Resolving them would take a second YAML implementation (SnakeYAML's constructor, with
 * YAML 1.1 typing where {@code 0700} is a number and {@code no} a boolean, and merge keys that silently override),
 * and would let a short file expand into a huge one. A configuration is short and read by people deciding a
 * failover: what is written is what Baton uses. Anchors without aliases change nothing and are let through.
 */
final class ConfigYaml {
    /** Baton's own shape nests five levels deep (clusters, a cluster, nodes, a node, its keys). */
    static final int MAX_DEPTH = 16;

    private static final YAMLMapper MAPPER = new YAMLMapper(YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .streamReadConstraints(
                    StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build());

    private ConfigYaml() {}

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        // SnakeYAML's tokenizer enforces this one; its alias and depth limits belong to its composer, which
        // Jackson does not use: depth is bounded by the stream constraints above and aliases are refused.
        options.setCodePointLimit(ConfigFile.MAX_BYTES);
        return options;
    }

    static JsonNode parse(String yaml, String source) {
        if (yaml.length() > ConfigFile.MAX_BYTES) { // UTF-8 never takes fewer bytes than UTF-16 chars
            throw new ConfigException(source + ": " + ConfigFile.TOO_LARGE);
        }
        refuseAliases(yaml, source);
        try {
            return MAPPER.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw notValid(source, e.getLocation(), e);
        }
    }

    /** One pass over the tokens before the tree is built, so that no alias is ever read as a plain string. */
    private static void refuseAliases(String yaml, String source) {
        try (JsonParser parser = MAPPER.createParser(yaml)) {
            YAMLParser yamlParser = (YAMLParser) parser;
            try {
                while (parser.nextToken() != null) {
                    if (yamlParser.isCurrentAlias()) {
                        throw new ConfigException(at(source, parser.currentTokenLocation()) + ": YAML alias *"
                                + parser.getText() + " is not supported (anchors and aliases are refused): write the"
                                + " value out");
                    }
                }
            } catch (StreamConstraintsException e) {
                throw new ConfigException(
                        at(source, parser.currentLocation()) + ": nested deeper than " + MAX_DEPTH
                                + " levels, the limit for a configuration file",
                        e);
            }
        } catch (JsonProcessingException e) {
            throw notValid(source, e.getLocation(), e);
        } catch (IOException e) { // reading a String fails only in parsing
            throw new ConfigException(source + ": not valid YAML: " + e.getMessage(), e);
        }
    }

    private static ConfigException notValid(String source, JsonLocation location, JsonProcessingException e) {
        String what = e.getOriginalMessage().lines().findFirst().orElse("").strip();
        return new ConfigException(at(source, location) + ": not valid YAML: " + what, e);
    }

    private static String at(String source, JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return source;
        }
        return source + " line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
