import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

extension Refusal {
    /// Whether it refuses the link itself (bad, used or expired), not what was sent with it.
    var isAboutTheLink: Bool {
        if case let .invalid(field, _) = self { return field == "token" }
        return false
    }

    /// What a link page says about a refused token.
    var linkMessage: String {
        // A token's rule is written as the rest of a sentence; the page makes it one.
        guard case let .invalid(field, rule) = self, field == "token", let first = rule.first else {
            return description
        }
        return first.uppercased() + rule.dropFirst() + "."
    }
}
