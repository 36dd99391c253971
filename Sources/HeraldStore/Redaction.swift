import Foundation
import HeraldCore

/// Listings show credentials by fingerprint, never whole: a webhook's signing secret, a Matrix
/// access token, and a chat webhook's URL (the URL of a Slack, Mattermost, Discord or Teams
/// webhook is itself the credential). Secrets are shown once, to the admin who creates them;
/// later only an admin's audited `--reveal` shows them again.
public enum Redaction {
    /// `whsec_…a1b2`, or `…a1b2` for a secret without a known prefix.
    public static func secret(_ secret: String) -> String {
        (secret.hasPrefix("whsec_") ? "whsec_" : "") + "…" + Secrets.fingerprint(secret)
    }

    /// `https://hooks.slack.com/…a1b2`: where it goes, not what opens it.
    public static func url(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else {
            return "…" + Secrets.fingerprint(url)
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…" + Secrets.fingerprint(url)
    }
}

extension Channel {
    /// The channel as listings show it: an e-mail list's address as it is, an endpoint's URL
    /// and secret by fingerprint.
    public var redacted: Channel {
        var channel = self
        if kind != .email { channel.target = Redaction.url(target) }
        channel.secret = secret.map(Redaction.secret)
        return channel
    }
}

extension Provider {
    /// The provider as listings show it: webhook URLs and secrets by fingerprint.
    public var redacted: Provider {
        var provider = self
        provider.webhooks = webhooks.map { hook in
            var hook = hook
            hook.url = Redaction.url(hook.url)
            hook.secret = hook.secret.map(Redaction.secret)
            return hook
        }
        return provider
    }
}

extension DeliveryRecord {
    /// The delivery as listings show it: a webhook's URL by fingerprint, where it was sent to
    /// and where it went both.
    var redacted: DeliveryRecord {
        var record = self
        if transport == .webhook {
            record.recipient = Redaction.url(recipient)
            record.deliveredVia = deliveredVia.map { $0.hasPrefix("webhook:") ? $0 : Redaction.url($0) }
        }
        return record
    }
}
