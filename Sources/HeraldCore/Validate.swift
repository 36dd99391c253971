import Foundation

/// Small field rules shared by every aggregate, so each rule is written once.
public enum Validate {
    /// A single line of text: trimmed, not empty (unless allowed), no control characters
    /// (a CR or LF could smuggle a header into an e-mail), at most `maxLength` characters.
    public static func line(_ value: String, field: String, maxLength: Int = 200, allowEmpty: Bool = false)
        throws(Refusal) -> String
    {
        try bound(value, field: field, maxLength: maxLength)
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty && !allowEmpty { throw .invalid(field: field, rule: "must not be empty") }
        if trimmed.unicodeScalars.contains(where: isControl) {
            throw .invalid(field: field, rule: "must be one line without control characters")
        }
        // Bidi controls reorder what a reader sees ("Evil\u{202E}proC" shows as "EvilCorp").
        if trimmed.unicodeScalars.contains(where: isBidiControl) {
            throw .invalid(
                field: field,
                rule:
                    "must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)"
            )
        }
        if trimmed.count > maxLength {
            throw .invalid(field: field, rule: "must be at most \(maxLength) characters (got \(trimmed.count))")
        }
        return trimmed
    }

    /// A name people compare by eye (an organisation): a line, and no invisible characters
    /// (zero-width space, word joiner, soft hyphen, zero-width joiners, BOM) that would make
    /// two names look alike while they differ.
    public static func name(_ value: String, field: String, maxLength: Int = 200) throws(Refusal) -> String {
        let line = try line(value, field: field, maxLength: maxLength)
        if line.unicodeScalars.contains(where: { $0.properties.generalCategory == .format || $0.value == 0x180E }) {
            throw .invalid(
                field: field,
                rule: "must not contain invisible characters (zero-width spaces or joiners, soft hyphens, U+FEFF)")
        }
        return line
    }

    /// Free text: newlines and tabs allowed, other control characters not; at most `maxLength` characters.
    public static func text(_ value: String, field: String, maxLength: Int) throws(Refusal) -> String {
        try bound(value, field: field, maxLength: maxLength)
        let normalized = value.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(
            in: .whitespacesAndNewlines)
        if normalized.unicodeScalars.contains(where: { isControl($0) && $0 != "\n" && $0 != "\t" }) {
            throw .invalid(field: field, rule: "must not contain control characters")
        }
        if normalized.count > maxLength {
            throw .invalid(field: field, rule: "must be at most \(maxLength) characters (got \(normalized.count))")
        }
        return normalized
    }

    /// A reason for an audited manual action.
    public static func reason(_ value: String, required: Bool) throws(Refusal) -> String {
        let reason = try text(value, field: "reason", maxLength: 1000)
        if required && reason.isEmpty {
            throw .invalid(field: "reason", rule: "must say why (it goes into the audit log)")
        }
        return reason
    }

    /// Refuses a value whose UTF-8 size alone proves it too long, before any other work on it,
    /// so a hostile megabyte costs one length check.
    public static func bound(_ value: String, field: String, maxLength: Int) throws(Refusal) {
        // A character is usually one scalar of at most 4 bytes; 16 bytes a character allows for
        // combining sequences while still stopping a hostile megabyte before it is scanned.
        let bytes = value.utf8.count
        if bytes > maxLength * 16 {
            throw .invalid(field: field, rule: "must be at most \(maxLength) characters (got \(bytes) bytes)")
        }
    }

    /// Refuses a list longer than `max` before any of its elements is looked at.
    public static func count<C: Collection>(_ list: C, field: String, max: Int, noun: String) throws(Refusal) {
        if list.count > max { throw .invalid(field: field, rule: "at most \(max) \(noun) (got \(list.count))") }
    }

    /// A value quoted in an error message, cut to 60 characters: an error repeats what was
    /// typed, not a hostile megabyte.
    public static func quoted(_ value: String) -> String {
        let head = value.utf8.count <= 240 ? value : String(decoding: value.utf8.prefix(240), as: UTF8.self)
        return head.count <= 60 ? "'\(head)'" : "'\(head.prefix(60))…'"
    }

    static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
            || scalar.value == 0x200E || scalar.value == 0x200F || scalar.value == 0x061C
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
