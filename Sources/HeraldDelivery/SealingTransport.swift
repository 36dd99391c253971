import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// Encrypts the private notices the claim marked (`ClaimedDelivery.seal`) to the contact's key,
/// signed by the project's key, and signs the publications, as PGP/MIME, then hands them to
/// the mail transport; the rest pass straight through. Encryption is CPU work, so it runs on its own threads, as many as
/// there are cores, never on the worker's loop or the transport's.
public final class SealingTransport: Transport, @unchecked Sendable {
    private let inner: any Transport
    private let pgp: any OpenPGP
    private let vault: (any SecretVault)?
    private let queue: OperationQueue
    private let lock = NSLock()
    /// Opened project keys, by fingerprint, and when each last signed: each is opened once, not
    /// once per message, and forgotten once it has not signed for `signerIdleLimit` (a key
    /// replaced or removed does not stay in memory until the process ends).
    private var signers: [String: (secret: [UInt8], lastUse: ContinuousClock.Instant)] = [:]
    private let signerIdleLimit: Duration
    private let now: @Sendable () -> ContinuousClock.Instant

    /// Wraps `inner`; `vault` opens the projects' signing keys (nil: none can be opened, and a
    /// notice whose project has a key waits, failing, until the operator sets one).
    public init(
        _ inner: any Transport, pgp: any OpenPGP, vault: (any SecretVault)?, signerIdleLimit: Duration = .seconds(600),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.now = now
        self.inner = inner
        self.pgp = pgp
        self.vault = vault
        self.signerIdleLimit = signerIdleLimit
        queue = OperationQueue()
        queue.maxConcurrentOperationCount = ProcessInfo.processInfo.activeProcessorCount
        queue.name = "herald.sealing"
    }

    /// Where the inner transport delivers.
    public var destination: String { inner.destination }

    /// Encrypts, then sends; a delivery without a seal is sent as it is.
    public func send(_ delivery: ClaimedDelivery) async -> SendResult {
        await withCheckedContinuation { continuation in start(delivery) { continuation.resume(returning: $0) } }
    }

    /// Encrypts on the sealing threads, then starts the inner transport's send.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        guard let seal = delivery.seal else { return inner.start(delivery, completion: completion) }
        queue.addOperation { [self] in
            switch Result(catching: { try sealed(delivery.payload, seal) }) {
            case let .success(payload):
                inner.start(delivery.sealed(payload), completion: completion)
            case let .failure(error as Refusal):
                // The vault cannot open the project's key: an operator's fix, then a retry.
                completion(.failed("not encrypted: \(error)", retryAfter: nil))
            case let .failure(error):
                completion(.permanent("not encrypted: \(error)"))
            }
        }
    }

    /// Stops the inner transport's waiting sends.
    public func stopWaiting() { inner.stopWaiting() }

    /// The PGP/MIME message for `payload`: encrypted (and signed), or signed only.
    func sealed(_ payload: [UInt8], _ seal: Seal) throws -> [UInt8] {
        let signer = try seal.signer.map { try OpenPGPKeyMaterial(fingerprint: $0.fingerprint, bytes: opened($0)) }
        guard let recipient = seal.recipient else {
            // A publication is public: if the project's key cannot sign (expired, say), it
            // goes unsigned rather than not at all.
            guard let signer,
                let signature = try? pgp.detachedSignature(of: PGPMIME.signedEntity(of: payload), by: [signer])
            else { return payload }
            return PGPMIME.signed(payload, signature: signature, boundary: "herald-" + Secrets.token(prefix: ""))
        }
        let inner = PGPMIME.innerPart(of: payload)
        // Encrypted without the signature rather than not sent, when only the signing fails.
        let armored =
            try (try? pgp.encrypt(inner, to: recipient, signedBy: signer))
            ?? pgp.encrypt(inner, to: recipient, signedBy: nil)
        return PGPMIME.encrypted(
            payload, armored: armored, outerSubject: seal.outerSubject, boundary: "herald-" + Secrets.token(prefix: ""))
    }

    private func opened(_ signer: (fingerprint: String, sealedSecret: [UInt8])) throws -> [UInt8] {
        let cached = lock.withLock { () -> [UInt8]? in
            let now = now()
            if signers.values.contains(where: { now - $0.lastUse > signerIdleLimit }) {
                signers = signers.filter { now - $0.value.lastUse <= signerIdleLimit }
            }
            signers[signer.fingerprint]?.lastUse = now
            return signers[signer.fingerprint]?.secret
        }
        if let cached { return cached }
        guard let vault else {
            throw Refusal.invalid(
                field: KeyVault.environmentName, rule: "is not set, so the project's key cannot sign this notice")
        }
        let secret = try vault.open(signer.sealedSecret)
        lock.withLock { signers[signer.fingerprint] = (secret, now()) }
        return secret
    }

    /// The fingerprints of the project keys held open.
    var signersHeld: Set<String> { lock.withLock { Set(signers.keys) } }
}
