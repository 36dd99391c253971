import Foundation

/// CVE identifiers: `CVE-YYYY-NNNN`, four or more digits after the year.
public enum CVE {
    /// Returns the id uppercased if it is well formed.
    public static func validate(_ value: String) throws(Refusal) -> String {
        let id = value.utf8.count <= 64 ? value.trimmingCharacters(in: .whitespaces).uppercased() : ""
        guard let match = id.wholeMatch(of: /CVE-(\d{4})-(\d{4,19})/), let year = Int(match.1), year >= 1999 else {
            throw .invalid(field: "cve", rule: "\(Validate.quoted(value)) is not a CVE id like CVE-2026-12345")
        }
        return id
    }
}
