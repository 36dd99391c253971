import CCurl
import Foundation

/// One request for `CurlEngine` to make.
public enum CurlRequest: Sendable {
    /// An HTTP request with a body; redirects are not followed. `refusePrivate` refuses
    /// addresses in loopback and private ranges after name resolution.
    case http(method: String, url: String, headers: [String], body: [UInt8], refusePrivate: Bool)
}
