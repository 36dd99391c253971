import CCurl
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// Looks a contact's key up in its domain's Web Key Directory over HTTPS: the advanced method
/// first, then the direct one (draft-koch-openpgp-webkey-service). Like a webhook, it refuses
/// hosts that resolve to loopback or private addresses unless the operator allows them.
public struct KeyDirectoryClient: KeyDirectory {
    let settings: CurlSettings
    let allowPrivateTargets: Bool
    /// CA certificates (PEM) to verify the servers with instead of the system's.
    let caFile: String?

    /// A client with `settings`' timeouts.
    public init(settings: CurlSettings = CurlSettings(totalTimeout: 15), allowPrivateTargets: Bool, caFile: String?) {
        self.settings = settings
        self.allowPrivateTargets = allowPrivateTargets
        self.caFile = caFile
    }

    /// The key at the advanced URL, else at the direct one, else what each answered.
    public func lookUp(_ email: String) -> KeyLookup {
        guard let urls = WebKeyDirectory.lookupURLs(for: email) else { return .notFound("\(email) is not an address") }
        var answers: [String] = []
        // The draft falls back to the direct method only when the subdomain does not exist;
        // many domains answer the direct one and fail the advanced one otherwise (no
        // certificate for the subdomain, a 404), so any failure falls back. Both are HTTPS to
        // names under the address's own domain, so the fallback weakens nothing.
        for url in urls {
            let (result, body) = Self.get(
                url, maxBytes: OpenPGPKey.maxArmoredBytes, settings: settings, refusePrivate: !allowPrivateTargets,
                caFile: caFile)
            if result.code == 0 && result.responseCode == 200 && !body.isEmpty { return .found(body, url: url) }
            answers.append("\(url): \(Self.describe(result, bodyBytes: body.count))")
        }
        return .notFound(answers.joined(separator: "; "))
    }

    static func describe(_ result: CurlResult, bodyBytes: Int) -> String {
        if result.refusedPrivateTarget {
            return
                "refused: the host resolves to a loopback or private address (HERALD_ALLOW_PRIVATE_TARGETS allows it)"
        }
        if result.code == Int32(CURLE_WRITE_ERROR.rawValue) {
            return "refused: the answer is larger than \(OpenPGPKey.maxArmoredBytes / 1024) KiB"
        }
        if result.code != 0 { return result.error }
        return result.responseCode == 200 ? "an empty answer" : "HTTP \(result.responseCode)"
    }

    /// One HTTPS GET, blocking its thread, with at most `maxBytes` of body (more fails the
    /// transfer) and at most three redirects, each to HTTPS.
    static func get(
        _ url: String, maxBytes: Int, settings: CurlSettings, refusePrivate: Bool, caFile: String?
    ) -> (CurlResult, [UInt8]) {
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let refused = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        refused.initialize(to: 0)
        // Freed after the handle (defers run last first): cleanup may still write to them.
        defer {
            errorBuffer.deallocate()
            refused.deallocate()
        }
        let easy = curl_easy_init()!
        defer { curl_easy_cleanup(easy) }
        let body = BoundedBody(limit: maxBytes)
        Handle.setCommonOptions(easy, settings: settings, errorBuffer: errorBuffer)
        herald_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "https")
        herald_curl_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https")
        herald_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        herald_curl_easy_setopt_long(easy, CURLOPT_MAXREDIRS, 3)
        herald_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, "Herald")
        herald_curl_easy_setopt_string(easy, CURLOPT_URL, url)
        if let caFile { herald_curl_easy_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        if refusePrivate { herald_curl_refuse_private_targets(easy, refused) }
        herald_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, boundedWrite)
        let code = withExtendedLifetime(body) { () -> CURLcode in
            herald_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(body).toOpaque())
            return curl_easy_perform(easy)
        }
        var status = 0
        herald_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let error =
            code == CURLE_OK
            ? "" : (errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code)))
        let result = CurlResult(
            code: Int32(code.rawValue), error: error, responseCode: status, retryAfter: nil, responseSnippet: "",
            refusedPrivateTarget: refused.pointee != 0)
        return (result, code == CURLE_OK ? body.bytes : [])
    }
}

/// A response body kept up to a limit.
private final class BoundedBody {
    let limit: Int
    var bytes: [UInt8] = []
    init(limit: Int) { self.limit = limit }
}

private func boundedWrite(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata, let buffer else { return 0 }
    let body = Unmanaged<BoundedBody>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    // Returning less than given stops the transfer (CURLE_WRITE_ERROR).
    guard body.bytes.count + length <= body.limit else { return 0 }
    buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        body.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}
