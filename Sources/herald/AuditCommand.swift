import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

/// `herald audit`: who did what, when and why. The CLI's actor is `cli:<operating-system user>`;
/// the API's is `token:<name>`; the clock's is `scheduler`; providers' are `provider:<id>`.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log, newest first: every change and manual action with who, when and why.",
        discussion:
            "Actors: cli:<user> (the operating-system user), token:<name> (the API), scheduler, delivery, subscriber, provider:<id>."
    )

    @OptionGroup var db: DatabaseOptions
    @Option(help: "Only what concerns this advisory.") var advisory: Int64?
    @Option(help: "Only this actor, like cli:alice or token:ci; end it with * for a prefix (token:*).") var actor:
        String?
    @Option(help: "Only entries at or after this instant.") var since: String?
    @Option(help: "At most this many (1–100,000).") var limit = 1000
    @OptionGroup var output: OutputOptions

    func run() throws {
        let actor = try actor.map { try Validate.line($0, field: "actor", maxLength: 200) }
        guard (1...100_000).contains(limit) else {
            throw Refusal.invalid(field: "limit", rule: "must be between 1 and 100000")
        }
        let context = try db.open()
        let since = try context.instant(since, field: "since")
        if let advisory { _ = try context.advisories.get(advisory) }
        let entries = try context.audit.list(
            subjectType: advisory == nil ? nil : "advisory", subjectID: advisory, actor: actor, since: since,
            limit: limit)
        if output.json { return try Output.json(entries) }
        printAudit(entries)
    }
}

/// The audit table of `audit` and `advisory show`, times in UTC.
func printAudit(_ entries: [AuditEntry]) {
    Output.table(
        ["AT", "BY", "ACTION", "SUBJECT", "REASON", "DETAILS"],
        entries.map { entry in
            [
                Instant.utc(entry.at), entry.actor, entry.action,
                entry.subjectID.map { "\(entry.subjectType) \($0)" } ?? entry.subjectType, entry.reason,
                entry.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            ]
        }, empty: "No audit entries.")
}
