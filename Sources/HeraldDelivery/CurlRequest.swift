import CCurl
import Foundation

/// One transfer for libcurl to make.
public enum CurlRequest: Sendable {
    /// Sends `message` to `to` through the SMTP server at `url` (`smtp://…` or `smtps://…`).
    /// `requireTLS` refuses a server that does not offer STARTTLS.
    case smtp(url: String, from: String, to: String, message: [UInt8], requireTLS: Bool)
    /// An HTTP request with a body; redirects are not followed. `refusePrivate` refuses
    /// addresses in loopback and private ranges after name resolution.
    case http(method: String, url: String, headers: [String], body: [UInt8], refusePrivate: Bool)
}
