import Foundation
import HeraldApp
import HeraldCore

/// How a claimed message is sealed before it is sent: a private notice encrypted to the
/// contact's key and signed by its project's key, under a neutral subject; a publication
/// signed only.
public struct Seal: Sendable, Equatable {
    /// The contact's public key; nil: the message is signed, not encrypted.
    public let recipient: OpenPGPKeyMaterial?
    /// The project's signing key: its fingerprint and its secret as the vault sealed it; nil
    /// when the project has none (the notice is encrypted, not signed).
    public let signer: (fingerprint: String, sealedSecret: [UInt8])?
    /// The Subject shown outside the encryption.
    public let outerSubject: String

    /// Creates the value.
    public init(
        recipient: OpenPGPKeyMaterial?, signer: (fingerprint: String, sealedSecret: [UInt8])?, outerSubject: String
    ) {
        self.recipient = recipient
        self.signer = signer
        self.outerSubject = outerSubject
    }

    /// Equal when every field is.
    public static func == (a: Seal, b: Seal) -> Bool {
        a.recipient == b.recipient && a.outerSubject == b.outerSubject && a.signer?.fingerprint == b.signer?.fingerprint
            && a.signer?.sealedSecret == b.signer?.sealedSecret
    }
}

/// A delivery handed to a worker: everything needed to send it, nothing to look up.
public final class ClaimedDelivery: Sendable, Equatable {
    // A class, immutable: a claimed row passes through queues, closures and the engine, and a
    // reference is one count to keep where a struct of strings is one per field.
    /// Database id of the delivery.
    public let id: Int64
    /// Which transport sends it: e-mail or webhook.
    public let transport: TransportKind
    /// What kind of webhook receives the payload; nil for e-mail.
    public let format: WebhookKind?
    /// An e-mail address or a webhook URL.
    public let recipient: String
    /// The lane the per-host limit counts it in: the URL's host for a webhook, `mail` for e-mail.
    public let host: String
    /// The same on every attempt, so receivers can drop repeats: Message-ID, `webhook-id`, Matrix's transaction id.
    public let messageID: String
    /// The bytes to send: the whole mail, or the request body.
    public let payload: [UInt8]
    /// A generic webhook's signing secret or a Matrix access token; nil otherwise.
    public let secret: String?
    /// Attempts so far, this one included.
    public let attempts: Int
    /// Set when the payload is a private notice to encrypt before sending.
    public let seal: Seal?

    /// A delivery as claimed; `attempts` counts this one.
    public init(
        id: Int64, transport: TransportKind, format: WebhookKind?, recipient: String, host: String, messageID: String,
        payload: [UInt8], secret: String?, attempts: Int, seal: Seal? = nil
    ) {
        self.id = id
        self.transport = transport
        self.format = format
        self.recipient = recipient
        self.host = host
        self.messageID = messageID
        self.payload = payload
        self.secret = secret
        self.attempts = attempts
        self.seal = seal
    }

    /// The same delivery with another payload and no seal: what is sent once encrypted.
    public func sealed(_ payload: [UInt8]) -> ClaimedDelivery {
        ClaimedDelivery(
            id: id, transport: transport, format: format, recipient: recipient, host: host, messageID: messageID,
            payload: payload, secret: secret, attempts: attempts)
    }

    /// Equal when every field is: the same row, claimed for the same attempt.
    public static func == (a: ClaimedDelivery, b: ClaimedDelivery) -> Bool {
        (a.id, a.transport, a.format, a.recipient, a.host) == (b.id, b.transport, b.format, b.recipient, b.host)
            && (a.messageID, a.payload, a.secret, a.attempts) == (b.messageID, b.payload, b.secret, b.attempts)
            && a.seal == b.seal
    }
}
