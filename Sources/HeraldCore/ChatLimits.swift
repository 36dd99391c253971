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
    public static func fit(_ text: String, limit: Int, unit: Unit, url: String?, escape: (String) -> String = { $0 })
        -> String
    {
        escape(cut(text, limit: limit, unit: unit, url: url, measuredAs: escape))
    }

    /// `text` itself (not escaped) when its escaped form fits in `limit`; otherwise a cut with
    /// the tail whose escaped form fits. For formats that escape later themselves.
    public static func cut(
        _ text: String, limit: Int, unit: Unit, url: String?, measuredAs escape: (String) -> String = { $0 }
    ) -> String {
        // Far over the limit already: no need to escape all of it to know.
        if size(text, unit) <= 2 * limit, size(escape(text), unit) <= limit { return text }
        let tail = "\n… full advisory: " + (url ?? "see the project's advisory page")
        let budget = limit - size(escape(tail), unit) - size("\n```", unit)
        guard budget > 0 else { return cutAtBoundary(tail, keeping: limit, unit: unit) }
        // Cut the source (escaping only adds), escape, check; shrink in proportion until the
        // escaped cut fits: a few rounds, each one escape of at most `budget` characters.
        var cut = cutAtBoundary(text, keeping: budget, unit: unit)
        var escapedSize = size(escape(cut), unit)
        while escapedSize > budget, !cut.isEmpty {
            let keep = max(0, min(cut.count - 1, cut.count * budget / escapedSize - 8))
            cut = cutAtBoundary(String(cut.prefix(keep)), keeping: budget, unit: unit)
            escapedSize = size(escape(cut), unit)
        }
        // An open code fence (a line that starts with ```) would swallow the tail: close it.
        if cut.split(separator: "\n").filter({ $0.trimmingCharacters(in: .whitespaces).hasPrefix("```") }).count % 2
            == 1
        {
            cut += "\n```"
        }
        return cut + tail
    }

    /// The longest prefix of `text` within `budget`, ending at a line end, else at a space,
    /// else anywhere; never in the middle of a character.
    static func cutAtBoundary(_ text: String, keeping budget: Int, unit: Unit) -> String {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let next = unit == .utf16 ? text[index].utf16.count : text[index].utf8.count
            if used + next > budget { break }
            used += next
            end = text.index(after: index)
        }
        let prefix = text[..<end]
        guard end < text.endIndex else { return String(prefix) }
        if let line = prefix.lastIndex(of: "\n"), prefix.distance(from: prefix.startIndex, to: line) > prefix.count / 2
        {
            return String(prefix[..<line])
        }
        if let space = prefix.lastIndex(of: " "), prefix.distance(from: prefix.startIndex, to: space) > prefix.count / 2
        {
            return String(prefix[..<space])
        }
        return String(prefix)
    }
}
