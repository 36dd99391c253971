import Foundation
import HTTPTypes
import HeraldStore
import Hummingbird

/// What the provider portal and the release managers' console share: their pages are private
/// to their reader, and their cookies belong to their own part of the site.
struct PrivateArea: Sendable {
    /// `/portal` or `/console`: where its cookies are sent.
    let path: String
    /// Behind HTTPS cookies are `Secure`; on a plain loopback address they cannot be.
    let secure: Bool

    init(path: String, settings: OutboxSettings) {
        self.path = path
        secure = settings.publicURL.hasPrefix("https")
    }

    /// A page never stored by a cache.
    func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A cookie of this area: `HttpOnly`, `SameSite=Strict`, `Secure` behind HTTPS; a session's
    /// with `maxAge`, a form's for the browser's session without.
    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        let age = maxAge.map { "; Max-Age=\($0)" } ?? ""
        return "\(name)=\(value); Path=\(path)\(age); HttpOnly; SameSite=Strict\(secure ? "; Secure" : "")"
    }

    /// The answer to a form that is not this session's (an expired page, another site's form).
    func forbidden(_ pages: Pages) -> Response {
        page(.forbidden, pages.message(title: pages.word("form-expired-title"), text: pages.word("form-expired-text")))
    }
}
