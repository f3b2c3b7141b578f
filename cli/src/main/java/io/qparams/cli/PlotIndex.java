package io.qparams.cli;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code plot --all}'s folder: a PNG per tensor under a name safe on any file system, and an
 * index.html that shows them, tensor names escaped.
 */
final class PlotIndex {
    private static final int MAX_NAME = 100;

    private PlotIndex() {}

    /**
     * tensor -> file name: letters, digits, '.', '_' and '-' kept, any other character '_', no
     * leading '.', at most 100 characters before {@code .png}; names that would collide (also when
     * the file system ignores case) get {@code -2}, {@code -3}, ... In the order given.
     */
    static Map<String, String> fileNames(Iterable<String> tensors) {
        Map<String, String> names = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (String tensor : tensors) {
            String base = tensor.replaceAll("[^A-Za-z0-9._-]", "_").replaceFirst("^\\.", "_");
            if (base.isEmpty()) {
                base = "_";
            } else if (base.length() > MAX_NAME) {
                base = base.substring(0, MAX_NAME);
            }
            String name = base;
            for (int n = 2; !used.add(name.toLowerCase(Locale.ROOT)); n++) {
                name = base + "-" + n;
            }
            names.put(tensor, name + ".png");
        }
        return names;
    }

    /** The page: a list of links, then each chart under its tensor's name. */
    static String html(Map<String, String> files, String source) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>qparams plot: ")
                .append(files.size())
                .append(" tensors</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em}")
                .append("figure{margin:0 0 3em}img{max-width:100%;border:1px solid #ccc}")
                .append("figcaption{font-weight:bold;margin-bottom:.5em}</style>\n")
                .append("</head>\n<body>\n<h1>qparams plot: ")
                .append(files.size())
                .append(" tensors</h1>\n<p>From ")
                .append(escape(source))
                .append(".</p>\n<ul>\n");
        for (Map.Entry<String, String> e : files.entrySet()) {
            b.append("<li><a href=\"#")
                    .append(anchor(e.getValue()))
                    .append("\">")
                    .append(escape(e.getKey()))
                    .append("</a></li>\n");
        }
        b.append("</ul>\n");
        for (Map.Entry<String, String> e : files.entrySet()) {
            b.append("<figure id=\"")
                    .append(anchor(e.getValue()))
                    .append("\">\n<figcaption>")
                    .append(escape(e.getKey()))
                    .append("</figcaption>\n<img src=\"")
                    .append(e.getValue())
                    .append("\" alt=\"")
                    .append(escape(e.getKey()))
                    .append("\">\n</figure>\n");
        }
        return b.append("</body>\n</html>\n").toString();
    }

    private static String anchor(String file) {
        return file.substring(0, file.length() - ".png".length());
    }

    /** Text for HTML content and attribute values. */
    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
