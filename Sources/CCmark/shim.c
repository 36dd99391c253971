// A few lines of C around cmark-gfm: register and attach the GFM extensions by name, and turn
// raw HTML into text (cmark's safe mode would drop it as "raw HTML omitted"; a reader should
// see what the author typed).
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
#include "CCmark.h"

static void attach(cmark_parser *parser, const char *name) {
    cmark_syntax_extension *extension = cmark_find_syntax_extension(name);
    if (extension) cmark_parser_attach_syntax_extension(parser, extension);
}

// Every raw HTML node becomes a text node with the same characters (a block one a paragraph).
// They are gathered first (the tree must not change under the iterator), in an array that grows.
static void html_as_text(cmark_node *document) {
    cmark_iter *iter = cmark_iter_new(document);
    size_t capacity = 64, count = 0;
    cmark_node **pending = malloc(capacity * sizeof *pending);
    cmark_event_type event;
    while (pending && (event = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(iter);
        cmark_node_type type = cmark_node_get_type(node);
        if (event == CMARK_EVENT_ENTER && (type == CMARK_NODE_HTML_INLINE || type == CMARK_NODE_HTML_BLOCK)) {
            if (count == capacity) {
                cmark_node **grown = realloc(pending, 2 * capacity * sizeof *pending);
                if (!grown) { free(pending); pending = NULL; break; }
                pending = grown;
                capacity *= 2;
            }
            pending[count++] = node;
        }
    }
    cmark_iter_free(iter);
    if (!pending) return;
    for (size_t i = 0; i < count; i++) {
        cmark_node *node = pending[i];
        const char *literal = cmark_node_get_literal(node);
        cmark_node *text = cmark_node_new(CMARK_NODE_TEXT);
        cmark_node_set_literal(text, literal ? literal : "");
        if (cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK) {
            cmark_node *paragraph = cmark_node_new(CMARK_NODE_PARAGRAPH);
            cmark_node_append_child(paragraph, text);
            cmark_node_insert_before(node, paragraph);
        } else {
            cmark_node_insert_before(node, text);
        }
        cmark_node_unlink(node);
        cmark_node_free(node);
    }
    free(pending);
}

// Registering the extensions changes a global list without a lock: once, before any render.
static pthread_once_t registered = PTHREAD_ONCE_INIT;
static void register_extensions(void) { cmark_gfm_core_extensions_ensure_registered(); }

char *herald_markdown_to_html(const char *text, size_t length) {
    pthread_once(&registered, register_extensions);
    // CMARK_OPT_UNSAFE is never set: unsafe link targets (javascript:) are dropped.
    int options = CMARK_OPT_DEFAULT | CMARK_OPT_GITHUB_PRE_LANG;
    cmark_parser *parser = cmark_parser_new(options);
    attach(parser, "table");
    attach(parser, "strikethrough");
    attach(parser, "autolink");
    cmark_parser_feed(parser, text, length);
    cmark_node *document = cmark_parser_finish(parser);
    html_as_text(document);
    char *html = cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser));
    cmark_node_free(document);
    cmark_parser_free(parser);
    return html;
}
