import Foundation
import HeraldCore

/// An advisory and everything that happened to it: what `advisory show` and
/// `GET /api/v1/advisories/{id}` answer, read one way for both.
public struct AdvisoryDetail: Encodable, Sendable {
    /// The advisory as it stands now.
    public var advisory: Advisory
    /// The embargo terms its private notices say: its own, else its project's.
    public var terms: EmbargoTerms
    /// Who takes part and how far each has come, with the totals.
    public var readiness: Readiness
    /// Its revisions, oldest first.
    public var revisions: [AdvisoryRevision]
    /// Webhook URLs by fingerprint, as every listing.
    public var deliveries: [DeliveryRecord]
    /// Which providers acknowledged which notice and revision, oldest first.
    public var acknowledgements: [Acknowledgement]
    /// Alerts raised to release managers about its notices, oldest first.
    public var alerts: [AlertStore.Alert]
    /// Its audit trail, newest first.
    public var audit: [AuditEntry]
}

extension AdvisoryStore {
    /// The advisory with `id` and its revisions, deliveries, acknowledgements, alerts and audit trail.
    public func detail(_ id: Int64) throws -> AdvisoryDetail {
        let advisory = try get(id)
        return AdvisoryDetail(
            advisory: advisory,
            terms: try advisory.content.terms
                ?? ProjectStore(database: database, clock: clock).require(advisory.projectSlug).terms,
            readiness: try ParticipationStore(database: database, clock: clock, settings: settings).readiness(id),
            revisions: try revisions(of: id),
            deliveries: try OutboxStore(database: database, clock: clock, settings: settings).list(
                advisory: id, limit: 1_000_000),
            acknowledgements: try AcknowledgementStore(database: database, clock: clock).list(advisory: id),
            alerts: try AlertStore(database: database, clock: clock, settings: settings).list(advisory: id),
            audit: try AuditLog(database: database).list(subjectType: "advisory", subjectID: id, limit: 1000))
    }
}
