import Foundation

/// A link an advisory gives for more: `FIX=https://…/commit/…`, `WEB=https://…/release-notes`.
public struct Reference: Equatable, Sendable, Codable {
    /// One of `OSV.referenceTypes`, uppercase.
    public var type: String
    /// An absolute http(s) URL.
    public var url: String

    /// Reads `TYPE=URL` (OSV's reference types: ADVISORY, ARTICLE, FIX, REPORT, WEB …).
    public init(_ text: String) throws(Refusal) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw .invalid(field: "reference", rule: "write it as TYPE=URL, like FIX=https://example.org/commit/abc")
        }
        let type = parts[0].trimmingCharacters(in: .whitespaces).uppercased()
        guard OSV.referenceTypes.contains(type) else {
            throw .invalid(
                field: "reference",
                rule: "\(Validate.quoted(type)) must be one of \(OSV.referenceTypes.sorted().joined(separator: ", "))")
        }
        self.type = type
        url = try Address.webURL(parts[1], field: "reference")
    }
}
