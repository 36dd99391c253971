import Foundation

/// How bad an advisory is, in the words most projects' policies use.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case low, moderate, high, critical

    /// Whether `lhs` is less severe than `rhs`.
    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Reads a severity as people type it: any case, and CVSS's "medium" for moderate.
    public static func parse(_ value: String) throws(Refusal) -> Severity {
        let word = value.trimmingCharacters(in: .whitespaces).lowercased()
        if word == "medium" { return .moderate }
        guard let severity = Severity(rawValue: word) else {
            throw .invalid(
                field: "severity",
                rule: "\(Validate.quoted(value)) must be one of low, moderate (CVSS: medium), high, critical")
        }
        return severity
    }
}
