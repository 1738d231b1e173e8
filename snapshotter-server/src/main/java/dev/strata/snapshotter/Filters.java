package dev.strata.snapshotter;

import dev.strata.snapshotter.SnapshotException.Reason;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * containerd's filter syntax ({@code filters/parser.go}), for List: {@code selector ("," selector)*}, each
 * {@code fieldpath [op value]} with op {@code ==}, {@code !=} or {@code ~=} (a regular expression), or no op for
 * "is present". Fields of a snapshot: {@code kind}, {@code name}, {@code parent}, {@code labels.<key>} (a key with
 * dots or slashes is quoted: {@code labels."containerd.io/snapshot.ref"}). Commas AND selectors; separate filter
 * strings OR.
 */
final class Filters {
    private Filters() {
    }

    /** Any of the filters; no filter matches everything. */
    static Predicate<SnapshotInfo> parseAll(List<String> filters) {
        if (filters.isEmpty()) return i -> true;
        Predicate<SnapshotInfo> any = i -> false;
        for (String f : filters) any = any.or(parse(f));
        return any;
    }

    static Predicate<SnapshotInfo> parse(String filter) {
        if (filter.isEmpty()) return i -> true;
        try {
            return new Parser(filter).selectors();
        } catch (IllegalArgumentException e) {
            throw new SnapshotException(Reason.INVALID_ARGUMENT, "list", null, "filters: parse error: [" + filter + "]: " + e.getMessage());
        }
    }

    /** The value a field path has on a snapshot, or null where it has none. */
    static String field(SnapshotInfo i, List<String> path) {
        return switch (path.getFirst()) {
            case "kind" -> i.kind().filterName();
            case "name" -> i.name();
            case "parent" -> i.parent();
            case "labels" -> i.labels().isEmpty() ? null : i.labels().get(String.join(".", path.subList(1, path.size())));
            default -> null;
        };
    }

    private static final class Parser {
        private static final int EOF = -1;
        private final String in;
        private int pos;

        Parser(String in) {
            this.in = in;
        }

        Predicate<SnapshotInfo> selectors() {
            Predicate<SnapshotInfo> all = selector();
            while (true) {
                skipSpace();
                int c = peek();
                if (c == EOF) return all;
                if (c != ',') throw new IllegalArgumentException("unexpected input: " + (char) c);
                pos++;
                all = all.and(selector());
            }
        }

        private Predicate<SnapshotInfo> selector() {
            List<String> path = fieldpath();
            skipSpace();
            int c = peek();
            if (c == EOF || c == ',') return i -> Filters.field(i, path) != null;
            String op = operator();
            String value = value(op.equals("~="));
            return switch (op) {
                case "==" -> i -> value.equals(Filters.field(i, path));
                case "!=" -> i -> !value.equals(valueOrEmpty(Filters.field(i, path)));
                case "~=" -> {
                    Pattern re;
                    try {
                        re = Pattern.compile(value);
                    } catch (PatternSyntaxException e) {
                        throw new IllegalArgumentException("bad regular expression " + value + ": " + e.getDescription());
                    }
                    yield i -> re.matcher(valueOrEmpty(Filters.field(i, path))).find();
                }
                default -> throw new IllegalArgumentException("unsupported operator \"" + op + "\"");
            };
        }

        private static String valueOrEmpty(String s) {
            return s == null ? "" : s;
        }

        private List<String> fieldpath() {
            List<String> path = new ArrayList<>();
            path.add(field());
            while (peekAfterSpace() == '.') {
                skipSpace();
                pos++;
                path.add(field());
            }
            return path;
        }

        private String field() {
            skipSpace();
            int c = peek();
            if (c == '"') return quoted('"');
            if (!isFieldChar(c)) throw new IllegalArgumentException("expected field or quoted");
            int start = pos;
            while (isFieldChar(peek())) pos++;
            return in.substring(start, pos);
        }

        private String operator() {
            skipSpace();
            int start = pos;
            while (peek() == '=' || peek() == '!' || peek() == '~') pos++;
            if (start == pos) throw new IllegalArgumentException("expected an operator (\"==\"|\"!=\"|\"~=\")");
            return in.substring(start, pos);
        }

        private String value(boolean altQuotes) {
            skipSpace();
            int c = peek();
            if (c == '"' || (altQuotes && (c == '/' || c == '|'))) return quoted(c);
            if (c == '/' || c == '|') throw new IllegalArgumentException("invalid quote encountered");
            if (c == EOF || c == ',' || c == '.') throw new IllegalArgumentException("expected value or quoted");
            int start = pos;
            while (peek() != EOF && peek() != ',' && !Character.isWhitespace(peek())) pos++;
            return in.substring(start, pos);
        }

        /** A Go-syntax quoted string (the quote may be {@code "}, or {@code /} and {@code |} for a regexp). */
        private String quoted(int quote) {
            pos++;
            StringBuilder b = new StringBuilder();
            while (true) {
                int c = peek();
                if (c == EOF || c == '\n') throw new IllegalArgumentException("quoted literal not terminated");
                pos++;
                if (c == quote) return b.toString();
                if (c != '\\') {
                    b.append((char) c);
                    continue;
                }
                int e = peek();
                pos++;
                switch (e) {
                    case 'a' -> b.append('\u0007');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'v' -> b.append('\u000b');
                    case '\\' -> b.append('\\');
                    case 'x' -> b.appendCodePoint(digits(16, 2));
                    case 'u' -> b.appendCodePoint(digits(16, 4));
                    case 'U' -> b.appendCodePoint(digits(16, 8));
                    default -> {
                        if (e == quote) {
                            b.append((char) e);
                        } else if (e >= '0' && e <= '7') {
                            pos--;
                            b.appendCodePoint(digits(8, 3));
                        } else {
                            throw new IllegalArgumentException("illegal escape sequence");
                        }
                    }
                }
            }
        }

        private int digits(int base, int n) {
            if (pos + n > in.length()) throw new IllegalArgumentException("illegal numeric escape sequence");
            try {
                int v = Integer.parseInt(in.substring(pos, pos + n), base);
                pos += n;
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("illegal numeric escape sequence");
            }
        }

        private static boolean isFieldChar(int c) {
            return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        }

        private int peek() {
            return pos < in.length() ? in.charAt(pos) : EOF;
        }

        private int peekAfterSpace() {
            int p = pos;
            while (p < in.length() && Character.isWhitespace(in.charAt(p))) p++;
            return p < in.length() ? in.charAt(p) : EOF;
        }

        private void skipSpace() {
            while (pos < in.length() && Character.isWhitespace(in.charAt(pos))) pos++;
        }
    }
}
