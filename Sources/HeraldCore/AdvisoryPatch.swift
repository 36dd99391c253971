import Foundation

/// Changes to an advisory's content; nil leaves a field as it is.
public struct AdvisoryPatch: Equatable, Sendable {
    /// A new title; nil keeps it.
    public var title: String?
    /// A new summary; nil keeps it, "" clears it.
    public var summary: String?
    /// A new body; nil keeps it, "" clears it.
    public var body: String?
    /// The complete new list of CVE ids, not additions; nil keeps it.
    public var cves: [String]?
    /// A new severity; nil keeps it (a patch cannot clear it).
    public var severity: Severity?
    /// A new CVSS vector; nil keeps it (a patch cannot clear it).
    public var cvss: String?
    /// New affected versions; nil keeps them.
    public var affected: String?
    /// New fixed versions; nil keeps them.
    public var fixed: String?
    /// The complete new list of references, not additions; nil keeps it.
    public var references: [Reference]?
    /// New embargo terms.
    public var terms: EmbargoTerms?

    /// Creates a patch; fields left out stay as they are.
    public init(
        title: String? = nil, summary: String? = nil, body: String? = nil, cves: [String]? = nil,
        severity: Severity? = nil, cvss: String? = nil, affected: String? = nil, fixed: String? = nil,
        references: [Reference]? = nil, terms: EmbargoTerms? = nil
    ) {
        self.references = references
        self.terms = terms
        self.title = title
        self.summary = summary
        self.body = body
        self.cves = cves
        self.severity = severity
        self.cvss = cvss
        self.affected = affected
        self.fixed = fixed
    }

    /// `content` with the patch applied and validated.
    public func applied(to content: AdvisoryContent) throws(Refusal) -> AdvisoryContent {
        try AdvisoryContent(
            title: title ?? content.title, summary: summary ?? content.summary, body: body ?? content.body,
            cves: cves ?? content.cves, severity: severity ?? content.severity, cvss: cvss ?? content.cvss,
            affected: affected ?? content.affected, fixed: fixed ?? content.fixed,
            references: references ?? content.references, terms: terms ?? content.terms
        )
    }
}
