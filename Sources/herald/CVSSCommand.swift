import ArgumentParser
import Foundation
import HeraldCore

/// `herald cvss`: the score Herald shows for a vector, without a database, so a release
/// manager can check one before putting it on an advisory.
struct CVSSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cvss",
        abstract: "Score CVSS 3.1 and 4.0 vectors as the console shows them.",
        discussion: """
            A 3.1 vector gets its base score. A 4.0 vector is scored from every metric it carries, as \
            the 4.0 specification defines, and the name says which: CVSS-B (base), CVSS-BT (with threat), \
            CVSS-BE (with environmental) or CVSS-BTE. With no vector, or -, one vector a line is read from \
            standard input (at most \(maxInput / 1_048_576) MiB); a bad line refuses the whole input, naming its number.
            """
    )

    static let maxInput = 64 * 1_048_576

    @Argument(help: "Vectors, e.g. CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N.")
    var vectors: [String] = []
    @OptionGroup var output: OutputOptions

    struct Scored: Encodable {
        let vector: String
        let score: Double
        let rating: String
        let nomenclature: String
    }

    func run() throws {
        let lines = vectors.isEmpty || vectors == ["-"] ? try Self.standardInputLines() : vectors
        var scored: [Scored] = []
        for (index, line) in lines.enumerated() {
            let vector: String
            do {
                vector = try CVSS.validate(line)
            } catch {
                throw lines.count == 1 ? error : Refusal.invalid(field: "line \(index + 1)", rule: "\(error)")
            }
            let (score, nomenclature) = CVSS.baseScore(vector).map { ($0, "base") } ?? CVSS.score40(vector)!
            scored.append(Scored(vector: vector, score: score, rating: CVSS.rating(score), nomenclature: nomenclature))
        }
        if output.json { return try Output.json(scored) }
        Output.table(
            ["SCORE", "RATING", "NAME", "VECTOR"],
            scored.map { [String(format: "%.1f", $0.score), $0.rating, $0.nomenclature, $0.vector] },
            empty: "no vectors given")
    }

    /// Standard input's non-blank lines.
    static func standardInputLines() throws -> [String] {
        let bytes = try readBytes("-", field: "input", max: maxInput)
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }
}
