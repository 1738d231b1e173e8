package dev.strata.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Build-time only (strata-cli's {@code package} phase runs it; picocli-codegen is a provided dependency, not in
 * the shipped jar): writes the bash completion, its zsh loader, and one AsciiDoc man page per command, all from
 * the same picocli model the CLI runs, so they cannot drift from it. {@code scripts/package} turns the AsciiDoc
 * into roff with asciidoctor.
 */
public final class GenerateDocs {
    private GenerateDocs() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        CommandLine cl = new CommandLine(new StrataCommand());
        Subcommands.all(cl);
        Path completion = Files.createDirectories(out.resolve("completion"));
        Files.writeString(completion.resolve("strata"), AutoComplete.bash("strata", cl));
        // zsh runs bash completion scripts through bashcompinit; the first Tab loads it and completes at once.
        Files.writeString(completion.resolve("_strata"), """
                #compdef strata
                # strata's completion for zsh: the bash completion generated from the same command model.
                autoload -U +X bashcompinit && bashcompinit
                source /usr/share/bash-completion/completions/strata
                _bash_complete -F _complete_strata "$@"
                """);
        Path man = Files.createDirectories(out.resolve("man"));
        int rc = ManPageGenerator.generateManPage(man.toFile(), null, new boolean[0], true, cl.getCommandSpec());
        if (rc != 0) throw new IllegalStateException("man page generation failed with " + rc);
    }
}
