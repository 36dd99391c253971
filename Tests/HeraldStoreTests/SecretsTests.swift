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

    @Test func randomBytesHaveTheLengthAskedAndDiffer() {
        #expect(Secrets.randomBytes(13).count == 13)
        #expect(Secrets.randomBytes(32) != Secrets.randomBytes(32))
        #expect(Secrets.token(prefix: "hrld_").count == 5 + 43)
    }
}
