import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import Synchronization
import Testing

@testable import HeraldDelivery

/// The project keys the sealing transport opens from the vault for signing.
@Suite struct SealingTransportTests {
    /// Sends what it is given, untouched, and keeps it.
    final class Kept: Transport, @unchecked Sendable {
        private let lock = NSLock()
        private var payloads: [[UInt8]] = []
        var sent: [[UInt8]] { lock.withLock { payloads } }
        var destination: String { "kept" }

        func send(_ delivery: ClaimedDelivery) async -> SendResult {
            lock.withLock { payloads.append(delivery.payload) }
            return .delivered
        }
    }

    /// Signs with whatever secret it is given (the secret is the signature's text): what the
    /// transport opened is what signs. Nothing else is asked of it here.
    struct Signing: OpenPGP {
        struct Unused: Error {}
        func readPublicKey(_ bytes: [UInt8]) throws -> OpenPGPKey { throw Unused() }
        func readSecretKey(_ bytes: [UInt8]) throws -> (key: OpenPGPKey, secret: [UInt8]) { throw Unused() }
        func generateKey(userID: String) throws -> [UInt8] { throw Unused() }
        func encrypt(_ plaintext: [UInt8], to recipient: OpenPGPKeyMaterial, signedBy signer: OpenPGPKeyMaterial?)
            throws -> [UInt8]
        { throw Unused() }
        func detachedSignature(of data: [UInt8], by signers: [OpenPGPKeyMaterial]) throws -> [UInt8] {
            Array("signed by \(signers.map { String(decoding: $0.bytes, as: UTF8.self) })".utf8)
        }
        func binary(_ armored: [UInt8]) throws -> [UInt8] { throw Unused() }
    }

    /// A project key that has not signed for the idle limit is forgotten (its opened secret
    /// dropped) at the next signature: a key replaced or removed does not stay in memory until
    /// `serve` ends. One still signing stays open.
    @Test func aProjectKeyIdlePastTheLimitIsForgottenAtTheNextSignature() async throws {
        let vault = try KeyVault(secret: String(repeating: "v", count: 32))
        let kept = Kept()
        // The transport's clock, moved by the test: signs queued behind a busy machine's other
        // work must not make a key idle.
        let clock = Mutex(ContinuousClock.now)
        let sealing = SealingTransport(
            kept, pgp: Signing(), vault: vault, signerIdleLimit: .seconds(1), now: { clock.withLock { $0 } })
        func publication(signedBy key: String) async throws -> SendResult {
            let delivery = ClaimedDelivery(
                id: 1, transport: .email, format: nil, recipient: "list@example.org", host: "mail",
                messageID: "<1@herald>", payload: Array("Subject: Published\r\n\r\nThe advisory.\r\n".utf8),
                secret: nil, attempts: 1,
                seal: Seal(
                    recipient: nil, signer: ("FP-" + key, try vault.seal(Array(key.utf8))), outerSubject: "Published"))
            return await sealing.send(delivery)
        }
        #expect(try await publication(signedBy: "replaced") == .delivered)
        #expect(try await publication(signedBy: "current") == .delivered)
        #expect(sealing.signersHeld == ["FP-replaced", "FP-current"])
        clock.withLock { $0 += .milliseconds(1001) }
        #expect(try await publication(signedBy: "current") == .delivered)
        #expect(sealing.signersHeld == ["FP-current"])
        // Each went out signed by its own key.
        let signed = kept.sent.map { String(decoding: $0, as: UTF8.self) }
        #expect(signed.count == 3)
        #expect(signed.map { $0.contains("signed by [\"replaced\"]") } == [true, false, false])
        #expect(signed.map { $0.contains("signed by [\"current\"]") } == [false, true, true])
    }
}
