import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct DeliveriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "The outbox: every message to every recipient, and what became of it.",
        discussion:
            "States: pending → delivered, or retrying (with backoff) → dead after the last attempt. `retry` re-drives.",
        subcommands: [List.self, Retry.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Only this advisory's.") var advisory: Int64?
        @Option(help: "pending, retrying, delivered, dead, or failing (retrying or dead).") var state: String?
        @Option(help: "At most this many.") var limit = 1000
        @OptionGroup var output: OutputOptions

        func run() throws {
            let filter = try state.map(DeliveryFilter.parse)
            let context = try db.open()
            let deliveries = try context.outbox.list(advisory: advisory, state: filter, limit: max(1, limit))
            if output.json { return try Output.json(deliveries) }
            printDeliveries(deliveries)
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-drive a dead or retrying delivery now, or every dead one with --dead.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The delivery's id.") var id: Int64?
        @Flag(help: "Re-drive every dead delivery.") var dead = false

        func validate() throws {
            if (id == nil) == !dead { throw ValidationError("give a delivery id or --dead, not both") }
        }

        func run() throws {
            let context = try db.open()
            if dead {
                let count = try context.stores.retries.retryDead(actor: context.actor)
                print("re-driving \(count) dead deliver\(count == 1 ? "y" : "ies"); herald serve sends them")
            } else if let id {
                try context.stores.retries.retry(id, actor: context.actor)
                print("re-driving delivery \(id); herald serve sends it")
            }
        }
    }
}

/// The deliveries table of `deliveries list` and `advisory show`, times in UTC.
func printDeliveries(_ deliveries: [DeliveryRecord]) {
    Output.table(
        ["ID", "NOTICE", "REV", "RECIPIENT", "STATE", "TRIES", "WHEN", "DETAIL"],
        deliveries.map { d in
            let who = d.organization.map { "\(d.recipient) (\($0))" } ?? d.recipient
            let when = d.deliveredAt ?? d.nextAttemptAt
            let detail = d.state == .delivered ? (d.deliveredVia ?? "") : (d.lastError ?? "")
            return [
                String(d.id), d.notice, String(d.revision), who, d.state.rawValue, String(d.attempts),
                when.map(Instant.utc) ?? "",
                String(detail.prefix(80)),
            ]
        }, empty: "No deliveries.")
}
