import Foundation

/// What an API token may do. Ordered by what they include: admin ⊇ release-manager ⊇ auditor.
public enum TokenRole: String, Codable, Sendable, CaseIterable, Comparable {
    /// Everything, including providers, channels and tokens.
    case admin
    /// Advisories and deliveries.
    case releaseManager = "release-manager"
    /// Reads only.
    case auditor

    /// Whether `lhs` may do less than `rhs`.
    public static func < (lhs: TokenRole, rhs: TokenRole) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .auditor: 0
        case .releaseManager: 1
        case .admin: 2
        }
    }
}
