import Foundation

/// A webhook endpoint of a provider.
public struct ProviderWebhook: Equatable, Sendable, Codable {
    /// Where notices are posted.
    public var url: String
    /// The payload shape the endpoint expects.
    public var kind: WebhookKind
    /// `whsec_…` for the generic kind, so the provider can verify signatures.
    public var secret: String?
    /// Set when the endpoint answered 410 Gone.
    public var disabledAt: Date?

    /// Creates a webhook value.
    public init(url: String, kind: WebhookKind, secret: String? = nil, disabledAt: Date? = nil) {
        self.url = url
        self.kind = kind
        self.secret = secret
        self.disabledAt = disabledAt
    }
}
