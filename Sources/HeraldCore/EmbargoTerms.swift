import Foundation

/// What participants may do under an embargo, said in every private notice, in the portal and
/// in the API (Xen says whether deployment during the embargo is allowed): may the fixed
/// version be deployed before the instant, is the patch itself under embargo, and the Traffic
/// Light Protocol label of the private notices (FIRST TLP 2.0). Once public, the label is CLEAR.
public struct EmbargoTerms: Equatable, Sendable, Codable {
    /// FIRST's Traffic Light Protocol 2.0 labels.
    public enum TLP: String, Codable, Sendable, CaseIterable {
        case red = "TLP:RED"
        case amberStrict = "TLP:AMBER+STRICT"
        case amber = "TLP:AMBER"
        case green = "TLP:GREEN"
        case clear = "TLP:CLEAR"

        /// Reads `amber+strict`, `TLP:AMBER+STRICT`, `tlp:amber`.
        public static func parse(_ text: String, field: String = "tlp") throws(Refusal) -> TLP {
            let upper = text.trimmingCharacters(in: .whitespaces).uppercased()
            guard upper.count <= 20, let tlp = TLP(rawValue: upper.hasPrefix("TLP:") ? upper : "TLP:" + upper) else {
                throw .invalid(
                    field: field, rule: "one of \(TLP.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return tlp
        }
    }

    /// Whether the fixed version may be deployed before the release instant.
    public var deploymentAllowed: Bool
    /// Whether the patch itself is under embargo (not to be pushed to public repositories).
    public var patchEmbargoed: Bool
    /// The label of the private notices.
    public var tlp: TLP

    /// No deployment before the instant, the patch under embargo, TLP:AMBER+STRICT: the terms
    /// a project starts with.
    public static let standard = EmbargoTerms(deploymentAllowed: false, patchEmbargoed: true, tlp: .amberStrict)

    /// Creates the terms.
    public init(deploymentAllowed: Bool, patchEmbargoed: Bool, tlp: TLP) {
        self.deploymentAllowed = deploymentAllowed
        self.patchEmbargoed = patchEmbargoed
        self.tlp = tlp
    }

    /// These terms with what a user said changed: `allowed`/`not-allowed`, `embargoed`/`public`, a TLP label.
    public func changed(deployment: String?, patch: String?, tlp: String?) throws(Refusal) -> EmbargoTerms {
        var terms = self
        if let deployment {
            switch deployment.lowercased() {
            case "allowed", "yes": terms.deploymentAllowed = true
            case "not-allowed", "no": terms.deploymentAllowed = false
            default: throw .invalid(field: "deployment", rule: "allowed or not-allowed")
            }
        }
        if let patch {
            switch patch.lowercased() {
            case "embargoed", "yes": terms.patchEmbargoed = true
            case "public", "no": terms.patchEmbargoed = false
            default: throw .invalid(field: "patch", rule: "embargoed or public")
            }
        }
        if let tlp {
            terms.tlp = try TLP.parse(tlp)
            // CLEAR says anyone may share it: never the label of a notice under embargo.
            guard terms.tlp != .clear else {
                throw .invalid(
                    field: "tlp",
                    rule: "TLP:CLEAR is for what is public; an embargo is RED, AMBER+STRICT, AMBER or GREEN")
            }
        }
        return terms
    }
}
