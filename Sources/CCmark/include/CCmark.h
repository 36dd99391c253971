#ifndef HERALD_CCMARK_H
#define HERALD_CCMARK_H
#include <stddef.h>

/// Renders GitHub-flavoured Markdown (tables, strikethrough, autolinks) to HTML, safely: raw
/// HTML in the text comes out as text, link targets other than http(s)/mailto/relative are
/// dropped (cmark's safe mode). The result is malloc'ed; free it with free().
char *herald_markdown_to_html(const char *text, size_t length);

#endif
