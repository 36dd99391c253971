import Foundation

/// Where one delivery stands in the outbox.
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    /// Waiting for its first attempt (or re-driven by hand).
    case pending
    /// An attempt failed; another follows at its next attempt time.
    case retrying
    case delivered
    /// Given up: the last attempt failed, the receiver refused for good, or it may not be sent.
    case dead
}

/// How a delivery travels.
public enum TransportKind: String, Codable, Sendable, CaseIterable {
    case email, webhook
}

/// Which deliveries a listing shows: one state, or all that failed at least once.
public enum DeliveryFilter: Equatable, Sendable {
    case state(DeliveryState)
    /// Retrying or dead: from the first failed attempt on.
    case failing

    /// `pending`, `retrying`, `delivered`, `dead` or `failing`.
    public static func parse(_ text: String) throws(Refusal) -> DeliveryFilter {
        if text == "failing" { return .failing }
        guard let state = DeliveryState(rawValue: text) else {
            throw .invalid(
                field: "state",
                rule: "\(Validate.quoted(text)) must be one of "
                    + (DeliveryState.allCases.map(\.rawValue) + ["failing"]).joined(separator: ", "))
        }
        return .state(state)
    }

    /// The states it shows.
    public var states: [DeliveryState] {
        switch self {
        case .state(let state): [state]
        case .failing: [.retrying, .dead]
        }
    }
}
