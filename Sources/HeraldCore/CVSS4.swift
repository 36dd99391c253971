import Foundation

/// CVSS 4.0 scoring (the specification's section 8): a vector falls into one of 270
/// macrovectors, each with a score that experts ranked, and is placed below its macrovector's
/// score by how far its metrics sit from that macrovector's most severe vectors, relative to
/// the next lower macrovectors.
extension CVSS {
    /// The score of a CVSS 4.0 vector from every metric it carries (threat and environmental
    /// ones included, as a 4.0 score is defined), with the specification's name for what it
    /// covers: CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE. Nil for anything `validate` refuses.
    public static func score40(_ vector: String) -> (score: Double, nomenclature: String)? {
        guard vector.hasPrefix("CVSS:4.0/"), (try? validate(vector)) != nil else { return nil }
        let given = metrics(of: vector)
        let threat = given["E", default: "X"] != "X"
        let environmental = given.contains { name, value in
            value != "X" && (["CR", "IR", "AR"].contains(name) || name.hasPrefix("M"))
        }
        let nomenclature = "CVSS-B" + (threat ? "T" : "") + (environmental ? "E" : "")
        /// The value that counts: the modified one where set, else the base one, with the
        /// specification's worst-case defaults for unset threat and requirement metrics.
        func effective(_ name: String) -> String {
            if let modified = given["M" + name], modified != "X" { return modified }
            let value = given[name, default: "X"]
            guard value == "X" else { return value }
            return name == "E" ? "A" : "H"
        }
        let impact = ["VC", "VI", "VA", "SC", "SI", "SA"].map(effective)
        guard impact.contains(where: { $0 != "N" }) else { return (0, nomenclature) }
        return (score40(effective), nomenclature)
    }

    /// "9.8 (critical) · CVSS:3.1/…" for a 3.1 vector, its base score; "9.3 (critical, CVSS-BT) ·
    /// CVSS:4.0/…" for a 4.0 one, named for the metrics it was scored from; anything else as given.
    public static func scored(_ vector: String) -> String {
        if let base = baseScore(vector) { return String(format: "%.1f", base) + " (\(rating(base))) · \(vector)" }
        guard let (score, nomenclature) = score40(vector) else { return vector }
        return String(format: "%.1f", score) + " (\(rating(score)), \(nomenclature)) · \(vector)"
    }

    private static func score40(_ m: (String) -> String) -> Double {
        let eq1 =
            m("AV") == "N" && m("PR") == "N" && m("UI") == "N"
            ? 0 : (m("AV") == "N" || m("PR") == "N" || m("UI") == "N") && m("AV") != "P" ? 1 : 2
        let eq2 = m("AC") == "L" && m("AT") == "N" ? 0 : 1
        let eq3 =
            m("VC") == "H" && m("VI") == "H" ? 0 : m("VC") == "H" || m("VI") == "H" || m("VA") == "H" ? 1 : 2
        let eq4 = m("SI") == "S" || m("SA") == "S" ? 0 : m("SC") == "H" || m("SI") == "H" || m("SA") == "H" ? 1 : 2
        let eq5 = ["A": 0, "P": 1, "U": 2][m("E")]!
        let eq6 =
            (m("CR") == "H" && m("VC") == "H") || (m("IR") == "H" && m("VI") == "H")
                || (m("AR") == "H" && m("VA") == "H") ? 0 : 1
        let eq = [eq1, eq2, eq3, eq4, eq5, eq6]
        func score(lowering changes: [Int: Int] = [:]) -> Double? {
            macrovectorScores[eq.indices.map { String(eq[$0] + changes[$0, default: 0]) }.joined()]
        }
        let value = score()!

        // The next lower macrovector along each equivalence set; EQ3 and EQ6 move together.
        let lowerEQ3EQ6: Double? =
            switch (eq3, eq6) {
            case (0, 0): [score(lowering: [5: 1]), score(lowering: [2: 1])].compactMap { $0 }.max()
            case (1, 0): score(lowering: [5: 1])
            case (0, 1), (1, 1): score(lowering: [2: 1])
            default: score(lowering: [2: 1, 5: 1])
            }
        let nextLower = [
            score(lowering: [0: 1]), score(lowering: [1: 1]), lowerEQ3EQ6, score(lowering: [3: 1]),
            score(lowering: [4: 1]),
        ]

        // The distance, in tenths per metric, to the first of the macrovector's most severe
        // vectors that this vector is nowhere more severe than.
        let candidates = mostSevere.eq1[eq1].flatMap { a in
            mostSevere.eq2[eq2].flatMap { b in
                mostSevere.eq3eq6[eq3][eq6].flatMap { c in
                    mostSevere.eq4[eq4].flatMap { d in mostSevere.eq5[eq5].map { e in [a, b, c, d, e].joined() } }
                }
            }
        }
        func distances(to candidate: String) -> [String: Int] {
            let target = metrics(of: "CVSS:4.0/" + candidate)
            return severityLevels.reduce(into: [:]) { result, entry in
                result[entry.key] = entry.value[m(entry.key)]! - entry.value[target[entry.key]!]!
            }
        }
        let each = candidates.map(distances)
        let distance = each.first { $0.values.allSatisfy { $0 >= 0 } } ?? each.last!
        let sets = [["AV", "PR", "UI"], ["AC", "AT"], ["VC", "VI", "VA", "CR", "IR", "AR"], ["SC", "SI", "SA"]]
        let current = sets.map { names in Double(names.reduce(0) { $0 + distance[$1]! }) * 0.1 }
        let depth = [[1, 4, 5][eq1], [1, 2][eq2], [[7, 6], [8, 8], [10, 10]][eq3][eq6], [6, 5, 4][eq4]]
            .map { Double($0) * 0.1 }

        var sum = 0.0
        var counted = 0
        for (index, lower) in nextLower.enumerated() {
            guard let lower, value - lower >= 0 else { continue }
            counted += 1
            // EQ5 has no distance within a macrovector: it counts in the mean with 0.
            if index < 4 { sum += (value - lower) * current[index] / depth[index] }
        }
        let placed = min(10, max(0, value - (counted == 0 ? 0 : sum / Double(counted))))
        // Half up to one decimal; the epsilon rounds 8.6 - 7.15 = 1.4499999… to 1.5, as the
        // specification's calculator does.
        return ((placed + 1e-6) * 10).rounded(.toNearestOrAwayFromZero) / 10
    }

    /// Each metric's severity levels, in tenths, from the most severe (0).
    private static let severityLevels: [String: [String: Int]] = [
        "AV": ["N": 0, "A": 1, "L": 2, "P": 3], "PR": ["N": 0, "L": 1, "H": 2], "UI": ["N": 0, "P": 1, "A": 2],
        "AC": ["L": 0, "H": 1], "AT": ["N": 0, "P": 1],
        "VC": ["H": 0, "L": 1, "N": 2], "VI": ["H": 0, "L": 1, "N": 2], "VA": ["H": 0, "L": 1, "N": 2],
        "SC": ["H": 1, "L": 2, "N": 3], "SI": ["S": 0, "H": 1, "L": 2, "N": 3], "SA": ["S": 0, "H": 1, "L": 2, "N": 3],
        "CR": ["H": 0, "M": 1, "L": 2], "IR": ["H": 0, "M": 1, "L": 2], "AR": ["H": 0, "M": 1, "L": 2],
    ]

    /// The most severe vectors of each level of each equivalence set (EQ3 with EQ6).
    private static let mostSevere = (
        eq1: [
            ["AV:N/PR:N/UI:N/"], ["AV:A/PR:N/UI:N/", "AV:N/PR:L/UI:N/", "AV:N/PR:N/UI:P/"],
            ["AV:P/PR:N/UI:N/", "AV:A/PR:L/UI:P/"],
        ],
        eq2: [["AC:L/AT:N/"], ["AC:H/AT:N/", "AC:L/AT:P/"]],
        eq3eq6: [
            [
                ["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H/"],
                ["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H/", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M/"],
            ],
            [
                ["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H/", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H/"],
                [
                    "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H/", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M/",
                    "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M/",
                    "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H/", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M/",
                ],
            ],
            [[], ["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H/"]],
        ],
        eq4: [["SC:H/SI:S/SA:S/"], ["SC:H/SI:H/SA:H/"], ["SC:L/SI:L/SA:L/"]],
        eq5: [["E:A/"], ["E:P/"], ["E:U/"]]
    )

    /// The score of each macrovector (EQ1 to EQ6, each level from 0, the most severe): the
    /// CVSS v4.0 lookup table FIRST publishes with the specification (its calculator's
    /// cvss_lookup.js, BSD-2-Clause, © FIRST.org). scripts/lib/cvss4_check.py checks Herald's
    /// scores against an independent implementation for every base vector.
    private static let macrovectorScores: [String: Double] = [
        "000000": 10.0, "000001": 9.9, "000010": 9.8, "000011": 9.5, "000020": 9.5, "000021": 9.2, "000100": 10.0,
        "000101": 9.6, "000110": 9.3, "000111": 8.7, "000120": 9.1, "000121": 8.1, "000200": 9.3, "000201": 9.0,
        "000210": 8.9, "000211": 8.0, "000220": 8.1, "000221": 6.8, "001000": 9.8, "001001": 9.5, "001010": 9.5,
        "001011": 9.2, "001020": 9.0, "001021": 8.4, "001100": 9.3, "001101": 9.2, "001110": 8.9, "001111": 8.1,
        "001120": 8.1, "001121": 6.5, "001200": 8.8, "001201": 8.0, "001210": 7.8, "001211": 7.0, "001220": 6.9,
        "001221": 4.8, "002001": 9.2, "002011": 8.2, "002021": 7.2, "002101": 7.9, "002111": 6.9, "002121": 5.0,
        "002201": 6.9, "002211": 5.5, "002221": 2.7, "010000": 9.9, "010001": 9.7, "010010": 9.5, "010011": 9.2,
        "010020": 9.2, "010021": 8.5, "010100": 9.5, "010101": 9.1, "010110": 9.0, "010111": 8.3, "010120": 8.4,
        "010121": 7.1, "010200": 9.2, "010201": 8.1, "010210": 8.2, "010211": 7.1, "010220": 7.2, "010221": 5.3,
        "011000": 9.5, "011001": 9.3, "011010": 9.2, "011011": 8.5, "011020": 8.5, "011021": 7.3, "011100": 9.2,
        "011101": 8.2, "011110": 8.0, "011111": 7.2, "011120": 7.0, "011121": 5.9, "011200": 8.4, "011201": 7.0,
        "011210": 7.1, "011211": 5.2, "011220": 5.0, "011221": 3.0, "012001": 8.6, "012011": 7.5, "012021": 5.2,
        "012101": 7.1, "012111": 5.2, "012121": 2.9, "012201": 6.3, "012211": 2.9, "012221": 1.7, "100000": 9.8,
        "100001": 9.5, "100010": 9.4, "100011": 8.7, "100020": 9.1, "100021": 8.1, "100100": 9.4, "100101": 8.9,
        "100110": 8.6, "100111": 7.4, "100120": 7.7, "100121": 6.4, "100200": 8.7, "100201": 7.5, "100210": 7.4,
        "100211": 6.3, "100220": 6.3, "100221": 4.9, "101000": 9.4, "101001": 8.9, "101010": 8.8, "101011": 7.7,
        "101020": 7.6, "101021": 6.7, "101100": 8.6, "101101": 7.6, "101110": 7.4, "101111": 5.8, "101120": 5.9,
        "101121": 5.0, "101200": 7.2, "101201": 5.7, "101210": 5.7, "101211": 5.2, "101220": 5.2, "101221": 2.5,
        "102001": 8.3, "102011": 7.0, "102021": 5.4, "102101": 6.5, "102111": 5.8, "102121": 2.6, "102201": 5.3,
        "102211": 2.1, "102221": 1.3, "110000": 9.5, "110001": 9.0, "110010": 8.8, "110011": 7.6, "110020": 7.6,
        "110021": 7.0, "110100": 9.0, "110101": 7.7, "110110": 7.5, "110111": 6.2, "110120": 6.1, "110121": 5.3,
        "110200": 7.7, "110201": 6.6, "110210": 6.8, "110211": 5.9, "110220": 5.2, "110221": 3.0, "111000": 8.9,
        "111001": 7.8, "111010": 7.6, "111011": 6.7, "111020": 6.2, "111021": 5.8, "111100": 7.4, "111101": 5.9,
        "111110": 5.7, "111111": 5.7, "111120": 4.7, "111121": 2.3, "111200": 6.1, "111201": 5.2, "111210": 5.7,
        "111211": 2.9, "111220": 2.4, "111221": 1.6, "112001": 7.1, "112011": 5.9, "112021": 3.0, "112101": 5.8,
        "112111": 2.6, "112121": 1.5, "112201": 2.3, "112211": 1.3, "112221": 0.6, "200000": 9.3, "200001": 8.7,
        "200010": 8.6, "200011": 7.2, "200020": 7.5, "200021": 5.8, "200100": 8.6, "200101": 7.4, "200110": 7.4,
        "200111": 6.1, "200120": 5.6, "200121": 3.4, "200200": 7.0, "200201": 5.4, "200210": 5.2, "200211": 4.0,
        "200220": 4.0, "200221": 2.2, "201000": 8.5, "201001": 7.5, "201010": 7.4, "201011": 5.5, "201020": 6.2,
        "201021": 5.1, "201100": 7.2, "201101": 5.7, "201110": 5.5, "201111": 4.1, "201120": 4.6, "201121": 1.9,
        "201200": 5.3, "201201": 3.6, "201210": 3.4, "201211": 1.9, "201220": 1.9, "201221": 0.8, "202001": 6.4,
        "202011": 5.1, "202021": 2.0, "202101": 4.7, "202111": 2.1, "202121": 1.1, "202201": 2.4, "202211": 0.9,
        "202221": 0.4, "210000": 8.8, "210001": 7.5, "210010": 7.3, "210011": 5.3, "210020": 6.0, "210021": 5.0,
        "210100": 7.3, "210101": 5.5, "210110": 5.9, "210111": 4.0, "210120": 4.1, "210121": 2.0, "210200": 5.4,
        "210201": 4.3, "210210": 4.5, "210211": 2.2, "210220": 2.0, "210221": 1.1, "211000": 7.5, "211001": 5.5,
        "211010": 5.8, "211011": 4.5, "211020": 4.0, "211021": 2.1, "211100": 6.1, "211101": 5.1, "211110": 4.8,
        "211111": 1.8, "211120": 2.0, "211121": 0.9, "211200": 4.6, "211201": 1.8, "211210": 1.7, "211211": 0.7,
        "211220": 0.8, "211221": 0.2, "212001": 5.3, "212011": 2.4, "212021": 1.4, "212101": 2.4, "212111": 1.2,
        "212121": 0.5, "212201": 1.0, "212211": 0.3, "212221": 0.1,
    ]
}
