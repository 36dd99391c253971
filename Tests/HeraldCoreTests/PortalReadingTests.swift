import Foundation
import HeraldCore
import Testing

/// What a provider may read of an advisory in the portal, decided without a database.
@Suite struct PortalReadingTests {
    @Test func embargoedTextOnlyForAParticipantAndOnlyTheRevisionAddressedToIt() {
        #expect(PortalReading.of(state: .scheduled, takesPart: true, entitledRevision: 2) == .embargoed(revision: 2))
        #expect(PortalReading.of(state: .scheduled, takesPart: false, entitledRevision: 2) == .nothing)
        #expect(PortalReading.of(state: .scheduled, takesPart: true, entitledRevision: nil) == .nothing)
        #expect(PortalReading.of(state: .draft, takesPart: true, entitledRevision: 1) == .embargoed(revision: 1))
        // Public is public, to anyone who was told of it; a withdrawn one says only that.
        #expect(PortalReading.of(state: .published, takesPart: false, entitledRevision: 1) == .published)
        #expect(PortalReading.of(state: .published, takesPart: true, entitledRevision: nil) == .nothing)
        #expect(PortalReading.of(state: .cancelled, takesPart: true, entitledRevision: 3) == .withdrawn)
        #expect(PortalReading.of(state: .cancelled, takesPart: true, entitledRevision: nil) == .nothing)
    }
}
