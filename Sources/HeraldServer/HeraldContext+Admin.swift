import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

extension HeraldContext {
    /// Whether a listing should show secrets whole (`?reveal=true`): an admin's choice only,
    /// audited by the caller.
    func reveal(_ request: Request) throws -> Bool {
        guard request.uri.queryParameters.get("reveal") == "true" else { return false }
        try require(.admin)
        return true
    }

    /// The numeric `:id` of the path, or 404.
    func id(_ name: String = "id") throws -> Int64 {
        guard let text = parameters.get(name), let id = Int64(text), id > 0 else {
            throw Problem(.notFound, "no such id")
        }
        return id
    }
}
