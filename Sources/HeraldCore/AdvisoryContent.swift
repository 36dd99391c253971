import Foundation

/// What an advisory says. Changing any of it is a new revision.
public struct AdvisoryContent: Equatable, Sendable, Codable {
    /// One line (at most 200 characters) naming the issue.
    public var title: String
    /// A short paragraph for previews and feed summaries; may be empty.
    public var summary: String
    /// The full text, in Markdown; embargoed until publication.
    public var body: String
    /// CVE ids, uppercased, without duplicates, in the order given.
    public var cves: [String]
    /// How bad it is; nil: not stated.
    public var severity: Severity?
    /// A CVSS 3.1 or 4.0 vector, its metrics in the specification's order; nil: none.
    public var cvss: String?
    /// The affected versions as typed (`1.0.0 to 1.4.2`); OSV's ranges are read from it.
    public var affected: String
    /// The fixed version as typed (`1.4.3`); empty: none named.
    public var fixed: String
    /// Links for more: fix commits, release notes (the advisory page itself is always one).
    public var references: [Reference] = []
    /// What participants may do under the embargo; nil: the project's terms.
    public var terms: EmbargoTerms?

    /// Validates every field; throws the first rule broken.
    public init(
        title: String, summary: String = "", body: String = "", cves: [String] = [], severity: Severity? = nil,
        cvss: String? = nil, affected: String = "", fixed: String = "", references: [Reference] = [],
        terms: EmbargoTerms? = nil
    ) throws(Refusal) {
        self.terms = terms
        try Validate.count(references, field: "reference", max: Self.maxReferences, noun: "references per advisory")
        self.references = references
        try Validate.count(cves, field: "cve", max: Self.maxCVEs, noun: "CVE ids per advisory")
        self.title = try Validate.line(title, field: "title", maxLength: 200)
        self.summary = try Validate.text(summary, field: "summary", maxLength: 2000)
        self.body = try Validate.text(body, field: "body", maxLength: 200_000)
        var ids: [String] = []
        var seen = Set<String>()
        for cve in cves {
            let id = try CVE.validate(cve)
            if seen.insert(id).inserted { ids.append(id) }
        }
        self.cves = ids
        self.severity = severity
        self.cvss = try cvss.map { v throws(Refusal) in try CVSS.validate(v) }
        self.affected = try Validate.text(affected, field: "affected", maxLength: 2000)
        self.fixed = try Validate.text(fixed, field: "fixed", maxLength: 2000)
    }
}

extension AdvisoryContent {
    /// Most CVE ids one advisory may name: counted before any is validated.
    public static let maxCVEs = 100
    /// Most references one advisory may give.
    public static let maxReferences = 50

    private enum CodingKeys: String, CodingKey {
        case title, summary, body, cves, severity, cvss, affected, fixed, references, terms
    }

    // Snapshots written before references existed have none.
    /// Decodes stored content as it was written, without validating it again.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            unchecked: try c.decode(String.self, forKey: .title), try c.decode(String.self, forKey: .summary),
            try c.decode(String.self, forKey: .body),
            try c.decodeIfPresent(Severity.self, forKey: .severity), try c.decodeIfPresent(String.self, forKey: .cvss),
            try c.decode(String.self, forKey: .affected), try c.decode(String.self, forKey: .fixed))
        cves = try c.decode([String].self, forKey: .cves)
        references = try c.decodeIfPresent([Reference].self, forKey: .references) ?? []
        terms = try c.decodeIfPresent(EmbargoTerms.self, forKey: .terms)
    }

    /// Content as stored earlier, taken without validation (CVEs are added by the caller).
    public init(
        unchecked title: String, _ summary: String, _ body: String, _ severity: Severity?, _ cvss: String?,
        _ affected: String, _ fixed: String
    ) {
        self.title = title
        self.summary = summary
        self.body = body
        self.cves = []
        self.severity = severity
        self.cvss = cvss
        self.affected = affected
        self.fixed = fixed
    }
}
