import Foundation
import HeraldCore

/// Reads acknowledgements for `advisory show` and the API.
public struct AcknowledgementStore {
    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// The acknowledgements of the advisory's notices, oldest first.
    public func list(advisory id: Int64) throws -> [Acknowledgement] {
        try database.query(
            """
            SELECT p.organization, n.kind, n.revision, k.acknowledged_at FROM acknowledgements k
            JOIN notices n ON n.id = k.notice_id JOIN providers p ON p.id = k.provider_id
            WHERE n.advisory_id = ? ORDER BY k.acknowledged_at
            """, .integer(id)
        ) {
            Acknowledgement(
                organization: $0.text(0), notice: $0.text(1), revision: Int($0.int(2)), acknowledgedAt: $0.date(3))
        }
    }
}
