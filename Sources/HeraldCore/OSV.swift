import Foundation

/// What OSV needs beyond an advisory's text, so that scanners can match it: the packages a
/// project ships (ecosystem and name), the affected versions as ranges of events, references.
public enum OSV {
    /// OSV's ecosystem names, as its schema lists them (ossf/osv-schema at 51b8156).
    public static let ecosystems: Set<String> = [
        "AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers", "Bioconductor",
        "Bitnami", "Chainguard",
        "CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian", "Docker Hardened Images", "Echo", "FreeBSD", "GHC",
        "GitHub Actions", "Go",
        "Hackage", "Hex", "Julia", "Kubernetes", "Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet", "opam",
        "openEuler", "openSUSE",
        "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems", "SUSE",
        "SwiftURL", "TuxCare",
        "Ubuntu", "VSCode", "Wolfi",
    ]

    /// OSV's reference types.
    public static let referenceTypes: Set<String> = [
        "ADVISORY", "ARTICLE", "DETECTION", "DISCUSSION", "REPORT", "FIX", "INTRODUCED", "GIT",
        "PACKAGE", "EVIDENCE", "WEB",
    ]

    /// The id of an advisory in OSV: Herald is no registered OSV database, so its ids carry the
    /// schema's `x_` prefix for those (`x_herald-myproject-2026-abc123`).
    public static func id(_ publicID: String) -> String { "x_herald-" + publicID }
}

/// A package a project ships, as OSV names it.
public struct Package: Equatable, Sendable, Codable {
    /// One of `OSV.ecosystems`, spelt as OSV spells it (`PyPI`, `crates.io`).
    public var ecosystem: String
    /// The package's name in that ecosystem.
    public var name: String

    /// Refuses an ecosystem OSV does not know, suggesting the right spelling when only the case differs.
    public init(ecosystem: String, name: String) throws(Refusal) {
        guard OSV.ecosystems.contains(ecosystem) else {
            let near = OSV.ecosystems.first { $0.lowercased() == ecosystem.lowercased() }
            throw .invalid(
                field: "ecosystem",
                rule: "\(Validate.quoted(ecosystem)) is not an OSV ecosystem"
                    + (near.map { " (did you mean \($0)?)" } ?? " (like PyPI, npm, Maven, Go, crates.io, Packagist)"))
        }
        self.ecosystem = ecosystem
        self.name = try Validate.line(name, field: "package", maxLength: 200)
    }
}
