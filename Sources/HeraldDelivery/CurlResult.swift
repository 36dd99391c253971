import CCurl
import Foundation

/// What a transfer came to: a libcurl code and its words when it failed, else the answer.
public struct CurlResult: Sendable, Equatable {
    /// `CURLcode`; 0 is success at the transport level.
    public var code: Int32
    /// libcurl's words for a failure, empty on success.
    public var error: String
    /// HTTP status or the last SMTP reply code.
    public var responseCode: Int
    /// Seconds from a `Retry-After` header.
    public var retryAfter: TimeInterval?
    /// The first bytes of the response body, for the error record.
    public var responseSnippet: String
    /// The target resolved only to loopback or private addresses and was not contacted.
    public var refusedPrivateTarget = false

    /// A transfer the engine dropped before it started (`dropWaiting`): nothing was sent.
    public static let notStarted = CurlResult(
        code: -2, error: "not started", responseCode: 0, retryAfter: nil, responseSnippet: "")
    /// Whether the engine dropped the transfer before it started: nothing was sent.
    public var wasNotStarted: Bool { code == -2 }
    /// Refused before any byte went out, as it would be on every try: a URL HTTP/1.1 cannot
    /// carry, or a header that would split in two.
    public var isUnsendable: Bool {
        code == Int32(CURLE_URL_MALFORMAT.rawValue) || code == Int32(CURLE_BAD_FUNCTION_ARGUMENT.rawValue)
    }
}

/// libcurl's words for `code`: those it wrote into `errorBuffer` (the details, such as which
/// certificate failed), else its generic text; empty for success.
func curlWords(_ code: CURLcode, errorBuffer: UnsafePointer<CChar>) -> String {
    guard code != CURLE_OK else { return "" }
    return errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
}
