import Foundation
import HeraldCore
import Testing

/// Embargo terms as users write them.
@Suite struct EmbargoTermsTests {
    @Test func termsChangeOnlyWhereTheUserSaysAndBadWordsAreRefused() throws {
        let standard = EmbargoTerms.standard
        #expect(standard.tlp == .amberStrict && !standard.deploymentAllowed && standard.patchEmbargoed)
        let changed = try standard.changed(deployment: "allowed", patch: nil, tlp: "amber")
        #expect(changed == EmbargoTerms(deploymentAllowed: true, patchEmbargoed: true, tlp: .amber))
        #expect(try EmbargoTerms.TLP.parse("TLP:AMBER+STRICT") == .amberStrict)
        #expect(try EmbargoTerms.TLP.parse(" red ") == .red)
        for (deployment, patch, tlp) in [
            ("maybe", nil, nil), (nil, "secret", nil), (nil, nil, "TLP:WHITE"), (nil, nil, "clear"),
        ]
            as [(String?, String?, String?)]
        {
            #expect(throws: Refusal.self) { try standard.changed(deployment: deployment, patch: patch, tlp: tlp) }
        }
    }
}
