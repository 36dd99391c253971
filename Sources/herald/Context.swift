import ArgumentParser
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// What a command works with: the stores over one connection at the command's instant, and the
/// actor for the audit log. Built once, by `DatabaseOptions.open`.
struct Context {
    let stores: Stores

    var database: Database { stores.database }
    var settings: OutboxSettings { stores.settings }
    var clock: any Clock { stores.clock }

    /// The audit log's "who": the operating-system user running the command.
    var actor: String {
        let env = ProcessInfo.processInfo.environment
        let account = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) }
        return "cli:" + (env["USER"] ?? env["LOGNAME"] ?? account ?? "uid\(geteuid())")
    }

    var projects: ProjectStore { stores.projects }
    var providers: ProviderAdministration { stores.providers }
    var providerRecords: ProviderStore { stores.providerRecords }
    var channels: ChannelStore { stores.channels }
    var advisories: Advisories { stores.advisories }
    var advisoryRecords: AdvisoryStore { stores.advisoryRecords }
    var outbox: OutboxStore { stores.outbox }
    var tokens: TokenStore { stores.tokens }
    var audit: AuditLog { stores.audit }

    /// Parses an instant flag; `now` is accepted where `allowNow` says so.
    func instant(_ text: String?, field: String, allowNow: Bool = false) throws -> Date? {
        guard let text else { return nil }
        if allowNow && text.trimmingCharacters(in: .whitespaces).lowercased() == "now" { return clock.now }
        return try Instant.parse(text, field: field)
    }
}

/// Reads a file named on the command line (`-` is standard input), refusing with the flag's name.
func readInput(_ path: String, field: String) throws -> String {
    let data: Data?
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        data = FileManager.default.contents(atPath: path)
    }
    guard let data else { throw Refusal.invalid(field: field, rule: "cannot read '\(path)'") }
    guard let text = String(data: data, encoding: .utf8) else {
        throw Refusal.invalid(field: field, rule: "'\(path)' is not UTF-8 text")
    }
    return text
}

/// Parses an enumeration flag with a message that lists the choices.
func choice<T: RawRepresentable & CaseIterable>(_ value: String?, field: String, as type: T.Type = T.self) throws -> T?
where T.RawValue == String {
    guard let value else { return nil }
    guard let parsed = T(rawValue: value.lowercased()) else {
        throw Refusal.invalid(
            field: field, rule: "'\(value)' must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return parsed
}
