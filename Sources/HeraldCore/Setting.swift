import Foundation

/// The deployment's settings, kept in the database so that every process renders messages
/// and pages with the same ones (`herald settings set KEY VALUE`).
public enum Setting: String, CaseIterable, Sendable, Codable {
    /// Base of every link in messages and feeds.
    case publicURL = "public-url"
    /// The From address of every message.
    case mailFrom = "mail-from"
    /// The From name of every message.
    case mailFromName = "mail-from-name"
    /// Contact in security.txt (an address or an https URL); the sender when unset.
    case securityContact = "security-contact"
    /// Policy in security.txt; the public URL when unset.
    case policyURL = "policy-url"
    /// The language of a project's public messages when the project has none of its own.
    case defaultLanguage = "default-language"
    /// Preferred-Languages in security.txt: the languages the security team reads reports in.
    case preferredLanguages = "preferred-languages"
    /// A directory of templates that replace the built-in wording (`HERALD_TEMPLATES`), or `built-in`.
    case templates

    /// `value` validated and normalised for this setting.
    public func validate(_ value: String) throws(Refusal) -> String {
        switch self {
        case .publicURL, .policyURL: return try Address.webURL(value, field: rawValue)
        case .mailFrom: return try Address.email(value, field: rawValue)
        case .mailFromName: return try Validate.name(value, field: rawValue, maxLength: 100)
        case .securityContact:
            if value.contains("://") { return try Address.webURL(value, field: rawValue) }
            return try Address.email(value.hasPrefix("mailto:") ? String(value.dropFirst(7)) : value, field: rawValue)
        case .defaultLanguage: return try Language.parse(value).rawValue
        case .preferredLanguages:
            // RFC 9116 §2.5.8: a comma-separated list of RFC 5646 tags.
            let tags = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !tags.isEmpty, tags.count <= 10,
                tags.allSatisfy({ $0.wholeMatch(of: /[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*/) != nil })
            else {
                throw .invalid(
                    field: rawValue,
                    rule: "\(Validate.quoted(value)) must be language tags separated by commas, like nl, en")
            }
            return tags.joined(separator: ", ")
        case .templates:
            let path = try Validate.line(value, field: rawValue, maxLength: 1000)
            guard path == Self.builtInTemplates || path.hasPrefix("/") else {
                throw .invalid(
                    field: rawValue,
                    rule: "must be an absolute directory path, or \(Self.builtInTemplates) for Herald's own wording")
            }
            return path
        }
    }

    /// The `templates` value that means "no overrides".
    public static let builtInTemplates = "built-in"

    /// Reads a key as people type it.
    public static func parse(_ key: String) throws(Refusal) -> Setting {
        guard let setting = Setting(rawValue: key.lowercased()) else {
            throw .invalid(
                field: "key",
                rule: "\(Validate.quoted(key)) must be one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return setting
    }
}
