import Foundation

/// A software project whose security releases Herald coordinates.
public struct Project: Equatable, Sendable, Codable {
    /// Database id.
    public var id: Int64
    /// Short lowercase name used in commands and URLs (`openssl`).
    public var slug: String
    /// Display name.
    public var name: String
    /// IANA time zone in which instants are shown to this project's people.
    public var timezone: String
    /// Longest embargo allowed, counted from the early notice (or from now without one).
    public var maxEmbargoDays: Int
    /// When the project was added.
    public var createdAt: Date
    /// The release managers' address: alerts about failing private notices go there.
    public var contact: String?
    /// The packages it ships, as OSV names them: what scanners match an advisory against.
    public var packages: [Package] = []
    /// The language of its public messages and alerts; nil: the deployment's default-language.
    public var language: Language?
    /// How it chases participants during an embargo: a reminder to the silent, a final notice.
    public var chasing: Chasing = .none
    /// When it releases, in its zone; nil: any time.
    public var releaseWindow: ReleaseWindow?
    /// The embargo terms its advisories take unless one says otherwise.
    public var terms: EmbargoTerms = .standard
    /// Whether its private notices are encrypted to providers' OpenPGP keys.
    public var encryption: EncryptionPolicy = .whenAvailable

    /// Creates a project value.
    public init(id: Int64, slug: String, name: String, timezone: String, maxEmbargoDays: Int, createdAt: Date) {
        self.id = id
        self.slug = slug
        self.name = name
        self.timezone = timezone
        self.maxEmbargoDays = maxEmbargoDays
        self.createdAt = createdAt
    }

    /// The project's zone; validated on the way in, so it exists.
    public var zone: TimeZone { TimeZone(identifier: timezone) ?? TimeZone(identifier: "UTC")! }

    /// The embargo rules for this project.
    public var embargoPolicy: EmbargoPolicy { embargoPolicy(sayingInstantsIn: nil) }

    /// The embargo rules, naming instants in `typed` (the zone the user wrote them in) when
    /// given; `outsideWindow` is a release manager's reason to release outside the window.
    public func embargoPolicy(sayingInstantsIn typed: TimeZone?, outsideWindow: String? = nil) -> EmbargoPolicy {
        EmbargoPolicy(
            maxEmbargoDays: maxEmbargoDays, zone: typed ?? zone, releaseWindow: releaseWindow, windowZone: zone,
            outsideWindow: outsideWindow)
    }
}

/// A project as a user asks for it, validated.
public struct NewProject: Equatable, Sendable {
    /// The distros list allows at most 14 days between notice and release; Herald defaults to it.
    public static let defaultMaxEmbargoDays = 14

    /// Short lowercase name used in commands and URLs.
    public let slug: String
    /// Display name.
    public let name: String
    /// IANA time zone in which instants are shown to the project's people.
    public let timezone: String
    /// Longest embargo allowed, 1 to 90 days.
    public let maxEmbargoDays: Int

    /// Validates the fields; throws the first rule broken.
    public init(slug: String, name: String, timezone: String = "UTC", maxEmbargoDays: Int = defaultMaxEmbargoDays)
        throws(Refusal)
    {
        self.slug = try Slug.validate(slug, field: "slug")
        self.name = try Validate.line(name, field: "name", maxLength: 100)
        guard TimeZone(identifier: timezone) != nil else {
            throw .invalid(
                field: "timezone", rule: "'\(timezone)' is not an IANA time zone (for example Europe/Amsterdam or UTC)")
        }
        self.timezone = timezone
        guard (1...90).contains(maxEmbargoDays) else {
            throw .invalid(field: "max-embargo-days", rule: "must be between 1 and 90 (got \(maxEmbargoDays))")
        }
        self.maxEmbargoDays = maxEmbargoDays
    }
}

/// Project slugs: what may appear in a URL path and a command line without quoting.
public enum Slug {
    /// Returns `value` if it is 1–40 characters of lowercase letters, digits and inner hyphens.
    public static func validate(_ value: String, field: String) throws(Refusal) -> String {
        let bytes = Array(value.utf8)
        let allowed = { (b: UInt8) in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
        }
        let ok =
            (1...40).contains(bytes.count) && allowed(bytes.first!) && allowed(bytes.last!)
            && bytes.allSatisfy { allowed($0) || $0 == UInt8(ascii: "-") }
        guard ok else {
            throw .invalid(
                field: field,
                rule:
                    "\(Validate.quoted(value)) must be 1–40 lowercase letters, digits or inner hyphens (like my-project)"
            )
        }
        return value
    }
}
