import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

extension Request {
    /// Decodes the body when there is one; nil for an empty body.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, context: HeraldContext) async throws -> T? {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try context.requestDecoder.decode(T.self, from: Data(buffer.readableBytesView))
    }
}
