import Foundation

/// CVSS vectors, version 3.1 and 4.0: every base metric present once with a legal value;
/// other metrics, when present, legal and not repeated.
public enum CVSS {
    /// Returns the vector if it is valid.
    public static func validate(_ value: String) throws(Refusal) -> String {
        guard value.utf8.count <= 400 else {
            throw .invalid(
                field: "cvss", rule: "a CVSS vector has at most 400 characters (got \(value.utf8.count) bytes)")
        }
        let vector = value.trimmingCharacters(in: .whitespaces)
        let metrics: (base: [(String, String)], optional: [String: String])
        if vector.hasPrefix("CVSS:3.1/") {
            metrics = v31
        } else if vector.hasPrefix("CVSS:4.0/") {
            metrics = v40
        } else {
            throw .invalid(field: "cvss", rule: "\(Validate.quoted(vector)) must start with CVSS:3.1/ or CVSS:4.0/")
        }
        var seen: [String: String] = [:]
        for part in vector.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let pair = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw .invalid(field: "cvss", rule: "'\(part)' is not METRIC:VALUE") }
            let (name, val) = (String(pair[0]), String(pair[1]))
            let legal = metrics.base.first { $0.0 == name }?.1 ?? metrics.optional[name]
            guard let legal else { throw .invalid(field: "cvss", rule: "unknown metric '\(name)'") }
            guard legal.split(separator: ",").contains(Substring(val)) else {
                throw .invalid(field: "cvss", rule: "\(name) must be one of \(legal) (got '\(val)')")
            }
            guard seen.updateValue(val, forKey: name) == nil else {
                throw .invalid(field: "cvss", rule: "metric \(name) appears twice")
            }
        }
        let missing = metrics.base.map(\.0).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            throw .invalid(field: "cvss", rule: "base metrics missing: \(missing.joined(separator: ", "))")
        }
        // Kept in the specification's order: OSV's schema (and many parsers) accept only that.
        let prefix = vector.hasPrefix("CVSS:3.1/") ? "CVSS:3.1" : "CVSS:4.0"
        let order = metrics.base.map(\.0) + (prefix == "CVSS:3.1" ? v31Optional : v40Optional)
        return ([prefix] + order.compactMap { name in seen[name].map { "\(name):\($0)" } }).joined(separator: "/")
    }

    /// The optional metrics in the order each specification writes them.
    private static let v31Optional = [
        "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
    ]
    private static let v40Optional = [
        "E", "CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA",
        "S", "AU", "R", "V", "RE", "U",
    ]

    private static let v31: (base: [(String, String)], optional: [String: String]) = (
        [
            ("AV", "N,A,L,P"), ("AC", "L,H"), ("PR", "N,L,H"), ("UI", "N,R"), ("S", "U,C"), ("C", "H,L,N"),
            ("I", "H,L,N"), ("A", "H,L,N"),
        ],
        [
            "E": "X,H,F,P,U", "RL": "X,U,W,T,O", "RC": "X,C,R,U",
            "CR": "X,H,M,L", "IR": "X,H,M,L", "AR": "X,H,M,L",
            "MAV": "X,N,A,L,P", "MAC": "X,L,H", "MPR": "X,N,L,H", "MUI": "X,N,R", "MS": "X,U,C",
            "MC": "X,N,L,H", "MI": "X,N,L,H", "MA": "X,N,L,H",
        ]
    )

    private static let v40: (base: [(String, String)], optional: [String: String]) = (
        [
            ("AV", "N,A,L,P"), ("AC", "L,H"), ("AT", "N,P"), ("PR", "N,L,H"), ("UI", "N,P,A"),
            ("VC", "H,L,N"), ("VI", "H,L,N"), ("VA", "H,L,N"), ("SC", "H,L,N"), ("SI", "H,L,N"), ("SA", "H,L,N"),
        ],
        [
            "E": "X,A,P,U", "CR": "X,H,M,L", "IR": "X,H,M,L", "AR": "X,H,M,L",
            "MAV": "X,N,A,L,P", "MAC": "X,L,H", "MAT": "X,N,P", "MPR": "X,N,L,H", "MUI": "X,N,P,A",
            "MVC": "X,H,L,N", "MVI": "X,H,L,N", "MVA": "X,H,L,N", "MSC": "X,H,L,N", "MSI": "X,S,H,L,N",
            "MSA": "X,S,H,L,N",
            "S": "X,N,P", "AU": "X,N,Y", "R": "X,A,U,I", "V": "X,D,C", "RE": "X,L,M,H", "U": "X,Clear,Green,Amber,Red",
        ]
    )
}

extension CVSS {
    /// The base score of a CVSS 3.1 vector (the specification's section 7.1 and its Roundup),
    /// nil for a 4.0 vector (`score40` scores those) or one that is not valid.
    public static func baseScore(_ vector: String) -> Double? {
        guard vector.hasPrefix("CVSS:3.1/") else { return nil }
        let metric = metrics(of: vector)
        let changed = metric["S"] == "C"
        let weights: [String: [String: Double]] = [
            "AV": ["N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2], "AC": ["L": 0.77, "H": 0.44],
            "PR": ["N": 0.85, "L": changed ? 0.68 : 0.62, "H": changed ? 0.5 : 0.27], "UI": ["N": 0.85, "R": 0.62],
            "C": ["H": 0.56, "L": 0.22, "N": 0], "I": ["H": 0.56, "L": 0.22, "N": 0],
            "A": ["H": 0.56, "L": 0.22, "N": 0],
        ]
        func weight(_ name: String) -> Double? { metric[name].flatMap { weights[name]?[$0] } }
        guard let av = weight("AV"), let ac = weight("AC"), let pr = weight("PR"), let ui = weight("UI"),
            let c = weight("C"), let i = weight("I"), let a = weight("A"), metric["S"] != nil
        else { return nil }
        let iss = 1 - (1 - c) * (1 - i) * (1 - a)
        let impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss
        guard impact > 0 else { return 0 }
        let exploitability = 8.22 * av * ac * pr * ui
        return roundUp(min((changed ? 1.08 : 1) * (impact + exploitability), 10))
    }

    /// A vector's metrics by name, its version left out.
    static func metrics(of vector: String) -> [String: String] {
        var metric: [String: String] = [:]
        for part in vector.split(separator: "/").dropFirst() {
            let pair = part.split(separator: ":")
            if pair.count == 2 { metric[String(pair[0])] = String(pair[1]) }
        }
        return metric
    }

    /// CVSS 3.1's Roundup: the smallest number with one decimal that is at least `value`,
    /// computed on integers so that floating point does not add a tenth.
    public static func roundUp(_ value: Double) -> Double {
        let integer = Int((value * 100_000).rounded())
        return integer % 10_000 == 0 ? Double(integer) / 100_000 : Double(integer / 10_000 + 1) / 10
    }

    /// The specification's name for a score: none, low, medium, high or critical.
    public static func rating(_ score: Double) -> String {
        switch score {
        case 0: "none"
        case ..<4: "low"
        case ..<7: "medium"
        case ..<9: "high"
        default: "critical"
        }
    }
}
