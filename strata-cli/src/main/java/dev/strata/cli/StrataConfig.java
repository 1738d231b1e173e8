package dev.strata.cli;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The JSON config file, in the spirit of Docker's daemon.json:
 * {@code {"storage-driver": "overlay", "storage-opts": ["overlay.size=10G"], "root": "/var/lib/strata"}}.
 * Unknown keys are refused, so a typo does not silently do nothing.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
record StrataConfig(@JsonProperty("storage-driver") String storageDriver,
                    @JsonProperty("storage-opts") List<String> storageOpts,
                    @JsonProperty("root") String root) {
    static final Path DEFAULT = Path.of("/etc/strata/config.json");
    static final StrataConfig NONE = new StrataConfig(null, List.of(), null);

    StrataConfig {
        storageOpts = storageOpts == null ? List.of() : List.copyOf(storageOpts);
    }

    /** Reads {@code file}; a missing default file means no config, a missing named file is an error. */
    static StrataConfig load(Path file, boolean explicit) {
        if (!Files.exists(file)) {
            if (explicit) throw new StorageException("read config", file.toString(), "no such file");
            return NONE;
        }
        try {
            return new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .readValue(file.toFile(), StrataConfig.class);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException jp ? jp.getOriginalMessage() : e.toString();
            throw new StorageException("read config", file.toString(), why, e);
        }
    }
}
