import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

extension Refusal {
    /// What a link page says about a refused token.
    var linkMessage: String {
        // A token's rule is written as the rest of a sentence; the page makes it one.
        guard case let .invalid(field, rule) = self, field == "token", let first = rule.first else {
            return description
        }
        return first.uppercased() + rule.dropFirst() + "."
    }
}
