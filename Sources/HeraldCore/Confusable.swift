import Foundation

/// Look-alike names, after Unicode TS #39's "skeleton": two names with the same skeleton read
/// the same to a person ("Сo" with a Cyrillic С and "Co"). The table is a subset of TS #39's
/// confusables.txt: the Cyrillic, Greek and Latin letters and the digits that pass for Latin
/// letters in organisation names, which is where an impostor on the early-notice list would
/// hide. A match is a flag for the approving release manager, not a refusal: real
/// organisations may have similar names.
public enum Confusable {
    /// The skeleton of `name`: lowercased, compatibility-decomposed, diacritics dropped,
    /// look-alikes mapped to one Latin letter, spaces and punctuation removed.
    public static func skeleton(_ name: String) -> String {
        var out = ""
        for original in name.decomposedStringWithCompatibilityMapping.unicodeScalars {
            // A capital I reads as a small l ("PayPaI"); everything else compares without case.
            let scalars = original == "I" ? ["l"] : Array(String(original).lowercased().unicodeScalars)
            for scalar in scalars {
                let category = scalar.properties.generalCategory
                if category == .nonspacingMark || category == .enclosingMark || category == .format { continue }
                if let mapped = table[scalar] {
                    out.append(mapped)
                    continue
                }
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        // Letter pairs that read as one letter.
        return out.replacingOccurrences(of: "rn", with: "m").replacingOccurrences(of: "vv", with: "w")
    }

    /// Whether two different names look the same.
    public static func lookAlike(_ a: String, _ b: String) -> Bool {
        a.lowercased() != b.lowercased() && skeleton(a) == skeleton(b)
    }

    private static let table: [Unicode.Scalar: Character] = {
        var map: [Unicode.Scalar: Character] = [:]
        let pairs: [(String, Character)] = [
            // Cyrillic
            ("аАӓ", "a"), ("вВ", "b"), ("сСϲϹ", "c"), ("ԁ", "d"), ("еЕёЁ", "e"), ("һҺ", "h"), ("і", "i"), ("ӏ", "l"),
            ("јЈ", "j"),
            ("кК", "k"), ("мМ", "m"), ("нН", "h"), ("оОӧ", "o"), ("рР", "p"), ("ԛ", "q"), ("ѕЅ", "s"), ("тТ", "t"),
            ("уУү", "y"), ("хХ", "x"), ("ԝԜ", "w"), ("ѵ", "v"), ("ЬЪ", "b"),
            // Greek
            ("αΑ", "a"), ("βΒ", "b"), ("εΕ", "e"), ("ΖΖ", "z"), ("ηΗ", "h"), ("ιΙ", "l"), ("κΚ", "k"), ("μΜ", "m"),
            ("νΝ", "v"), ("οΟσ", "o"), ("ρΡ", "p"), ("τΤ", "t"), ("υΥ", "y"), ("χΧ", "x"), ("ωω", "w"),
            // Latin and digits
            ("0", "o"), ("1ǀ|", "l"), ("5", "s"), ("ı", "l"), ("ſ", "f"), ("ɑ", "a"), ("ɡ", "g"), ("ʏ", "y"),
        ]
        for (letters, latin) in pairs {
            for scalar in letters.unicodeScalars { map[scalar] = latin }
        }
        return map
    }()
}
