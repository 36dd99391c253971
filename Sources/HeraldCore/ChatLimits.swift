import Foundation

/// Cutting text to what a chat service accepts, measured the way the service measures it and
/// after escaping (an escaped `<` is four characters), at a line or word boundary, with an open
/// code fence closed and a pointer to the whole advisory.
public enum ChatLimits {
    /// How a service counts: Slack and Discord in UTF-16 code units, Matrix and Teams in bytes.
    public enum Unit: Sendable { case utf16, utf8 }

    /// The size of `text` in `unit`.
    public static func size(_ text: String, _ unit: Unit) -> Int {
        switch unit {
        case .utf16: text.utf16.count
        case .utf8: text.utf8.count
        }
    }

    /// `text`, escaped, if it fits in `limit`; otherwise cut so that it and the tail ("… full
    /// advisory: URL") do. Measured after escaping, so the limit holds for what is sent.
    public static func fit(_ text: String, limit: Int, unit: Unit, url: String?, escape: (String) -> String = { $0 }) -> String {
        escape(cut(text, limit: limit, unit: unit, url: url, measuredAs: escape))
    }

    /// `text` itself (not escaped) when its escaped form fits in `limit`; otherwise a cut with
    /// the tail whose escaped form fits. For formats that escape later themselves.
    public static func cut(_ text: String, limit: Int, unit: Unit, url: String?, measuredAs escape: (String) -> String = { $0 }) -> String {
        if size(escape(text), unit) <= limit { return text }
        let tail = "\n… full advisory: " + (url ?? "see the project's advisory page")
        let budget = limit - size(escape(tail), unit) - size("\n```", unit)
        guard budget > 0 else { return cutAtBoundary(tail, keeping: limit, unit: unit) }
        // Cut the source, escape, check; shrink until the escaped cut fits.
        var cut = cutAtBoundary(text, keeping: budget, unit: unit)
        while size(escape(cut), unit) > budget, !cut.isEmpty {
            cut = cutAtBoundary(String(cut.dropLast(max(1, (size(escape(cut), unit) - budget) / 4))), keeping: budget, unit: unit)
        }
        // An open code fence would swallow the tail: close it.
        if cut.components(separatedBy: "```").count % 2 == 0 { cut += "\n```" }
        return cut + tail
    }

    /// The longest prefix of `text` within `budget`, ending at a line end, else at a space,
    /// else anywhere; never in the middle of a character.
    static func cutAtBoundary(_ text: String, keeping budget: Int, unit: Unit) -> String {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let next = size(String(text[index]), unit)
            if used + next > budget { break }
            used += next
            end = text.index(after: index)
        }
        let prefix = text[..<end]
        guard end < text.endIndex else { return String(prefix) }
        if let line = prefix.lastIndex(of: "\n"), prefix.distance(from: prefix.startIndex, to: line) > prefix.count / 2 {
            return String(prefix[..<line])
        }
        if let space = prefix.lastIndex(of: " "), prefix.distance(from: prefix.startIndex, to: space) > prefix.count / 2 {
            return String(prefix[..<space])
        }
        return String(prefix)
    }
}
