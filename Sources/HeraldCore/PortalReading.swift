import Foundation

/// What a provider may read of an advisory in the portal. Embargoed text only while it takes
/// part (active, not excluded) and only the newest revision a notice was addressed to it for;
/// a public advisory as the public reads it; of a withdrawn one only that it was withdrawn.
public enum PortalReading: Equatable, Sendable {
    /// The advisory's text at this revision, under embargo.
    case embargoed(revision: Int)
    /// The advisory as published.
    case published
    /// Withdrawn: nothing of its text.
    case withdrawn
    /// Nothing: it does not take part, or no notice was addressed to it.
    case nothing

    /// The rule. `takesPart`: active and not excluded; `entitledRevision`: the newest revision
    /// of an early notice or revision addressed to the provider, nil when none was.
    public static func of(state: AdvisoryState, takesPart: Bool, entitledRevision: Int?) -> PortalReading {
        switch state {
        case .published: return entitledRevision == nil ? .nothing : .published
        case .cancelled: return entitledRevision == nil ? .nothing : .withdrawn
        case .draft, .scheduled:
            guard takesPart, let entitledRevision else { return .nothing }
            return .embargoed(revision: entitledRevision)
        }
    }
}
