import Foundation

/// The shapes of addresses Herald sends to.
public enum Address {
    /// A mailbox `local@domain` as people write them for role addresses (`security@example.org`).
    /// Deliberately stricter than RFC 5321: no quoted local parts, no comments, no IP literals,
    /// nothing that could break out of a header. The domain is lowercased.
    public static func email(_ value: String, field: String) throws(Refusal) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, trimmed.count <= 254,
              parts[0].wholeMatch(of: /[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*/) != nil,
              parts[0].count <= 64,
              parts[1].wholeMatch(of: /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}/) != nil
        else {
            throw .invalid(field: field, rule: "'\(trimmed)' is not an e-mail address like security@example.org")
        }
        return "\(parts[0])@\(parts[1].lowercased())"
    }

    /// An absolute `http`/`https` URL with a host and no credentials or fragment.
    /// Whether the host may be private is the transport's decision (it resolves names).
    public static func webURL(_ value: String, field: String) throws(Refusal) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 2000,
              !trimmed.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
              let components = URLComponents(string: trimmed),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = components.host, !host.isEmpty,
              components.user == nil, components.password == nil, components.fragment == nil
        else {
            throw .invalid(field: field, rule: "'\(trimmed)' is not an http(s) URL with a host (no user:password@, no #fragment)")
        }
        return trimmed
    }
}
