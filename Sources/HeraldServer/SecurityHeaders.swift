import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging

/// Headers that keep pages from being framed, sniffed or leaking referrers.
enum SecurityHeaders {
    // Built once: every response carries them, the feed under load included.
    private static let fields: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
        .init("X-Frame-Options")!: "DENY",
    ]

    static func apply(to headers: inout HTTPFields) {
        // Cached documents carry them already.
        guard headers[.contentSecurityPolicy] == nil else { return }
        headers.append(contentsOf: fields)
    }
}
