package dev.strata.cli;

import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.StorageException;
import dev.strata.api.UnknownDriverException;
import picocli.CommandLine;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns whatever a command threw into the one line a user reads: {@code strata: VERB ID: cause}. The exceptions
 * carry the driver's operation ({@code get}, {@code put}, {@code applyDiff}), its subject (often a path inside the
 * driver's home) and the errno; the command knows the verb the user typed and the layer. So the driver's
 * operation names and internal paths are dropped here, Java's exception names never reach the user, and the
 * errors that are the user's to fix (unknown driver, option or command, bad id, config file) are marked as usage.
 */
final class ErrorText {
    /** Driver API operation names: the CLI's verb says the same, in the user's words. */
    private static final Set<String> API_OPERATIONS = Set.of("create", "createReadWrite", "remove", "get", "put",
            "exists", "metadata", "diff", "changes", "diffSize", "applyDiff", "cleanup", "status", "option", "select driver");
    /** A Java class name as toString() puts it in front of a message, e.g. {@code java.io.EOFException: }. */
    private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

    private static final Pattern TRUNCATED = Pattern.compile("(?i)truncated|unexpected end|premature end");
    private static final Pattern LAYER_STATE = Pattern.compile("; layer \\S+ unchanged$");
    private static final String ENDS_EARLY = "the input ends early: truncated or not what it claims to be";

    /** The line to print, and whether the error is the user's input (exit 2) rather than a failure. */
    record Report(String line, boolean usage) {
    }

    private ErrorText() {
    }

    static Report report(Throwable t, CliCommand command) {
        String verb = command == null ? "" : command.verb();
        String subject = command == null ? null : command.subject();
        Paths where = command == null ? Paths.NONE : Paths.of(command);
        if (t instanceof ConfigException c) return new Report("strata: " + c.getMessage(), true);
        if (t instanceof StorageException s && subject != null && s.subject() != null && s.subject().equals('"' + subject + '"')) {
            subject = s.subject(); // an invalid id is quoted, so that spaces and control characters show
        }
        String head = "strata: " + (verb.isEmpty() ? "" : verb + (subject == null || subject.isEmpty() ? "" : " " + subject) + ": ");
        return new Report(head + cause(t, subject, where), isUsage(t));
    }

    /** The user's input was wrong: nothing was tried. */
    static boolean isUsage(Throwable t) {
        return t instanceof UsageException || t instanceof UnknownDriverException || t instanceof InvalidOptionException
                || t instanceof InvalidLayerIdException || t instanceof ConfigException
                || t instanceof CommandLine.ParameterException;
    }

    /** The cause, without the parts the head already says. */
    static String cause(Throwable t, String subject, Paths where) {
        String c = describe(t, subject, where);
        // The state the layer is left in closes the line, outside whatever is put in parentheses below.
        Matcher state = LAYER_STATE.matcher(c);
        String tail = state.find() ? state.group() : "";
        c = c.substring(0, c.length() - tail.length());
        // A stream that ends early says so in the words of whichever decoder noticed (zstd: "Truncated source").
        if (!c.startsWith(ENDS_EARLY) && TRUNCATED.matcher(c).find()) c = ENDS_EARLY + " (" + lowerFirst(c) + ")";
        return c + tail;
    }

    private static String describe(Throwable t, String subject, Paths where) {
        if (t instanceof UsageException) return t.getMessage();
        FileSystemException fs = find(t, FileSystemException.class);
        if (fs != null) return fileSystem(fs, where);
        if (t instanceof UncheckedIOException u && u.getCause() != null) return describe(u.getCause(), subject, where);
        if (t instanceof StorageException s) return storage(s, subject, where);
        if (t instanceof EOFException || find(t, EOFException.class) != null) {
            return ENDS_EARLY + detail(find(t, EOFException.class));
        }

        String simple = t.getClass().getSimpleName();
        if (simple.equals("TarFormatException")) return "not a valid tar stream: " + scrub(t.getMessage());
        if (t instanceof IOException) return scrub(messageOf(t));
        // Not a failure the CLI expected: say so, without a class name; STRATA_DEBUG=1 prints the stack.
        String msg = messageOf(t);
        return "internal error" + (msg.isEmpty() ? "" : ": " + scrub(msg)) + " (STRATA_DEBUG=1 prints details)";
    }

    private static String storage(StorageException s, String subject, Paths where) {
        String op = s.operation();
        String subj = s.subject();
        String reason = reason(s);
        StringBuilder b = new StringBuilder();
        if (op != null && !API_OPERATIONS.contains(op)) b.append(op);
        if (subj != null && !subj.isEmpty() && !subj.equals(subject)
                && !where.isInternal(subj) && !(op != null && (op.equals("option") || op.equals("select driver")))) {
            b.append(b.isEmpty() ? "" : " ").append(subj);
        }
        if (!b.isEmpty()) b.append(": ");
        // Drivers may name their own operation inside the reason ("... for createReadWrite"): the verb says it.
        String r = scrub(reason).replaceAll(" for (createReadWrite|create|applyDiff|diffSize)\\b", "");
        return b.append(r).toString();
    }

    /** The exception's own words, without the {@code operation subject: } prefix its constructor put in front. */
    private static String reason(StorageException s) {
        String msg = String.valueOf(s.getMessage());
        StringBuilder prefix = new StringBuilder();
        if (s.operation() != null) prefix.append(s.operation());
        if (s.subject() != null && !s.subject().isEmpty()) prefix.append(prefix.isEmpty() ? "" : " ").append(s.subject());
        if (!prefix.isEmpty()) prefix.append(": ");
        return msg.startsWith(prefix.toString()) ? msg.substring(prefix.length()) : msg;
    }

    private static String fileSystem(FileSystemException e, Paths where) {
        String file = e.getFile();
        String what;
        if (e instanceof NoSuchFileException) what = "no such file or directory";
        else if (e instanceof AccessDeniedException) what = "permission denied";
        else if (e instanceof FileAlreadyExistsException) what = "already exists";
        else if (e instanceof NotDirectoryException) what = "not a directory";
        else if (e instanceof DirectoryNotEmptyException) what = "directory not empty";
        else what = e.getReason() == null ? "file system error" : lowerFirst(e.getReason());
        if (file == null) return what;
        if (where.isInternal(file)) return what + " (storage root " + where.root() + ")";
        return file + ": " + what;
    }

    private static String detail(Throwable t) {
        String m = t == null ? "" : messageOf(t);
        return m.isEmpty() ? "" : " (" + lowerFirst(scrub(m)) + ")";
    }

    private static String messageOf(Throwable t) {
        String m = t.getMessage();
        return m == null ? "" : m.replace('\n', ' ').strip();
    }

    /** Removes Java class names that a message may have picked up from a wrapped exception's toString(). */
    static String scrub(String text) {
        return text == null ? "" : CLASS_NAME.matcher(text.replace('\n', ' ')).replaceAll("").strip();
    }

    private static String lowerFirst(String s) {
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))) {
            return s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
        }
        return s;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable e = t; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (type.isInstance(e)) return type.cast(e);
        }
        return null;
    }

    /** The storage root, whose insides are the driver's business and not shown to the user. */
    record Paths(Path root) {
        static final Paths NONE = new Paths(null);

        static Paths of(CliCommand c) {
            try {
                return new Paths(c.top().session().root());
            } catch (RuntimeException e) {
                return NONE; // a bad config file: no root to hide
            }
        }

        /** A path inside the root other than a driver's home: a layer's directory, a probe file, a lock. */
        boolean isInternal(String path) {
            if (root == null || path == null || !path.startsWith("/")) return false;
            Path p = Path.of(path).normalize();
            if (!p.startsWith(root) || p.equals(root)) return false;
            return p.getNameCount() > root.getNameCount() + 1 || p.getFileName().toString().startsWith(".");
        }
    }
}
