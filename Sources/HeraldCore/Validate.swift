import Foundation

/// Small field rules shared by every aggregate, so each rule is written once.
public enum Validate {
    /// A single line of text: trimmed, not empty (unless allowed), no control characters
    /// (a CR or LF could smuggle a header into an e-mail), at most `maxLength` characters.
    public static func line(_ value: String, field: String, maxLength: Int = 200, allowEmpty: Bool = false) throws(Refusal) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty && !allowEmpty { throw .invalid(field: field, rule: "must not be empty") }
        if trimmed.unicodeScalars.contains(where: isControl) {
            throw .invalid(field: field, rule: "must be one line without control characters")
        }
        if trimmed.count > maxLength { throw .invalid(field: field, rule: "must be at most \(maxLength) characters (got \(trimmed.count))") }
        return trimmed
    }

    /// Free text: newlines and tabs allowed, other control characters not; at most `maxLength` characters.
    public static func text(_ value: String, field: String, maxLength: Int) throws(Refusal) -> String {
        let normalized = value.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if normalized.unicodeScalars.contains(where: { isControl($0) && $0 != "\n" && $0 != "\t" }) {
            throw .invalid(field: field, rule: "must not contain control characters")
        }
        if normalized.count > maxLength { throw .invalid(field: field, rule: "must be at most \(maxLength) characters (got \(normalized.count))") }
        return normalized
    }

    /// A reason for an audited manual action.
    public static func reason(_ value: String, required: Bool) throws(Refusal) -> String {
        let reason = try text(value, field: "reason", maxLength: 1000)
        if required && reason.isEmpty { throw .invalid(field: "reason", rule: "must say why (it goes into the audit log)") }
        return reason
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
