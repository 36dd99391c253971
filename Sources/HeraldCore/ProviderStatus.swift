import Foundation

/// Where a provider stands on the early-notice list.
public enum ProviderStatus: String, Codable, Sendable, CaseIterable {
    /// Subscribed through the public form; has not clicked the confirmation link yet.
    case pendingConfirmation = "pending-confirmation"
    /// Address confirmed (or added by a release manager); waits for a release manager.
    case pendingApproval = "pending-approval"
    /// Receives early notices.
    case active
    /// Temporarily receives nothing; can be approved again.
    case suspended
    /// Left or was removed; kept for the record of what it received.
    case removed

    /// The status after `action`, or the refusal that names where `action` is allowed.
    public func after(_ action: ProviderAction, subject: String) throws(Refusal) -> ProviderStatus {
        let allowed: [ProviderStatus]
        let next: ProviderStatus
        switch action {
        case .confirm:
            allowed = [.pendingConfirmation]
            next = .pendingApproval
        case .approve:
            allowed = [.pendingApproval, .suspended]
            next = .active
        case .suspend:
            allowed = [.active, .pendingApproval]
            next = .suspended
        case .remove:
            allowed = [.pendingConfirmation, .pendingApproval, .active, .suspended]
            next = .removed
        }
        guard allowed.contains(self) else {
            throw .illegalTransition(
                subject: subject, state: rawValue, action: action.rawValue, allowedFrom: allowed.map(\.rawValue))
        }
        return next
    }
}
