import Foundation
import HeraldApp
import HeraldCore

// The SQLite adapter behind the application's ports: each conformance says which store does
// a port's job, so the use cases in HeraldApp never see SQL.

extension Database: UnitOfWork {}

extension ProjectStore: ProjectDirectory {}

extension OutboxStore: NoticeOutbox {}

extension AuditLog: AuditTrail {
    /// Records one action on an advisory.
    public func advisoryAction(_ action: String, advisory: Int64, at: Date, actor: String, details: [String: String])
        throws
    {
        try record(at: at, actor: actor, action: action, subjectType: "advisory", subjectID: advisory, details: details)
    }
}

/// Ids from the system's secure random source.
public struct SecureRandomIDs: RandomIDs {
    /// Creates the source.
    public init() {}

    /// `length` readable random characters.
    public func readableID(length: Int) -> String { Secrets.readableID(length: length) }
}
