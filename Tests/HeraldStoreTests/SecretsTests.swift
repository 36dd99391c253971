import Foundation
import Testing

@testable import HeraldStore

@Suite struct SecretsTests {
    @Test func base64URLMatchesFoundationWithoutPadding() {
        for length in 0..<70 {
            let bytes = Secrets.randomBytes(length)
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                    of: "=", with: "")
            #expect(Secrets.base64URL(bytes) == expected, "length \(length)")
        }
    }

    @Test func base64URLReadsBackOnlyItsOwnSpelling() {
        for length in 0..<70 {
            let bytes = Secrets.randomBytes(length)
            let text = Secrets.base64URL(bytes)
            #expect(Secrets.fromBase64URL(text) == bytes, "length \(length)")
            // The last character's unused bits set: the same bytes spelt another way, refused.
            if length % 3 != 0, let last = text.last {
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                let index = alphabet.firstIndex(of: last)!
                let other = String(text.dropLast()) + String(alphabet[index ^ 1])
                #expect(Secrets.fromBase64URL(other) == nil, "length \(length): \(other)")
            }
        }
        #expect(Secrets.fromBase64URL("ab+c") == nil)
    }

    @Test func randomBytesHaveTheLengthAskedAndDiffer() {
        #expect(Secrets.randomBytes(13).count == 13)
        #expect(Secrets.randomBytes(32) != Secrets.randomBytes(32))
        #expect(Secrets.token(prefix: "hrld_").count == 5 + 43)
    }
}
