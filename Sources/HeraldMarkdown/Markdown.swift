import CCmark
import Foundation

/// Advisory bodies are Markdown: rendered to HTML for pages, feeds and Matrix by cmark-gfm
/// (GitHub's CommonMark, with tables, strikethrough and autolinks), safely: raw HTML in a body
/// comes out as text and unsafe link targets are dropped.
public enum Markdown {
    /// `text` as HTML. `headingOffset` moves headings down (a body's `#` under a page's own
    /// `<h1>` and `<h2>` becomes `<h3>`), at most to `<h6>`.
    public static func html(_ text: String, headingOffset: Int = 0) -> String {
        var text = text
        let html = text.withUTF8 { buffer in
            guard
                let rendered = buffer.withMemoryRebound(
                    to: CChar.self, { herald_markdown_to_html($0.baseAddress, $0.count) })
            else { return "" }
            defer { free(rendered) }
            return String(cString: rendered)
        }
        guard headingOffset > 0 else { return html }
        var shifted = html
        for level in (1...6).reversed() {
            let to = min(6, level + headingOffset)
            shifted = shifted.replacingOccurrences(of: "<h\(level)>", with: "<h\(to)>").replacingOccurrences(
                of: "</h\(level)>", with: "</h\(to)>")
        }
        return shifted
    }
}
