import Foundation

/// What can happen to a provider's status.
public enum ProviderAction: String, Sendable {
    case confirm, approve, suspend, remove
}
