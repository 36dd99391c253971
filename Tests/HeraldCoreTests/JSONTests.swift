import Foundation
import HeraldCore
import Testing

struct JSONTests {
    /// Every character a string may hold, control characters and non-ASCII included.
    let awkward =
        "quote \" backslash \\ slash / tab \t newline \n return \r bell \u{07} nul \u{00} unit \u{1F} é 漢 🎉 \u{2028} end"

    @Test func writesWhatJSONSerializationWritesForTheSameValue() throws {
        let value: JSON = [
            "b": .string(awkward), "a": [1, -2, true, false, .null, ["z": "y", "c": []]],
            "url": "https://x.example/a/b",
        ]
        let ours = value.bytes
        let reference = try JSONSerialization.data(
            withJSONObject: [
                "b": awkward, "a": [1, -2, true, false, NSNull(), ["z": "y", "c": [Any]()]] as [Any],
                "url": "https://x.example/a/b",
            ] as [String: Any], options: [.sortedKeys, .withoutEscapingSlashes])
        // Same value when parsed, and keys in the same order.
        let parsed = try JSONSerialization.jsonObject(with: Data(ours)) as? [String: Any]
        #expect(parsed?["b"] as? String == awkward)
        #expect((parsed?["a"] as? [Any])?.count == 6)
        #expect(
            NSDictionary(dictionary: parsed ?? [:]).isEqual(
                to: try JSONSerialization.jsonObject(with: reference) as? [String: Any] ?? [:]))
        #expect(
            String(decoding: ours, as: UTF8.self).hasPrefix(
                #"{"a":[1,-2,true,false,null,{"c":[],"z":"y"}],"b":"quote \" backslash \\ slash / tab \t newline \n"#))
    }

    @Test func escapesEveryControlCharacterAndNothingElse() throws {
        for byte in UInt8(0)..<0x80 {
            let text = String(UnicodeScalar(byte))
            let written = JSON.string(text).text
            let parsed =
                try JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed) as? String
            #expect(parsed == text, "byte \(byte)")
            #expect(written.utf8.allSatisfy { $0 >= 0x20 }, "byte \(byte) left raw")
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                #expect(written == "\"\(text)\"")
            }
        }
    }
}
