import Foundation
import HeraldCore

/// The deployment's settings in the database: every process renders with them.
public struct SettingsStore {
    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Every setting that has a value.
    public func all() throws -> [Setting: String] {
        var values: [Setting: String] = [:]
        for (key, value) in try database.query("SELECT key, value FROM settings", map: { ($0.text(0), $0.text(1)) }) {
            if let setting = Setting(rawValue: key) { values[setting] = value }
        }
        return values
    }

    /// Sets `setting` (validated), with its audit row; setting the same value again changes nothing.
    @discardableResult
    public func set(_ setting: Setting, to value: String, actor: String) throws -> String {
        let value = try setting.validate(value)
        let now = clock.now
        return try database.write {
            let old = try all()[setting]
            guard old != value else { return value }
            try database.run(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET value = ?2, updated_at = ?3",
                [.text(setting.rawValue), .text(value), .date(now)])
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "settings.set", subjectType: "settings", subjectID: nil,
                details: ["key": setting.rawValue, "from": old ?? "", "to": value])
            return value
        }
    }

    /// What messages are rendered with: the stored settings, else `fallback`'s.
    public func outboxSettings(fallback: OutboxSettings) throws -> OutboxSettings {
        Self.outboxSettings(try all(), fallback: fallback)
    }

    /// What messages are rendered with, from settings already read: `stored`, else `fallback`'s.
    public static func outboxSettings(_ stored: [Setting: String], fallback: OutboxSettings) -> OutboxSettings {
        OutboxSettings(
            publicURL: stored[.publicURL] ?? fallback.publicURL, mailFrom: stored[.mailFrom] ?? fallback.mailFrom,
            mailFromName: stored[.mailFromName] ?? fallback.mailFromName, wording: fallback.wording,
            defaultLanguage: stored[.defaultLanguage].flatMap(Language.init(rawValue:)) ?? fallback.defaultLanguage)
    }
}
