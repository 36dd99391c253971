import Foundation
import HeraldCore

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

    /// A delivery as claimed; `attempts` counts this one.
    public init(
        id: Int64, transport: TransportKind, format: WebhookKind?, recipient: String, host: String, messageID: String,
        payload: [UInt8], secret: String?, attempts: Int
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
    }

    /// Equal when every field is: the same row, claimed for the same attempt.
    public static func == (a: ClaimedDelivery, b: ClaimedDelivery) -> Bool {
        (a.id, a.transport, a.format, a.recipient, a.host) == (b.id, b.transport, b.format, b.recipient, b.host)
            && (a.messageID, a.payload, a.secret, a.attempts) == (b.messageID, b.payload, b.secret, b.attempts)
    }
}
