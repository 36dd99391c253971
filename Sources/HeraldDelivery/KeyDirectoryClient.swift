import CCurl
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// Asks a domain's Web Key Directory over HTTPS (draft-koch-openpgp-webkey-service): the
/// advanced URL first, then the direct one. Like a webhook, it refuses hosts that resolve to
/// loopback or private addresses unless the operator allows them.
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

    /// The advanced URL, then the direct one. The draft falls back to the direct method only
    /// when the subdomain does not exist; the use case asks the next place after any failure
    /// (no certificate for the subdomain, a 404, a page that is no key), since both are HTTPS
    /// to names under the address's own domain and the fallback weakens nothing.
    public func places(for email: String) -> [String] { WebKeyDirectory.lookupURLs(for: email) ?? [] }

    /// What `url` answers: its body when the status is 200, else why not.
    public func fetch(_ url: String) -> KeyAnswer {
        let (result, body) = Self.get(
            url, maxBytes: OpenPGPKey.maxArmoredBytes, settings: settings, refusePrivate: !allowPrivateTargets,
            caFile: caFile)
        if result.code == 0 && result.responseCode == 200 && !body.isEmpty { return .key(body) }
        if result.refusedPrivateTarget {
            return .none(
                "refused: the host resolves to a loopback or private address (HERALD_ALLOW_PRIVATE_TARGETS allows it)")
        }
        if result.code == Int32(CURLE_WRITE_ERROR.rawValue) {
            return .none("refused: the answer is larger than \(OpenPGPKey.maxArmoredBytes / 1024) KiB")
        }
        if result.code != 0 { return .none(result.error) }
        return .none(result.responseCode == 200 ? "an empty answer" : "HTTP \(result.responseCode)")
    }

    /// One HTTPS GET, blocking its thread, with at most `maxBytes` of a 2xx body (more fails
    /// the transfer; other bodies are dropped unread) and at most three redirects, each to HTTPS.
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
        let body = BoundedBody(easy: easy, limit: maxBytes)
        CurlEngine.setCommonOptions(easy, settings: settings, errorBuffer: errorBuffer)
        // Only HTTPS, redirects too; a libcurl too old for these options must not fall back
        // to its defaults (which include plain HTTP and FTP).
        guard herald_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK,
            herald_curl_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK
        else {
            return (
                CurlResult(
                    code: -1, error: "this libcurl cannot be limited to HTTPS (7.85 or later is needed)",
                    responseCode: 0, retryAfter: nil, responseSnippet: ""), []
            )
        }
        herald_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        herald_curl_easy_setopt_long(easy, CURLOPT_MAXREDIRS, 3)
        herald_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, "Herald")
        herald_curl_easy_setopt_string(easy, CURLOPT_URL, url)
        if let caFile {
            herald_curl_easy_setopt_string(easy, CURLOPT_CAINFO, caFile)
            herald_curl_easy_setopt_string(easy, CURLOPT_CAPATH, nil)
        }
        if refusePrivate { herald_curl_refuse_private_targets(easy, refused) }
        herald_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, boundedWrite)
        let code = withExtendedLifetime(body) { () -> CURLcode in
            herald_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(body).toOpaque())
            return curl_easy_perform(easy)
        }
        var status = 0
        herald_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let result = CurlResult(
            code: Int32(code.rawValue), error: curlWords(code, errorBuffer: errorBuffer), responseCode: status,
            retryAfter: nil, responseSnippet: "",
            refusedPrivateTarget: refused.pointee != 0)
        return (result, code == CURLE_OK ? body.bytes : [])
    }
}

/// A response body kept up to a limit.
private final class BoundedBody {
    let easy: UnsafeMutableRawPointer
    let limit: Int
    var bytes: [UInt8] = []
    init(easy: UnsafeMutableRawPointer, limit: Int) {
        self.easy = easy
        self.limit = limit
    }
}

private func boundedWrite(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata, let buffer else { return 0 }
    let body = Unmanaged<BoundedBody>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    // Only a 2xx body (the last response's: a redirect's body comes first) is a key; an error
    // page is dropped, however large.
    var status = 0
    herald_curl_easy_getinfo_long(body.easy, CURLINFO_RESPONSE_CODE, &status)
    guard (200..<300).contains(status) else { return length }
    // Returning less than given stops the transfer (CURLE_WRITE_ERROR).
    guard body.bytes.count + length <= body.limit else { return 0 }
    buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        body.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}
